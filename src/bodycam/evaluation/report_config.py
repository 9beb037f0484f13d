"""The evaluation report's configuration: one TOML file naming the data and the design.

::

    title = "Springfield PD body-worn camera pilot"
    agency = "Springfield Police Department"
    confidence = 0.95

    [roster]
    file = "roster.csv"                 # paths are relative to this file
    mapping = "roster"                  # a preset or a TOML roster mapping

    [[outcome_file]]
    file = "incidents.csv"
    mapping = "springfield.toml"        # a preset or a TOML outcome mapping
    accept_invalid = false

    [design]
    type = "randomized"                 # or "staggered"
    pre = "2018-01-01..2018-12-31"      # randomized: the two windows
    post = "2019-07-01..2020-06-30"
    window = "2018-01-01..2020-06-30"   # the time series (staggered: the panel)
    period = "quarter"                  # week, month, quarter, year
    method = "cohort"                   # staggered: cohort or twfe

    [outcomes]
    include = ["complaints", "use_of_force"]
    labels = { complaints = "Citizen complaints" }

    [options]
    weights = true                      # default: when the roster has them
    blocks = true
    clusters = true
    covariates = ["pre_rate"]

Every key is documented in ``docs/evaluation.md``; an unknown key, a wrong type or a
bad window is a `ReportConfigError` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from bodycam.evaluation.counts import PERIODS, Period, Window, parse_window
from bodycam.evaluation.tables import InputError

__all__ = [
    "DesignType",
    "OutcomeFile",
    "ReportConfig",
    "ReportConfigError",
    "load_report_config",
    "parse_report_config",
]

DesignType = Literal["randomized", "staggered"]
_TOP: Final = ("title", "agency", "author", "confidence", "roster", "outcome_file", "design",
               "outcomes", "options")  # fmt: skip


class ReportConfigError(ValueError):
    """A report configuration that cannot be used; the message names the file and key."""


@dataclass(frozen=True, slots=True)
class OutcomeFile:
    """One outcome export and the mapping that reads it."""

    path: Path
    mapping: str
    accept_invalid: bool = False


@dataclass(frozen=True, slots=True)
class ReportConfig:
    """What one report reads and how it estimates."""

    origin: str
    title: str
    roster: Path
    roster_mapping: str
    outcome_files: tuple[OutcomeFile, ...]
    design: DesignType
    pre: Window | None
    post: Window | None
    window: Window
    period: Period
    method: str
    agency: str = ""
    author: str = ""
    confidence: float = 0.95
    include: tuple[str, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    weights: bool | None = None
    blocks: bool | None = None
    clusters: bool | None = None
    covariates: tuple[str, ...] = ()


class _Table:
    def __init__(self, origin: str, where: str, value: Any, keys: tuple[str, ...]) -> None:
        self.origin, self.where = origin, where
        if not isinstance(value, dict):
            raise self.fail("", "must be a table")
        unknown = sorted(set(value) - set(keys))
        if unknown:
            raise self.fail(
                "", f"unknown key {', '.join(map(repr, unknown))} (known: {', '.join(keys)})"
            )
        self.data: dict[str, Any] = value

    def fail(self, key: str, problem: str) -> ReportConfigError:
        name = ".".join(p for p in (self.where, key) if p)
        return ReportConfigError(f"{self.origin}: {name or 'the file'} {problem}.")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value is None:
            raise self.fail(key, "is missing")
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "must be a non-empty string")
        return value

    def optional(self, key: str) -> str:
        value = self.data.get(key, "")
        if not isinstance(value, str):
            raise self.fail(key, "must be a string")
        return value

    def mapping(self, key: str, base: Path, default: str | None = None) -> str:
        """A preset name as it is, or a mapping file's path relative to `base`."""
        name = self.text(key, default)
        if name.endswith(".toml") or "/" in name or "\\" in name:
            return str(base / name)
        return name

    def flag(self, key: str) -> bool | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, bool):
            raise self.fail(key, "must be true or false")
        return value

    def texts(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a list of names")
        return tuple(value)

    def window(self, key: str) -> Window | None:
        if key not in self.data:
            return None
        try:
            return parse_window(self.text(key), f"{self.origin}: {self.where}.{key}")
        except InputError as exc:
            raise ReportConfigError(str(exc)) from None


def parse_report_config(text: str, origin: str, base: Path) -> ReportConfig:
    """The configuration in `text`; file paths are taken relative to `base`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ReportConfigError(f"{origin} is not valid TOML ({exc}).") from None
    top = _Table(origin, "", data, _TOP)
    confidence = data.get("confidence", 0.95)
    if isinstance(confidence, bool) or not isinstance(confidence, float | int):
        raise top.fail("confidence", "must be a number between 0 and 1")
    if not 0 < confidence < 1:
        raise top.fail("confidence", "must be between 0 and 1 (e.g. 0.95)")
    roster = _Table(origin, "roster", data.get("roster"), ("file", "mapping"))
    files = data.get("outcome_file")
    if not isinstance(files, list) or not files:
        raise top.fail("outcome_file", "is missing: add one [[outcome_file]] per export")
    outcome_files = []
    for i, raw in enumerate(files, 1):
        t = _Table(origin, f"outcome_file[{i}]", raw, ("file", "mapping", "accept_invalid"))
        outcome_files.append(
            OutcomeFile(
                base / t.text("file"), t.mapping("mapping", base), bool(t.flag("accept_invalid"))
            )
        )
    design = _Table(
        origin, "design", data.get("design"), ("type", "pre", "post", "window", "period", "method")
    )
    kind = design.text("type")
    if kind not in ("randomized", "staggered"):
        raise design.fail("type", f"must be randomized or staggered, not {kind!r}")
    period = design.text("period", "quarter")
    if period not in PERIODS:
        raise design.fail("period", f"must be one of {', '.join(PERIODS)}, not {period!r}")
    method = design.text("method", "cohort")
    if method not in ("cohort", "twfe"):
        raise design.fail("method", f"must be cohort or twfe, not {method!r}")
    pre, post, window = design.window("pre"), design.window("post"), design.window("window")
    if kind == "randomized":
        if pre is None or post is None:
            raise design.fail("pre", "and design.post are needed for a randomized design")
        if pre.end >= post.start:
            raise design.fail("pre", f"({pre}) must end before design.post ({post}) starts")
        window = window or Window(pre.start, post.end)
    elif window is None:
        raise design.fail("window", "is needed for a staggered design (the panel's span)")
    elif pre is not None or post is not None:
        raise design.fail("pre", "and design.post belong to a randomized design; remove them")
    outcomes = _Table(origin, "outcomes", data.get("outcomes", {}), ("include", "labels"))
    labels = outcomes.data.get("labels", {})
    if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
        raise outcomes.fail("labels", 'must be a table of outcome = "label"')
    options = _Table(
        origin, "options", data.get("options", {}), ("weights", "blocks", "clusters", "covariates")
    )
    covariates = options.texts("covariates")
    if covariates and kind == "staggered":
        raise options.fail("covariates", "apply to a randomized design only")
    if options.flag("blocks") and kind == "staggered":
        raise options.fail("blocks", "apply to a randomized design only (unit fixed effects "
                           "already absorb them in a staggered one)")  # fmt: skip
    assert window is not None
    return ReportConfig(
        origin=origin,
        title=top.text("title"),
        agency=top.optional("agency"),
        author=top.optional("author"),
        confidence=float(confidence),
        roster=base / roster.text("file"),
        roster_mapping=roster.mapping("mapping", base, "roster"),
        outcome_files=tuple(outcome_files),
        design=kind,  # type: ignore[arg-type]
        pre=pre,
        post=post,
        window=window,
        period=period,  # type: ignore[arg-type]
        method=method,
        include=outcomes.texts("include"),
        labels=dict(labels),
        weights=options.flag("weights"),
        blocks=options.flag("blocks"),
        clusters=options.flag("clusters"),
        covariates=covariates,
    )


def load_report_config(path: Path) -> ReportConfig:
    """The configuration in the TOML file at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportConfigError(f"{path} cannot be read ({exc}).") from None
    return parse_report_config(text, path.name, path.parent)
