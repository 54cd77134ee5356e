"""The ``pinnace`` command line: kubectl's verbs and conventions over the SDK."""
