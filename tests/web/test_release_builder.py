"""The release builder page: the clerk ticks approved redacted copies of a request's
footage, the build runs as a ``release.build`` job (run here as a runner would), the page
follows it and links to the release, which verifies offline. Bad choices get a sentence
and queue nothing; a build that fails says why and publishes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.disclosure import (
    footage,
    release_builder,
    releases,
    requests,
    verify_release,
    workflow,
)
from bodycam.disclosure.release_models import DisclosureRelease
from bodycam.jobs.models import Job
from bodycam.jobs.runner import run_job
from bodycam.redaction.models import CopyStatus
from tests.disclosure.test_shares import _copy
from tests.web.test_pages import text_of, use_session


def run_builds(ctx) -> list[Job]:
    """Run every queued ``release.build`` job now, as a runner would; their end states."""
    import bodycam.disclosure.jobs  # noqa: F401  (registers the handlers)

    with ctx.sessions() as s:
        ids = s.scalars(
            select(Job.id).where(Job.kind == "release.build", Job.status == "queued")
        ).all()
    return [run_job(ctx, job_id) for job_id in ids]


def builds(ctx) -> list[Job]:
    with ctx.sessions() as s:
        return list(s.scalars(select(Job).where(Job.kind == "release.build")))


@pytest.fixture
def case(ctx, vault, dept, ingest, clips):
    """A request in review with two recordings attached: one with an approved copy, one
    with a copy not approved yet; and an approved copy of a recording not attached."""
    clerk = dept.actor("clerk")
    one, two, other = ingest(81, title="Porch"), ingest(82, title="Yard"), ingest(83)
    approved = _copy(ctx, dept, one.id, clips(84), CopyStatus.APPROVED)
    waiting = _copy(ctx, dept, two.id, clips(85), CopyStatus.CLEAN)
    stray = _copy(ctx, dept, other.id, clips(86), CopyStatus.APPROVED)
    number = requests.create_request(
        ctx.sessions, clerk, requester_name="Pat", requester_type="media", description="stop"
    ).number
    footage.attach(vault, clerk, number, [one.id, two.id])
    for step in ("acknowledged", "searching", "redacting", "review"):
        workflow.change_status(ctx.sessions, clerk, number, step)
    return number, one, two, approved, waiting, stray


def test_the_clerk_builds_a_release_and_follows_the_job(client, ctx, creds, case, tmp_path):
    number, one, two, approved, waiting, _ = case
    csrf = use_session(client, creds, "clerk")
    url = f"/requests/{number}/release"
    assert f'href="/requests/{number}/release"' in client.get(f"/requests/{number}").text

    page = client.get(url)
    assert page.status_code == 200
    text = text_of(page.text)
    assert f'<input type="checkbox" name="copy" value="{approved}"' in page.text
    assert f'value="{waiting}"' not in page.text  # not approved: no box to tick
    with ctx.sessions() as s:
        from bodycam.redaction.models import RedactedCopy

        copy = s.get(RedactedCopy, approved)
    assert copy.sha256 in text and one.sha256 in text and copy.plan_hash in text
    assert "Redacted for public release" in text  # the redaction summary
    assert f"copy {waiting} not approved: awaiting approval" in text
    assert f'href="/recordings/{two.id}/redaction"' in page.text

    done = client.post(url, data={"csrf": csrf, "copy": approved})
    assert done.status_code == 303 and done.headers["location"] == url
    (job,) = builds(ctx)
    assert job.status == "queued" and job.created_by is not None
    assert job.params["copies"] == [approved] and job.params["number"] == number
    assert job.key == f"release.build:{number}:{job.params['release_id']}"
    following = client.get(url)
    assert "Waiting for a job runner" in text_of(following.text)
    assert 'data-reload-after="1500"' in following.text
    assert "/static/reload-while-working.js" in following.text
    again = client.post(url, data={"csrf": csrf, "copy": approved})
    assert again.status_code == 422 and "is being built already" in text_of(again.text)

    (ran,) = run_builds(ctx)
    assert ran.status == "done" and ran.done == ran.total == 2, ran.error
    release_id = ran.result["release_id"]
    assert release_id == job.params["release_id"] and ran.result["files"] == 1
    finished = client.get(url)
    assert "The release is built, signed and published" in text_of(finished.text)
    assert f'href="/releases/{release_id}"' in finished.text
    assert f'href="/releases#release-{release_id}"' in finished.text
    assert "reload-while-working.js" not in finished.text
    assert client.get(f"{url}?job={job.id}").status_code == 200
    assert client.get(f"{url}?job=NOPE").status_code == 404

    client.cookies.clear()  # the public page, signed out
    public = client.get("/releases")
    assert f'<tr id="release-{release_id}">' in public.text and number in public.text
    # Built as the clerk: their permission, their audit records (via the job).
    with ctx.sessions() as s:
        (built,) = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "disclosure:release:build")
        ).all()
    assert built.actor == "clerk" and built.via == "job" and built.object_id == number
    release = releases.get_release(ctx.sessions, release_id)
    assert [f["recording_id"] for f in release.files if f["kind"] == "footage"] == [one.id]
    folder = releases.write_package(ctx.store, release, tmp_path / "pkg")
    report = verify_release.check_package(folder, trusted_key=ctx.signer.public_key)
    assert releases.check_c2pa(folder, report) == 1
    assert report.ok, report.problems
    # Running the job again makes no second release.
    from bodycam.disclosure.jobs import release_build_job

    assert release_build_job(ctx, dict(job.params), lambda d, t: None)["release_id"] == release_id
    assert len(releases.list_releases(ctx.sessions)) == 1


def test_bad_choices_get_a_sentence_and_queue_nothing(client, ctx, creds, case):
    number, _, _, approved, waiting, stray = case
    csrf = use_session(client, creds, "clerk")
    url = f"/requests/{number}/release"
    bad = [
        ({}, f"Tick at least one approved redacted copy to release in request {number}."),
        ({"copy": waiting}, f"Redacted copy {waiting} is clean, not approved"),
        ({"copy": stray}, "which is not attached to request"),
        ({"copy": "NOPE"}, "There is no redacted copy NOPE."),
        ({"copy": approved, "csrf": "forged"}, "The form expired"),
    ]
    for form, sentence in bad:
        resp = client.post(url, data={"csrf": csrf, **form})
        assert resp.status_code == 422, (form, resp.status_code)
        assert 'role="alert"' in resp.text and sentence in text_of(resp.text), form
    ticked = client.post(url, data={"csrf": csrf, "copy": [approved, stray]})
    assert ticked.status_code == 422
    assert f'value="{approved}" id="copy-{approved}" checked' in ticked.text  # kept ticked
    assert builds(ctx) == []
    # Not in review: the page says so, and a build is refused.
    workflow.change_status(ctx.sessions, creds.dept.actor("clerk"), number, "redacting")
    assert "a release is built once it is in review" in text_of(client.get(url).text)
    early = client.post(url, data={"csrf": csrf, "copy": approved})
    assert early.status_code == 422 and "is redacting" in text_of(early.text)
    assert builds(ctx) == []


def test_a_build_that_fails_says_why_and_publishes_nothing(client, ctx, creds, case):
    number, _, _, approved, _, _ = case
    csrf = use_session(client, creds, "clerk")
    url = f"/requests/{number}/release"
    assert client.post(url, data={"csrf": csrf, "copy": approved}).status_code == 303
    workflow.change_status(ctx.sessions, creds.dept.actor("clerk"), number, "redacting")
    (ran,) = run_builds(ctx)
    assert ran.status == "quarantined" and "is redacting" in ran.error
    page = text_of(client.get(url).text)
    assert "The build failed" in page and "Nothing was published" in page
    with ctx.sessions() as s:
        assert s.scalars(select(DisclosureRelease)).all() == []


def test_only_release_builders_use_the_builder(client, ctx, creds, case):
    number, _, _, approved, _, _ = case
    url = f"/requests/{number}/release"
    for name in ("auditor", "o1", "sgt_a", "admin", "external"):
        csrf = use_session(client, creds, name)
        assert client.get(url).status_code == 403, name
        assert client.post(url, data={"csrf": csrf, "copy": approved}).status_code == 403
        assert f'href="{url}"' not in client.get(f"/requests/{number}").text
    assert builds(ctx) == []
    use_session(client, creds, "clerk")
    assert client.get("/requests/R-1999-000009/release").status_code == 404
    client.cookies.clear()
    assert client.get(url).status_code == 303  # to sign in
    choices = release_builder.release_choices(ctx, creds.dept.actor("clerk"), number)
    assert [len(r.approved) for r in choices.recordings] == [1, 0]
    assert re.fullmatch(r"R-\d{4}-\d{6}", choices.number)
