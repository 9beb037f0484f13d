"""Counts and rates per unit: the officer-level file and the panel.

`officer_level` counts each outcome per roster unit in a pre and a post window and
turns the counts into rates per 1,000 officers per year (``1000 * count /
officer-years``, officer-years = head count * days on duty in the window / 365.25), one
row per unit: the file `bodycam eval estimate` reads. `panel` does the same per
calendar period (week, month, quarter, year) for staggered rollouts (`bodycam eval
did`). Rows of units not on the roster are counted and named in the notes (they are
outside the study, e.g. the "Not Specified" assignment), never silently added.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal

from bodycam.evaluation.data import OutcomeData, Roster, RosterUnit, unit_key
from bodycam.evaluation.tables import InputError

__all__ = [
    "DAYS_PER_YEAR",
    "PERIODS",
    "AnalysisTable",
    "Period",
    "Window",
    "officer_level",
    "panel",
    "parse_window",
    "period_start",
    "periods",
]

DAYS_PER_YEAR: Final = 365.25
PER: Final = 1000.0
Period = Literal["week", "month", "quarter", "year"]
PERIODS: Final = ("week", "month", "quarter", "year")


@dataclass(frozen=True, slots=True)
class Window:
    """A closed range of calendar days, ``start..end``."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def overlap(self, start: date | None, end: date | None) -> int:
        """Days of this window within [start, end] (None: unbounded)."""
        first = max(self.start, start) if start else self.start
        last = min(self.end, end) if end else self.end
        return max(0, (last - first).days + 1)

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def parse_window(text: str, what: str) -> Window:
    """``2019-01-01..2019-12-31`` as a `Window`; `InputError` in words otherwise."""
    parts = text.split("..")
    try:
        if len(parts) != 2:
            raise ValueError(text)
        start, end = (date.fromisoformat(p.strip()) for p in parts)
    except ValueError:
        raise InputError(
            f"{what} {text!r} is not a window; write FIRST..LAST, e.g. 2019-01-01..2019-12-31."
        ) from None
    if end < start:
        raise InputError(f"{what} {text!r} ends before it starts.")
    return Window(start, end)


@dataclass(frozen=True, slots=True)
class AnalysisTable:
    """A table to write (`columns`, `rows`) and the report of how it was made."""

    columns: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    outcomes: tuple[str, ...]
    report: dict[str, object]
    notes: tuple[str, ...]


def _events(
    sources: Sequence[OutcomeData], roster: Roster
) -> tuple[list[str], dict[str, dict[str, list[tuple[date, float]]]], list[str], dict[str, object]]:
    """Per outcome and roster unit: (date, amount) events, incidents counted once."""
    keys = {unit_key(u.unit) for u in roster.units}
    outcomes: list[str] = []
    for data in sources:
        outcomes.extend(o for o in data.outcomes if o not in outcomes)
    events: dict[str, dict[str, list[tuple[date, float]]]] = {
        o: defaultdict(list) for o in outcomes
    }
    notes: list[str] = []
    report_sources = []
    for data in sources:
        unmatched = Counter(
            {data.names[k]: rows for k, rows in data.unit_rows.items() if k not in keys}
        )
        for name, records in data.records.items():
            incidents: dict[tuple[str, str], date] = {}
            for r in records:
                if r.unit not in keys:
                    continue
                if r.incident is None:
                    events[name][r.unit].append((r.day, r.amount))
                else:
                    k = (r.unit, r.incident)
                    if k not in incidents or r.day < incidents[k]:
                        incidents[k] = r.day
            for (unit, _), day in incidents.items():
                events[name][unit].append((day, 1.0))
        if data.unit_rows and not any(k in keys for k in data.unit_rows):
            theirs = ", ".join(repr(n) for n in list(data.names.values())[:3])
            ours = ", ".join(repr(u.unit) for u in roster.units[:3])
            raise InputError(
                f"no row of {data.source} names a unit of the roster {roster.source} (the "
                f"file names units such as {theirs}; the roster {ours}); check the mapping's "
                "unit column."
            )
        if unmatched:
            top = ", ".join(f"{n!r} ({c})" for n, c in unmatched.most_common(5))
            notes.append(
                f"{data.source}: {sum(unmatched.values())} row(s) name units that are not on "
                f"the roster and are not counted: {top}"
                + (f" and {len(unmatched) - 5} more" if len(unmatched) > 5 else "")
            )
        if data.invalid:
            notes.append(
                f"{data.source}: {len(data.invalid)} problem(s) in rows that were skipped "
                "(--accept-invalid)"
            )
        report_sources.append(
            {
                "file": data.source,
                "mapping": data.mapping,
                "rows": data.rows,
                "filtered": data.filtered,
                "invalid": [p.to_dict() for p in data.invalid],
                "unmatched_rows": sum(unmatched.values()),
                "first_date": data.first.isoformat() if data.first else None,
                "last_date": data.last.isoformat() if data.last else None,
            }
        )
    return outcomes, events, notes, {"sources": report_sources}


