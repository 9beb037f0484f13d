"""Fleet pages: the camera table and its filters, one camera's history, recall progress
and its resolve form, the device reports, and who may see or do what."""

from __future__ import annotations

import re
from datetime import timedelta

from bodycam.fleet import events, inventory, recalls
from bodycam.ids import utcnow
from bodycam.web import fleet_pages
from tests.fleet.conftest import Fleet, fleet  # noqa: F401 (a fixture)
from tests.fleet.test_recalls import _recording
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session


def _events(f: Fleet, serial: str, *items: tuple[str, timedelta, dict]) -> None:
    """Device events of ``serial``: (kind, how long ago, extra fields)."""
    now = utcnow()
    batch = [
        {"camera": serial, "event": kind, "at": (now - ago).isoformat(), **extra}
        for kind, ago, extra in items
    ]
    events.ingest_events(f.ctx.sessions, f.eq, batch)


def serials(page: str) -> list[str]:
    return re.findall(r'href="/fleet/cameras/([^"]+)">', page)


def test_camera_table_filters_and_pages(client, creds, fleet, monkeypatch):  # noqa: F811
    inventory.assign_camera(fleet.ctx.sessions, fleet.eq, "CAM-1", "1001")
    _events(fleet, "CAM-2", ("dock", timedelta(days=1), {"dock": "N-01"}))
    use_session(client, creds, "equipment")
    page = client.get("/fleet")
    assert page.status_code == 200 and 'href="/fleet"' in page.text  # nav
    assert serials(page.text) == ["CAM-1", "CAM-2", "CAM-3", "CAM-4"]
    text = text_of(page.text)
    assert "4 cameras" in text and "officer 1001 (o1)" in text and "N-01 (North)" in text
    for name in ("status", "model", "lot", "firmware", "precinct", "dock", "holder", "undocked"):
        assert f'<label for="f-{name}"' in page.text and f'id="f-{name}"' in page.text

    def only(**params: str) -> list[str]:
        resp = client.get("/fleet", params=params)
        assert resp.status_code == 200, text_of(resp.text)
        return serials(resp.text)

    assert only(lot="LOT-B") == ["CAM-3", "CAM-4"]
    assert only(model="BX-1") == ["CAM-4"]
    assert only(firmware="1.1") == ["CAM-3"]
    assert only(precinct="North") == ["CAM-1", "CAM-2"]
    assert only(dock="S-01", lot="LOT-B") == ["CAM-3", "CAM-4"]
    assert only(holder="1001") == ["CAM-1"] == only(holder="o1")
    assert only(holder="none") == ["CAM-2", "CAM-3", "CAM-4"]
    assert only(status="in_service") == ["CAM-1"]
    assert only(undocked="2") == ["CAM-1", "CAM-3", "CAM-4"]  # CAM-2 docked a day ago
    bad = client.get("/fleet", params={"status": "lost"})
    assert bad.status_code == 422 and "Unknown camera status 'lost'" in text_of(bad.text)
    bad = client.get("/fleet", params={"undocked": "a week"})
    assert bad.status_code == 422 and "is not a number" in text_of(bad.text)
    monkeypatch.setattr(fleet_pages, "PER_PAGE", 3)
    first = client.get("/fleet", params={"model": "AX-3"})
    assert "page 1 of 1" not in first.text and serials(first.text) == ["CAM-1", "CAM-2", "CAM-3"]
    all_pages = client.get("/fleet")
    assert "page 1 of 2" in text_of(all_pages.text) and "page=2" in all_pages.text
    assert serials(client.get("/fleet", params={"page": 2}).text) == ["CAM-4"]


def test_camera_page_shows_its_history_events_and_uploads(client, creds, fleet):  # noqa: F811
    ctx, eq = fleet.ctx, fleet.eq
    inventory.assign_camera(ctx.sessions, eq, "CAM-1", "1001", note="day shift")
    inventory.update_camera(ctx.sessions, eq, "CAM-1", {"firmware": "1.2"})
    sha = _recording(fleet, "page-upload", "CAM-1")
    _events(
        fleet,
        "CAM-1",
        ("undock", timedelta(hours=9), {"dock": "N-01"}),
        ("battery", timedelta(hours=2), {"battery": 35}),
        ("dock", timedelta(hours=1), {"dock": "N-01"}),
        ("upload", timedelta(minutes=50), {"dock": "N-01", "sha256": sha}),
    )
    use_session(client, creds, "equipment")
    page = client.get("/fleet/cameras/CAM-1")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Held by officer 1001 (o1) since" in text and "still held" in text
    assert "day shift" in text and "personal issue" in text
    assert "firmware version" in text and "1.0" in text and "1.2" in text  # the change
    assert "35%" in text and "undock" in text
    assert "dock upload event" in text  # the upload, matched to its recording by hash
    assert "No recalls" not in text and "None." in text  # in no recall
    assert client.get("/fleet/cameras/NOPE").status_code == 404


