"""TOTP enrolment, codes accepted once, recovery codes, resets, and who must use it."""

from __future__ import annotations

import re
import time

import numpy as np
import pyotp
import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth import mfa, service
from bodycam.auth.actor import PermissionDenied
from bodycam.auth.models import RecoveryCode, UserTotp
from bodycam.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from bodycam.db import transaction

VIEW = {
    Permission.RECORDING_VIEW_OWN,
    Permission.RECORDING_VIEW_SQUAD,
    Permission.RECORDING_VIEW_ANY,
}


def actions(ctx, prefix: str) -> list[AuditRecord]:
    with ctx.sessions() as s:
        return list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.action.like(f"{prefix}%"))
                .order_by(AuditRecord.at)
            )
        )


def enrol(ctx, actor) -> tuple[str, list[str]]:
    """Enrol ``actor`` with a code of the previous time step; (secret, recovery codes)."""
    with transaction(ctx.sessions) as s:
        secret = mfa.begin_enrolment(s, actor, "Test PD").secret
    with transaction(ctx.sessions) as s:
        codes = mfa.confirm_enrolment(s, actor, pyotp.TOTP(secret).at(time.time() - 30))
    return secret, codes


def test_roles_that_see_footage_need_mfa_from_the_permission_table():
    for role in Role:
        perms = ROLE_PERMISSIONS[role]
        assert mfa.role_needs_mfa(role) == bool(perms & mfa.MFA_PERMISSIONS), role
        if perms & VIEW:  # every role that can view footage is covered
            assert mfa.role_needs_mfa(role), role
    needing = {r.value for r in Role if mfa.role_needs_mfa(r)}
    assert needing == {"officer", "supervisor", "records_clerk", "auditor", "administrator"}
    assert not mfa.role_needs_mfa("no-such-role")


