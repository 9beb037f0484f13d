"""Background jobs: one interface, run in-process (embedded) by serve, worker or the CLI."""
