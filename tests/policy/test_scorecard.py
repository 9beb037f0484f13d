"""The scorecard: settings and measurements decide each criterion; HTML and PDF written;
no face-search path in the code; every footage route audited. Both engines."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.evidence import service as ev
from bodycam.policy import biometrics
from bodycam.policy.document import PolicyError
from bodycam.policy.scorecard import (
    CIVIL,
    FEDERAL,
    FOOTAGE_ROUTES,
    byte_routes,
    quarter_before,
    score,
    write_scorecard,
)
from bodycam.web.app import create_app


def verdicts(card) -> dict[str, str]:
    return {c.name: c.verdict for c in card.criteria}


def test_settings_and_measurements_decide_the_criteria(ctx, dept, apply, vault, clips, tmp_path):
    with pytest.raises(PolicyError, match="no camera policy is in force"):
        score(ctx, dept.actor("admin"))
    apply(version='"v1"', own_footage='"allowed"', viewing='"never"')
    # An unflagged recording long past its 90 days (no hold): measured as overdue.
    ev.ingest_file(
        vault,
        dept.actor("clerk"),
        clips(95),
        officer_badge="1001",
        recorded_start=datetime(2026, 1, 2, tzinfo=UTC),
    )
    card = score(ctx, dept.actor("admin"), now=datetime(2026, 6, 1, tzinfo=UTC))
    v = verdicts(card)
    assert len([c for c in card.criteria if c.family == CIVIL]) == 8
    assert len([c for c in card.criteria if c.family == FEDERAL]) == 11
    assert v["Prohibits officer pre-report viewing"] == "not met"
    assert v["Makes footage available to individuals filing complaints"] == "not met"
    assert v["Limits retention of footage"] == "partly"
    assert card.measurements["unflagged_footage"]["overdue_not_held"] == 1
    assert v["Limits biometric use (no face search)"] == "met"
    assert v["Protects footage against tampering and misuse (every view logged)"] == "met"
    crit = next(c for c in card.criteria if c.name == "Prohibits officer pre-report viewing")
    assert "setting officer_viewing.own_footage = 'allowed'" in crit.decided_by
    apply(version='"v2"', effective_from="2026-05-01", own_footage='"after_statement"')
    out = tmp_path / "card"
    written = write_scorecard(ctx, dept.actor("auditor"), out)
    assert verdicts(written)["Prohibits officer pre-report viewing"] == "met"
    html = (out / "scorecard.html").read_text()
    assert "officer_viewing.own_footage = &#x27;after_statement&#x27;" in html
    assert "Civil-rights scorecard" in html and "Public release of video" in html
    assert (out / "scorecard.pdf").read_bytes().startswith(b"%PDF-")
    with ctx.sessions() as s:
        from sqlalchemy import select

        rec = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "policy:scorecard:run")
        ).one()
    assert rec.details["policy_version"] == 2 and rec.actor == "auditor"
    with pytest.raises(PermissionDenied):
        score(ctx, dept.actor("clerk"))


def test_last_quarter_is_the_previous_calendar_quarter():
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/New_York")
    start, end, label = quarter_before(datetime(2026, 2, 10, tzinfo=UTC), tz)
    assert label == "2025-Q4" and start.month == 10 and end == datetime(2026, 1, 1, tzinfo=tz)
    start, end, label = quarter_before(datetime(2026, 11, 30, tzinfo=UTC), tz)
    assert label == "2026-Q3" and (start.month, end.month) == (7, 10)


# --- the biometric criterion: no path to face search -------------------------------------


def test_the_code_has_no_face_search_path():
    files, findings = biometrics.scan_source()
    assert files > 100  # the whole package was read
    assert findings == [], findings
    assert biometrics.installed_face_libraries() == []


def test_the_scan_finds_a_face_search_path_when_there_is_one(tmp_path: Path):
    pkg = tmp_path / "bad"
    pkg.mkdir()
    (pkg / "search.py").write_text(
        "import face_recognition\n"
        "from faiss import IndexFlatL2\n"
        "def search_faces(db, img):\n"
        "    return face_recognition.face_encodings(img)\n"
        "class FaceMatcher: ...\n"
    )
    (pkg / "fine.py").write_text("face_search = False\ndef detect(frame): return []\n")
    _, findings = biometrics.scan_source(pkg)
    assert [(Path(f.file).name, f.line, f.what) for f in findings] == [
        ("search.py", 1, "imports face_recognition"),
        ("search.py", 2, "imports from faiss"),
        ("search.py", 3, "defines function search_faces"),
        ("search.py", 5, "defines class FaceMatcher"),
        ("search.py", 4, "calls face_encodings"),
    ]


def test_the_face_detector_returns_boxes_only():
    from bodycam.redaction.detect import CenterFace, Detector

    assert tuple(biometrics.detection_fields()) == biometrics.BOX_FIELDS
    # Every detector method returns Detection lists (annotations), nothing else.
    for cls in (CenterFace, Detector):
        source = Path(__import__("inspect").getsourcefile(cls)).read_text()
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == "detect":
                assert ast.unparse(node.returns) == "list[Detection]"


# --- every view logged: footage routes --------------------------------------------------


def test_every_route_that_serves_bytes_is_accounted_for(ctx):
    served = byte_routes(create_app(ctx.settings, ctx))
    assert served - set(FOOTAGE_ROUTES) == set()
    assert ("GET", "/api/v1/recordings/{recording_id}/content") in served


def test_the_evidence_footage_routes_write_their_audit_actions(ctx, dept, vault, clips):
    from tests.web.conftest import Creds, count_audit

    rid = ev.ingest_file(vault, dept.actor("clerk"), clips(96), officer_badge="1001").id
    client = TestClient(create_app(ctx.settings, ctx), follow_redirects=False)
    headers = Creds(ctx, dept).token("clerk")
    for path in (
        "/api/v1/recordings/{recording_id}/content",
        "/api/v1/recordings/{recording_id}/download",
    ):
        action = FOOTAGE_ROUTES[("GET", path)]
        assert action is not None
        before = count_audit(ctx, action, object_id=rid)
        resp = client.get(path.replace("{recording_id}", rid), headers=headers)
        assert resp.status_code == 200 and len(resp.content) > 0
        assert count_audit(ctx, action, object_id=rid) == before + 1
