"""The redaction review editor in a real browser (Debian's Chromium via Playwright).

The records clerk opens a recording with a face, starts a redaction (detection runs as a
job in the server's in-process runner), sees the face's box drawn on the canvas over the
paused video, keeps the track visible and redacts it again with the keyboard, draws a
box that follows through two keyframes, previews, renders through the job and plays the
redacted copy. Screenshots go to test-artifacts/. Skipped with a reason when Chromium or
Playwright is missing; a failure under BODYCAM_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bodycam.auth.service import actor_for, create_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction, upgrade
from bodycam.evidence import service as ev
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.redaction import projects
from bodycam.redaction.faceclip import FaceClip, Walker
from bodycam.web.app import create_app
from tests.browser.support import ARGS, CHROMIUM, require_browser, serving, wait_js

PASSWORD = "browser-test-password"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
W, H = 320, 180  # the clip's picture, in video pixels


@pytest.fixture
def server(tmp_path):
    require_browser()
    settings = Settings(
        home=tmp_path / "home",
        agency_name="Browser Test PD",
        jobs="inprocess",
        timezone="America/Phoenix",  # no daylight saving: always MST
    )
    upgrade(settings.resolved_database_url)
    ctx = Context.from_settings(settings, create_key=True)
    with transaction(ctx.sessions) as s:
        ev.ensure_category(s, UNCATEGORIZED)
        clerk = create_user(s, None, "clerk", "records_clerk", password=PASSWORD)
        create_user(s, None, "o9", "officer", badge="909")
    clip = FaceClip(
        width=W,
        height=H,
        fps=15,
        seconds=2.0,
        walkers=[Walker(start=(0.3, 0.25), velocity=(0.003, 0.0), height=0.5)],
    ).write(tmp_path / "face.mp4")
    vault = ev.Vault(ctx.sessions, ctx.store)
    actor = actor_for(clerk, "cli")
    rid = ev.ingest_file(vault, actor, clip, officer_badge="909", title="Porch visit").id
    with serving(create_app(settings, ctx)) as base:
        yield base, vault, actor, rid
    ctx.close()


def canvas_pixel(page, x: float, y: float) -> list[int]:
    """The overlay canvas's RGBA at video pixel (x, y)."""
    return page.evaluate(
        """([x, y, w, h]) => {
            const c = document.getElementById('rx-canvas');
            const px = Math.round(x * c.width / w), py = Math.round(y * c.height / h);
            return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data);
        }""",
        [x, y, W, H],
    )


def wait_pixel(page, x: float, y: float, test, what: str) -> list[int]:
    """Wait (up to 5 s) until the canvas pixel at (x, y) passes ``test``."""
    deadline = time.monotonic() + 5
    while True:
        rgba = canvas_pixel(page, x, y)
        if test(rgba):
            return rgba
        assert time.monotonic() < deadline, f"the canvas at ({x}, {y}) is {rgba}, not {what}"
        time.sleep(0.05)


