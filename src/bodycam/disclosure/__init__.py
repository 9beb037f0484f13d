"""Disclosure: public-records requests, their statutory clocks, appeals and holds."""
