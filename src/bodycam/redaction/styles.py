"""The redaction styles (a module of its own so the CLI can name them without OpenCV)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Style"]


class Style(StrEnum):
    """How a redacted region is drawn."""

    blur = "blur"
    pixelate = "pixelate"
    box = "box"
