"""The evaluation report: its wording on constructed results (every number from the result),
the HTML (self-contained, figures and tables), the PDF (valid, outcome names as text), both
designs end to end, and bad configurations as sentences (exit 1, nothing left behind)."""

from __future__ import annotations

import json
import re
import zlib
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bodycam.cli import app
from bodycam.evaluation.report_config import ReportConfigError, parse_report_config
from bodycam.evaluation.report_reading import (
    FEW_CLUSTERS,
    OutcomeResult,
    fmt,
    fmt_p,
    reading,
)

NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")


def result(**given) -> OutcomeResult:
    base = {
        "outcome": "complaints", "label": "citizen complaints", "design": "randomized",
        "confidence": 0.95, "n_outcomes": 3, "estimate": -14.25, "ci_low": -180.65,
        "ci_high": 152.15, "p_value": 0.857, "p_value_fdr": 0.984, "n_treated": 80,
        "n_control": 80, "mean_treated": 171.6, "mean_control": 185.8, "baseline": 185.8,
        "baseline_label": "the rate of officers without cameras", "events": 412.0,
    }  # fmt: skip
    return OutcomeResult(**(base | given))


def allowed_numbers(r: OutcomeResult) -> set[str]:
    """Every number a sentence about `r` may show, formatted as the report formats them."""
    values = [r.estimate, r.ci_low, r.ci_high, r.baseline]
    out = {fmt(abs(v)) for v in values if v is not None} | {f"{r.events:,.0f}"}
    out |= {str(n) for n in (r.n_treated, r.n_control, r.n_clusters, r.n_outcomes)}
    for p in (r.p_value, r.p_value_fdr, r.pretrend_p_value):
        if p is not None:
            out.add(fmt_p(p).lstrip("< "))
    if r.baseline:
        for v in (r.estimate, r.ci_low, r.ci_high):
            share = 100 * abs(v) / r.baseline
            out.add(f"{share:.0f}" if share >= 1 else f"{share:.1g}")
    out |= {f"{r.confidence:.0%}".rstrip("%")}
    return out | {"1,000", str(FEW_CLUSTERS)}  # the unit, and the few-clusters rule


def numbers_in(text: str) -> list[str]:
    return NUMBER.findall(text)


def check_numbers(r: OutcomeResult) -> str:
    words = reading(r)
    text = " ".join((words.text, *words.warnings))
    stray = [n for n in numbers_in(text) if n not in allowed_numbers(r)]
    assert not stray, f"numbers not from the result: {stray} in {text!r}"
    return text


def test_an_interval_spanning_zero_is_no_detectable_effect_with_what_it_rules_out() -> None:
    r = result()
    words = reading(r)
    assert words.headline == "No detectable effect on citizen complaints."
    text = check_numbers(r)
    assert "rule out reductions larger than 181 per 1,000 officers per year" in text
    assert "(97% of the rate of officers without cameras, 186)" in text
    assert "increases larger than 152 (82% of" in text
    assert "including none, is consistent with the data" in text
    assert "reduction of" not in words.headline and words.warnings == ()


def test_an_interval_reaching_past_the_baseline_cannot_rule_out_any_reduction() -> None:
    r = result(ci_low=-250.0)
    text = check_numbers(r)
    assert "cannot rule out a reduction of any size" in text
    assert "rule out reductions larger than" not in text


def test_an_interval_excluding_zero_is_a_reduction_with_the_fdr_caveat() -> None:
    r = result(estimate=-40.0, ci_low=-70.5, ci_high=-9.5, p_value=0.012, p_value_fdr=0.036)
    words = reading(r)
    assert words.headline == (
        "A reduction of 40.0 per 1,000 officers per year in citizen complaints, 22% of the "
        "rate of officers without cameras (186); 95% confidence interval: a reduction of "
        "9.50 to 70.5."
    )
    text = check_numbers(r)
    assert "It holds after adjusting for the 3 outcomes tested" in text
    assert "adjusted p-value 0.036" in text
    chance = result(estimate=-40.0, ci_low=-70.5, ci_high=-9.5, p_value=0.03, p_value_fdr=0.09)
    text = check_numbers(chance)
    assert "may be a chance finding among the outcomes tested" in text
    up = result(estimate=12.0, ci_low=2.0, ci_high=22.0, p_value=0.02, p_value_fdr=0.06)
    assert reading(up).headline.startswith("An increase of 12.0 per 1,000")
    check_numbers(up)
    alone = result(estimate=-40.0, ci_low=-70.5, ci_high=-9.5, p_value=0.01, p_value_fdr=None,
                   n_outcomes=1)  # fmt: skip
    assert "adjust" not in check_numbers(alone)


