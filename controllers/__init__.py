"""pinnace-controller-manager: every workload controller in one process."""
