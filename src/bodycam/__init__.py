"""bodycam: an open platform for police body-worn camera programs."""

__version__ = "0.1.0"
