"""The analyst's pages: an evaluation uploaded, run as a job and read (every number equal to
the estimator's and to a hand computation), its figures as inline SVG, its reports
downloaded; bad input answered with the command line's sentence and nothing stored; the
cost dashboard's projection and actuals equal to the model's; and who may open them."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from markupsafe import escape
from scipy import stats
from sqlalchemy import func, select
from typer.testing import CliRunner

from bodycam.cli import app as cli_app
from bodycam.evaluation.analysis import estimate_file
from bodycam.evaluation.cost import load_inputs, project
from bodycam.evaluation.estimators import adjust_fdr
from bodycam.evaluation.report_reading import OutcomeResult, reading
from bodycam.evaluation.runs import Library
from bodycam.jobs.models import Job
from bodycam.jobs.runner import load_handlers, run_job
from bodycam.web.evaluation_pages import page_svg
from tests.web.conftest import count_audit

MAPPING = """
kind = "outcomes"
name = "pilot"
date_formats = ["%m/%d/%Y"]
[columns]
unit = "Badge"
date = "Occurred"
incident = "Case"
[[outcome]]
name = "complaints"
title = "Citizen complaints"
where = { Type = ["Complaint"] }
[[outcome]]
name = "use_of_force"
title = "Uses of force"
where = { Type = ["Use of force"] }
"""

CONFIG = """
title = "Small pilot <test>"
agency = "Test PD"
[roster]
file = "roster.csv"
[[outcome_file]]
file = "incidents.csv"
mapping = "pilot.toml"
[design]
type = "randomized"
pre = "2019-01-01..2019-12-31"
post = "2020-01-01..2020-12-31"
period = "quarter"
"""

# unit -> (complaints, uses of force) in each of 2019 (pre) and 2020 (post)
TREATED = {"101": (1, 0), "102": (0, 1), "103": (2, 0), "104": (1, 1), "105": (0, 0), "106": (1, 0)}
CONTROL = {"201": (2, 1), "202": (3, 0), "203": (1, 1), "204": (2, 2), "205": (4, 0), "206": (2, 1)}


def pilot_files(folder: Path | None = None) -> dict[str, str]:
    """The small pilot: its configuration, roster, incidents and mapping (name -> text),
    also written to `folder` when given."""
    roster = ["unit,camera"] + [f"{u},1" for u in TREATED] + [f"{u},0" for u in CONTROL]
    rows = ["Case,Badge,Occurred,Type"]
    n = 0
    for unit, (complaints, force) in {**TREATED, **CONTROL}.items():
        for year in (2019, 2020):
            for i in range(complaints):
                n += 1
                rows.append(f"C{n},{unit},{i % 12 + 1:02d}/15/{year},Complaint")
            for i in range(force):
                n += 1
                rows.append(f"F{n},{unit},{i % 12 + 2:02d}/10/{year},Use of force")
    files = {
        "report.toml": CONFIG,
        "roster.csv": "\n".join(roster) + "\n",
        "incidents.csv": "\n".join(rows) + "\n",
        "pilot.toml": MAPPING,
    }
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (folder / name).write_text(text, encoding="utf-8")
    return files


def upload(client, creds, who: str, files: dict[str, str]):
    """POST the evaluation form as `who`: the configuration and the data files."""
    parts = [("config", ("report.toml", files["report.toml"].encode(), "application/toml"))]
    parts += [
        ("data", (name, text.encode(), "text/csv"))
        for name, text in files.items()
        if name != "report.toml"
    ]
    return client.post(
        "/evaluation",
        data={"csrf": creds.csrf(who)},
        files=parts,
        headers=creds.cookie(who),
    )


def run_queued(ctx) -> list[Job]:
    """Run every queued evaluation job now (the app's runner is not started in tests)."""
    load_handlers()
    with ctx.sessions() as s:
        ids = list(s.scalars(select(Job.id).where(Job.kind == "evaluation.report")))
    return [run_job(ctx, i) for i in ids]


def cells(page: str, outcome: str) -> dict[str, float]:
    """The full-precision numbers of one outcome's row of the estimates table."""
    row = re.search(rf'<tr id="estimate-{outcome}"[^>]*>(.*?)</tr>', page, re.S)
    assert row, f"no row for {outcome}"
    found = re.findall(r'<td class="([a-z_]+)"><data value="([^"]+)">', row.group(1))
    return {name: float(value) for name, value in found}


@pytest.fixture(scope="module")
def warm() -> None:
    """statsmodels and matplotlib imported once (the first import takes seconds)."""
    import matplotlib.figure  # noqa: F401
    import statsmodels.api  # noqa: F401


def test_the_page_shows_the_estimators_numbers_charts_and_readings(
    client, ctx, creds, dept, tmp_path, warm
):
    files = pilot_files(tmp_path / "in")
    resp = upload(client, creds, "analyst", files)
    assert resp.status_code == 303, resp.text
    where = resp.headers["location"]
    evaluation_id = where.rsplit("/", 1)[1]
    assert count_audit(ctx, "evaluation:report:create", actor="analyst") == 1
    # Before the job: progress, and the page reloads itself.
    waiting = client.get(where, headers=creds.cookie("analyst"))
    assert waiting.status_code == 200 and "The report is being written" in waiting.text
    assert waiting.headers["refresh"] == "2"
    [job] = run_queued(ctx)
    assert job.status == "done", job.error
    assert job.done == job.total == 5
    page = client.get(where, headers=creds.cookie("analyst"))
    assert page.status_code == 200 and "refresh" not in page.headers
    text = page.text
    assert "Small pilot &lt;test&gt;" in text  # escaped

    # The estimator on the analysis file the report wrote, and a hand computation.
    folder = Library.from_context(ctx).path(evaluation_id) / "report"
    ests = {}
    for outcome in ("complaints", "use_of_force"):
        ests[outcome] = estimate_file(
            folder / "officers.csv", "treatment", [f"{outcome}_post"],
            exposure="officer_years_post",
        ).estimates[0]  # fmt: skip
    adjusted = dict(zip(ests, adjust_fdr(list(ests.values())), strict=True))
    for outcome, e in ests.items():
        got = cells(text, outcome)
        assert got["estimate"] == e.estimate and got["se"] == e.se
        assert got["ci_low"] == e.ci_low and got["ci_high"] == e.ci_high
        assert got["p_value"] == e.p_value
        assert got["p_value_fdr"] == adjusted[outcome].p_value_fdr
        assert got["n_treated"] == e.n_treated == 6 and got["n_control"] == e.n_control == 6
    # By hand: every officer served the whole post window (2020: 366 days), so the rate
    # difference is 1,000 / officer-years x the difference in mean counts, and HC2 with one
    # binary regressor is the two-sample (unpooled) standard error; t with n - 2 = 10 df.
    years = 366 / 365.25
    for outcome, column in (("complaints", 0), ("use_of_force", 1)):
        treated = np.array([v[column] for v in TREATED.values()], float) * 1000 / years
        control = np.array([v[column] for v in CONTROL.values()], float) * 1000 / years
        estimate = treated.mean() - control.mean()
        se = math.sqrt(treated.var(ddof=1) / 6 + control.var(ddof=1) / 6)
        got = cells(text, outcome)
        assert got["estimate"] == pytest.approx(estimate, rel=1e-12)
        assert got["se"] == pytest.approx(se, rel=1e-9)
        assert got["ci_low"] == pytest.approx(estimate - stats.t.ppf(0.975, 10) * se, rel=1e-9)
        assert got["p_value"] == pytest.approx(2 * stats.t.sf(abs(estimate / se), 10), rel=1e-9)
    assert cells(text, "complaints")["estimate"] == pytest.approx(-1496.9262295081967)

    # The readings: the report's sentences, from the same numbers.
    data = json.loads((folder / "estimates.json").read_text())
    for outcome in ("complaints", "use_of_force"):
        words = reading(OutcomeResult(**data["outcomes"][outcome] | {"event_study": ()}))
        assert str(escape(words.headline)) in text
        for sentence in (*words.sentences, *words.warnings):
            assert str(escape(sentence)) in text
    assert "A reduction of 1,497 per 1,000 officers per year in Citizen complaints" in text
    assert "No detectable effect on Uses of force." in text
    assert "Small sample: 6 units with cameras and 6 without" in text

    # The counts behind the figures: the post-window complaints of each group, as written.
    counts = re.search(r'<table class="list tidy" id="counts-table">(.*?)</table>', text, re.S)
    assert counts
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", counts.group(1), re.S)
    table = [r.split("</td><td>") for r in rows]
    by = {(r[0], r[1]): r for r in table}
    assert by[("Citizen complaints", "cameras")][7] == str(sum(v[0] for v in TREATED.values()))
    assert by[("Citizen complaints", "no cameras")][7] == str(sum(v[0] for v in CONTROL.values()))
    assert by[("Uses of force", "no cameras")][2] == "6"

    # Figures: inline SVG (coefficient plot and one time series per outcome), no script,
    # no inline style the page's Content-Security-Policy would refuse, unique ids.
    svgs = re.findall(r"<svg\b.*?</svg>", text, re.S)
    assert len(svgs) == 3
    assert "<script" not in text and "<style" not in text
    assert not any(" style=" in s for s in svgs)
    ids = re.findall(r'\bid="([^"]+)"', "".join(svgs))
    assert len(ids) == len(set(ids))
    assert 'aria-label="Estimates by outcome"' in svgs[0]
    assert "Citizen complaints: counts per period" in text  # the time series' numbers

    # Downloads: the report itself.
    got = client.get(f"{where}/files/report.html", headers=creds.cookie("analyst"))
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    assert "A reduction of 1,497 per 1,000 officers per year" in got.text
    pdf = client.get(f"{where}/files/report.pdf", headers=creds.cookie("analyst"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    est = client.get(f"{where}/files/estimates.json", headers=creds.cookie("analyst"))
    assert est.json()["outcomes"]["complaints"]["se"] == ests["complaints"].se
    nope = client.get(f"{where}/files/officers.csv", headers=creds.cookie("analyst"))
    assert nope.status_code == 404

    # The list shows it; the auditor reads it too.
    listing = client.get("/evaluation", headers=creds.cookie("auditor"))
    assert listing.status_code == 200 and f'href="/evaluation/{evaluation_id}"' in listing.text
    assert 'action="/evaluation"' not in listing.text  # no upload form without the right
    assert client.get(where, headers=creds.cookie("auditor")).status_code == 200


def cli_sentence(folder: Path) -> str:
    """The last line ``bodycam eval report`` prints on stderr for the files in `folder`."""
    result = CliRunner().invoke(
        cli_app, ["eval", "report", str(folder / "report.toml"), "--out", str(folder / "out")]
    )
    assert result.exit_code == 1
    return result.stderr.strip().splitlines()[-1]


def _missing_column(f: dict[str, str]) -> None:
    f["roster.csv"] = f["roster.csv"].replace("unit,camera\n", "unit,cam\n")


def _not_a_number(f: dict[str, str]) -> None:
    lines = f["roster.csv"].splitlines()
    lines = ["unit,camera,officers"] + [f"{line},1" for line in lines[1:]]
    lines[3] = lines[3][:-1] + "two"
    f["roster.csv"] = "\n".join(lines) + "\n"


def _not_zero_or_one(f: dict[str, str]) -> None:
    lines = f["roster.csv"].splitlines()
    lines[4] = lines[4].replace(",1", ",2")
    f["roster.csv"] = "\n".join(lines) + "\n"


def _one_treated(f: dict[str, str]) -> None:
    lines = f["roster.csv"].splitlines()
    f["roster.csv"] = "\n".join([*lines[:2], *(x.replace(",1", ",0") for x in lines[2:])]) + "\n"


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (_missing_column, "roster.csv line 1 (the header) has no column 'camera'"),
        (_not_a_number, "roster.csv line 4, column 'officers': 'two' is not a number."),
        (_not_zero_or_one, "roster.csv line 5, column 'camera': '2' is not 0 or 1"),
        (_one_treated, "there is 1 treated unit; an estimate needs at least two treated"),
    ],
)
def test_bad_input_is_the_command_lines_sentence_and_stores_nothing(
    client, ctx, creds, dept, tmp_path, warm, change, sentence
):
    files = pilot_files(tmp_path / "cli")
    change(files)
    for name, body in files.items():
        (tmp_path / "cli" / name).write_text(body, encoding="utf-8")
    expected = cli_sentence(tmp_path / "cli")
    assert sentence in expected
    resp = upload(client, creds, "analyst", files)
    assert resp.status_code == 422
    assert f'<p class="error" role="alert">{escape(expected)}</p>' in resp.text
    folder = Library.from_context(ctx).folder
    assert not folder.exists() or list(folder.iterdir()) == []
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0
    assert count_audit(ctx, "evaluation:report:create") == 0


def test_missing_and_unsafe_file_names_are_refused(client, ctx, creds, dept, tmp_path):
    files = pilot_files(tmp_path / "in")
    del files["pilot.toml"]
    resp = upload(client, creds, "analyst", files)
    assert resp.status_code == 422
    assert (
        "report.toml: outcome_file[1].mapping names pilot.toml, which was not uploaded" in resp.text
    )
    files = pilot_files(tmp_path / "in2")
    files["report.toml"] = CONFIG.replace('file = "roster.csv"', 'file = "../../keys/secret-key"')
    resp = upload(client, creds, "analyst", files)
    assert resp.status_code == 422
    assert "roster.file names &#39;../../keys/secret-key&#39;" in resp.text
    files["report.toml"] = CONFIG.replace('mapping = "pilot.toml"', 'mapping = "pyproject"')
    resp = upload(client, creds, "analyst", files)
    assert resp.status_code == 422
    assert "names &#39;pyproject&#39;, which is neither a preset (lansing_complaints" in resp.text
    files["report.toml"] = CONFIG + "\n[extra]\n"
    resp = upload(client, creds, "analyst", files)
    assert (
        resp.status_code == 422 and "report.toml: the file unknown key &#39;extra&#39;" in resp.text
    )
    expired = client.post(
        "/evaluation", data={"csrf": "stale"}, headers=creds.cookie("analyst"),
        files=[("config", ("report.toml", CONFIG.encode(), "application/toml"))],
    )  # fmt: skip
    assert expired.status_code == 422 and "The form expired" in expired.text
    folder = Library.from_context(ctx).folder
    assert not folder.exists() or list(folder.iterdir()) == []


def test_who_may_open_the_pages(client, ctx, creds, dept, tmp_path):
    files = pilot_files(tmp_path / "in")
    for who in ("o1", "admin", "auditor"):  # only the analyst may run one
        assert upload(client, creds, who, files).status_code == 403
    for who, paths in {
        "o1": ["/evaluation", "/cost", "/cost/actuals"],
        "equipment": ["/evaluation", "/cost"],
        "admin": ["/evaluation"],
        "auditor": ["/cost", "/cost/actuals"],
    }.items():
        for path in paths:
            resp = client.get(path, headers=creds.cookie(who))
            assert resp.status_code == 403, (who, path)
            assert "Not allowed" in resp.text
    assert count_audit(ctx, "access:request:denied", actor="o1") >= 3
    for who, path in (("analyst", "/evaluation"), ("analyst", "/cost"), ("admin", "/cost")):
        assert client.get(path, headers=creds.cookie(who)).status_code == 200
    assert client.get("/evaluation").status_code == 303  # anonymous: to the sign-in page
    unknown = client.get("/evaluation/01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=creds.cookie("analyst"))
    assert unknown.status_code == 404


def test_the_cost_projection_is_the_models(client, ctx, creds, dept):
    params = {"cameras": "400", "years": "3", "storage.bitrate_mbps": "8",
              "hardware.camera_price": "700", "redaction.assisted": "false"}  # fmt: skip
    resp = client.get("/cost", params=params, headers=creds.cookie("analyst"))
    assert resp.status_code == 200, resp.text
    want = project(
        load_inputs(cameras=400, years=3,
                    overrides=["storage.bitrate_mbps=8", "redaction.assisted=false"])
    )  # fmt: skip
    table = re.search(r'<table class="list tidy" id="years-table">(.*?)</table>', resp.text, re.S)
    assert table
    values = [float(v) for v in re.findall(r'<data value="([^"]+)">', table.group(1))]
    expected = []
    for y, lo, hi in zip(want.years, want.low, want.high, strict=True):
        expected += [y.hardware, y.licences, y.storage, y.redaction, y.staff, y.total,
                     y.cumulative, lo, hi]  # fmt: skip
    assert values == [*expected, want.total]
    assert f"{want.total:,.0f}" in resp.text
    assert f"{sum(want.low):,.0f} to {sum(want.high):,.0f}" in resp.text
    svgs = re.findall(r"<svg\b.*?</svg>", resp.text, re.S)
    assert len(svgs) == 1 and " style=" not in svgs[0] and "400 cameras over 3 years" in svgs[0]
    # The inputs used, with the form as their source.
    assert "<td><code>storage.bitrate_mbps</code></td><td>8</td><td>6</td>" in resp.text
    assert "the projection form" in resp.text
    # Bad input: the model's sentence, naming the form.
    bad = client.get(
        "/cost", params={"cameras": "400", "years": "3", "storage.archive_share": "2"},
        headers=creds.cookie("analyst"),
    )  # fmt: skip
    assert bad.status_code == 422
    assert "the projection form: storage.archive_share is a share and must be at most 1" in bad.text
    bad = client.get("/cost", params={"cameras": "many", "years": "3"},
                     headers=creds.cookie("analyst"))  # fmt: skip
    assert bad.status_code == 422
    assert "the projection form: cameras must be a whole number, not &#39;many&#39;." in bad.text
    first = client.get("/cost", headers=creds.cookie("analyst"))
    assert first.status_code == 200 and "400 cameras over 5 years" in first.text


def test_the_actuals_are_this_installations(client, ctx, creds, dept, ingest):
    from bodycam.evaluation.cost_actuals import cost_actuals

    ingest(71, "1001", category="Traffic Stop")
    ingest(72, "2001")
    resp = client.get("/cost/actuals", headers=creds.cookie("analyst"))
    assert resp.status_code == 200
    want = cost_actuals(ctx.sessions, dept.actor("analyst"))
    assert f"<strong>{want.videos:,}</strong> videos" in resp.text
    table = re.search(r'id="actuals-table">(.*?)</table>', resp.text, re.S)
    assert table
    shown = [float(v) for v in re.findall(r'<data value="([^"]+)">', table.group(1))]
    assert shown[:3] == [want.videos_per_day, want.hours_per_day, want.tb_per_month]
    assert "storage.video_hours_per_officer_per_month" in resp.text
    projected = client.get(
        "/cost", params={"actuals": "1", "cameras": "", "years": "2"},
        headers=creds.cookie("analyst"),
    )  # fmt: skip
    assert projected.status_code == 200, projected.text
    assert "<td>actuals</td>" in projected.text and "2 cameras over 2 years" in projected.text
    bad = client.get("/cost/actuals", params={"from": "2026-13-01"},
                     headers=creds.cookie("analyst"))  # fmt: skip
    assert bad.status_code == 422 and "The from date &#39;2026-13-01&#39; is not a date" in bad.text


def test_page_svg_moves_styles_to_attributes() -> None:
    raw = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="540pt" height="100pt" '
        'viewBox="0 0 540 100">'
        '<defs><style type="text/css">*{stroke-linejoin: round}</style>'
        '<clipPath id="p1"><rect x="0" y="0" width="5" height="5"/></clipPath></defs>'
        '<path id="a" d="M 0 0" clip-path="url(#p1)" style="fill: #ffffff; stroke-width: 0.8"/>'
        "<text style=\"font-size: 9px; font-family: 'DejaVu Sans'\">x</text></svg>"
    )
    out = str(page_svg(raw, "f1-", 'A "title"'))
    assert "style" not in out
    assert 'fill="#ffffff" stroke-width="0.8"' in out
    assert 'font-family="&#x27;DejaVu Sans&#x27;"' in out
    assert 'id="f1-p1"' in out and 'clip-path="url(#f1-p1)"' in out and 'id="f1-a"' in out
    assert out.startswith(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 540 100" width="100%"'
    )
    assert 'aria-label="A &quot;title&quot;"' in out and 'stroke-linejoin="round"' in out