def test_tiny_samples_few_clusters_rare_outcomes_and_pretrends_are_warned() -> None:
    r = result(n_treated=4, n_control=3, events=6.0, n_clusters=7)
    words = reading(r)
    text = check_numbers(r)
    assert any(
        w.startswith("Small sample: 4 units with cameras and 3 without") for w in words.warnings
    )
    assert any(w.startswith("Few clusters: only 7") for w in words.warnings)
    assert any(w.startswith("Rare outcome: 6 citizen complaints") for w in words.warnings)
    assert "no detectable effect" in text.lower()
    staggered = result(design="staggered", pretrend_p_value=0.02, has_leads=True, estimate=-40.0,
                       ci_low=-70.0, ci_high=-10.0, p_value=0.01, p_value_fdr=0.02)  # fmt: skip
    words = reading(staggered)
    check_numbers(staggered)
    assert any(w.startswith("Pre-trends:") and "p-value 0.020" in w for w in words.warnings)
    assert any("not assigned at random" in w for w in words.warnings)
    assert "is not evidence that cameras changed citizen complaints" in words.text
    no_leads = reading(result(design="staggered", has_leads=False))
    assert any("cannot be checked" in w for w in no_leads.warnings)
    failed = reading(result(estimate=None, error="x.csv line 2: it does not vary."))
    assert "no estimate" in failed.headline and "does not vary" in failed.text


# --- end to end --------------------------------------------------------------------------

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
[[outcome]]
name = "firearm"
title = "Firearm discharges"
where = { Type = ["Firearm"] }
"""


def write_pilot(folder: Path, units: int = 40, staggered: bool = False) -> None:
    """A seeded pilot: `units` officers (or precincts), complaints and force, no firearms."""
    rng = np.random.default_rng(11)
    roster = ["unit,camera,assigned_on,block,officers" if staggered else "unit,camera,block"]
    rows = ["Case,Badge,Occurred,Type"]
    n = 0
    adopt = ["2019-01-01", "2019-07-01"]
    for i in range(units):
        camera = i % 2
        if staggered:
            roster.append(f"P{i},{camera},{adopt[i % 4 // 2] if camera else ''},b{i % 3},20")
        else:
            roster.append(f"{100 + i},{camera},{'ab'[i // (units // 2)]}")
        for day in range(0, 3 * 365, 7):
            when = date(2018, 1, 1) + timedelta(days=day)
            for kind, lam in (("Complaint", 0.06 * (10 if staggered else 1)),
                              ("Use of force", 0.04 * (10 if staggered else 1))):  # fmt: skip
                for _ in range(rng.poisson(lam)):
                    n += 1
                    unit = f"P{i}" if staggered else str(100 + i)
                    rows.append(f"C{n},{unit},{when:%m/%d/%Y},{kind}")
    (folder / "roster.csv").write_text("\n".join(roster) + "\n")
    (folder / "incidents.csv").write_text("\n".join(rows) + "\n")
    (folder / "pilot.toml").write_text(MAPPING)


RANDOMIZED = """
title = "Pilot <evaluation>"
agency = "Test PD"
[roster]
file = "roster.csv"
[[outcome_file]]
file = "incidents.csv"
mapping = "pilot.toml"
[design]
type = "randomized"
pre = "2018-01-01..2018-12-31"
post = "2019-07-01..2020-06-30"
[outcomes]
labels = { complaints = "complaints from the public" }
[options]
covariates = ["pre_rate"]
"""

STAGGERED = """
title = "Rollout"
[roster]
file = "roster.csv"
[[outcome_file]]
file = "incidents.csv"
mapping = "pilot.toml"
[design]
type = "staggered"
window = "2018-01-01..2020-12-31"
period = "quarter"
[outcomes]
include = ["complaints", "use_of_force"]
"""


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def pdf_text(data: bytes) -> str:
    """The PDF's page content streams, inflated (fpdf2 compresses them)."""
    parts = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            parts.append(zlib.decompress(match.group(1)).decode("latin-1"))
        except zlib.error:
            continue
    return "".join(parts)


