"""The precinct and call-type reports read only the verdicts their period can need, with
the same results as reading every verdict."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import true

from bodycam.compliance import report
from tests.compliance.test_report import RECORDINGS, _utc, department  # noqa: F401


def test_bounded_reports_equal_the_unbounded_ones_for_every_period(
    ctx,
    dept,
    department,  # noqa: F811
    monkeypatch,
):
    analyst = dept.actor("analyst")
    cuts = sorted(
        {_utc(start) + timedelta(minutes=d) for _, _, start, *_ in RECORDINGS for d in (-1, 1, 20)}
    )
    periods = [(a, b) for i, a in enumerate(cuts) for b in cuts[i + 1 :]]
    periods += [(None, cuts[3]), (cuts[3], None), (None, None)]

    def run() -> list[list[report.Rate]]:
        return [
            report.compliance_report(ctx.sessions, analyst, by=by, start=a, end=b)
            for by in ("precinct", "call-type")
            for a, b in periods
        ]

    bounded = run()
    monkeypatch.setattr(report, "_matched_bounds", lambda s, start, end: true())
    unbounded = run()
    assert bounded == unbounded
    assert sum(r.recordings for rates in bounded for r in rates) > 100  # periods hit recordings
