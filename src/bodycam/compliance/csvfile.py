"""How a CAD export is written: its text encoding, its delimiter, its header.

Exports come from many tools. The encoding is UTF-8 (with or without a byte-order
mark), UTF-16 with a byte-order mark (Excel's "Unicode text"), or, when the bytes are
not valid UTF-8, Windows-1252 (what Excel and most Windows CAD clients write), with a
warning naming the first byte that is not UTF-8. The delimiter is whichever of comma,
tab, semicolon or pipe occurs most often, outside quotes, in the header line.
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bodycam.compliance.mapping import CadFormatError

__all__ = ["DELIMITERS", "FileShape", "sniff"]

DELIMITERS: Final = (",", "\t", ";", "|")
_DELIMITER_NAMES: Final = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_CHUNK: Final = 1 << 20
_HEADER_BYTES: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class FileShape:
    """The encoding, delimiter and header of a CSV file, and what was noticed reading it."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]
    warnings: tuple[str, ...] = ()

    @property
    def delimiter_name(self) -> str:
        """The delimiter in words: comma, tab, semicolon or pipe."""
        return _DELIMITER_NAMES[self.delimiter]


def _bom_encoding(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _first_bad_utf8(path: Path, limit: int | None) -> tuple[int, int] | None:
    """(byte offset, line) of the first byte that is not UTF-8, reading up to `limit`."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    lines = 1
    with path.open("rb") as f:
        while limit is None or offset < limit:
            chunk = f.read(_CHUNK if limit is None else min(_CHUNK, limit - offset))
            if not chunk:
                break
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                # The decoder may hold back up to 3 bytes of an unfinished character
                # from the previous chunk; exc.start counts within its own buffer.
                held = len(exc.object) - len(chunk)
                bad = offset - held + exc.start
                return bad, lines + exc.object[: exc.start].count(b"\n")
            offset += len(chunk)
            lines += chunk.count(b"\n")
        if limit is None or offset < limit:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                return offset, lines
    return None


def _check_cp1252(path: Path) -> None:
    decoder = codecs.getincrementaldecoder("cp1252")()
    offset = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise CadFormatError(
                    f"{path.name} is neither UTF-8 nor Windows-1252 text "
                    f"(byte 0x{chunk[exc.start]:02X} at offset {offset + exc.start}); "
                    "export it again as UTF-8 CSV"
                ) from None
            offset += len(chunk)


def _detect_encoding(path: Path, *, whole_file: bool) -> tuple[str, tuple[str, ...]]:
    with path.open("rb") as f:
        head = f.read(4)
    bom = _bom_encoding(head)
    if bom is not None:
        return bom, ()
    bad = _first_bad_utf8(path, None if whole_file else _HEADER_BYTES)
    if bad is None:
        return "utf-8", ()
    if whole_file:
        _check_cp1252(path)
    offset, line = bad
    return "cp1252", (
        f"{path.name} is not valid UTF-8 (first at byte {offset}, line {line}); "
        "read it as Windows-1252 (cp1252), the usual encoding of Excel and Windows exports",
    )


def _pick_delimiter(line: str) -> str:
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties keep the earlier: comma first
    return best if counts[best] else ","


def _clean_header(names: list[str]) -> tuple[str, ...]:
    header = [name.strip() for name in names]
    if header:
        header[0] = header[0].lstrip("\ufeff").strip()
    return tuple(header)


def sniff(path: str | Path, *, whole_file: bool = False) -> FileShape:
    """The file's encoding, delimiter and header; `CadFormatError` if it has no header.

    With `whole_file` the encoding check reads every byte (as `parse_cad` does, so a
    non-UTF-8 byte late in the file is caught before any row is parsed); without it,
    only the first 64 KiB, which is enough to read the header.
    """
    path = Path(path)
    encoding, warnings = _detect_encoding(path, whole_file=whole_file)
    with path.open(encoding=encoding, newline="") as text:
        first = text.readline()
        while first and not first.strip():
            first = text.readline()
        if not first.strip():
            raise CadFormatError(f"{path.name} is empty: it has no header row")
        delimiter = _pick_delimiter(first)
        text.seek(0)
        try:
            for names in csv.reader(text, delimiter=delimiter):
                if names and any(n.strip() for n in names):
                    return FileShape(encoding, delimiter, _clean_header(names), warnings)
        except csv.Error as exc:
            raise CadFormatError(f"{path.name}: the header row cannot be read ({exc})") from None
    raise CadFormatError(f"{path.name} is empty: it has no header row")