def check_pdf(path: Path, names: list[str]) -> int:
    data = path.read_bytes()
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    assert b"startxref" in data[-100:] or b"startxref" in data[-1000:]
    pages = len(re.findall(rb"/Type /Page\b", data))
    try:
        import pypdf
    except ImportError:
        pass
    else:
        reader = pypdf.PdfReader(path)
        assert len(reader.pages) == pages
    text = pdf_text(data)
    for name in names:
        assert f"({name}" in text or name in text, f"{name!r} is not in the PDF's text"
    return pages


def test_randomized_report_end_to_end(run, tmp_path: Path) -> None:
    write_pilot(tmp_path)
    config = tmp_path / "report.toml"
    config.write_text(RANDOMIZED)
    out = tmp_path / "out"
    code, stdout, err = run("eval", "report", str(config), "--out", str(out))
    assert code == 0, err
    assert stdout.startswith(f"Wrote {out}: report.html, report.pdf, officers.csv")
    assert sorted(p.name for p in out.iterdir()) == [
        "estimates.json", "officers.csv", "report.html", "report.pdf"]  # fmt: skip
    html = (out / "report.html").read_text(encoding="utf-8")
    # Self-contained: no external resource of any kind.
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "Pilot &lt;evaluation&gt;" in html  # escaped
    assert html.count("<svg") == 4  # coefficients + one time series per outcome
    for label in ("complaints from the public", "Uses of force", "Firearm discharges"):
        assert label in html
    assert 'id="figure-1"' in html and "FDR-adjusted p" in html
    assert "<caption>The counts behind the estimates</caption>" in html
    assert "<caption>Uses of force: counts per period</caption>" in html
    # The firearm outcome is all zeros: listed as not estimated, never dropped.
    assert "Firearm discharges: no estimate." in html
    data = json.loads((out / "estimates.json").read_text())
    complaints = data["outcomes"]["complaints"]
    assert complaints["n_outcomes"] == 2 and complaints["p_value_fdr"] is not None
    assert data["outcomes"]["firearm"]["error"]
    assert f"{fmt(abs(complaints['ci_low']))}" in html
    pages = check_pdf(out / "report.pdf", ["complaints from the public", "Uses of force",
                                           "Firearm discharges", "What the data say"])  # fmt: skip
    assert pages >= 4
    # The counts behind the estimates add up to the file's.
    officers = (out / "officers.csv").read_text().splitlines()
    header = officers[0].split(",")
    total = sum(float(r.split(",")[header.index("complaints_post")]) for r in officers[1:])
    assert complaints["events"] == total


