"""Local CAD timestamps: fast format parsing, and conversion to aware UTC across DST.

CAD systems write wall-clock local time without an offset. `TimeFormat` parses one
strptime-style format (or ``iso``) several times faster than `datetime.strptime`, and
always in English whatever the process locale. `LocalZone.to_utc` turns a naive local
time into aware UTC with zoneinfo and says what it did with the two DST edge cases:

* ambiguous (the repeated hour when clocks fall back, e.g. 01:30 on the first Sunday of
  November in the United States): when exactly one of the two instants keeps the time at
  or after the previous time of the same row (created, dispatched, arrived, cleared, in
  that order), that one is taken; otherwise the zone's ``ambiguous`` policy decides:
  ``earlier`` (the default: the first occurrence, still daylight time), ``later``, or
  ``invalid`` (the row is reported invalid).
* nonexistent (the skipped hour when clocks spring forward, e.g. 02:30 on the second
  Sunday of March): ``invalid`` (the default), or ``shift``: read with the offset in
  force before the change, so 02:30 becomes 03:30 daylight time, which is what a clock
  that missed the change would have written.

Times that carry their own offset (``iso`` values with ``Z`` or ``+hh:mm``, or a ``%z``
format) are converted with that offset and never need either rule.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AMBIGUOUS_POLICIES",
    "NONEXISTENT_POLICIES",
    "SUPPORTED_DIRECTIVES",
    "AmbiguousPolicy",
    "LocalTimeError",
    "LocalZone",
    "NonexistentPolicy",
    "TimeFormat",
]

AmbiguousPolicy = Literal["earlier", "later", "invalid"]
NonexistentPolicy = Literal["invalid", "shift"]
AMBIGUOUS_POLICIES: Final = ("earlier", "later", "invalid")
NONEXISTENT_POLICIES: Final = ("invalid", "shift")

_PATTERNS: Final[dict[str, str]] = {
    "Y": r"(\d{4})",
    "y": r"(\d{2})",
    "m": r"(\d{1,2})",
    "d": r"(\d{1,2})",
    "H": r"(\d{1,2})",
    "I": r"(\d{1,2})",
    "M": r"(\d{1,2})",
    "S": r"(\d{1,2})",
    "f": r"(\d{1,6})",
    "p": r"([AaPp]\.?[Mm]\.?)",
    "b": r"([A-Za-z]{3})",
    "B": r"([A-Za-z]{3,9})",
    "z": r"(Z|z|[+-]\d{2}:?\d{2})",
}
SUPPORTED_DIRECTIVES: Final = (*(f"%{d}" for d in _PATTERNS), "%%")
"""The strptime directives a mapping's time formats may use (besides the word ``iso``)."""

_MONTHS: Final[dict[str, int]] = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}


class LocalTimeError(ValueError):
    """A local time that cannot be placed on the UTC time line under the zone's policy."""


class TimeFormat:
    """One accepted spelling of a timestamp: a strptime-style format, or ``iso``."""

    __slots__ = ("_at", "_indexes", "_iso", "_regex", "text")

    def __init__(self, text: str) -> None:
        """Compile `text`; `ValueError` names an unsupported directive or missing part."""
        self.text = text
        self._iso = text.strip().lower() == "iso"
        self._at: dict[str, int] = {}
        self._indexes: tuple[int, ...] = ()
        self._regex: re.Pattern[str] | None = None
        if self._iso:
            return
        parts: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char == "%":
                if i + 1 >= len(text):
                    raise ValueError(f"time format {text!r} ends with a lone '%'")
                directive = text[i + 1]
                i += 2
                if directive == "%":
                    parts.append("%")
                    continue
                if directive not in _PATTERNS:
                    supported = ", ".join(SUPPORTED_DIRECTIVES)
                    raise ValueError(
                        f"time format {text!r} uses %{directive}; supported: {supported}, or iso"
                    )
                if directive in self._at:
                    raise ValueError(f"time format {text!r} uses %{directive} twice")
                self._at[directive] = len(self._at)
                parts.append(_PATTERNS[directive])
            elif char.isspace():
                while i < len(text) and text[i].isspace():
                    i += 1
                parts.append(r"\s+")
                continue
            else:
                parts.append(re.escape(char))
                i += 1
        if not ({"Y", "y"} & self._at.keys() and {"m", "b", "B"} & self._at.keys()):
            raise ValueError(f"time format {text!r} needs a year and a month")
        if "d" not in self._at:
            raise ValueError(f"time format {text!r} needs a day (%d)")
        if "I" in self._at and "p" not in self._at:
            raise ValueError(f"time format {text!r} uses %I (12-hour clock) without %p")
        self._regex = re.compile("".join(parts))
        at = self._at
        # Group positions read by `parse`, -1 where the format lacks the directive; %b and
        # %B share the month-name slot.
        self._indexes = (
            *(at.get(d, -1) for d in ("Y", "y", "m")),
            at.get("b", at.get("B", -1)),
            *(at.get(d, -1) for d in ("d", "H", "I", "p", "M", "S", "f", "z")),
        )

    def parse(self, value: str) -> datetime | None:
        """The naive (or, with an offset, aware) time `value` spells, or None if it does not."""
        if self._iso:
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                return None
        assert self._regex is not None
        match = self._regex.fullmatch(value)
        if match is None:
            return None
        g = match.groups()
        iY, iy, im, ib, id_, iH, iI, ip, iM, iS, if_, iz = self._indexes
        try:
            if iY >= 0:
                year = int(g[iY])
            else:
                short = int(g[iy])
                year = short + (1900 if short >= 69 else 2000)  # as strptime does
            month = int(g[im]) if im >= 0 else _MONTHS.get(g[ib][:3].lower(), 0)
            if iH >= 0:
                hour = int(g[iH])
            elif iI >= 0:
                hour = int(g[iI])
                if not 1 <= hour <= 12:
                    return None
                hour = hour % 12 + (12 if g[ip][0] in "Pp" else 0)
            else:
                hour = 0
            return datetime(
                year,
                month,
                int(g[id_]),
                hour,
                int(g[iM]) if iM >= 0 else 0,
                int(g[iS]) if iS >= 0 else 0,
                int(g[if_].ljust(6, "0")) if if_ >= 0 else 0,
                tzinfo=_offset(g[iz]) if iz >= 0 else None,
            )
        except ValueError:  # a day or month out of range: not a real time
            return None


