"""In a real browser (Debian's Chromium via Playwright): sign in, find a recording, play it.

The video element streams the original through HTTP Range requests; the test
reads back the pixels Chromium decoded and compares them with the frame the
generator drew, and checks that each request was audited as a stream.
Skipped with a reason when Chromium or Playwright is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.service import create_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction, upgrade
from bodycam.evidence import service as ev
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.synth.video import frame_at, make_clip
from bodycam.web.app import create_app
from tests.browser.support import ARGS, CHROMIUM, require_browser, serving, wait_js

PASSWORD = "browser-test-password"


@pytest.fixture
def server(tmp_path):
    require_browser()
    settings = Settings(home=tmp_path / "home", agency_name="Browser Test PD")
    upgrade(settings.resolved_database_url)
    ctx = Context.from_settings(settings, create_key=True)
    with transaction(ctx.sessions) as s:
        ev.ensure_category(s, UNCATEGORIZED)
        clerk = create_user(s, None, "clerk", "records_clerk", password=PASSWORD)
        create_user(s, None, "o9", "officer", badge="909")
    from bodycam.auth.service import actor_for

    clip = make_clip(tmp_path / "patrol.mp4", seconds=2.0, width=320, height=180, fps=10, seed=77)
    vault = ev.Vault(ctx.sessions, ctx.store)
    rid = ev.ingest_file(
        vault, actor_for(clerk, "cli"), clip, officer_badge="909", title="Patrol clip"
    ).id
    with serving(create_app(settings, ctx)) as base:
        yield base, ctx, rid
    ctx.close()


def test_sign_in_search_and_play_in_chromium(server):
    from playwright.sync_api import sync_playwright

    base, ctx, rid = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(base + "/recordings")
        assert "/login" in page.url  # signed-out users are sent to sign in
        page.fill("#username", "clerk")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/recordings")
        page.fill("input[name=q]", "Patrol")
        page.click("form.search button")
        page.click("text=Patrol clip")
        page.wait_for_selector("video")
        wait_js(page, "document.querySelector('video').readyState >= 2", timeout=15000)
        # Seek to frame 5 (0.5 s at 10 fps) and read back the pixels Chromium decoded.
        page.evaluate("""() => new Promise(done => {
            const v = document.querySelector('video');
            v.addEventListener('seeked', () => done(), {once: true});
            v.currentTime = 0.55;
        })""")
        pixels = page.evaluate("""() => {
            const v = document.querySelector('video');
            const c = document.createElement('canvas');
            c.width = v.videoWidth; c.height = v.videoHeight;
            const g = c.getContext('2d');
            g.drawImage(v, 0, 0);
            return Array.from(g.getImageData(0, 0, c.width, c.height).data);
        }""")
        # Playback advances: from 0.1 s, currentTime grows while the video plays.
        page.evaluate("""() => new Promise(done => {
            const v = document.querySelector('video');
            v.addEventListener('seeked', () => done(), {once: true});
            v.currentTime = 0.1;
        })""")
        video = "document.querySelector('video')"
        start = page.evaluate(f"{video}.currentTime")
        page.evaluate(f"() => {{ const v = {video}; v.muted = true; v.play(); }}")
        wait_js(page, f"{video}.currentTime > {start} + 0.5", timeout=15000)
        assert not page.evaluate(f"{video}.paused") or page.evaluate(f"{video}.ended")
        browser.close()
    shown = np.array(pixels, dtype=np.int16).reshape(180, 320, 4)[:, :, :3]
    expected = frame_at(77, 5, 320, 180, fps=10).astype(np.int16)
    other = frame_at(77, 15, 320, 180, fps=10).astype(np.int16)
    diff = np.abs(shown - expected).mean()
    assert diff < 14, f"decoded frame differs from the generated one by {diff:.1f} on average"
    assert diff < np.abs(shown - other).mean()  # and it is that frame, not just any frame
    with ctx.sessions() as s:
        streams = list(
            s.scalars(
                select(AuditRecord).where(
                    AuditRecord.action == "evidence:recording:stream", AuditRecord.object_id == rid
                )
            )
        )
    assert streams and all(r.actor == "clerk" and r.via == "web" for r in streams)
