"""The published policy: /policy, its versions and differences, without sign-in. Both
engines."""

from __future__ import annotations

import pytest

from bodycam.db import transaction
from bodycam.evidence.service import ensure_category
from bodycam.policy.cli import DEFAULT_POLICY
from bodycam.policy.service import apply_policy
from bodycam.retention import service as retention
from tests.policy.conftest import SCHEDULE, variant


@pytest.fixture
def published(ctx, dept, tmp_path):
    """Two versions applied: v1 from 2026-01-01, v2 (statement first for all) from 2026-02-01."""
    retention.import_schedule(ctx.sessions, dept.actor("admin"), SCHEDULE)
    with transaction(ctx.sessions) as s:
        ensure_category(s, "Use of Force")
    folder = tmp_path / "p"
    folder.mkdir()
    rules = DEFAULT_POLICY.with_name("recording-rules.toml").read_text()
    (folder / "recording-rules.toml").write_text(rules)
    for settings in (
        {"version": '"v1"'},
        {"version": '"v2"', "effective_from": "2026-02-01", "own_footage": '"after_statement"'},
    ):
        apply_policy(
            ctx.sessions, dept.actor("admin"), variant(**settings), file="p", base_dir=folder
        )


def test_no_policy_yet(client, ctx):
    resp = client.get("/policy")
    assert resp.status_code == 200 and "No camera policy has been published yet." in resp.text


def test_the_policy_in_force_in_plain_language_without_sign_in(client, published):
    resp = client.get("/policy")
    assert resp.status_code == 200
    page = resp.text
    assert "version 2 (v2)" in page and "In force since 2026-02-01" in page
    assert (
        "Officers may watch their own recordings only after they have given an initial "
        "written or recorded statement about the incident." in page
    )
    assert "within 30 days of the incident" in page
    assert "Officers must record every call for service" in page  # from the rules file
    assert 'href="/policy/diff"' in page and 'href="/policy/versions"' in page


def test_versions_and_one_version(client, published):
    page = client.get("/policy/versions").text
    assert page.index('id="version-2"') < page.index('id="version-1"')
    assert "from 2026-01-01 until 2026-02-01" in page and "2 (in force)" in page.replace("</a>", "")
    one = client.get("/policy/versions/1")
    assert one.status_code == 200
    assert "never_before_statement_for_critical" in one.text  # the document itself
    assert "Officers may watch their own recordings, except recordings of critical" in one.text
    assert "example-2026" in one.text  # the recording rules snapshot
    assert client.get("/policy/versions/9").status_code == 404


def test_the_diff_between_two_versions(client, published):
    page = client.get("/policy/diff").text
    assert "policy.version changed from &#39;v1&#39; to &#39;v2&#39;." in page
    assert (
        "officer_viewing.own_footage changed from &#39;never_before_statement_for_critical&#39; "
        "to &#39;after_statement&#39;." in page
    )
    assert '<del>-own_footage = "never_before_statement_for_critical"</del>' in page.replace(
        "&#34;", '"'
    )
    same = client.get("/policy/diff", params={"a": 1, "b": 1}).text
    assert "No setting differs." in same
    assert client.get("/policy/diff", params={"a": 1, "b": 7}).status_code == 404
