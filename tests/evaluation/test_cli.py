"""``bodycam eval`` end to end: JSON keys and precision, tables, and bad input as sentences."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bodycam.cli import app
from bodycam.evaluation.estimators import difference_in_means
from tests.evaluation.samples import INCIDENTS, LANSING, MAPPING, ROSTER, STL, real_files

KEYS = {"estimate", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control"}

# Eight officers: camera, precinct, complaints before and after, use of force after.
ANALYSIS = """unit,camera,precinct,weight,complaints_pre,complaints_post,force_post
o1,1,north,1.25,2,1,0
o2,1,north,1.25,3,2,1
o3,0,north,5,1,3,2
o4,0,north,5,4,4,1
o5,1,south,2.5,0,0,0
o6,1,south,2.5,2,1,1
o7,0,south,1.6666666666666667,3,2,3
o8,0,south,1.6666666666666667,1,2,1
"""


@pytest.fixture
def run(monkeypatch: pytest.MonkeyPatch):
    """``bodycam`` in this process; returns (exit code, stdout, stderr)."""
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args))
        return result.exit_code, result.stdout, result.stderr

    return invoke


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_estimate_json_has_every_key_at_full_precision(run, tmp_path: Path) -> None:
    path = write(tmp_path, "analysis.csv", ANALYSIS)
    code, out, err = run(
        "eval", "estimate", str(path), "--treatment", "camera",
        "--outcome", "complaints_post", "--outcome", "force_post", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert data["fdr"] == "benjamini-hochberg"
    assert list(data["outcomes"]) == ["complaints_post", "force_post"]
    for result in data["outcomes"].values():
        assert KEYS | {"p_value_fdr"} <= set(result)
    y = [1, 2, 3, 4, 0, 1, 2, 2]
    t = [1, 1, 0, 0, 1, 1, 0, 0]
    by_hand = difference_in_means(y, t)
    got = data["outcomes"]["complaints_post"]
    assert got["estimate"] == by_hand.estimate and got["se"] == by_hand.se  # bit for bit
    assert (got["n_treated"], got["n_control"]) == (4, 4)
    single = json.loads(
        run("eval", "estimate", str(path), "--treatment", "camera", "--outcome",
            "complaints_post", "--format", "json")[1]
    )  # fmt: skip
    assert "p_value_fdr" not in single["outcomes"]["complaints_post"] and single["fdr"] is None


def test_estimate_with_weights_blocks_covariates_and_table(run, tmp_path: Path) -> None:
    path = write(tmp_path, "analysis.csv", ANALYSIS)
    code, out, err = run(
        "eval", "estimate", str(path), "--treatment", "camera", "--outcome", "complaints_post",
        "--weights", "weight", "--block", "precinct", "--covariate", "complaints_pre",
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith("analysis.csv: effect of camera = 1 (treated minus control)")
    assert "complaints_post" in out.splitlines()[2] and "(n=4)" in out
    code, out, err = run(
        "eval", "estimate", str(path), "--treatment", "camera", "--outcome", "complaints_post",
        "--cluster", "precinct", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)["outcomes"]["complaints_post"]
    assert (result["se_type"], result["n_clusters"], result["df"]) == ("cluster", 2, 1.0)


BAD = [
    (
        "missing column",
        ANALYSIS,
        ["--outcome", "arrests_post"],
        "analysis.csv line 1 (the header) has no column 'arrests_post', which the command needs",
    ),
    (
        "non-numeric value",
        ANALYSIS.replace("o5,1,south,2.5,0,0,0", "o5,1,south,2.5,0,two,0"),
        [],
        "analysis.csv line 6, column 'complaints_post': 'two' is not a number.",
    ),
    (
        "blank value",
        ANALYSIS.replace("o5,1,south,2.5,0,0,0", "o5,1,south,2.5,0,,0"),
        [],
        "analysis.csv line 6, column 'complaints_post': the value is blank",
    ),
    (
        "treatment not 0/1",
        ANALYSIS.replace("o3,0,", "o3,yes,"),
        [],
        "analysis.csv line 4, column 'camera': 'yes' is not 0 or 1 (1 = treatment, 0 = control).",
    ),
    (
        "one treated unit",
        ANALYSIS.replace("o2,1,", "o2,0,").replace("o5,1,", "o5,0,").replace("o6,1,", "o6,0,"),
        [],
        "analysis.csv line 2, column 'camera': there is 1 treated unit; an estimate needs at "
        "least two treated and two control units.",
    ),
    (
        "block of one unit",
        ANALYSIS.replace("o8,0,south", "o8,0,east"),
        ["--block", "precinct"],
        "analysis.csv line 9, column 'precinct': block 'east' has one unit; every block needs "
        "at least two.",
    ),
    (
        "block without controls",
        ANALYSIS.replace("o7,0,south", "o7,0,north").replace("o8,0,south", "o8,0,north"),
        ["--block", "precinct"],
        "analysis.csv line 6, column 'precinct': block 'south' has no control unit",
    ),
    (
        "treated units in one cluster",
        ANALYSIS.replace("o3,0,", "o3,1,")
        .replace("o4,0,", "o4,1,")
        .replace("o5,1,", "o5,0,")
        .replace("o6,1,", "o6,0,"),
        ["--cluster", "precinct"],
        "analysis.csv, column 'precinct': treated units fall in 1 cluster; cluster-robust "
        "errors need treated units in at least two clusters and control units in at least two.",
    ),
    (
        "weight of zero",
        ANALYSIS.replace(",1.25,3,", ",0,3,"),
        ["--weights", "weight"],
        "analysis.csv line 3, column 'weight': '0' is not above 0.",
    ),
]


@pytest.mark.parametrize(("case", "text", "extra", "sentence"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_sentence_and_exit_1(run, tmp_path, case, text, extra, sentence) -> None:
    path = write(tmp_path, "analysis.csv", text)
    code, out, err = run(
        "eval", "estimate", str(path), "--treatment", "camera", "--outcome", "complaints_post",
        *extra, "--format", "json",
    )  # fmt: skip
    assert code == 1
    assert out == ""  # no half result, no NaN
    assert sentence in err
    assert "Traceback" not in err


def test_prepare_then_estimate_with_exposure(run, tmp_path: Path) -> None:
    incidents = write(tmp_path, "incidents.csv", INCIDENTS)
    roster = write(tmp_path, "roster.csv", ROSTER)
    mapping = write(tmp_path, "agency.toml", MAPPING)
    dest = tmp_path / "officers.csv"
    args = [
        "eval", "prepare", str(roster), str(incidents), "--mapping", str(mapping),
        "--pre", "2019-01-01..2019-12-31", "--post", "2020-01-01..2020-12-31", "--out", str(dest),
    ]  # fmt: skip
    code, out, err = run(*args)
    assert code == 0, err
    assert out.startswith(f"Wrote {dest}: 5 units, 4 outcome(s)")
    assert "note: incidents.csv: 1 row(s) name units that are not on the roster" in err
    header = dest.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:4] == ["unit", "treatment", "block", "officers"]
    code, _, err = run(*args)
    assert code == 1 and "already exists" in err
    code, out, err = run(
        "eval", "estimate", str(dest), "--treatment", "treatment", "--outcome", "complaints_pre",
        "--exposure", "officer_years_pre", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)["outcomes"]["complaints_pre"]
    # Pooled rates: treated 1 complaint in (1 + 184/365.25 + 2) * 365/365.25... by hand:
    years = {"101": 365 / 365.25, "103": 184 / 365.25, "105": 2 * 365 / 365.25}
    treated_rate = 1000 * 1 / sum(years.values())
    control_rate = 1000 * 1 / (2 * 365 / 365.25)
    assert result["mean_treated"] == pytest.approx(treated_rate, rel=1e-12)
    assert result["mean_control"] == pytest.approx(control_rate, rel=1e-12)
    assert json.loads(out)["design"]["rates_per"] == 1000.0


def test_panel_then_did(run, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    lines = ["Case,Badge,Occurred,Type,Allegation,Injury,Status"]
    for i in range(300):
        badge = 100 + int(rng.integers(0, 12))
        day = f"{int(rng.integers(1, 13)):02d}/{int(rng.integers(1, 29)):02d}/{2019 + i % 2}"
        lines.append(f"C{i},{badge},{day},Complaint,Courtesy,N,")
    incidents = write(tmp_path, "incidents.csv", "\n".join(lines) + "\n")
    roster_lines = ["unit,camera,assigned_on"]
    for k in range(12):
        dated = ["2019-07-01", "2020-01-01", "2020-07-01"][k % 3] if k < 8 else ""
        roster_lines.append(f"{100 + k},{int(k < 8)},{dated}")
    roster = write(tmp_path, "roster.csv", "\n".join(roster_lines) + "\n")
    mapping = write(tmp_path, "agency.toml", MAPPING)
    dest = tmp_path / "panel.csv"
    code, out, err = run(
        "eval", "panel", str(roster), str(incidents), "--mapping", str(mapping),
        "--window", "2019-01-01..2020-12-31", "--period", "quarter", "--out", str(dest),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"Wrote {dest}: 96 unit-periods")
    code, out, err = run(
        "eval", "did", str(dest), "--outcome", "complaints_rate", "--outcome", "complaints",
        "--weights", "officer_years", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    result = data["outcomes"]["complaints_rate"]
    assert KEYS - {"n_treated", "n_control"} <= set(result)
    assert {"n_treated_units", "n_control_units", "events", "pretrend_p_value"} <= set(result)
    assert (result["n_treated_units"], result["n_control_units"]) == (8, 4)
    assert {e["relative_period"] for e in result["events"]} >= {-2, 0, 1}
    assert "p_value_fdr" in result and data["design"]["cluster"] == "unit"
    assert "note: only 12 clusters" in err
    code, out, err = run("eval", "did", str(dest), "--outcome", "complaints", "--method", "twfe")
    assert code == 0, err and "(twfe)" in out


def test_power_and_inspect(run, tmp_path: Path) -> None:
    code, out, err = run("eval", "power", "--n", "400", "--sd", "0.8", "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["solve_for"] == "mde" and plan["mde"] > 0 and plan["df"] == 398
    code, out, _ = run("eval", "power", "--sd", "0.8", "--effect", "0.2")
    assert code == 0 and "units are needed" in out
    code, _, err = run("eval", "power", "--n", "400")
    assert code == 1 and "--sd" in err
    analysis = write(tmp_path, "analysis.csv", ANALYSIS)
    code, out, _ = run(
        "eval", "power", "--n", "100", "--data", str(analysis), "--column", "complaints_pre"
    )
    assert code == 0 and "% of the mean 2" in out
    incidents = write(tmp_path, "incidents.csv", INCIDENTS)
    mapping = write(tmp_path, "agency.toml", MAPPING)
    code, out, err = run("eval", "inspect", str(incidents), "--mapping", str(mapping), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["rows"] == 9 and report["filtered"] == 1
    assert report["outcomes"]["complaints"] == {"rows": 5, "count": 4}


def test_a_bad_mapping_and_a_missing_file_are_sentences(run, tmp_path: Path) -> None:
    roster = write(tmp_path, "roster.csv", ROSTER)
    incidents = write(tmp_path, "incidents.csv", INCIDENTS)
    bad = write(tmp_path, "bad.toml", MAPPING.replace('name = "complaints"', 'name = "Complaints"'))
    code, _, err = run(
        "eval", "prepare", str(roster), str(incidents), "--mapping", str(bad),
        "--pre", "2019-01-01..2019-12-31", "--post", "2020-01-01..2020-12-31",
        "--out", str(tmp_path / "x.csv"),
    )  # fmt: skip
    assert code == 1 and "bad.toml: outcome[1].name" in err
    code, _, err = run(
        "eval", "estimate", str(tmp_path / "nope.csv"), "--treatment", "t", "--outcome", "y"
    )
    assert code == 1 and "nope.csv is not a file." in err


def test_several_problems_are_listed_before_the_sentence(run, tmp_path: Path) -> None:
    bad = INCIDENTS + "C6,,01/02/2019,Complaint,,N,\nC7,101,13/45/2019,Complaint,,maybe,\n"
    incidents = write(tmp_path, "incidents.csv", bad)
    roster = write(tmp_path, "roster.csv", ROSTER)
    mapping = write(tmp_path, "agency.toml", MAPPING)
    code, out, err = run(
        "eval", "prepare", str(roster), str(incidents), "--mapping", str(mapping),
        "--pre", "2019-01-01..2019-12-31", "--post", "2020-01-01..2020-12-31",
        "--out", str(tmp_path / "officers.csv"),
    )  # fmt: skip
    assert code == 1 and out == "" and not (tmp_path / "officers.csv").exists()
    assert err.splitlines() == [
        "incidents.csv line 11, column 'Badge': the unit is blank",
        "incidents.csv line 12, column 'Occurred': '13/45/2019' is not a date in the "
        "mapping's formats",
        "incidents.csv line 12, column 'Injury': 'maybe' is neither yes nor no (nor a number)",
        "incidents.csv line 11, column 'Badge': the unit is blank (and 2 more problems).",
    ]


def test_the_command_exits_1_with_one_sentence(tmp_path: Path) -> None:
    """As a person runs it: a subprocess, exit status 1, one sentence, no traceback."""
    path = write(tmp_path, "analysis.csv", ANALYSIS.replace("o3,0,", "o3,2,"))
    done = subprocess.run(
        [sys.executable, "-m", "bodycam.cli", "eval", "estimate", str(path),
         "--treatment", "camera", "--outcome", "complaints_post", "--format", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == (
        "analysis.csv line 4, column 'camera': '2' is not 0 or 1 (1 = treatment, 0 = control)."
    )


def stl_roster(folder: Path) -> Path:
    """A generated roster of 16 St. Louis County assignments, cameras staggered by quarter.

    The file carries no camera assignment: this one is made up (seeded), to show how an
    agency's own roster joins the published data. Head counts are invented too.
    """
    units = [
        "North County Precinct", "South County Precinct", "Central County Precinct",
        "West County Precinct", "Affton Southwest Precinct", "City Of Jennings Precinct",
        "City Of Fenton Precinct", "City Of Wildwood Precinct", "Bureau Of Transit Police",
        "Canine Unit", "Special Response Unit", "Drug Enforcement", "Tactical Op.",
        "Intelligence Unit", "Burglary Unit", "Security Services",
    ]  # fmt: skip
    rng = np.random.default_rng(2026)
    treated = set(rng.permutation(16)[:8].tolist())
    dates = ["2018-10-01", "2019-01-01", "2019-04-01", "2019-07-01"]
    lines = ["unit,camera,assigned_on,officers"]
    for i, name in enumerate(units):
        camera = int(i in treated)
        lines.append(
            f"{name},{camera},{dates[i % 4] if camera else ''},{int(rng.integers(10, 150))}"
        )
    return write(folder, "stl_roster.csv", "\n".join(lines) + "\n")


@real_files
def test_st_louis_county_joined_to_a_generated_roster(run, tmp_path: Path) -> None:
    roster = stl_roster(tmp_path)
    officers, quarters = tmp_path / "stl_officers.csv", tmp_path / "stl_panel.csv"
    code, out, err = run(
        "eval", "prepare", str(roster), str(STL), "--mapping", "stlouis_county_use_of_force",
        "--pre", "2018-01-01..2018-09-30", "--post", "2019-10-01..2020-06-30",
        "--out", str(officers), "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(out)
    assert report["units"] == 16 and report["sources"][0]["rows"] == 2102
    assert report["sources"][0]["unmatched_rows"] == 51  # assignments not on the roster
    code, out, err = run(
        "eval", "estimate", str(officers), "--treatment", "treatment",
        "--outcome", "use_of_force_post", "--outcome", "citizen_injury_post",
        "--exposure", "officer_years_post", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    for result in json.loads(out)["outcomes"].values():
        assert KEYS | {"p_value_fdr"} <= set(result)
        assert all(np.isfinite(v) for v in result.values() if isinstance(v, float))
    code, out, err = run(
        "eval", "panel", str(roster), str(STL), "--mapping", "stlouis_county_use_of_force",
        "--window", "2018-01-01..2021-03-31", "--out", str(quarters),
    )  # fmt: skip
    assert code == 0, err
    code, out, err = run(
        "eval", "did", str(quarters), "--outcome", "use_of_force_rate",
        "--weights", "officer_years", "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    result = json.loads(out)["outcomes"]["use_of_force_rate"]
    assert (result["n_treated_units"], result["n_control_units"]) == (8, 8)


@real_files
def test_lansing_is_one_agency_so_no_effect_can_be_estimated(run, tmp_path: Path) -> None:
    roster = write(tmp_path, "lansing_roster.csv", "unit,camera,officers\nLansing,1,200\n")
    dest = tmp_path / "lansing.csv"
    code, out, err = run(
        "eval", "prepare", str(roster), str(LANSING), "--mapping", "lansing_complaints",
        "--pre", "2019-01-01..2019-12-31", "--post", "2021-01-01..2021-12-31", "--out", str(dest),
    )  # fmt: skip
    assert code == 0, err
    assert out.startswith(f"Wrote {dest}: 1 unit, 5 outcome(s)")
    header, row = dest.read_text(encoding="utf-8").splitlines()
    values = dict(zip(header.split(","), row.split(","), strict=True))
    assert (values["unit"], values["treatment"], values["officers"]) == ("Lansing", "1", "200")
    # 13 complaints began in 2019 and 57 in 2021: 200 officers, a year each.
    assert (values["complaints_pre"], values["complaints_post"]) == ("13", "57")
    assert float(values["complaints_post_rate"]) == 1000 * 57 / (200 * 365 / 365.25)
    code, _, err = run(
        "eval", "estimate", str(dest), "--treatment", "treatment", "--outcome", "complaints_post",
    )  # fmt: skip
    assert code == 1
    assert "lansing.csv line 2, column 'treatment': there is 1 treated unit" in err
