"""The camera fleet: inventory, assignments, docks, device events, reports, recalls."""
