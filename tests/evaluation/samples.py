"""Small agency files for the evaluation tests, and where the two real files are."""

from __future__ import annotations

from pathlib import Path

import pytest

MAPPING = """
kind = "outcomes"
name = "test_agency"
date_formats = ["%m/%d/%Y"]

[columns]
unit = ["Badge", "Officer ID"]
date = "Occurred"
incident = "Case"

[filter]
exclude = { Status = ["VOID"] }

[[outcome]]
name = "complaints"
where = { Type = ["Complaint"] }

[[outcome]]
name = "force_complaints"
where = { Type = ["Complaint"], Allegation = { values = ["Use of force"], separator = ";" } }

[[outcome]]
name = "use_of_force"
where = { Type = ["Use of force"] }

[[outcome]]
name = "injured"
flag = "Injury"
"""

INCIDENTS = """Case,Badge,Occurred,Type,Allegation,Injury,Status
C1,101,01/15/2019,Complaint,Courtesy; Use of Force,N,
C1,101,01/15/2019,Complaint,Courtesy,N,
C2,102,03/01/2019,complaint,Courtesy,,
F1,101,07/04/2020,Use of force,,Y,
F1, 103 ,07/04/2020,Use of force,,yes,
F2,104,08/01/2020,Use of force,,0,
C3,105,09/09/2020,Complaint,Use of force,N,VOID
C4,999,02/02/2020,Complaint,Courtesy,N,
C5,103,12/31/2018,Complaint,Courtesy,N,
"""

ROSTER = """unit,camera,officers,active_from,block
101,1,1,,A
102,0,1,,A
103,1,1,2019-07-01,B
104,0,1,,B
105,1,2,,A
"""

# The two real agency files (OpenPoliceData), at the same relative path in CI.
SHARED = Path(__file__).resolve().parents[2] / "../shared/data/opd-small-agency-datasets"
STL = SHARED / "Missouri_St._Louis_County_USE_OF_FORCE_MULTIPLE.csv"
LANSING = SHARED / "Michigan_Lansing_COMPLAINTS.csv"
real_files = pytest.mark.skipif(
    not (STL.is_file() and LANSING.is_file()),
    reason=f"the OpenPoliceData sample files are not in {SHARED}",
)
