"""Run a local Pinnace cluster's processes (etcd first) as child processes."""
