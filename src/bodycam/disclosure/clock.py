"""The statutory clocks of public-records requests, as data read from TOML.

A deployment keeps one clock file: for each jurisdiction, how many business days the
agency has to acknowledge a request, to decide it, by how much it may extend that,
how long an appeal may take, and the critical-incident track (release within N
calendar days of a shooting or serious use of force)::

    default = "US-NY"

    [jurisdictions."US-NY"]
    name = "New York Freedom of Information Law"
    country = "US"
    subdivision = "NY"
    timezone = "America/New_York"
    acknowledge_days = 5
    decide_days = 20
    decide_from = "acknowledged"
    extension_max_days = 20
    appeal_decide_days = 10
    critical_incident_days = 30
    closed = [2026-12-24]

Business days exclude Saturdays, Sundays, the public holidays of ``country`` (and
``subdivision``) from the ``holidays`` package, and the agency's own ``closed`` days.
Parsing refuses anything else with a sentence naming the jurisdiction and the key. The
file shipped as :data:`DEFAULT_CLOCK` is an example, not legal advice.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

DEFAULT_CLOCK = """\
# Statutory clocks for public-records requests (bodycam's built-in example).
#
# EXAMPLES, NOT LEGAL ADVICE: check each number against your jurisdiction's law
# and your counsel, then import your own file with `bodycam disclosure clock import`.
# Days are business days (no weekends, no public holidays of the country and
# subdivision, no `closed` days), except critical_incident_days (calendar days).

default = "US"

[jurisdictions."US"]
name = "Generic United States (federal holidays)"
country = "US"
timezone = "America/New_York"
acknowledge_days = 5
decide_days = 20
extension_max_days = 10
appeal_decide_days = 20
critical_incident_days = 30

# New York Public Officers Law section 89(3)(a): within 5 business days, grant, deny
# or acknowledge with an approximate date, generally within 20 business days of the
# acknowledgment; a longer time needs a reason in writing and a date certain.
# Section 89(4)(a): an appeal is decided within 10 business days.
[jurisdictions."US-NY"]
name = "New York Freedom of Information Law"
country = "US"
subdivision = "NY"
timezone = "America/New_York"
acknowledge_days = 5
decide_days = 20
decide_from = "acknowledged"
extension_max_days = 20
appeal_decide_days = 10
critical_incident_days = 30

