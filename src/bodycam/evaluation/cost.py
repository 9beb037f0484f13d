"""The cost model of a camera program: a yearly projection with a sensitivity range.

Every input is an `Assumption` with a default, a unit and a source (almost all are
"assumption": a round number to be replaced by the agency's own contract figures). The
inputs come, in increasing order of precedence, from the defaults, a TOML file, this
installation's measured volumes (`bodycam.evaluation.cost_actuals`), ``--set KEY=VALUE``
overrides, and the camera count and horizon given on the command line. The model:

* **hardware**: every camera and dock is bought in year 1 and again in each refresh
  year (every ``camera_replacement_years`` / ``dock_replacement_years``); in the years
  between, a share ``failure_rate`` of the cameras is replaced;
* **licences**: cameras x price per camera per year;
* **storage**: officers (cameras x ``officers_per_camera``) record ``video hours per
  officer per month`` at ``bitrate_mbps``, so each month adds ``hours x bitrate x 3600 /
  8 / 10^12`` TB (decimal terabytes), times ``redundancy``. Each month's footage is
  split by the retention mix (share of hours per category) and kept for its category's
  period; it is counted as held from the start of its month, on the hot tier until
  ``archive_after_days`` and then (a share ``archive_share`` of it) on the archive tier,
  and billed per TB-month at the tier's price. Footage already held
  (``existing_tb_*``) is counted as held throughout (no purge of it is assumed);
* **redaction labour**: a share ``share_requested`` of the recorded hours is requested
  (public records, discovery) and each requested hour takes ``hours_per_video_hour``
  of review (``assisted`` or ``manual``) at ``wage_per_hour``;
* **staff**: FTEs (``ftes_per_100_cameras`` per 100 cameras, or ``ftes``) x cost per FTE.

Costs of year y are multiplied by ``(1 + price_growth_per_year)^(y-1)``. The
sensitivity range runs the model with the uncertain inputs all at their low and all at
their high values (base x (1 -/+ spread)); the tornado moves one at a time.
``docs/cost.md`` lists every input with its default and source.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

__all__ = [
    "ASSUMPTIONS",
    "DEFAULT_MIX",
    "SENSITIVITY",
    "Assumption",
    "CostError",
    "Inputs",
    "MixEntry",
    "Projection",
    "YearCost",
    "load_inputs",
    "project",
    "retention_months",
    "tb_per_hour",
]

MONTHS_PER_YEAR: Final = 12
DAYS_PER_MONTH: Final = 365.25 / 12


class CostError(ValueError):
    """Inputs the model cannot use, as one sentence naming the file and key."""


@dataclass(frozen=True, slots=True)
class Assumption:
    """One input of the model: its dotted key, default, unit, meaning and source."""

    key: str
    default: float | bool
    unit: str
    meaning: str
    source: str = "assumption"
    integer: bool = False
    at_most_one: bool = False


A = Assumption
ASSUMPTIONS: Final[tuple[Assumption, ...]] = (
    A("program.officers_per_camera", 1.0, "officers", "officers who record with each camera"),
    A("program.price_growth_per_year", 0.0, "share", "yearly price growth (0: today's dollars)"),
    A("hardware.camera_price", 700.0, "$", "price of one camera"),
    A("hardware.cameras_per_dock", 8.0, "cameras", "cameras one dock charges and uploads"),
    A("hardware.dock_price", 1500.0, "$", "price of one dock"),
    A(
        "hardware.camera_replacement_years", 3, "years",
        "the whole fleet is replaced every N years (0: never)", integer=True,
    ),
    A(
        "hardware.dock_replacement_years", 6, "years",
        "docks are replaced every N years (0: never)", integer=True,
    ),
    A(
        "hardware.failure_rate", 0.05, "share per year",
        "cameras replaced each year between refreshes (failures, losses)", at_most_one=True,
    ),
    A("licences.per_camera_per_year", 240.0, "$", "software, support or warranty per camera"),
    A(
        "storage.video_hours_per_officer_per_month", 10.0, "hours",
        "video recorded per officer per month",
    ),
    A("storage.bitrate_mbps", 6.0, "Mbit/s", "average bitrate of the footage, audio included"),
    A("storage.redundancy", 1.0, "copies", "copies kept of each file (2: a second site)"),
    A(
        "storage.archive_after_days", 180, "days",
        "footage older than this moves to the archive tier", integer=True,
    ),
    A(
        "storage.archive_share", 1.0, "share",
        "share of the footage past that age that moves (the rest stays hot)", at_most_one=True,
    ),
    A("storage.hot_per_tb_month", 23.0, "$ per TB-month", "price of the hot tier"),
    A("storage.archive_per_tb_month", 4.0, "$ per TB-month", "price of the archive tier"),
    A("storage.existing_tb_hot", 0.0, "TB", "footage already held on the hot tier"),
    A("storage.existing_tb_archive", 0.0, "TB", "footage already held on the archive tier"),
    A(
        "redaction.share_requested", 0.05, "share",
        "share of the recorded hours requested and redacted", at_most_one=True,
    ),
    A(
        "redaction.hours_per_video_hour_manual", 3.0, "hours",
        "review hours per hour of requested video, by hand",
    ),
    A(
        "redaction.hours_per_video_hour_assisted", 1.0, "hours",
        "review hours per hour of requested video, with automated suggestions",
    ),
    A("redaction.assisted", True, "yes/no", "whether automated suggestions are used"),
    A("redaction.wage_per_hour", 45.0, "$", "loaded hourly cost of a reviewer"),
    A("staff.ftes_per_100_cameras", 0.5, "FTEs", "program staff per 100 cameras"),
    A("staff.ftes", -1.0, "FTEs", "program staff in all (overrides the ratio; -1: unset)"),
    A("staff.cost_per_fte", 110_000.0, "$ per year", "loaded yearly cost of one FTE"),
    A("sensitivity.video_hours", 0.3, "share", "spread of video hours recorded"),
    A("sensitivity.redaction_share", 0.3, "share", "spread of the share requested"),
    A("sensitivity.review_hours", 0.3, "share", "spread of review hours per video hour"),
    A("sensitivity.bitrate", 0.2, "share", "spread of the bitrate"),
    A("sensitivity.storage_price", 0.2, "share", "spread of both storage prices"),
)  # fmt: skip
_BY_KEY: Final = {a.key: a for a in ASSUMPTIONS}

SENSITIVITY: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    # spread key -> (label, the inputs it moves)
    "video_hours": ("video hours recorded", ("storage.video_hours_per_officer_per_month",)),
    "redaction_share": ("share of footage redacted", ("redaction.share_requested",)),
    "review_hours": (
        "review hours per video hour",
        ("redaction.hours_per_video_hour_manual", "redaction.hours_per_video_hour_assisted"),
    ),
    "bitrate": ("bitrate", ("storage.bitrate_mbps",)),
    "storage_price": (
        "storage price per TB-month",
        ("storage.hot_per_tb_month", "storage.archive_per_tb_month"),
    ),
}


@dataclass(frozen=True, slots=True)
class MixEntry:
    """A retention category: its share of the recorded hours and how long it is kept."""

    category: str
    share: float
    retain: str

    @property
    def months(self) -> float:
        return retention_months(self.retain)


DEFAULT_MIX: Final[tuple[MixEntry, ...]] = (
    MixEntry("Uncategorized", 0.75, "180 days"),
    MixEntry("Traffic Stop", 0.15, "3 years"),
    MixEntry("Arrest", 0.09, "7 years"),
    MixEntry("Homicide", 0.01, "until deleted"),
)


def retention_months(text: str) -> float:
    """A schedule period (``180 days``, ``3 years``, ``until deleted``) in months."""
    from bodycam.retention.schedule import Period, ScheduleError

    try:
        period = Period.parse(text)
    except ScheduleError as exc:
        raise CostError(str(exc)) from None
    if period.forever:
        return math.inf
    return period.months + period.days / DAYS_PER_MONTH


def tb_per_hour(bitrate_mbps: float) -> float:
    """Decimal terabytes in one hour of video at ``bitrate_mbps`` megabits per second."""
    return bitrate_mbps * 1e6 / 8 * 3600 / 1e12


@dataclass(frozen=True, slots=True)
class Inputs:
    """The model's inputs: cameras, horizon, every assumption, the mix, and their sources."""

    cameras: int
    years: int
    values: dict[str, float | bool]
    mix: tuple[MixEntry, ...]
    sources: dict[str, str] = field(default_factory=dict)

    def value(self, key: str) -> float:
        return float(self.values[key])

    def to_dict(self) -> dict[str, Any]:
        return {
            "cameras": self.cameras,
            "years": self.years,
            "values": dict(self.values),
            "mix": [dataclasses.asdict(m) for m in self.mix],
            "sources": dict(self.sources),
        }


