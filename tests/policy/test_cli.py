"""`bodycam policy` through the command line: validate, apply, show, diff, versions,
statements; errors are one sentence and exit 1. Both engines."""

from __future__ import annotations

from bodycam.auth.service import actor_for, get_user
from bodycam.db import transaction
from bodycam.evidence.service import ensure_category
from bodycam.retention import service as retention
from tests.policy.conftest import SCHEDULE, variant


def test_validate_apply_show_diff_and_statements(ctx, home, folder):
    with transaction(ctx.sessions) as s:
        chief = actor_for(get_user(s, "chief"), "test")
        ensure_category(s, "Use of Force")
    retention.import_schedule(ctx.sessions, chief, SCHEDULE)
    good, bad, nxt = folder / "p.toml", folder / "bad.toml", folder / "next.toml"
    good.write_text(variant())
    bad.write_text(variant(critical_incident_days="45"))
    nxt.write_text(variant(version='"v2"', own_footage='"after_statement"'))
    out = home("policy", "validate", str(good)).stdout
    assert "p.toml: valid. Version 'example-2026-01'" in out and "US (30 days" in out
    failed = home("policy", "validate", str(bad), check=1)
    assert failed.stderr.strip().endswith(
        "release.critical_incident_days: is 45, but the disclosure clock in force (version 0) "
        "gives US 30 days; change one so they agree (bodycam disclosure clock import)."
    )
    home("policy", "apply", str(good), user="ofc", check=3)  # officers may not
    applied = home("policy", "apply", str(good), "--note", "first", user="chief").stdout
    assert "Applied as policy version 1 ('example-2026-01'), in force from 2026-01-01" in applied
    shown = home("policy", "show").stdout
    assert "version 1 ('example-2026-01')" in shown and "Officers watching their own" in shown
    diff = home("policy", "diff", str(nxt)).stdout
    assert "2 setting(s) differ" in diff
    assert "officer_viewing.own_footage changed from" in diff
    assert "1  example-2026-01  from 2026-01-01" in home("policy", "versions").stdout
    rec = home("policy", "statement", "record", "--officer", "501", "--event", "26-1", user="aud")
    assert "officer 501 (ofc), event 26-1" in rec.stdout
