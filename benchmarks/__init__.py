"""Micro-benchmarks of exconn's hot paths; run a module with ``python -m benchmarks.<name>``."""