# Washington RCW 42.56.520: within 5 business days, provide the records, acknowledge
# with a reasonable estimate of the time needed, or deny. The act sets no fixed
# decision deadline (so none here); a review of a denial is final after 2 business days.
[jurisdictions."US-WA"]
name = "Washington Public Records Act"
country = "US"
subdivision = "WA"
timezone = "America/Los_Angeles"
acknowledge_days = 5
appeal_decide_days = 2
critical_incident_days = 30
"""

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
_DECIDE_FROM = ("received", "acknowledged")
_KNOWN = {
    "name",
    "country",
    "subdivision",
    "timezone",
    "acknowledge_days",
    "decide_days",
    "decide_from",
    "extension_max_days",
    "appeal_decide_days",
    "critical_incident_days",
    "closed",
}


class ClockError(ValueError):
    """A clock file that cannot be used; the message names the jurisdiction and key."""


@dataclass(frozen=True)
class Jurisdiction:
    """The deadlines of one jurisdiction (days are business days unless named calendar)."""

    key: str
    name: str
    country: str
    subdivision: str | None
    timezone: str
    acknowledge_days: int
    decide_days: int | None
    """None: the law sets no fixed decision deadline (e.g. a 'reasonable estimate')."""
    decide_from: str
    """Count the decision days from ``received`` or from the ``acknowledged`` date."""
    extension_max_days: int
    appeal_decide_days: int
    critical_incident_days: int
    """Calendar days from the incident to release, on the critical-incident track."""
    closed: tuple[date, ...] = ()
    """The agency's own closure days, on top of the public holidays."""

    @property
    def zone(self) -> ZoneInfo:
        """The time zone whose calendar dates the clocks count."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Clock:
    """Every jurisdiction's deadlines, and the one new requests get by default."""

    default: str
    jurisdictions: dict[str, Jurisdiction]

    @classmethod
    def from_toml(cls, text: str) -> Clock:
        """Parse and check a clock file; a :class:`ClockError` sentence when it is wrong."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ClockError(f"The clock file is not valid TOML: {exc}.") from None
        extra = set(data) - {"default", "jurisdictions"}
        if extra:
            raise ClockError(
                f"The clock file has unknown top-level keys: {', '.join(sorted(extra))} "
                "(expected default and [jurisdictions.NAME] tables)."
            )
        tables = data.get("jurisdictions")
        if not isinstance(tables, dict) or not tables:
            raise ClockError("The clock file names no jurisdictions ([jurisdictions.NAME]).")
        jurisdictions = {k: _jurisdiction(k, v) for k, v in tables.items()}
        default = data.get("default")
        if default is None and len(jurisdictions) == 1:
            default = next(iter(jurisdictions))
        if not isinstance(default, str) or default not in jurisdictions:
            raise ClockError(
                f"default = {default!r} must name one of the jurisdictions: "
                f"{', '.join(sorted(jurisdictions))}."
            )
        return cls(default, jurisdictions)

    def get(self, key: str | None) -> Jurisdiction:
        """The jurisdiction ``key`` (the default when None); a sentence when unknown."""
        name = key or self.default
        found = self.jurisdictions.get(name)
        if found is None:
            raise ClockError(
                f"There is no jurisdiction {name!r} in the clocks in force; known: "
                f"{', '.join(sorted(self.jurisdictions))}."
            )
        return found


def _int(key: str, name: str, value: Any, *, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ClockError(f"Jurisdiction {key}: {name} must be a whole number >= {low}.")
    if value > 3650:
        raise ClockError(f"Jurisdiction {key}: {name} = {value} is more than ten years.")
    return value


def _jurisdiction(key: str, table: Any) -> Jurisdiction:
    if not _KEY.fullmatch(key):
        raise ClockError(
            f"Jurisdiction name {key!r} must be 1 to 40 letters, digits, '-', '_' or '.'."
        )
    if not isinstance(table, dict):
        raise ClockError(f"Jurisdiction {key} must be a table ([jurisdictions.{key}]).")
    unknown = set(table) - _KNOWN
    if unknown:
        raise ClockError(
            f"Jurisdiction {key}: unknown keys {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KNOWN))}."
        )
    for needed in ("country", "timezone", "acknowledge_days", "appeal_decide_days"):
        if needed not in table:
            raise ClockError(f"Jurisdiction {key}: {needed} is missing.")
    country, subdivision = table["country"], table.get("subdivision")
    if not isinstance(country, str) or (
        subdivision is not None and not isinstance(subdivision, str)
    ):
        raise ClockError(f"Jurisdiction {key}: country and subdivision must be text.")
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise ClockError(
            f"Jurisdiction {key}: the public-holiday calendar of {country} has no "
            f"subdivision {subdivision!r}."
            if "subdivision" in str(exc)
            else f"Jurisdiction {key}: there is no public-holiday calendar for country "
            f"{country!r} (use an ISO code such as US)."
        ) from None
    tz = table["timezone"]
    try:
        ZoneInfo(str(tz))
    except (ZoneInfoNotFoundError, ValueError):
        raise ClockError(
            f"Jurisdiction {key}: timezone {tz!r} is not a time zone (e.g. America/New_York)."
        ) from None
    decide_from = table.get("decide_from", "received")
    if decide_from not in _DECIDE_FROM:
        raise ClockError(
            f"Jurisdiction {key}: decide_from must be 'received' or 'acknowledged', "
            f"not {decide_from!r}."
        )
    closed = table.get("closed", [])
    if not isinstance(closed, list) or not all(
        isinstance(d, date) and not hasattr(d, "hour") for d in closed
    ):
        raise ClockError(f"Jurisdiction {key}: closed must be a list of dates, e.g. [2026-12-24].")
    decide = table.get("decide_days")
    return Jurisdiction(
        key=key,
        name=str(table.get("name", key)),
        country=country,
        subdivision=subdivision,
        timezone=str(tz),
        acknowledge_days=_int(key, "acknowledge_days", table["acknowledge_days"], low=1),
        decide_days=None if decide is None else _int(key, "decide_days", decide, low=1),
        decide_from=decide_from,
        extension_max_days=_int(
            key, "extension_max_days", table.get("extension_max_days", 0), low=0
        ),
        appeal_decide_days=_int(key, "appeal_decide_days", table["appeal_decide_days"], low=1),
        critical_incident_days=_int(
            key, "critical_incident_days", table.get("critical_incident_days", 30), low=1
        ),
        closed=tuple(sorted(closed)),
    )
