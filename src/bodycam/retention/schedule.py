"""The retention schedule as data: how long each category is kept, read from TOML.

A schedule names, per category, how long its recordings are kept, counted from the
day they were recorded::

    # Retention schedule of the Demo Police Department
    [categories."Uncategorized"]
    retain = "180 days"

    [categories."Traffic Stop"]
    retain = "3 years"
    access_class = "normal"

    [categories."Homicide"]
    retain = "until deleted"

``retain`` is ``N days``, ``N months``, ``N years`` (calendar months and years: a recording
of 31 January kept one month is due on 28 or 29 February), or ``until deleted``. Every
schedule must name ``Uncategorized``. ``access_class`` (normal, restricted, confidential)
is optional. Parsing refuses anything else with a sentence naming the category and key.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dateutil.relativedelta import relativedelta

from bodycam.evidence.models import UNCATEGORIZED, AccessClass

_PERIOD = re.compile(r"\s*(\d{1,5})\s+(day|days|month|months|year|years)\s*", re.IGNORECASE)
_FOREVER = {"until deleted", "forever", "indefinitely"}


class ScheduleError(ValueError):
    """A schedule that cannot be used; the message names the category and the key."""


@dataclass(frozen=True)
class Period:
    """How long to keep: days, or calendar months (a year is 12), or forever."""

    days: int = 0
    months: int = 0
    forever: bool = False

    @classmethod
    def parse(cls, text: str) -> Period:
        """``"90 days"``, ``"18 months"``, ``"3 years"`` or ``"until deleted"``."""
        if not isinstance(text, str):
            raise ScheduleError(f"must be text like '3 years', not {text!r}")
        if text.strip().lower() in _FOREVER:
            return cls(forever=True)
        match = _PERIOD.fullmatch(text)
        if match is None:
            raise ScheduleError(
                f"{text!r} is not a period; write N days, N months, N years or 'until deleted'"
            )
        n, unit = int(match[1]), match[2].lower()
        if n == 0:
            raise ScheduleError(f"{text!r} would delete recordings the day they are recorded")
        if unit.startswith("day"):
            return cls(days=n)
        return cls(months=n * 12 if unit.startswith("year") else n)

    def due(self, recorded: datetime) -> datetime | None:
        """When a recording made at ``recorded`` is due for deletion (None: never)."""
        if self.forever:
            return None
        due: datetime = recorded + relativedelta(months=self.months, days=self.days)
        return due

    def text(self) -> str:
        """The schedule's spelling of this period."""
        if self.forever:
            return "until deleted"
        if self.days:
            n, unit = self.days, "day"
        elif self.months % 12 == 0:
            n, unit = self.months // 12, "year"
        else:
            n, unit = self.months, "month"
        return f"{n} {unit}" if n == 1 else f"{n} {unit}s"

    def longer_than(self, other: Period) -> bool:
        """Whether this period keeps recordings longer (forever is longest)."""
        if self.forever or other.forever:
            return self.forever and not other.forever
        # Compare on a fixed day so months of different lengths compare the same way.
        start = datetime(2000, 1, 1)
        mine, theirs = self.due(start), other.due(start)
        assert mine is not None and theirs is not None
        return mine > theirs


@dataclass(frozen=True)
class CategoryRule:
    """One category's line of the schedule."""

    category: str
    period: Period
    access_class: str | None = None


@dataclass(frozen=True)
class Schedule:
    """A whole retention schedule, by category name."""

    rules: dict[str, CategoryRule]

    @classmethod
    def from_toml(cls, text: str) -> Schedule:
        """Parse a schedule; raise :class:`ScheduleError` naming what is wrong."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScheduleError(f"The schedule is not valid TOML: {exc}.") from None
        unknown = set(data) - {"categories"}
        if unknown:
            raise ScheduleError(f"Unknown top-level key(s): {', '.join(sorted(unknown))}.")
        cats = data.get("categories")
        if not isinstance(cats, dict) or not cats:
            raise ScheduleError('The schedule has no [categories."NAME"] tables.')
        rules: dict[str, CategoryRule] = {}
        for name, entry in cats.items():
            rules[name] = _rule(name, entry)
        if UNCATEGORIZED not in rules:
            raise ScheduleError(f"The schedule must give a period for {UNCATEGORIZED!r}.")
        return cls(rules)

    def to_toml(self) -> str:
        """The schedule as TOML, categories sorted by name (the canonical export)."""
        lines = ["# bodycam retention schedule", ""]
        for name in sorted(self.rules):
            rule = self.rules[name]
            lines.append(f"[categories.{_quote(name)}]")
            lines.append(f"retain = {_quote(rule.period.text())}")
            if rule.access_class:
                lines.append(f"access_class = {_quote(rule.access_class)}")
            lines.append("")
        return "\n".join(lines)


def _rule(name: str, entry: Any) -> CategoryRule:
    where = f"categories.{_quote(name)}"
    if not name.strip() or len(name) > 100:
        raise ScheduleError(f"{where}: a category name must be 1 to 100 characters.")
    if not isinstance(entry, dict):
        raise ScheduleError(f'{where}: must be a table with retain = "...".')
    unknown = set(entry) - {"retain", "access_class"}
    if unknown:
        raise ScheduleError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
    if "retain" not in entry:
        raise ScheduleError(f"{where}: retain is missing.")
    try:
        period = Period.parse(entry["retain"])
    except ScheduleError as exc:
        raise ScheduleError(f"{where}.retain: {exc}.") from None
    access = entry.get("access_class")
    if access is not None and access not in {a.value for a in AccessClass}:
        choices = ", ".join(a.value for a in AccessClass)
        raise ScheduleError(f"{where}.access_class: {access!r} is not one of {choices}.")
    return CategoryRule(name, period, access)


def _quote(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