def _design_columns(roster: Roster) -> list[str]:
    return [
        f for f in ("assigned", "block", "cluster", "probability", "weight") if f in roster.fields
    ]


def _design_values(u: RosterUnit, columns: list[str]) -> list[object]:
    values: list[object] = []
    for name in columns:
        value = getattr(u, name)
        values.append(value.isoformat() if isinstance(value, date) else value)
    return values


def _officer_years(u: RosterUnit, window: Window) -> float:
    return u.officers * window.overlap(u.active_from, u.active_to) / DAYS_PER_YEAR


def _count(events: list[tuple[date, float]], window: Window) -> float:
    return float(sum(amount for day, amount in events if window.start <= day <= window.end))


def _number_out(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def officer_level(
    roster: Roster, sources: Sequence[OutcomeData], pre: Window, post: Window
) -> AnalysisTable:
    """One row per roster unit: counts and rates per 1,000 officers per year, pre and post.

    Columns: unit, treatment, the roster's design columns (assigned, block, cluster,
    probability, weight; a weight 1/p or 1/(1-p) is added when probabilities are
    given), officers, officer_years_pre, officer_years_post, then per outcome O:
    O_pre, O_post (counts), O_pre_rate, O_post_rate (per 1,000 officers per year) and
    O_change_rate (post minus pre). A unit not on duty in a window is left out, and
    the notes say so.
    """
    if pre.end >= post.start:
        raise InputError(f"the pre window {pre} must end before the post window {post} starts.")
    outcomes, events, notes, report = _events(sources, roster)
    design = _design_columns(roster)
    ipw = "probability" in roster.fields
    columns = ["unit", "treatment", *design, *(["weight"] if ipw else []), "officers"]
    columns += ["officer_years_pre", "officer_years_post"]
    for o in outcomes:
        columns += [f"{o}_pre", f"{o}_post", f"{o}_pre_rate", f"{o}_post_rate", f"{o}_change_rate"]
    rows: list[tuple[object, ...]] = []
    idle: list[str] = []
    late: list[str] = []
    early: list[str] = []
    for u in roster.units:
        years = (_officer_years(u, pre), _officer_years(u, post))
        if min(years) <= 0:
            idle.append(u.unit)
            continue
        if u.treated and u.assigned is not None:
            if u.assigned > post.start:
                late.append(u.unit)
            elif u.assigned <= pre.end:
                early.append(u.unit)
        row: list[object] = [u.unit, u.treated, *_design_values(u, design)]
        if ipw:
            assert u.probability is not None
            row.append(1 / u.probability if u.treated else 1 / (1 - u.probability))
        row += [_number_out(u.officers), years[0], years[1]]
        for o in outcomes:
            key = unit_key(u.unit)
            counts = [_count(events[o].get(key, []), w) for w in (pre, post)]
            rates = [PER * c / y for c, y in zip(counts, years, strict=True)]
            row += [
                _number_out(counts[0]),
                _number_out(counts[1]),
                rates[0],
                rates[1],
                rates[1] - rates[0],
            ]
        rows.append(tuple(row))
    if idle:
        notes.append(
            f"{len(idle)} roster unit(s) were not on duty in both windows and are left "
            f"out: {_list(idle)}"
        )
    if late:
        notes.append(
            f"{len(late)} treated unit(s) got cameras after the post window began "
            f"({post.start}), so part of their post window is untreated: {_list(late)}"
        )
    if early:
        notes.append(
            f"{len(early)} treated unit(s) got cameras before the pre window ended "
            f"({pre.end}), so part of their pre window is treated: {_list(early)}"
        )
    if not rows:
        raise InputError(f"no unit of {roster.source} is on duty in both windows.")
    report |= {"pre": str(pre), "post": str(post), "units": len(rows), "outcomes": outcomes}
    return AnalysisTable(tuple(columns), tuple(rows), tuple(outcomes), report, tuple(notes))


def _list(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def period_start(day: date, period: Period) -> date:
    """The first day of the calendar period (ISO week from Monday) that holds `day`."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return date(day.year, 1, 1)


def _next(start: date, period: Period) -> date:
    if period == "week":
        return start + timedelta(days=7)
    if period == "year":
        return date(start.year + 1, 1, 1)
    months = 1 if period == "month" else 3
    month = start.month - 1 + months
    return date(start.year + month // 12, month % 12 + 1, 1)


def periods(window: Window, period: Period) -> list[tuple[date, Window]]:
    """The calendar periods that meet `window`, each clipped to it, labelled by its start."""
    out = []
    start = period_start(window.start, period)
    while start <= window.end:
        following = _next(start, period)
        out.append(
            (
                start,
                Window(max(start, window.start), min(following - timedelta(days=1), window.end)),
            )
        )
        start = following
    return out


def panel(
    roster: Roster, sources: Sequence[OutcomeData], window: Window, period: Period
) -> AnalysisTable:
    """One row per roster unit and calendar period, for staggered rollouts.

    Columns: unit, period (its first day), adoption (the first day of the period in
    which the unit got cameras, blank if never; that period counts as treated),
    camera (1 from the adoption period on), treatment (the roster's), block, cluster
    and weight when the roster has them, officers, officer_years, then per outcome O
    the count O and O_rate (per 1,000 officers per year). Periods are clipped to
    `window`; a unit-period with no officer on duty has no row. Every treated unit
    needs an assignment date.
    """
    if period not in PERIODS:
        raise InputError(f"the period {period!r} is not one of {', '.join(PERIODS)}.")
    if "assigned" not in roster.fields:
        raise InputError(
            f"{roster.source} has no assignment date column; a panel for a staggered "
            "rollout needs the date each treated unit got cameras."
        )
    undated = [u for u in roster.units if u.treated and u.assigned is None]
    if undated:
        u = undated[0]
        raise InputError(
            f"{roster.source} line {u.line}: unit {u.unit!r} is treated but has no "
            f"assignment date ({len(undated)} such unit(s)); a staggered analysis needs them all."
        )
    outcomes, events, notes, report = _events(sources, roster)
    design = [f for f in ("block", "cluster") if f in roster.fields]
    ipw = "probability" in roster.fields or "weight" in roster.fields
    columns = ["unit", "period", "adoption", "camera", "treatment", *design]
    columns += [*(["weight"] if ipw else []), "officers", "officer_years"]
    for o in outcomes:
        columns += [o, f"{o}_rate"]
    spans = periods(window, period)
    rows: list[tuple[object, ...]] = []
    empty = 0
    for u in roster.units:
        adoption = period_start(u.assigned, period) if u.assigned is not None else None
        weight = None
        if u.weight is not None:
            weight = u.weight
        elif u.probability is not None:
            weight = 1 / u.probability if u.treated else 1 / (1 - u.probability)
        key = unit_key(u.unit)
        for label, span in spans:
            years = _officer_years(u, span)
            if years <= 0:
                empty += 1
                continue
            camera = int(adoption is not None and label >= adoption)
            row: list[object] = [
                u.unit,
                label.isoformat(),
                adoption.isoformat() if adoption else None,
                camera,
                u.treated,
            ]
            row += [getattr(u, f) for f in design]
            row += [*([weight] if ipw else []), _number_out(u.officers), years]
            for o in outcomes:
                count = _count(events[o].get(key, []), span)
                row += [_number_out(count), PER * count / years]
            rows.append(tuple(row))
    if empty:
        notes.append(f"{empty} unit-period(s) with no officer on duty have no row")
    if not rows:
        raise InputError(f"no unit of {roster.source} is on duty in {window}.")
    report |= {
        "window": str(window),
        "period": period,
        "periods": len(spans),
        "rows": len(rows),
        "outcomes": outcomes,
    }
    return AnalysisTable(tuple(columns), tuple(rows), tuple(outcomes), report, tuple(notes))
