"""Parsing and checking a policy document: clear errors naming the file, key and why, and
nothing applied when anything is wrong. Both engines where the system is consulted."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.policy.cli import DEFAULT_POLICY
from bodycam.policy.document import PolicyError, parse, plain_language
from bodycam.policy.models import PolicyVersion
from bodycam.policy.service import apply_policy, check_document
from tests.policy.conftest import variant


def test_the_example_policy_parses_and_reads_plainly():
    doc = parse(DEFAULT_POLICY.read_text(encoding="utf-8"), "default.toml")
    assert doc.officer_viewing.own_footage == "never_before_statement_for_critical"
    assert doc.retention.unflagged_max.days == 180
    assert doc.is_critical(["Use of Force"], []) == "category Use of Force"
    assert doc.is_critical(["Traffic Stop"], ["critical-incident"]) == "tag critical-incident"
    assert doc.is_critical(["Traffic Stop"], ["dui"]) is None
    text = " ".join(s for sec in plain_language(doc, clock_days=30) for s in sec.sentences)
    assert "only after they have given an initial written or recorded statement" in text
    assert "within 30 days" in text and "never searched by face" in text


@pytest.mark.parametrize(
    ("settings", "key", "why"),
    [
        ({"own_footage": '"sometimes"'}, "officer_viewing.own_footage", "is not one of allowed"),
        ({"face_search": "true"}, "biometrics.face_search", "must be false"),
        ({"log_every_view": "false"}, "access.log_every_view", "must be true"),
        ({"unflagged_max": '"forever"'}, "retention.unflagged_max", "cannot be kept forever"),
        ({"unflagged_max": '"six months"'}, "retention.unflagged_max", "is not a period"),
        ({"session_minutes": "600"}, "complainant.session_minutes", "from 5 to 240"),
        ({"effective_from": '"soon"'}, "policy.effective_from", "TOML date"),
        ({"supervisors": '"everyone"'}, "access.supervisors", "is not one of squad"),
        ({"categories": "[]", "tags": "[]"}, "critical", "names no categories or tags"),
    ],
)
def test_each_bad_setting_is_named_with_file_key_and_why(settings, key, why):
    with pytest.raises(PolicyError) as caught:
        parse(variant(**settings), "my-policy.toml")
    assert caught.value.file == "my-policy.toml" and caught.value.key == key
    assert why in caught.value.why
    assert str(caught.value).startswith(f"my-policy.toml: {key}: ")


def test_unknown_keys_sections_and_bad_toml_are_refused():
    with pytest.raises(PolicyError, match=r"p.toml: notice.loudly: unknown key"):
        parse(variant(required="true\nloudly = true"), "p.toml")
    with pytest.raises(PolicyError, match=r"p.toml: cameras: unknown section"):
        parse(variant() + "\n[cameras]\nbrand = 'x'\n", "p.toml")
    with pytest.raises(PolicyError, match=r"p.toml: not valid TOML"):
        parse("[policy\n", "p.toml")
    with pytest.raises(PolicyError, match=r"p.toml: recording.rules_file: is missing"):
        parse(variant().replace('rules_file = "recording-rules.toml"', ""), "p.toml")


def test_references_are_checked_against_the_system(ctx, dept, folder, scheduled):
    with ctx.sessions() as s:
        ok = check_document(s, variant(), "p.toml", folder)
        assert ok.retention_version == 1 and ok.clock_days == 30 and ok.jurisdiction == "US"
        assert any("'Officer-Involved Shooting', which is not a category" in w for w in ok.warnings)
        with pytest.raises(PolicyError, match=r"recording.rules_file: .*nope.toml cannot be read"):
            check_document(s, variant(rules_file='"nope.toml"'), "p.toml", folder)
        (folder / "bad-rules.toml").write_text('[[policy]]\nversion = "x"\n')
        with pytest.raises(PolicyError, match=r"recording.rules_file: .*effective_from"):
            check_document(s, variant(rules_file='"bad-rules.toml"'), "p.toml", folder)
        with pytest.raises(
            PolicyError,
            match=r"retention.unflagged_max: the retention schedule version 1 keeps "
            r"Uncategorized footage 90 days, longer than unflagged_max = 30 days",
        ):
            check_document(s, variant(unflagged_max='"30 days"'), "p.toml", folder)
        with pytest.raises(PolicyError, match=r"retention.schedule: there is no retention"):
            check_document(s, variant(schedule='"version 7"'), "p.toml", folder)
        with pytest.raises(
            PolicyError,
            match=r"release.critical_incident_days: is 45, but the disclosure clock in force "
            r"\(version 0\) gives US 30 days",
        ):
            check_document(s, variant(critical_incident_days="45"), "p.toml", folder)
        with pytest.raises(PolicyError, match=r"release.jurisdiction: There is no jurisdiction"):
            check_document(s, variant(jurisdiction='"ZZ"'), "p.toml", folder)


def test_nothing_is_applied_on_error_and_only_administrators_apply(ctx, dept, folder, scheduled):
    def count() -> tuple[int, int]:
        with ctx.sessions() as s:
            versions = s.scalar(select(func.count()).select_from(PolicyVersion))
            applies = s.scalar(
                select(func.count()).where(AuditRecord.action == "policy:document:apply")
            )
            return versions or 0, applies or 0

    with pytest.raises(PolicyError):
        apply_policy(
            ctx.sessions,
            dept.actor("admin"),
            variant(critical_incident_days="45"),
            file="p.toml",
            base_dir=folder,
        )
    assert count() == (0, 0)
    with pytest.raises(PermissionDenied):
        apply_policy(ctx.sessions, dept.actor("clerk"), variant(), file="p.toml", base_dir=folder)
    assert count() == (0, 0)
    applied = apply_policy(
        ctx.sessions, dept.actor("admin"), variant(), file="p.toml", base_dir=folder
    )
    assert applied.version == 1 and count() == (1, 1)
