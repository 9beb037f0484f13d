"""In a real browser (Debian's Chromium via Playwright): every role signs in and lands on
its own home, with its own sections and figures and a menu without what it may not do;
a forbidden page answers the plain 403 page; and the equipment unit runs a recall.

Screenshots of each home at 1280x800 and at tablet width (768x1024) are saved under
``test-artifacts/``. One server for the whole module. Skipped with a reason when
Chromium or Playwright is not installed (a failure under BODYCAM_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bodycam.auth.service import actor_for, create_user
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction, upgrade
from bodycam.disclosure import requests
from bodycam.evidence import service as ev
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.fleet.models import Camera
from bodycam.synth.video import make_clip
from bodycam.web.app import create_app
from tests.browser.support import ARGS, CHROMIUM, require_browser, serving, wait_js

PASSWORD = "browser-test-password"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Who signs in, a section and a figure their home must show, a menu entry it must show,
# menu entries it must not show, and one page it may not open.
ROLES = {
    "ofc": ("officer", "#my-recordings", "1 recording you may see", "/recordings",
            ["/requests", "/fleet", "/admin/users", "/audit"], "/requests"),
    "sgt": ("supervisor", "#review-queue", "Squad compliance: North", "/compliance",
            ["/requests", "/admin/users", "/audit"], "/admin/users"),
    "clerk": ("records_clerk", "#request-queue", "1 open request", "/requests",
              ["/fleet", "/admin/users", "/audit"], "/fleet"),
    "equip": ("equipment", "#recalls", "3 cameras", "/fleet",
              ["/recordings", "/requests", "/audit"], "/recordings"),
    "aud": ("auditor", "#verification", "Audit records", "/audit",
            ["/admin/health", "/cost"], "/admin/health"),
    "ana": ("analyst", "#department-compliance", "Department recording compliance",
            "/compliance", ["/recordings", "/fleet", "/admin/users"], "/fleet"),
    "adm": ("administrator", "#users", "users, 0 disabled", "/admin/users",
            ["/recordings", "/requests", "/audit"], "/audit"),
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    tmp = tmp_path_factory.mktemp("roles")
    settings = Settings(home=tmp / "home", agency_name="Browser Test PD")
    upgrade(settings.resolved_database_url)
    ctx = Context.from_settings(settings, create_key=True)
    with transaction(ctx.sessions) as s:
        ev.ensure_category(s, UNCATEGORIZED)
        users = {}
        for name, (role, *_) in ROLES.items():
            badge = {"ofc": "701", "sgt": "702"}.get(name)
            squad = "North" if badge else None
            users[name] = create_user(
                s, None, name, role, password=PASSWORD, badge=badge, squad=squad
            )
        for serial, lot in (("CAM-1", "LOT-9"), ("CAM-2", "LOT-9"), ("CAM-3", "LOT-2")):
            s.add(Camera(serial=serial, model="AX-3", battery_lot=lot))
    clerk = actor_for(users["clerk"], "cli")
    clip = make_clip(tmp / "c.mp4", seconds=1.0, width=160, height=96, fps=10, seed=5)
    ev.ingest_file(ev.Vault(ctx.sessions, ctx.store), clerk, clip, officer_badge="701")
    requests.create_request(
        ctx.sessions, clerk, requester_name="Press", requester_type="media", description="x"
    )
    with serving(create_app(settings, ctx)) as base:
        ARTIFACTS.mkdir(exist_ok=True)
        yield base
    ctx.close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def sign_in(browser, base: str, who: str):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(base + "/login")
    page.fill("#username", who)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return page


def test_each_role_lands_on_its_own_home(server, browser):
    base = server
    for who, (role, section, figure, shown, hidden, forbidden) in ROLES.items():
        page = sign_in(browser, base, who)
        assert page.is_visible(section), (who, section)
        assert figure in page.inner_text("main"), (who, figure)
        menu = page.eval_on_selector_all(
            "nav.menu a", "links => links.map(a => a.getAttribute('href'))"
        )
        assert shown in menu, (who, menu)
        assert not set(hidden) & set(menu), (who, menu)
        page.screenshot(path=str(ARTIFACTS / f"home-{role}-1280x800.png"), full_page=True)
        # Keyboard: Tab from the top reaches the skip link first, visibly focused.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip"
        outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline != "none", who
        page.keyboard.press("Shift+Tab")
        page.set_viewport_size({"width": 768, "height": 1024})
        # At tablet width nothing overflows sideways.
        wait_js(page, "document.documentElement.scrollWidth <= 768", timeout=5000)
        page.screenshot(path=str(ARTIFACTS / f"home-{role}-768x1024.png"), full_page=True)
        resp = page.goto(base + forbidden)
        assert resp is not None and resp.status == 403, (who, forbidden)
        assert page.inner_text("h1") == "Not allowed"
        assert "may not" in page.inner_text("main")
        assert page.is_visible("text=Back to your home page")
        page.close()


def test_equipment_unit_runs_a_recall(server, browser):
    base = server
    page = sign_in(browser, base, "equip")
    page.click("a[href='/fleet/recalls']")
    page.select_option("#rc-criterion", "battery_lot")
    page.fill("#rc-value", "LOT-9")
    page.fill("#rc-reason", "battery swelling")
    page.click("text=Recall these cameras")
    page.wait_for_url("**/fleet/recalls?done=created")
    page.click("text=battery lot LOT-9")
    assert "0 of 2 cameras dealt with" in page.inner_text("main")
    row = page.locator("tr", has_text="CAM-1")
    row.locator("select[name=outcome]").select_option("returned")
    row.locator("button").click()
    page.wait_for_url("**?done=resolved")
    assert "1 of 2 cameras dealt with (50%)" in page.inner_text("main")
    assert page.get_attribute("main progress", "value") == "1"
    page.screenshot(path=str(ARTIFACTS / "recall-progress-1280x800.png"), full_page=True)
    page.goto(base + "/")
    assert "1 recall with cameras outstanding" in page.inner_text("#recalls")
    page.close()
