"""Synthetic data for tests and the demo: small real video clips."""
