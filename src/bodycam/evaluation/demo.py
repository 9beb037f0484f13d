"""The demo department's program evaluation: a synthetic randomized pilot, stored and run.

``make demo`` leaves one finished evaluation for the analyst to open on the evaluation
page. Its data are made up here (seeded): 400 officers in two precincts, half of each
precinct given cameras at random on 2024-01-01, and their complaints, uses of force and
arrests from 2023 to mid-2025. The data are made with 45% fewer complaints and 10% fewer
uses of force after cameras, and no change in arrests; with rare events and officers who
differ, a pilot of this size cannot tell even the first from no effect, and the page says
so. The files are written to ``<home>/evaluation-demo`` (to look at, or to upload again)
and go through the same upload, checks, audit record and job as the page's.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bodycam.auth.actor import Actor
from bodycam.evaluation.runs import (
    EvaluationView,
    Library,
    Upload,
    create_evaluation,
    get_evaluation,
    list_evaluations,
)

if TYPE_CHECKING:
    from bodycam.context import Context

__all__ = ["build_evaluation", "pilot_files"]

OFFICERS = 400
START, CAMERAS_FROM, END = date(2023, 1, 1), date(2024, 1, 1), date(2025, 6, 30)
# outcome -> (title, events per officer-year, rate ratio with cameras)
OUTCOMES = {
    "complaints": ("Citizen complaints", 0.30, 0.55),
    "use_of_force": ("Uses of force", 0.20, 0.90),
    "arrests": ("Arrests", 2.0, 1.0),
}

MAPPING = """kind = "outcomes"
name = "demo_incidents"
title = "Demo City PD incident export (synthetic)"
date_formats = ["%Y-%m-%d"]

[columns]
unit = "Badge"
date = "Occurred"
incident = "Case"
"""

CONFIG = """title = "Body-worn camera pilot (synthetic demo data)"
agency = "{agency}"
author = "Demo analyst"

[roster]
file = "roster.csv"

[[outcome_file]]
file = "incidents.csv"
mapping = "incidents.toml"

[design]
type = "randomized"
pre = "2023-01-01..2023-12-31"
post = "2024-07-01..2025-06-30"
window = "2023-01-01..2025-06-30"
period = "quarter"

[options]
covariates = ["pre_rate"]
"""


def pilot_files(seed: int, agency: str) -> dict[str, str]:
    """The pilot's files, name -> text: the configuration, roster, incidents, mapping."""
    import numpy as np

    rng = np.random.default_rng(seed)
    roster = ["unit,camera,block"]
    rows = ["Case,Badge,Occurred,Type"]
    spans = ((START, (CAMERAS_FROM - START).days), (CAMERAS_FROM, (END - CAMERAS_FROM).days + 1))
    n = 0
    for precinct in ("North", "South"):
        units = [f"{precinct[0]}{i:03d}" for i in range(OFFICERS // 2)]
        treated = set(rng.permutation(len(units))[: len(units) // 2].tolist())
        for i, unit in enumerate(units):
            camera = int(i in treated)
            roster.append(f"{unit},{camera},{precinct}")
            frailty = rng.gamma(2.0, 0.5)  # officers differ: mean 1, some draw far more
            for title, rate, ratio in OUTCOMES.values():
                for k, (first, days) in enumerate(spans):
                    mean = rate * frailty * days / 365.25 * (ratio if camera and k else 1.0)
                    for d in sorted(rng.integers(0, days, rng.poisson(mean)).tolist()):
                        n += 1
                        when = first + timedelta(days=int(d))
                        rows.append(f"D{n:06d},{unit},{when.isoformat()},{title}")
    header, body = rows[0], sorted(rows[1:], key=lambda r: (r.split(",")[2], r))
    outcomes = "".join(
        f'\n[[outcome]]\nname = "{name}"\ntitle = "{title}"\nwhere = {{ Type = ["{title}"] }}\n'
        for name, (title, _, _) in OUTCOMES.items()
    )
    return {
        "report.toml": CONFIG.format(agency=agency.replace('"', "'")),
        "roster.csv": "\n".join(roster) + "\n",
        "incidents.csv": "\n".join([header, *body]) + "\n",
        "incidents.toml": MAPPING + outcomes,
    }


def build_evaluation(
    ctx: Context, analyst: Actor, folder: Path, seed: int
) -> EvaluationView | None:
    """Store and run the demo pilot as `analyst`; None when an evaluation exists already."""
    from bodycam.jobs.runner import load_handlers, run_job

    lib = Library.from_context(ctx)
    if list_evaluations(lib, analyst):
        return None
    files = pilot_files(seed, ctx.settings.agency_name)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = Upload("report.toml", io.BytesIO(files.pop("report.toml").encode()))
    data = [Upload(name, io.BytesIO(text.encode())) for name, text in files.items()]
    view = create_evaluation(lib, analyst, config, data)
    load_handlers()
    run_job(ctx, view.job_id)
    return get_evaluation(lib, analyst, view.id)
