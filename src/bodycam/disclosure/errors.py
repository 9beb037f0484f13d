"""The one error type of the disclosure domain."""

from __future__ import annotations


class DisclosureError(Exception):
    """A disclosure action that cannot be done; the message is a sentence saying why."""