def _check(key: str, value: Any, where: str) -> float | bool:
    a = _BY_KEY.get(key)
    if a is None:
        known = ", ".join(sorted({k.split(".")[0] for k in _BY_KEY}))
        raise CostError(
            f"{where}: {key!r} is not an input of the cost model (sections: {known}; "
            "docs/cost.md lists every key)."
        )
    if isinstance(a.default, bool):
        if not isinstance(value, bool):
            raise CostError(f"{where}: {key} must be true or false, not {value!r}.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CostError(f"{where}: {key} must be a number, not {value!r}.")
    if value < 0 and not (key == "staff.ftes" and value == -1):
        raise CostError(f"{where}: {key} must be 0 or more, not {value!r}.")
    if a.integer and value != int(value):
        raise CostError(f"{where}: {key} must be a whole number, not {value!r}.")
    if a.at_most_one and value > 1:
        raise CostError(f"{where}: {key} is a share and must be at most 1, not {value!r}.")
    if key.startswith("sensitivity.") and value >= 1:
        raise CostError(f"{where}: {key} is a spread and must be below 1, not {value!r}.")
    if key == "hardware.cameras_per_dock" and value == 0:
        raise CostError(f"{where}: {key} must be above 0.")
    return int(value) if a.integer else float(value)


def _parse_text(text: str) -> Any:
    """A ``--set`` value: a TOML value (``8``, ``0.3``, ``false``), else an error."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _mix(table: Any, where: str, schedule: Mapping[str, str] | None) -> tuple[MixEntry, ...]:
    if not isinstance(table, dict) or not table:
        raise CostError(f"{where}: storage.mix must be a table of category = share.")
    defaults = {m.category: m.retain for m in DEFAULT_MIX}
    entries = []
    for name, raw in table.items():
        spot = f"{where}: storage.mix.{name!r}"
        retain: Any = None
        if isinstance(raw, dict):
            unknown = sorted(set(raw) - {"share", "retain"})
            if unknown:
                raise CostError(f"{spot}: unknown key {', '.join(map(repr, unknown))}.")
            share, retain = raw.get("share"), raw.get("retain")
        else:
            share = raw
        if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
            raise CostError(f"{spot}: the share must be a number from 0 to 1, not {share!r}.")
        if retain is None:
            retain = (schedule or {}).get(name) or defaults.get(name)
        if retain is None:
            raise CostError(
                f'{spot}: give its period (retain = "3 years"), or a schedule that names it.'
            )
        if not isinstance(retain, str):
            raise CostError(f'{spot}: retain must be text like "3 years", not {retain!r}.')
        try:
            retention_months(retain)
        except CostError as exc:
            raise CostError(f"{spot}.retain: {exc}.") from None
        entries.append(MixEntry(str(name), float(share), retain))
    total = sum(e.share for e in entries)
    if abs(total - 1) > 1e-6:
        raise CostError(f"{where}: the shares of storage.mix add up to {total:g}, not 1.")
    return tuple(entries)


def _schedule_periods(path: Path, where: str) -> dict[str, str]:
    from bodycam.retention.schedule import Schedule, ScheduleError

    try:
        schedule = Schedule.from_toml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise CostError(f"{where}: the schedule {path} cannot be read ({exc}).") from None
    except ScheduleError as exc:
        raise CostError(f"{where}: the schedule {path}: {exc}") from None
    return {name: rule.period.text() for name, rule in schedule.rules.items()}


def _read_config(
    text: str, origin: str, base: Path
) -> tuple[dict[str, Any], Any, dict[str, str] | None]:
    """(flat key -> value, the raw mix table or None, schedule periods or None)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CostError(f"{origin} is not valid TOML ({exc}).") from None
    flat: dict[str, Any] = {}
    mix: Any = None
    schedule: dict[str, str] | None = None
    sections = sorted({k.split(".")[0] for k in _BY_KEY})
    for section, table in data.items():
        if section not in sections:
            raise CostError(
                f"{origin}: unknown section [{section}] (sections: {', '.join(sections)})."
            )
        if not isinstance(table, dict):
            raise CostError(f"{origin}: {section} must be a table ([{section}]).")
        for key, value in table.items():
            if section == "program" and key in ("cameras", "years"):
                flat[f"program.{key}"] = value
            elif section == "storage" and key == "mix":
                mix = value
            elif section == "storage" and key == "schedule":
                if not isinstance(value, str):
                    raise CostError(f"{origin}: storage.schedule must be a file name.")
                schedule = _schedule_periods(base / value, origin)
            else:
                flat[f"{section}.{key}"] = _check(f"{section}.{key}", value, origin)
    return flat, mix, schedule


def _count(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise CostError(f"{where}: {what} must be a whole number, not {value!r}.")
    if not 1 <= value <= (100_000_000 if what == "cameras" else 50):
        limit = "100,000,000" if what == "cameras" else "50"
        raise CostError(f"{where}: {what} must be from 1 to {limit}, not {value!r}.")
    return int(value)


def load_inputs(
    *,
    cameras: int | None = None,
    years: int | None = None,
    config: Path | None = None,
    overrides: Sequence[str] = (),
    actuals: Mapping[str, float] | None = None,
    actual_mix: Sequence[MixEntry] | None = None,
    actual_cameras: int | None = None,
    origin: str = "--set",
) -> Inputs:
    """The inputs: defaults < config file < actuals < ``--set`` < cameras and years.

    `overrides` are ``KEY=VALUE`` texts (``storage.bitrate_mbps=8``), named `origin` in
    errors and sources; `actuals` the inputs measured on this installation (see
    `cost_actuals.inputs_from_actuals`). `CostError` names the file or flag and the key of
    any bad value.
    """
    values: dict[str, float | bool] = {a.key: a.default for a in ASSUMPTIONS}
    sources = dict.fromkeys(values, "default")
    mix: tuple[MixEntry, ...] = DEFAULT_MIX
    mix_source = "default"
    counts: dict[str, Any] = {}
    if config is not None:
        try:
            text = config.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CostError(f"{config} cannot be read ({exc}).") from None
        flat, raw_mix, schedule = _read_config(text, config.name, config.parent)
        for key in ("program.cameras", "program.years"):
            if key in flat:
                counts[key.split(".")[1]] = (flat.pop(key), config.name)
        values |= flat
        sources |= dict.fromkeys(flat, f"config {config.name}")
        if raw_mix is not None:
            mix, mix_source = _mix(raw_mix, config.name, schedule), f"config {config.name}"
        elif schedule is not None:
            mix = tuple(
                dataclasses.replace(m, retain=schedule.get(m.category, m.retain)) for m in mix
            )
            mix_source = f"config {config.name} (schedule periods)"
    if actuals:
        for key, value in actuals.items():
            values[key] = _check(key, value, "the actuals")
            sources[key] = "actuals"
    if actual_mix:
        mix, mix_source = tuple(actual_mix), "actuals"
    if actual_cameras is not None and "cameras" not in counts:
        counts["cameras"] = (actual_cameras, "actuals")
    for text in overrides:
        key, sep, raw = text.partition("=")
        if not sep or not key.strip():
            raise CostError(f"{origin} {text!r}: write KEY=VALUE, e.g. storage.bitrate_mbps=8.")
        key = key.strip()
        if key in ("program.cameras", "program.years"):
            counts[key.split(".")[1]] = (_parse_text(raw.strip()), origin)
            continue
        values[key] = _check(key, _parse_text(raw.strip()), origin)
        sources[key] = origin
    if cameras is not None:
        counts["cameras"] = (cameras, "--cameras")
    if years is not None:
        counts["years"] = (years, "--years")
    for what in ("cameras", "years"):
        if what not in counts:
            raise CostError(
                f"Give the number of {what} with --{what} (or [program] {what} in the config)."
            )
    n_cameras = _count(counts["cameras"][0], "cameras", counts["cameras"][1])
    n_years = _count(counts["years"][0], "years", counts["years"][1])
    sources["program.cameras"] = counts["cameras"][1]
    sources["program.years"] = counts["years"][1]
    sources["storage.mix"] = mix_source
    return Inputs(n_cameras, n_years, values, mix, sources)


@dataclass(frozen=True, slots=True)
class YearCost:
    """One year of the projection: volumes and each cost component, in dollars."""

    year: int
    cameras_bought: float
    docks_bought: float
    video_hours: float
    recorded_tb: float
    held_tb_hot: float
    held_tb_archive: float
    redaction_hours: float
    ftes: float
    hardware: float
    licences: float
    storage: float
    redaction: float
    staff: float
    total: float
    cumulative: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class TornadoRow:
    """The horizon's total cost with one uncertain input at its low and its high value."""

    input: str
    label: str
    spread: float
    low: float
    high: float

    @property
    def swing(self) -> float:
        return self.high - self.low


@dataclass(frozen=True, slots=True)
class Projection:
    """The yearly projection, its range and tornado, and the manual-redaction comparison."""

    inputs: Inputs
    years: tuple[YearCost, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    tornado: tuple[TornadoRow, ...]
    redaction_manual: tuple[float, ...]
    redaction_assisted: tuple[float, ...]

    @property
    def total(self) -> float:
        return self.years[-1].cumulative

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs.to_dict(),
            "years": [
                y.to_dict() | {"total_low": lo, "total_high": hi}
                for y, lo, hi in zip(self.years, self.low, self.high, strict=True)
            ],
            "total": self.total,
            "total_low": sum(self.low),
            "total_high": sum(self.high),
            "tornado": [dataclasses.asdict(t) | {"swing": t.swing} for t in self.tornado],
            "redaction_manual": list(self.redaction_manual),
            "redaction_assisted": list(self.redaction_assisted),
        }


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def held_tb_months(
    monthly_tb: float, mix: Sequence[MixEntry], months: int, archive_months: float,
    archive_share: float,
) -> list[tuple[float, float]]:  # fmt: skip
    """(hot, archive) TB-months held in each month 0 .. months-1.

    The footage of month m is held from the start of month m for its category's period
    R; in month k it is between k - m and k - m + 1 months old, so it occupies the
    overlap of that age span with [0, R) (hot until `archive_months`, then a share
    `archive_share` of it on the archive tier).
    """
    by_age: list[tuple[float, float]] = []
    for age in range(months):
        hot = archive = 0.0
        for m in mix:
            r = m.months
            early = _overlap(age, age + 1, 0, min(r, archive_months))
            late = _overlap(age, age + 1, archive_months, r)
            hot += m.share * (early + late * (1 - archive_share))
            archive += m.share * late * archive_share
        by_age.append((hot, archive))
    out = []
    hot = archive = 0.0
    for age_hot, age_archive in by_age:  # month k holds the footage of ages 0 .. k
        hot += age_hot
        archive += age_archive
        out.append((hot * monthly_tb, archive * monthly_tb))
    return out


def _refresh(year: int, cycle: int) -> bool:
    return year == 1 or (cycle > 0 and (year - 1) % cycle == 0)


def _years(inputs: Inputs, values: Mapping[str, float | bool]) -> list[YearCost]:
    def v(key: str) -> float:
        return float(values[key])

    cameras = float(inputs.cameras)
    officers = cameras * v("program.officers_per_camera")
    hours_month = officers * v("storage.video_hours_per_officer_per_month")
    tb_month = hours_month * tb_per_hour(v("storage.bitrate_mbps")) * v("storage.redundancy")
    held = held_tb_months(
        tb_month, inputs.mix, inputs.years * MONTHS_PER_YEAR,
        v("storage.archive_after_days") / DAYS_PER_MONTH, v("storage.archive_share"),
    )  # fmt: skip
    docks = math.ceil(cameras / v("hardware.cameras_per_dock"))
    assisted = bool(values["redaction.assisted"])
    review = v(
        "redaction.hours_per_video_hour_assisted"
        if assisted
        else "redaction.hours_per_video_hour_manual"
    )
    ftes = (
        v("staff.ftes") if v("staff.ftes") >= 0 else cameras / 100 * v("staff.ftes_per_100_cameras")
    )
    existing_hot, existing_archive = v("storage.existing_tb_hot"), v("storage.existing_tb_archive")
    out: list[YearCost] = []
    cumulative = 0.0
    for year in range(1, inputs.years + 1):
        growth = (1 + v("program.price_growth_per_year")) ** (year - 1)
        bought = (
            cameras
            if _refresh(year, int(v("hardware.camera_replacement_years")))
            else cameras * v("hardware.failure_rate")
        )
        docks_bought = docks if _refresh(year, int(v("hardware.dock_replacement_years"))) else 0
        hardware = bought * v("hardware.camera_price") + docks_bought * v("hardware.dock_price")
        licences = cameras * v("licences.per_camera_per_year")
        months = held[(year - 1) * MONTHS_PER_YEAR : year * MONTHS_PER_YEAR]
        hot = sum(h for h, _ in months) + existing_hot * MONTHS_PER_YEAR
        archive = sum(a for _, a in months) + existing_archive * MONTHS_PER_YEAR
        storage = hot * v("storage.hot_per_tb_month") + archive * v("storage.archive_per_tb_month")
        video_hours = hours_month * MONTHS_PER_YEAR
        redaction_hours = video_hours * v("redaction.share_requested") * review
        redaction = redaction_hours * v("redaction.wage_per_hour")
        staff = ftes * v("staff.cost_per_fte")
        parts = [growth * x for x in (hardware, licences, storage, redaction, staff)]
        total = sum(parts)
        cumulative += total
        out.append(
            YearCost(
                year=year,
                cameras_bought=bought,
                docks_bought=float(docks_bought),
                video_hours=video_hours,
                recorded_tb=tb_month * MONTHS_PER_YEAR,
                held_tb_hot=months[-1][0] + existing_hot,
                held_tb_archive=months[-1][1] + existing_archive,
                redaction_hours=redaction_hours,
                ftes=ftes,
                hardware=parts[0],
                licences=parts[1],
                storage=parts[2],
                redaction=parts[3],
                staff=parts[4],
                total=total,
                cumulative=cumulative,
            )
        )
    return out


def _moved(
    values: Mapping[str, float | bool], spreads: Sequence[str], sign: float
) -> dict[str, float | bool]:
    """`values` with the inputs of each spread times 1 + sign x spread (-1 low, +1 high)."""
    out = dict(values)
    for spread in spreads:
        factor = 1 + sign * float(values[f"sensitivity.{spread}"])
        for key in SENSITIVITY[spread][1]:
            moved = float(values[key]) * factor
            out[key] = min(moved, 1.0) if _BY_KEY[key].at_most_one else moved
    return out


def project(inputs: Inputs) -> Projection:
    """The yearly projection, the low/high range per year and the tornado table."""
    base = _years(inputs, inputs.values)
    uncertain = [s for s in SENSITIVITY if float(inputs.values[f"sensitivity.{s}"]) > 0]
    low = _years(inputs, _moved(inputs.values, uncertain, -1))
    high = _years(inputs, _moved(inputs.values, uncertain, 1))
    tornado = []
    for s in uncertain:
        lo = _years(inputs, _moved(inputs.values, [s], -1))[-1].cumulative
        hi = _years(inputs, _moved(inputs.values, [s], 1))[-1].cumulative
        tornado.append(
            TornadoRow(s, SENSITIVITY[s][0], float(inputs.values[f"sensitivity.{s}"]), lo, hi)
        )
    tornado.sort(key=lambda t: -t.swing)
    manual = _years(inputs, {**inputs.values, "redaction.assisted": False})
    assisted = _years(inputs, {**inputs.values, "redaction.assisted": True})
    return Projection(
        inputs,
        tuple(base),
        tuple(y.total for y in low),
        tuple(y.total for y in high),
        tuple(tornado),
        tuple(y.redaction for y in manual),
        tuple(y.redaction for y in assisted),
    )