def test_recall_progress_resolve_and_uploads_after_it(client, ctx, creds, fleet):  # noqa: F811
    inventory.assign_camera(ctx.sessions, fleet.eq, "CAM-1", "1001")
    csrf = use_session(client, creds, "equipment")
    listing = client.get("/fleet/recalls")
    assert listing.status_code == 200 and "No recalls." in listing.text
    form = {"csrf": csrf, "kind": "recall", "criterion": "battery_lot", "reason": "swelling"}
    empty = client.post("/fleet/recalls", data=form | {"value": " "})
    assert empty.status_code == 422 and "Name the battery lot recalled." in text_of(empty.text)
    none = client.post("/fleet/recalls", data=form | {"value": "LOT-Z"})
    assert none.status_code == 422 and "No camera (not retired) has battery lot LOT-Z" in text_of(
        none.text
    )
    why = client.post("/fleet/recalls", data=form | {"value": "LOT-A", "reason": ""})
    assert why.status_code == 422 and "Give the reason for the recall." in text_of(why.text)
    expired = client.post("/fleet/recalls", data=form | {"value": "LOT-A", "csrf": "x"})
    assert expired.status_code == 422 and "The form expired" in expired.text
    assert recalls.list_campaigns(ctx.sessions, fleet.eq) == []
    made = client.post("/fleet/recalls", data=form | {"value": "LOT-A"})
    assert made.status_code == 303 and made.headers["location"] == "/fleet/recalls?done=created"
    listing = client.get(made.headers["location"])
    (recall,) = recalls.list_campaigns(ctx.sessions, fleet.eq)
    assert (
        "Created." in text_of(listing.text) and f'href="/fleet/recalls/{recall.id}"' in listing.text
    )
    assert "0 of 2 (0%)" in text_of(listing.text)

    url = f"/fleet/recalls/{recall.id}"
    _events(fleet, "CAM-1", ("upload", timedelta(seconds=-1), {}))  # after the recall
    page = client.get(url)
    text = text_of(page.text)
    assert "Recall of battery lot LOT-A" in text and "0 of 2 cameras dealt with" in text
    assert "<progress" in page.text and "<svg" in page.text
    assert "Uploads after the recall (1)" in text and "still in use" in text
    assert serials(page.text.split("Still outstanding")[1]) == ["CAM-1", "CAM-2"]
    assert "officer 1001 (o1)" in text

    resolve = {"csrf": csrf, "serial": "CAM-1", "outcome": "replaced"}
    stale = client.post(f"{url}/resolve", data=resolve | {"csrf": "old", "replacement": "CAM-4"})
    assert stale.status_code == 422 and "The form expired" in stale.text
    bad = client.post(f"{url}/resolve", data=resolve)
    assert bad.status_code == 422
    assert "Name the serial of the camera that replaced CAM-1." in text_of(bad.text)
    bad = client.post(f"{url}/resolve", data=resolve | {"outcome": "cleared", "replacement": "X"})
    assert bad.status_code == 422 and "only when the camera was replaced" in text_of(bad.text)
    busy = client.post(f"{url}/resolve", data=resolve | {"replacement": "CAM-2"})
    assert busy.status_code == 422 and "Camera CAM-2 is recalled" in text_of(busy.text)
    ok = client.post(f"{url}/resolve", data=resolve | {"replacement": "CAM-4"})
    assert ok.status_code == 303 and ok.headers["location"] == f"{url}?done=resolved"
    assert count_audit(ctx, "fleet:recall:resolve", actor="equipment") == 1
    again = client.post(f"{url}/resolve", data=resolve | {"replacement": "CAM-3"})
    assert again.status_code == 422 and "is already replaced" in text_of(again.text)
    ok = client.post(f"{url}/resolve", data={"csrf": csrf, "serial": "CAM-2", "outcome": "cleared"})
    assert ok.status_code == 303
    page = text_of(client.get(f"{url}?done=resolved").text)
    assert "The camera's outcome is recorded." in page and "2 of 2 cameras dealt with" in page
    assert "None: every camera has been dealt with." in page
    every = text_of(client.get(url, params={"all": "1"}).text)
    assert "replaced by CAM-4" in every and "cleared" in every
    assert inventory.camera_detail(ctx.sessions, fleet.eq, "CAM-4").camera.holder.badge == "1001"
    assert client.get("/fleet/recalls/NOPE").status_code == 404

    # A firmware rollout from the same page.
    roll = {"csrf": csrf, "kind": "rollout", "value": "2.0", "model": "AX-3", "reason": "fix"}
    assert client.post("/fleet/recalls", data=roll).status_code == 303
    assert "Firmware rollouts (1)" in text_of(client.get("/fleet/recalls").text)