def on_canvas(page, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of video pixel (x, y), the canvas scrolled into view."""
    page.locator("#rx-canvas").scroll_into_view_if_needed()
    box = page.locator("#rx-canvas").bounding_box()
    assert box is not None
    return box["x"] + x * box["width"] / W, box["y"] + y * box["height"] / H


def no_error(page) -> None:
    """The editor shows no error sentence."""
    shown = page.locator("#rx-error")
    assert shown.is_hidden(), shown.inner_text()


def go_to_frame(page, frame: int) -> None:
    wait_js(
        page,
        f"() => document.getElementById('rx-time').textContent.startsWith('frame {frame} ')",
        timeout=5000,
    )


def test_review_a_redaction_in_the_editor(server):
    from playwright.sync_api import sync_playwright

    base, vault, clerk, rid = server
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base}/recordings/{rid}")
        page.fill("#username", "clerk")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"**/recordings/{rid}")
        page.click("text=Redact for release")
        page.click("text=Find faces and start the redaction")
        page.wait_for_selector("#rx-editor")
        # Detection runs as a job in the server; the editor follows it, then shows the tracks.
        wait_js(
            page,
            "() => document.getElementById('rx-state').textContent === 'review'",
            timeout=30000,
        )
        wait_js(page, "() => document.getElementById('rx-video').readyState >= 2", timeout=15000)
        pid = page.evaluate("document.getElementById('rx-editor').dataset.project")
        plan = projects.show(vault, clerk, pid, audit=False).plan
        assert plan is not None and len(plan.tracks) == 1
        track = plan.tracks[0]
        assert page.locator("#rx-help").is_visible()
        assert "i redact the selected track" in page.locator("#rx-help").inner_text()

        # Step to frame 5 with the keyboard: the face's box is drawn there, undecided (amber).
        page.locator("#rx-canvas").focus()
        for _ in range(5):
            page.keyboard.press(".")
        go_to_frame(page, 5)
        row = next(b for b in track.boxes if b.frame == 5)
        cx, cy = (row.x1 + row.x2) / 2, (row.y1 + row.y2) / 2
        wait_pixel(page, cx, cy, lambda c: c[3] > 0 and c[0] > 150 and c[2] < 80, "amber")
        assert canvas_pixel(page, W - 8, H - 8)[3] == 0  # nothing drawn away from the face
        page.screenshot(path=str(ARTIFACTS / "redaction-editor-track.png"))

        # Select the track by clicking its box; x keeps it visible, i redacts it again.
        page.mouse.click(*on_canvas(page, cx, cy))
        wait_js(
            page,
            "() => document.getElementById('rx-selected-text').textContent.startsWith('Face 1')",
        )
        page.keyboard.press("x")
        wait_js(
            page, "() => document.getElementById('rx-message').textContent.includes('kept visible')"
        )
        saved = projects.show(vault, clerk, pid, audit=False).plan
        assert saved is not None
        assert (saved.tracks[0].include, saved.tracks[0].reason) == (False, "officer")
        wait_pixel(page, cx, cy, lambda c: c[1] > c[0] + 40, "green (kept visible)")
        page.select_option("#rx-reason", "bystander")
        page.locator("#rx-canvas").focus()
        page.keyboard.press("i")
        wait_js(
            page, "() => document.getElementById('rx-message').textContent.includes('is redacted')"
        )
        saved = projects.show(vault, clerk, pid, audit=False).plan
        assert saved is not None
        assert (saved.tracks[0].include, saved.tracks[0].reason) == (True, "bystander")
        wait_pixel(page, cx, cy, lambda c: c[0] > c[1] + 60, "red (redacted)")
        no_error(page)

        # Draw a box on frame 5, step 3 frames, drag it 30 px right: two keyframes.
        page.click("#rx-draw")
        page.mouse.move(*on_canvas(page, 200, 120))
        page.mouse.down()
        page.mouse.move(*on_canvas(page, 240, 150), steps=5)
        page.mouse.up()
        wait_js(
            page,
            "() => document.getElementById('rx-draft-text').textContent.startsWith('1 keyframe')",
        )
        for _ in range(3):
            page.keyboard.press(".")
        go_to_frame(page, 8)
        page.mouse.move(*on_canvas(page, 220, 135))
        page.mouse.down()
        page.mouse.move(*on_canvas(page, 250, 135), steps=5)
        page.mouse.up()
        wait_js(
            page,
            "() => document.getElementById('rx-draft-text').textContent.startsWith('2 keyframe')",
        )
        page.select_option("#rx-box-reason", "personal_data")
        page.click("#rx-box-save")
        wait_js(
            page, "() => document.getElementById('rx-message').textContent.startsWith('Box saved')"
        )
        saved = projects.show(vault, clerk, pid, audit=False).plan
        assert saved is not None and len(saved.manual) == 1
        first, second = saved.manual[0].keyframes
        assert (first.frame, second.frame) == (5, 8)
        assert abs(first.x1 - 200) <= 2 and abs(first.y1 - 120) <= 2
        assert abs(first.x2 - 240) <= 2 and abs(first.y2 - 150) <= 2
        assert abs(second.x1 - first.x1 - 30) <= 2 and second.y1 == first.y1
        assert saved.manual[0].reason == "personal_data"
        no_error(page)
        # The saved box is drawn (red) where it is interpolated, on frame 7.
        page.keyboard.press(",")
        go_to_frame(page, 7)
        wait_pixel(page, 240, 135, lambda c: c[3] > 0 and c[0] > c[1] + 60, "the saved box")

        # Preview the redacted segment around the playhead.
        page.click("#rx-preview-button")
        wait_js(page, "() => document.getElementById('rx-preview').readyState >= 2", timeout=20000)
        page.screenshot(path=str(ARTIFACTS / "redaction-editor-1280.png"), full_page=True)
        no_error(page)

        # Keyboard focus is visible.
        page.mouse.click(*on_canvas(page, 10, 10))
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => [document.activeElement.id, getComputedStyle(document.activeElement)"
            ".outlineStyle]"
        )
        assert focused == ["rx-play", "solid"], focused

        # Render through the job and watch its progress reach the end.
        page.click("#rx-render")
        wait_js(
            page,
            "() => document.getElementById('rx-progress').value === 1"
            " && document.getElementById('rx-render-status').textContent.includes('done')",
            timeout=60000,
        )
        wait_js(page, "() => document.getElementById('rx-copy').readyState >= 2", timeout=15000)
        view = projects.show(vault, clerk, pid, audit=False)
        assert len(view.copies) == 1 and view.copies[0].plan_hash == saved.plan_hash()
        # The rendered derivative plays: its time advances.
        page.evaluate(
            "() => { const v = document.getElementById('rx-copy'); v.muted = true;"
            " return v.play(); }"
        )
        wait_js(page, "() => document.getElementById('rx-copy').currentTime > 0.5", timeout=15000)
        copies = page.locator("#rx-copies").inner_text()
        assert copies.startswith(view.copies[0].status.replace("_", " ")) and "MST" in copies
        no_error(page)
        page.locator("#rx-result").scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "redaction-editor-rendered.png"), full_page=True)

        # A tablet's width: one column, nothing wider than the screen.
        page.set_viewport_size({"width": 800, "height": 1100})
        page.wait_for_timeout(200)
        assert page.evaluate("document.documentElement.scrollWidth") <= 800
        stage = page.locator(".rx-stage").bounding_box()
        panel = page.locator(".rx-panel").bounding_box()
        assert (
            stage is not None and panel is not None and panel["y"] >= stage["y"] + stage["height"]
        )
        page.screenshot(path=str(ARTIFACTS / "redaction-editor-800.png"), full_page=True)
        browser.close()
    assert time.monotonic() - started < 60
