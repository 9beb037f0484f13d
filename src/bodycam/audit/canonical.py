"""Canonical serialization of one audit record: the exact bytes that are hashed into the log.

An audit record is a JSON object. Its canonical bytes are what Python's standard library
produces with::

    json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
               allow_nan=False).encode("utf-8")

after checking that the record contains only the allowed types. Precisely:

* Allowed values: ``str``, ``int`` (arbitrary size; ``bool`` is written as a boolean),
  ``bool``, ``None``, lists (a tuple is written as a list) and objects (dicts) whose keys
  are ``str``. Anything else - floats included, because their text form is not
  portable - raises :class:`TypeError`, naming the path of the offending value.
* Objects: ``{`` + members joined by ``,`` + ``}``; each member is ``"key":value``
  with no whitespace anywhere. Members are sorted by key, comparing keys as sequences of
  Unicode code points (Python ``str`` ordering; note: *not* the UTF-16 order of RFC 8785).
  Keys are unique by construction. Nesting is recursive.
* Arrays: ``[`` + values joined by ``,`` + ``]``, order preserved.
* ``null``, ``true``, ``false``; integers in plain decimal (``-`` for negatives, no
  leading zeros, no ``+``, no exponent).
* Strings: ``"`` ... ``"``. Escaped: ``"`` as ``\\"``, ``\\`` as ``\\\\``, U+0008 as
  ``\\b``, U+000C as ``\\f``, U+000A as ``\\n``, U+000D as ``\\r``, U+0009 as ``\\t``,
  every other code point below U+0020 as ``\\u00XX`` with lowercase hex digits. Every
  other character (``/``, DEL, non-ASCII, U+2028, U+2029 ...) is written as itself.
* The resulting text is encoded as UTF-8 (no byte order mark, no trailing newline).
  Strings with unpaired surrogates cannot be encoded and raise :class:`ValueError`.

The record's Merkle leaf is ``SHA-256(0x00 || canonical_bytes(record))``
(:func:`bodycam.audit.merkle.leaf_hash`). ``tools/verify_proof.py`` re-implements this
serialization independently; the two must stay byte-for-byte identical.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_bytes"]


def _plain(value: Any, path: str) -> Any:
    """Return ``value`` as plain JSON data (dict, list, str, int, bool, None) or raise."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # the plain text of str subclasses (enums)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        raise TypeError(f"{path} is a float ({value!r}); audit records may not contain floats.")
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{position}]") for position, item in enumerate(value)]
    if isinstance(value, Mapping):
        plain: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"{path} has a key {key!r} of type {type(key).__name__}; "
                    "audit record keys must be strings."
                )
            plain[key] = _plain(item, f"{path}[{key!r}]")
        return plain
    raise TypeError(
        f"{path} has a value of type {type(value).__name__}; audit records may contain only "
        "strings, integers, booleans, null, lists and objects."
    )


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """Return the canonical UTF-8 JSON bytes of an audit record (see the module docstring)."""
    if not isinstance(record, Mapping):
        raise TypeError(f"An audit record must be a mapping, not {type(record).__name__}.")
    text = json.dumps(
        _plain(record, "record"),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            "The audit record contains a string that is not valid Unicode "
            f"(unpaired surrogate at position {exc.start} of its JSON form)."
        ) from None