def test_reports_page(client, creds, fleet):  # noqa: F811
    _events(
        fleet,
        "CAM-1",
        ("undock", timedelta(hours=10), {"dock": "N-01", "battery": 100}),
        ("power_on", timedelta(hours=10), {}),
        ("power_off", timedelta(hours=6), {}),
        ("battery", timedelta(hours=3), {"battery": 15}),
        ("dock", timedelta(hours=2), {"dock": "N-01", "battery": 12}),
    )
    inventory.update_camera(fleet.ctx.sessions, fleet.eq, "CAM-3", {"status": "in_service"})
    use_session(client, creds, "auditor")  # a reader
    page = client.get("/fleet/reports")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "not docked for more than 3 days (1)" in text and "CAM-3" in text  # never docked
    power = page.text.split('id="power-cycling"')[1].split('id="battery"')[0]
    assert serials(power) == ["CAM-1"] and "50%" in text_of(power)  # 4 of 8 hours on
    battery = text_of(page.text.split('id="battery"')[1])
    assert "LOT-A 1 1 1 12% 1 (below 20%) 100%" in battery
    again = client.get("/fleet/reports", params={"days": "0", "threshold": "10"})
    assert "LOT-A 1 1 1 12% 0 (below 10%) 0%" in text_of(again.text.split('id="battery"')[1])
    bad = client.get("/fleet/reports", params={"from": "yesterday"})
    assert bad.status_code == 422 and "is not a date" in text_of(bad.text)
    later = client.get("/fleet/reports", params={"from": "2030-01-02", "to": "2030-01-01"})
    assert later.status_code == 422 and "is not before its end" in text_of(later.text)


def test_who_may_see_and_change_the_fleet(client, ctx, creds, fleet):  # noqa: F811
    view = recalls.create_recall(ctx.sessions, fleet.eq, battery_lot="LOT-B", reason="test")
    url = f"/fleet/recalls/{view.id}"
    csrf = use_session(client, creds, "auditor")
    assert client.get("/fleet").status_code == 200
    page = client.get(url)
    assert page.status_code == 200 and "/resolve" not in page.text
    assert "Start a recall" not in client.get("/fleet/recalls").text
    refused = client.post(
        f"{url}/resolve", data={"csrf": csrf, "serial": "CAM-3", "outcome": "cleared"}
    )
    assert refused.status_code == 403
    made = {"csrf": csrf, "kind": "recall", "criterion": "model", "value": "AX-3", "reason": "x"}
    assert client.post("/fleet/recalls", data=made).status_code == 403
    assert len(recalls.list_campaigns(ctx.sessions, fleet.eq)) == 1
    assert count_audit(ctx, "access:request:denied", actor="auditor") >= 2
    use_session(client, creds, "admin")
    assert client.get("/fleet/cameras/CAM-1").status_code == 200
    for who in ("clerk", "o1", "sgt_a", "analyst", "external"):
        use_session(client, creds, who)
        for path in ("/fleet", "/fleet/cameras/CAM-1", "/fleet/recalls", url, "/fleet/reports"):
            assert client.get(path).status_code == 403, (who, path)
    assert 'href="/fleet"' not in client.get("/recordings").text
    use_session(client, creds, "equipment")
    assert 'href="/fleet"' in client.get("/").text
    client.cookies.clear()
    assert client.get("/fleet").status_code == 303
