"""A records request from intake to a verified public release, in a real browser (Debian's
Chromium via Playwright).

The records clerk signs in, logs a request through the intake form, searches for the
footage it asks for and attaches it, moves the request to review, ticks the approved
redacted copy in the release builder and builds the package: the build runs as a
``release.build`` job in the server's in-process runner while the page follows it. Then,
signed out, the public /releases page lists the package; every file of it is downloaded
from there and ``bodycam release verify`` passes on that folder. The approved copy is
prepared by service calls in the fixture (detect, render, approve), as the redaction
editor's test prepares its data. Screenshots go to test-artifacts/. Skipped with a reason
when Chromium or Playwright is missing; a failure under BODYCAM_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from bodycam.audit.signing import public_key_pem
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


@pytest.fixture
def server(tmp_path):
    require_browser()
    settings = Settings(
        home=tmp_path / "home",
        agency_name="Browser Test PD",
        jobs="inprocess",
        timezone="America/Phoenix",
    )
    upgrade(settings.resolved_database_url)
    ctx = Context.from_settings(settings, create_key=True)
    with transaction(ctx.sessions) as s:
        ev.ensure_category(s, UNCATEGORIZED)
        clerk = create_user(s, None, "clerk", "records_clerk", password=PASSWORD)
        create_user(s, None, "o9", "officer", badge="909")
    clip = FaceClip(
        width=320,
        height=180,
        fps=15,
        seconds=1.5,
        walkers=[Walker(start=(0.3, 0.25), velocity=(0.003, 0.0), height=0.5)],
    ).write(tmp_path / "porch.mp4")
    vault = ev.Vault(ctx.sessions, ctx.store)
    actor = actor_for(clerk, "cli")
    rid = ev.ingest_file(vault, actor, clip, officer_badge="909", title="Porch visit").id
    # The approved redacted copy (the redaction editor's own test drives these steps).
    view = projects.render(vault, actor, projects.detect(vault, actor, rid).project.id)
    for f in view.open_findings:
        projects.accept_finding(vault, actor, view.copy.id, f.number, "checked by hand")
    copy_id = projects.approve(vault, actor, view.copy.id, "for release").copy.id
    with serving(create_app(settings, ctx)) as base:
        yield base, ctx, rid, copy_id
    ctx.close()


def download_package(base: str, release_id: str, dest: Path) -> Path:
    """Every file of a release, fetched signed out from the public page, into ``dest``."""

    def get(name: str) -> bytes:
        with urllib.request.urlopen(f"{base}/releases/{release_id}/{name}") as resp:
            return bytes(resp.read())

    manifest = get("manifest.json")
    dest.mkdir()
    (dest / "manifest.json").write_bytes(manifest)
    for name in ("manifest.sig", "public-key.pem"):
        (dest / name).write_bytes(get(name))
    for entry in json.loads(manifest)["files"]:
        path = dest.joinpath(*entry["name"].split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(get(entry["name"]))
    return dest


def test_request_to_verified_release_in_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright

    from bodycam.disclosure.release_cli import release_verify

    base, ctx, rid, copy_id = server
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/requests/new")
        page.fill("#username", "clerk")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/requests/new")

        # Intake through the form.
        page.fill("#requester_name", "Pat Reporter")
        page.select_option("#requester_type", "media")
        page.fill("#description", "Body camera footage of the porch visit")
        page.fill("#officers", "909")
        page.click("text=Log the request")
        page.wait_for_url("**/requests/R-*?done=created")
        number = page.url.split("/requests/")[1].split("?")[0]
        assert page.locator("h1").inner_text().startswith(f"Request {number}: received")

        # Search for the footage and attach it.
        page.click("text=Search for the footage this request asks for")
        page.wait_for_selector(f"#c-{rid}")
        page.check(f"#c-{rid}")
        page.click("text=Attach the ticked recordings")
        page.wait_for_url("**?done=attached")
        assert "Porch visit" in page.locator("main").inner_text()
        for step in ("acknowledged", "searching", "review"):
            page.select_option("#st-status", step)
            page.click("text=Change status")
            page.wait_for_url("**?done=status")
        assert page.locator("h1").inner_text() == f"Request {number}: review"

        # The release builder: tick the approved copy, build it as a job, follow it.
        page.click("text=Build a release of the approved redacted copies")
        page.wait_for_url(f"**/requests/{number}/release")
        choices = page.locator("#choices").inner_text()
        assert "Redacted for public release" in choices  # the redaction summary
        assert "other (1): anything else" in choices  # each reason, how many items, why
        page.check(f"#copy-{copy_id}")
        page.screenshot(path=str(ARTIFACTS / "release-builder-choose.png"), full_page=True)
        page.click("text=Build and publish the release package")
        page.wait_for_url(f"**/requests/{number}/release")
        # The page reloads itself while the job runs, until the release exists.
        page.wait_for_selector("#release-link", timeout=30000)
        release_id = page.get_attribute("#release-link", "href").rsplit("/", 1)[1]
        assert "The release is built, signed and published" in page.locator("#build").inner_text()
        page.screenshot(path=str(ARTIFACTS / "release-builder-built.png"), full_page=True)

        # Signed out: the public page lists the package, and its own page its manifest.
        public = browser.new_context().new_page()
        public.goto(base + "/releases")
        row = public.locator(f"#release-{release_id}")
        assert number in row.inner_text()
        assert "Sign out" not in public.content()
        public.click(f"#release-{release_id} >> text={number}")
        public.wait_for_url(f"**/releases/{release_id}")
        wait_js(public, "document.querySelector('pre') !== null")
        signed = json.loads(public.locator("pre").inner_text())
        assert "other (1): anything else" in public.locator("table").inner_text()
        assert signed["request"] == number and signed["release_id"] == release_id
        public.screenshot(path=str(ARTIFACTS / "release-public.png"), full_page=True)
        browser.close()

    # Every file as the public gets it, checked offline against the agency's key.
    folder = download_package(base, release_id, tmp_path / "package")
    key = tmp_path / "agency-key.pem"
    key.write_text(public_key_pem(ctx.signer.private_key))
    release_verify(folder, key=key)  # raises typer.Exit(1) on any problem
    footage = [f for f in signed["files"] if f["kind"] == "footage"]
    assert [f["redacted_copy_id"] for f in footage] == [copy_id]
    tampered = folder / footage[0]["name"]
    data = bytearray(tampered.read_bytes())
    data[len(data) // 2] ^= 0x01
    tampered.write_bytes(bytes(data))
    with pytest.raises(Exception) as failed:
        release_verify(folder, key=key)
    assert getattr(failed.value, "exit_code", None) == 1
