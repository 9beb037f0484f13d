"""The evaluation report's words: one outcome's result read in plain language.

`reading` says what the interval rules out and nothing more: "no detectable effect"
with the reductions and increases the data rule out when the interval includes zero,
"a reduction (increase) of X" with the false-discovery-rate caveat when it excludes
zero, and warnings for a non-randomized design, pre-trends, few clusters, small groups
and rare outcomes. Every number in a reading comes from the `OutcomeResult`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "FEW_CLUSTERS",
    "PRETREND_ALPHA",
    "RARE",
    "SMALL_GROUP",
    "UNIT",
    "OutcomeResult",
    "Reading",
    "fmt",
    "fmt_p",
    "reading",
]

UNIT: Final = "per 1,000 officers per year"
SMALL_GROUP: Final = 20
"""Fewer units than this in either group gets a small-sample warning."""
RARE: Final = 20
"""Fewer events than this behind an estimate gets a rare-outcome warning."""
FEW_CLUSTERS: Final = 30
PRETREND_ALPHA: Final = 0.10


@dataclass(frozen=True, slots=True)
class Reading:
    """One outcome in words: a headline, what the interval says, and warnings."""

    headline: str
    sentences: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join((self.headline, *self.sentences))


@dataclass(frozen=True, slots=True)
class OutcomeResult:
    """One outcome's estimate (or why there is none), with what its reading needs.

    `baseline` is the rate the effect is compared with in percentages (the control
    group's post-window rate, or the treated units' rate before cameras), described by
    `baseline_label`; `events` the count of the outcome behind the estimate.
    """

    outcome: str
    label: str
    design: str
    confidence: float
    n_outcomes: int
    estimate: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_value_fdr: float | None = None
    n_treated: int = 0
    n_control: int = 0
    n_clusters: int | None = None
    mean_treated: float | None = None
    mean_control: float | None = None
    baseline: float | None = None
    baseline_label: str = ""
    events: float | None = None
    pretrend_p_value: float | None = None
    has_leads: bool = False
    event_study: tuple[tuple[int, float, float, float, float, int], ...] = ()
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["event_study"] = [
            dict(zip(("relative_period", "estimate", "ci_low", "ci_high", "p_value", "n_units"),
                     e, strict=True))
            for e in self.event_study
        ]  # fmt: skip
        return out


def fmt(value: float) -> str:
    """A number for a sentence: 1,234 / 56.7 / 3.46 / 0.0123 (sign dropped by callers)."""
    a = abs(value)
    if a >= 100:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    if a == 0:
        return "0"
    return f"{value:#.3g}"


def fmt_p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _pct(value: float, base: float) -> str:
    share = 100 * abs(value) / base
    return f"{share:.0f}%" if share >= 1 else f"{share:.1g}%"


def reading(r: OutcomeResult, unit: str = UNIT) -> Reading:
    """`r` in plain language: what the interval rules out, never more.

    An interval that spans zero is "no detectable effect" with the reductions and
    increases it rules out; one that excludes zero is "a reduction (increase) of X (CI a
    to b)" with the false-discovery-rate caveat. Warnings name few clusters, pre-trends,
    small groups, rare outcomes and a non-randomized design. Every number comes from `r`.
    """
    if r.error is not None or r.estimate is None:
        return Reading(
            f"{r.label}: no estimate.",
            (f"It could not be estimated: {r.error}",),
            ("Leaving it out of the findings would overstate the rest; it is listed here.",),
        )
    assert r.ci_low is not None and r.ci_high is not None and r.p_value is not None
    level = f"{r.confidence:.0%}"
    base = r.baseline if r.baseline is not None and r.baseline > 0 else None

    def share(value: float) -> str:
        return f" ({_pct(value, base)} of {r.baseline_label}, {fmt(base)})" if base else ""

    def of_base(value: float) -> str:
        return f", {_pct(value, base)} of {r.baseline_label} ({fmt(base)})" if base else ""

    sentences: list[str] = []
    if r.ci_low <= 0 <= r.ci_high:
        headline = f"No detectable effect on {r.label}."
        sentences.append(
            f"The estimate is {'-' if r.estimate < 0 else ''}{fmt(abs(r.estimate))} {unit}, "
            f"and its {level} confidence interval, {_signed(r.ci_low)} to {_signed(r.ci_high)}, "
            "includes zero."
        )
        low = abs(r.ci_low)
        if base is not None and low >= base:
            rule_low = (
                f"The data cannot rule out a reduction of any size: the interval reaches "
                f"{fmt(low)} below, as much as {r.baseline_label} itself ({fmt(base)})"
            )
        else:
            rule_low = f"The data rule out reductions larger than {fmt(low)} {unit}{share(low)}"
        sentences.append(
            f"{rule_low}, and increases larger than {fmt(r.ci_high)}{share(r.ci_high)}; "
            "any effect in between, including none, is consistent with the data."
        )
    else:
        word = "reduction" if r.estimate < 0 else "increase"
        article = "A" if r.estimate < 0 else "An"
        near, far = sorted((abs(r.ci_low), abs(r.ci_high)))
        headline = (
            f"{article} {word} of {fmt(abs(r.estimate))} {unit} in {r.label}"
            f"{of_base(r.estimate)}; {level} confidence interval: {article.lower()} {word} of "
            f"{fmt(near)} to {fmt(far)}."
        )
        sentences.append(f"Its p-value is {fmt_p(r.p_value)}.")
        if _pretrends(r):
            sentences.append(
                "The units were already diverging before cameras (see the warning), so this "
                f"is not evidence that cameras changed {r.label}."
            )
        if r.n_outcomes > 1 and r.p_value_fdr is not None:
            if r.p_value_fdr <= 1 - r.confidence:
                sentences.append(
                    f"It holds after adjusting for the {r.n_outcomes} outcomes tested "
                    f"(false-discovery-rate adjusted p-value {fmt_p(r.p_value_fdr)})."
                )
            else:
                sentences.append(
                    f"After adjusting for the {r.n_outcomes} outcomes tested, the "
                    f"false-discovery-rate adjusted p-value is {fmt_p(r.p_value_fdr)}: this "
                    "may be a chance finding among the outcomes tested."
                )
        sentences.append(
            f"The true {word} may be anywhere from {fmt(near)} to {fmt(far)}; the interval, "
            "not the single estimate, is the finding."
        )
    return Reading(headline, tuple(sentences), tuple(_warnings(r)))


def _count(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else fmt(value)


def _signed(value: float) -> str:
    return f"{'-' if value < 0 else ''}{fmt(abs(value))}"


def _pretrends(r: OutcomeResult) -> bool:
    return r.pretrend_p_value is not None and r.pretrend_p_value < PRETREND_ALPHA


def _warnings(r: OutcomeResult) -> list[str]:
    out: list[str] = []
    if r.design == "staggered":
        out.append(
            "Cameras were not assigned at random: this difference-in-differences estimate is "
            "causal only if units with and without cameras would have moved in parallel "
            "without them."
        )
        if _pretrends(r):
            assert r.pretrend_p_value is not None
            out.append(
                f"Pre-trends: before any camera, the units already diverged (joint test of the "
                f"periods before adoption, p-value {fmt_p(r.pretrend_p_value)}). Parallel "
                "trends fail, and this estimate should not be trusted."
            )
        elif not r.has_leads:
            out.append(
                "There are too few periods before adoption to test for pre-trends, so "
                "parallel trends cannot be checked."
            )
    if r.n_clusters is not None and r.n_clusters < FEW_CLUSTERS:
        out.append(
            f"Few clusters: only {r.n_clusters}. Cluster-robust intervals are too narrow "
            f"with fewer than about {FEW_CLUSTERS}, so the uncertainty is larger than shown."
        )
    if min(r.n_treated, r.n_control) < SMALL_GROUP:
        out.append(
            f"Small sample: {r.n_treated} units with cameras and {r.n_control} without. "
            "One unusual officer or precinct can move the estimate, and the interval rests "
            "on approximations."
        )
    if r.events is not None and r.events < RARE:
        out.append(
            f"Rare outcome: {_count(r.events)} {r.label} in all behind this estimate; a "
            "handful of incidents decides it."
        )
    return out
