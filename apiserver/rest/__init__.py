"""The Kubernetes HTTP/JSON API: the apiserver's second front door (app.py)."""
