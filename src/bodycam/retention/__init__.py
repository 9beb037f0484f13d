"""Retention: the schedule by category, legal holds, the deletion queue."""
