"""Supervisor review pages: the queue, the checklist form, skip, and the report."""

from __future__ import annotations

from bodycam.compliance.review import Drawn, sample_cycle
from tests.compliance.test_review import ALL_CLEAR, NOV, SEED, TZ, _recording
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session


def _sampled(ctx, dept) -> list[Drawn]:
    for n in range(2):
        _recording(ctx, dept.users["o1"], NOV.replace(day=3 + n))
    outcome = sample_cycle(
        ctx.sessions, dept.actor("admin"), "2026-11", per_officer=2, seed=SEED, tz=TZ
    )
    return sorted(outcome.created, key=lambda d: d.review_id)


def test_a_supervisor_reviews_through_the_pages(client, ctx, creds):
    first, second = _sampled(ctx, creds.dept)
    csrf = use_session(client, creds, "sgt_a")
    queue = client.get("/compliance/reviews")
    assert queue.status_code == 200
    assert f'href="/compliance/reviews/{first.review_id}"' in queue.text and "o1" in queue.text
    page = client.get(f"/compliance/reviews/{first.review_id}")
    assert page.status_code == 200
    assert 'name="late_activation"' in page.text and "Save the review" in page.text
    assert f"/api/v1/recordings/{first.recording_id}/content" in page.text

    partial = client.post(
        f"/compliance/reviews/{first.review_id}/complete", data={"csrf": csrf, "muted": "yes"}
    )
    assert partial.status_code == 422
    assert "Answer every checklist item; missing" in text_of(partial.text)
    answers = ALL_CLEAR | {"wrong_category": "yes", "expected_category": "Domestic Violence"}
    done = client.post(
        f"/compliance/reviews/{first.review_id}/complete",
        data={"csrf": csrf, **answers, "notes": "Explained the stop."},
    )
    assert done.status_code == 303, text_of(done.text)[:900]
    assert done.headers["location"] == f"/compliance/reviews/{first.review_id}?done=completed"
    page = client.get(done.headers["location"])
    text = text_of(page.text)
    assert "The review is recorded." in text and "should be Domestic Violence" in text
    assert "Save the review" not in page.text  # final
    again = client.post(
        f"/compliance/reviews/{first.review_id}/skip", data={"csrf": csrf, "reason": "x"}
    )
    assert again.status_code == 422 and "cannot be changed" in text_of(again.text)

    no_reason = client.post(f"/compliance/reviews/{second.review_id}/skip", data={"csrf": csrf})
    assert no_reason.status_code == 422 and "needs a reason" in text_of(no_reason.text)
    skipped = client.post(
        f"/compliance/reviews/{second.review_id}/skip", data={"csrf": csrf, "reason": "blank video"}
    )
    assert skipped.status_code == 303
    assert count_audit(ctx, "compliance:review:complete", actor="sgt_a") == 1
    assert count_audit(ctx, "compliance:review:skip", actor="sgt_a") == 1

    use_session(client, creds, "auditor")
    report = client.get("/compliance/reviews/report", params={"cycle": "2026-11"})
    text = text_of(report.text)
    assert report.status_code == 200 and "blank video" in text
    assert "sgt_a" in text
    auditor_view = client.get(f"/compliance/reviews/{first.review_id}")
    assert auditor_view.status_code == 200 and "Save the review" not in auditor_view.text
    bad = client.get("/compliance/reviews/report", params={"cycle": "November"})
    assert bad.status_code == 422


def test_others_cannot_open_or_act_on_a_review(client, ctx, creds):
    first, _ = _sampled(ctx, creds.dept)
    csrf = use_session(client, creds, "sgt_b")  # South-B: not o1's squad
    assert client.get(f"/compliance/reviews/{first.review_id}").status_code == 403
    resp = client.post(
        f"/compliance/reviews/{first.review_id}/complete", data={"csrf": csrf, **ALL_CLEAR}
    )
    assert resp.status_code == 403
    use_session(client, creds, "o1")  # the officer reviewed
    assert client.get("/compliance/reviews").status_code == 403
    assert client.get(f"/compliance/reviews/{first.review_id}").status_code == 403
    assert client.get("/compliance/reviews/nope").status_code in (403, 404)