def test_staggered_report_end_to_end(run, tmp_path: Path) -> None:
    write_pilot(tmp_path, units=12, staggered=True)
    config = tmp_path / "report.toml"
    config.write_text(STAGGERED)
    out = tmp_path / "out"
    code, stdout, err = run("eval", "report", str(config), "--out", str(out), "--json")
    assert code == 0, err
    data = json.loads(stdout)
    assert data["files"] == ["report.html", "report.pdf", "panel.csv", "estimates.json"]
    assert list(data["outcomes"]) == ["complaints", "use_of_force"]
    for name, words in data["readings"].items():
        assert any("not assigned at random" in w for w in words["warnings"])
        assert any(w.startswith("Few clusters: only 12") for w in words["warnings"])
        assert data["outcomes"][name]["event_study"]
    assert "only 12 clusters" in err  # the estimator's note
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") == 1 + 2 + 2  # coefficients, series, event studies
    assert "cameras from 2019-01-01" in html and "Event study: Citizen complaints" in html
    check_pdf(out / "report.pdf", ["Citizen complaints", "Uses of force", "Event study"])


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (lambda t: t.replace('type = "randomized"', 'type = "random"'),
         "report.toml: design.type must be randomized or staggered, not 'random'."),
        (lambda t: t + "\n[extra]\n", "report.toml: the file unknown key 'extra'"),
        (lambda t: t.replace('pre = "2018-01-01..2018-12-31"', 'pre = "2018-01-01..2019-12-31"'),
         "design.pre (2018-01-01..2019-12-31) must end before design.post"),
        (lambda t: t.replace('post = "2019-07-01..2020-06-30"', 'post = "2019-07-01"'),
         "report.toml: design.post '2019-07-01' is not a window"),
        (lambda t: t.replace("[outcomes]", '[outcomes]\ninclude = ["stops"]'),
         "outcomes.include names 'stops', which the mappings do not define"),
        (lambda t: t.replace('file = "incidents.csv"', 'file = "nope.csv"'),
         "nope.csv is not a file."),
        (lambda t: t.replace('mapping = "pilot.toml"', 'mapping = "nope.toml"'), "cannot be read"),
        (lambda t: t.replace("[options]", "[options]\nclusters = true"),
         "options.clusters is true but the roster has no cluster column"),
        (lambda t: t.replace('"pre_rate"', '"speed"'), "has no column 'speed'"),
    ],
)  # fmt: skip
def test_bad_configurations_are_sentences_and_leave_nothing(run, tmp_path, change, sentence):
    write_pilot(tmp_path)
    config = tmp_path / "report.toml"
    config.write_text(change(RANDOMIZED))
    out = tmp_path / "out"
    code, stdout, err = run("eval", "report", str(config), "--out", str(out))
    assert code == 1 and stdout == ""
    assert sentence in err, err
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_data_is_a_sentence_and_an_existing_folder_is_refused(run, tmp_path: Path) -> None:
    write_pilot(tmp_path)
    roster = tmp_path / "roster.csv"
    lines = roster.read_text().splitlines()
    lines[3] = lines[3].replace(",1,", ",2,").replace(",0,", ",2,")
    roster.write_text("\n".join(lines) + "\n")
    config = tmp_path / "report.toml"
    config.write_text(RANDOMIZED)
    code, _, err = run("eval", "report", str(config), "--out", str(tmp_path / "out"))
    assert code == 1 and "roster.csv line 4, column 'camera': '2' is not 0 or 1" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    code, _, err = run("eval", "report", str(config), "--out", str(tmp_path / "full"))
    assert code == 1 and "is not an empty folder" in err


def test_one_treated_unit_refuses_the_whole_report(run, tmp_path: Path) -> None:
    write_pilot(tmp_path, units=4)
    roster = tmp_path / "roster.csv"
    roster.write_text("unit,camera,block\n100,0,a\n101,1,a\n102,0,b\n103,0,b\n")
    config = tmp_path / "report.toml"
    config.write_text(RANDOMIZED)
    code, _, err = run("eval", "report", str(config), "--out", str(tmp_path / "out"))
    assert code == 1 and "there is 1 treated unit" in err
    assert not (tmp_path / "out").exists()


def test_config_parsing_defaults() -> None:
    c = parse_report_config(RANDOMIZED, "r.toml", Path("/data"))
    assert c.roster == Path("/data/roster.csv") and c.roster_mapping == "roster"
    assert c.outcome_files[0].mapping == "/data/pilot.toml"
    assert str(c.window) == "2018-01-01..2020-06-30" and c.period == "quarter"
    assert c.weights is None and c.covariates == ("pre_rate",)
    with pytest.raises(ReportConfigError, match=r"design\.window is needed"):
        parse_report_config(STAGGERED.replace('window = "2018-01-01..2020-12-31"', ""), "s.toml",
                            Path())  # fmt: skip
    with pytest.raises(ReportConfigError, match="covariates apply to a randomized design"):
        parse_report_config(STAGGERED + '[options]\ncovariates = ["x"]\n', "s.toml", Path())
