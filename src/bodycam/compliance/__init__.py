"""Recording compliance: dispatch (CAD) import, recording rules, matching and metrics."""
