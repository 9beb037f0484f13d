"""The demo department's public-records requests (SQLite: the demo's own deployment)."""

from __future__ import annotations

from bodycam.auth.service import actor_for, get_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.demo import build_demo
from bodycam.disclosure.requests import list_requests


def test_the_demo_files_requests_late_critical_released_and_appealed(tmp_path, capsys):
    home = tmp_path / "demo"
    build_demo(home, officers=8, clips=40)
    assert "demo: public-records requests" in "".join(capsys.readouterr())
    build_demo(home, officers=8, clips=40)  # a second run adds none
    ctx = Context.from_settings(Settings(home=home))
    try:
        with ctx.sessions() as s:
            clerk = actor_for(get_user(s, "clerk"), "test")
        views = list_requests(ctx.sessions, clerk)
    finally:
        ctx.close()
    assert len(views) == 4
    late, critical, released, denied = views
    assert late.status == "received" and late.deadlines.late and late.held
    assert critical.request.critical_incident and critical.deadlines.critical_due is not None
    assert released.status == "released_partial" and released.recordings and not released.held
    assert denied.status == "denied" and denied.held  # its appeal is pending
    assert [a.outcome for a in denied.appeals] == [None]