def _offset(text: str) -> timezone:
    if text in ("Z", "z"):
        return UTC
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return timezone(-delta if text[0] == "-" else delta)


class LocalZone:
    """An IANA time zone with the agency's rules for DST-ambiguous and skipped times."""

    __slots__ = ("_hours", "ambiguous", "name", "nonexistent", "zone")

    def __init__(
        self,
        name: str,
        ambiguous: AmbiguousPolicy = "earlier",
        nonexistent: NonexistentPolicy = "invalid",
    ) -> None:
        """The zone `name` (e.g. ``America/New_York``); `ValueError` if it is unknown."""
        try:
            self.zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        if ambiguous not in AMBIGUOUS_POLICIES:
            raise ValueError(f"ambiguous must be one of {', '.join(AMBIGUOUS_POLICIES)}")
        if nonexistent not in NONEXISTENT_POLICIES:
            raise ValueError(f"nonexistent must be one of {', '.join(NONEXISTENT_POLICIES)}")
        self.name = name
        self._hours: dict[tuple[int, int, int, int], timedelta | None] = {}
        self.ambiguous: AmbiguousPolicy = ambiguous
        self.nonexistent: NonexistentPolicy = nonexistent

    def to_utc(self, local: datetime, after: datetime | None = None) -> datetime:
        """Aware UTC for `local`; `after` (UTC) is the row's previous time, for DST folds."""
        if local.tzinfo is not None:
            return local.astimezone(UTC)
        hour = (local.year, local.month, local.day, local.hour)
        try:
            offset = self._hours[hour]
        except KeyError:
            offset = self._hours[hour] = self._steady_offset(local)
        if offset is not None:
            return (local - offset).replace(tzinfo=UTC)
        first = local.replace(tzinfo=self.zone).utcoffset()
        second = local.replace(tzinfo=self.zone, fold=1).utcoffset()
        assert first is not None and second is not None
        early = (local - first).replace(tzinfo=UTC)
        if first == second:
            return early
        late = (local - second).replace(tzinfo=UTC)
        if early > late:
            # fold=0 read the wall time with the pre-change offset and landed after the
            # fold=1 reading: the wall time was skipped by a spring-forward change.
            if self.nonexistent == "shift":
                return early
            raise LocalTimeError(
                f"{local:%Y-%m-%d %H:%M:%S} does not exist in {self.name} "
                "(clocks skipped that hour)"
            )
        if after is not None and early < after <= late:
            return late
        if self.ambiguous == "earlier":
            return early
        if self.ambiguous == "later":
            return late
        raise LocalTimeError(
            f"{local:%Y-%m-%d %H:%M:%S} happened twice in {self.name} (clocks fell back)"
        )

    def _steady_offset(self, local: datetime) -> timedelta | None:
        """The hour's one UTC offset, or None if the hour has a change (gap or fold)."""
        start = local.replace(minute=0, second=0, microsecond=0, tzinfo=self.zone)
        end = start.replace(minute=59, second=59, microsecond=999999)
        offsets = {
            moment.replace(fold=fold).utcoffset() for moment in (start, end) for fold in (0, 1)
        }
        return offsets.pop() if len(offsets) == 1 else None