def _svg_modules(svg: str) -> np.ndarray:
    """The dark modules of segno's inline SVG path, as a 0/1 matrix."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    cells: set[tuple[int, int]] = set()
    x = y = 0.0
    for cmd, a, b in re.findall(r"([MmHhVv])(-?[\d.]+)(?:\s(-?[\d.]+))?", path):
        if cmd == "M":
            x, y = float(a), float(b)
        elif cmd == "m":
            x, y = x + float(a), y + float(b)
        elif cmd == "h":
            for i in range(int(float(a))):
                cells.add((int(y), int(x) + i))
            x += float(a)
    size = max(max(r for r, _ in cells), max(c for _, c in cells)) + 5
    m = np.zeros((size, size), dtype=np.uint8)
    for r, c in cells:
        m[r, c] = 1
    return m


def test_enrolment_qr_code_decodes_to_the_otpauth_uri(ctx, dept):
    import cv2

    actor = dept.actor("o1")
    with transaction(ctx.sessions) as s:
        e = mfa.begin_enrolment(s, actor, "Test PD")
    assert re.fullmatch(r"[A-Z2-7]{32}", e.secret)
    assert e.uri.startswith("otpauth://totp/Test%20PD:o1?secret=" + e.secret)
    svg = e.qr_svg()
    assert svg.startswith("<svg") and "http" not in svg.replace("http://www.w3.org", "")
    modules = _svg_modules(svg)
    # A phone sees the code at many sizes; OpenCV's detector misses some codes at some
    # sizes, so the code must decode at one of several, and never to anything else.
    found = set()
    for scale in (4, 6, 8, 10, 12):
        img = np.kron(1 - modules, np.ones((scale, scale), dtype=np.uint8)) * 255
        img = np.pad(img, 5 * scale, constant_values=255)
        decoded, _, _ = cv2.QRCodeDetector().detectAndDecode(img)
        if decoded:
            found.add(decoded)
    assert found == {e.uri}
    with transaction(ctx.sessions) as s:  # a reload shows the same pending secret
        assert mfa.begin_enrolment(s, actor, "Test PD").secret == e.secret


def test_confirming_needs_a_right_code_and_issues_ten_hashed_recovery_codes(ctx, dept):
    actor = dept.actor("sgt_a")
    with transaction(ctx.sessions) as s:
        secret = mfa.begin_enrolment(s, actor, "Test PD").secret
    wrong = f"{(int(pyotp.TOTP(secret).now()) + 1) % 1_000_000:06d}"
    with transaction(ctx.sessions) as s, pytest.raises(mfa.MfaError, match="code is wrong"):
        mfa.confirm_enrolment(s, actor, wrong)
    with ctx.sessions() as s:
        assert not mfa.is_enrolled(s, actor.user_id)
    with transaction(ctx.sessions) as s:
        codes = mfa.confirm_enrolment(s, actor, pyotp.TOTP(secret).now())
    assert len(codes) == 10 == len(set(codes))
    assert all(re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", c) for c in codes)
    with ctx.sessions() as s:
        assert mfa.status(s, actor.user_id) == mfa.MfaStatus(True, 10)
        stored = {r.code_sha256 for r in s.scalars(select(RecoveryCode))}
    assert not any(c.replace("-", "") in h for c in codes for h in stored)  # hashes only
    [rec] = actions(ctx, "auth:mfa:enrol")
    assert rec.actor == "sgt_a" and rec.details == {"recovery_codes_issued": 10}
    with transaction(ctx.sessions) as s, pytest.raises(mfa.MfaError, match="already have"):
        mfa.begin_enrolment(s, actor, "Test PD")


def test_a_totp_code_and_a_recovery_code_each_work_once(ctx, dept):
    actor = dept.actor("o1")
    secret, codes = enrol(ctx, actor)
    now_code = pyotp.TOTP(secret).now()
    with transaction(ctx.sessions) as s:
        assert mfa.check_second_factor(s, actor.user_id, now_code) == "totp"
    with transaction(ctx.sessions) as s:
        assert mfa.check_second_factor(s, actor.user_id, now_code) is None  # replayed
        assert mfa.check_second_factor(s, actor.user_id, "12345") is None
    with transaction(ctx.sessions) as s:  # typed in capitals, without dashes: still it
        assert mfa.check_second_factor(s, actor.user_id, codes[3].upper().replace("-", " ")) == (
            "recovery code"
        )
    with transaction(ctx.sessions) as s:
        assert mfa.check_second_factor(s, actor.user_id, codes[3]) is None
        assert mfa.status(s, actor.user_id).recovery_codes_left == 9
        other = dept.users["o2"].id  # someone else's code is not yours
        assert mfa.check_second_factor(s, other, codes[4]) is None


def test_new_recovery_codes_replace_the_old_ones(ctx, dept):
    actor = dept.actor("clerk")
    secret, old = enrol(ctx, actor)
    with transaction(ctx.sessions) as s, pytest.raises(mfa.MfaError, match="wrong"):
        mfa.new_recovery_codes(s, actor, "000000" if pyotp.TOTP(secret).now() != "000000" else "1")
    with transaction(ctx.sessions) as s:
        new = mfa.new_recovery_codes(s, actor, pyotp.TOTP(secret).now())
    assert set(new).isdisjoint(old)
    with transaction(ctx.sessions) as s:
        assert mfa.check_second_factor(s, actor.user_id, old[0]) is None
        assert mfa.check_second_factor(s, actor.user_id, new[0]) == "recovery code"
    assert len(actions(ctx, "auth:mfa:recovery_codes")) == 1


def test_an_administrator_resets_a_lost_authenticator_and_its_sessions_end(ctx, dept):
    actor = dept.actor("o1")
    enrol(ctx, actor)
    with transaction(ctx.sessions) as s:
        sid, _ = service.start_session(s, dept.users["o1"])
    with transaction(ctx.sessions) as s, pytest.raises(PermissionDenied):
        mfa.reset_mfa(s, dept.actor("clerk"), "o1")
    with transaction(ctx.sessions) as s:
        assert mfa.reset_mfa(s, dept.actor("admin"), "o1") == 1
    from datetime import timedelta

    with transaction(ctx.sessions) as s:
        assert s.get(UserTotp, actor.user_id) is None
        assert mfa.status(s, actor.user_id) == mfa.MfaStatus(False, 0)
        assert service.resume_session(s, sid, timedelta(hours=1), timedelta(hours=1)) is None
        assert mfa.must_enrol(s, dept.users["o1"], "required")
        assert not mfa.must_enrol(s, dept.users["o1"], "optional")
    [rec] = actions(ctx, "auth:mfa:reset")
    assert rec.actor == "admin" and rec.details["sessions_ended"] == 1
    with transaction(ctx.sessions) as s, pytest.raises(mfa.MfaError, match="no authenticator"):
        mfa.reset_mfa(s, dept.actor("admin"), "o1")
