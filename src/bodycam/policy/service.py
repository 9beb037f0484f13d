"""Applying, reading and comparing versions of the agency's camera policy.

A document is checked alone (:func:`bodycam.policy.document.parse`) and then against the
system (:func:`check_document`): the recording rules file it references must parse, the
retention schedule it names must exist and keep unflagged footage no longer than the
policy allows, and the disclosure clock must hold its jurisdiction with the same
critical-incident days. :func:`apply_policy` stores a new version only when every check
passes, with its audit record in the same transaction; nothing is half-applied.

The version in force at a moment is the one with the latest ``effective_from`` not after
it (the higher version number on a tie): :func:`policy_in_force`. A recording is judged
under the version in force when it was recorded.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from bodycam.compliance.rules import Rules, RulesError
from bodycam.db import transaction
from bodycam.disclosure.clock import ClockError
from bodycam.disclosure.deadlines import clock_in_force
from bodycam.evidence.models import UNCATEGORIZED, AccessClass, Category
from bodycam.ids import as_utc, utcnow
from bodycam.policy.document import PolicyDocument, PolicyError, Section, parse, plain_language
from bodycam.policy.models import PolicyVersion
from bodycam.retention.models import RetentionSchedule
from bodycam.retention.schedule import Schedule

__all__ = [
    "AppliedPolicy",
    "Change",
    "Checked",
    "InForce",
    "apply_policy",
    "check_document",
    "diff_documents",
    "get_version",
    "list_versions",
    "policy_in_force",
    "rules_sentences",
    "text_diff",
]


@dataclass(frozen=True)
class Checked:
    """A document that passed every check, with what it references resolved."""

    doc: PolicyDocument
    text: str
    sha256: str
    rules_text: str
    rules: Rules
    retention_version: int
    clock_version: int
    jurisdiction: str
    clock_days: int
    warnings: tuple[str, ...]


def _schedule_row(session: Session, doc: PolicyDocument, file: str) -> RetentionSchedule:
    stmt = select(RetentionSchedule).order_by(RetentionSchedule.version.desc()).limit(1)
    if doc.retention.schedule != "in force":
        wanted = int(doc.retention.schedule.removeprefix("version ").strip())
        stmt = select(RetentionSchedule).where(RetentionSchedule.version == wanted)
    row = session.scalars(stmt).first()
    if row is None:
        why = (
            "no retention schedule has been imported yet; import one first "
            "(bodycam retention import FILE)."
            if doc.retention.schedule == "in force"
            else f"there is no retention schedule {doc.retention.schedule}."
        )
        raise PolicyError(file, "retention.schedule", why)
    return row


def check_document(
    session: Session,
    text: str,
    file: str,
    base_dir: Path,
    *,
    officer_sees_own: bool = True,
) -> Checked:
    """Parse ``text`` and check it against the system; a :class:`PolicyError` when wrong.

    ``base_dir``: where a relative ``recording.rules_file`` is looked for (the policy
    file's folder). Returns the warnings that do not stop it being applied.
    """
    doc = parse(text, file)
    warnings: list[str] = []
    rules_path = Path(doc.recording.rules_file)
    if not rules_path.is_absolute():
        rules_path = base_dir / rules_path
    try:
        rules_text = rules_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(
            file, "recording.rules_file", f"{rules_path} cannot be read: {exc}."
        ) from None
    try:
        rules = Rules.from_toml(rules_text)
    except RulesError as exc:
        raise PolicyError(file, "recording.rules_file", f"{rules_path}: {exc}") from None
    if rules.in_force(doc.effective_from) is None:
        warnings.append(
            f"The recording rules in {rules_path.name} start after this policy's "
            f"effective date ({doc.effective_from:%Y-%m-%d}): no rule applies before "
            f"{rules.policies[0].effective_from:%Y-%m-%d}."
        )
    row = _schedule_row(session, doc, file)
    schedule = Schedule.from_toml(row.body)
    unflagged = schedule.rules[UNCATEGORIZED].period
    if unflagged.longer_than(doc.retention.unflagged_max):
        raise PolicyError(
            file,
            "retention.unflagged_max",
            f"the retention schedule version {row.version} keeps {UNCATEGORIZED} footage "
            f"{unflagged.text()}, longer than unflagged_max = "
            f"{doc.retention.unflagged_max.text()}; shorten the schedule or raise the limit.",
        )
    clock_version, clock = clock_in_force(session)
    try:
        jurisdiction = clock.get(doc.release.jurisdiction)
    except ClockError as exc:
        raise PolicyError(file, "release.jurisdiction", str(exc)) from None
    days = doc.release.critical_incident_days
    if days is not None and days != jurisdiction.critical_incident_days:
        raise PolicyError(
            file,
            "release.critical_incident_days",
            f"is {days}, but the disclosure clock in force (version {clock_version}) gives "
            f"{jurisdiction.key} {jurisdiction.critical_incident_days} days; change one so "
            "they agree (bodycam disclosure clock import).",
        )
    for role, perm, key in (
        (Role.SUPERVISOR, Permission.RECORDING_VIEW_SQUAD, "access.supervisors"),
        (Role.AUDITOR, Permission.RECORDING_VIEW_ANY, "access.investigators"),
    ):
        if perm not in ROLE_PERMISSIONS[role]:
            raise PolicyError(
                file, key, f"the {role.value} role does not hold {perm.value} in this system."
            )
    cats = {c.name: c for c in session.scalars(select(Category))}
    for name in doc.critical.categories:
        if name not in cats:
            warnings.append(f"critical.categories names {name!r}, which is not a category yet.")
    for name in doc.privacy.restricted_categories:
        if name not in cats:
            warnings.append(
                f"privacy.restricted_categories names {name!r}, which is not a category yet."
            )
        elif cats[name].access_class == AccessClass.NORMAL.value:
            warnings.append(
                f"privacy.restricted_categories names {name!r}, but its access class is "
                "normal (bodycam categories set CATEGORY --access-class restricted)."
            )
    if not officer_sees_own and doc.officer_viewing.own_footage != "allowed":
        warnings.append(
            "BODYCAM_OFFICER_SEES_OWN is off: officers see none of their own recordings, "
            "whatever officer_viewing.own_footage says."
        )
    elif not officer_sees_own:
        warnings.append(
            "BODYCAM_OFFICER_SEES_OWN is off, so officers see none of their own recordings "
            "although the policy allows it; turn it on to match the policy."
        )
    return Checked(
        doc=doc,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        rules_text=rules_text,
        rules=rules,
        retention_version=row.version,
        clock_version=clock_version,
        jurisdiction=jurisdiction.key,
        clock_days=jurisdiction.critical_incident_days,
        warnings=tuple(warnings),
    )


@dataclass(frozen=True)
class AppliedPolicy:
    """What applying a policy stored."""

    version: int
    label: str
    effective_from: datetime
    sha256: str
    warnings: tuple[str, ...]


def apply_policy(
    factory: sessionmaker[Session],
    actor: Actor,
    text: str,
    *,
    file: str,
    base_dir: Path,
    officer_sees_own: bool = True,
    note: str = "",
) -> AppliedPolicy:
    """Check ``text`` and store it as the next policy version (audited); all or nothing."""
    require(factory, actor, Permission.POLICY_MANAGE, "apply a camera policy")
    with transaction(factory) as s:
        checked = check_document(s, text, file, base_dir, officer_sees_own=officer_sees_own)
        doc = checked.doc
        same = s.scalars(select(PolicyVersion).where(PolicyVersion.sha256 == checked.sha256))
        if (dup := same.first()) is not None:
            raise PolicyError(
                file, "", f"this exact document is already version {dup.version}; nothing applied."
            )
        named = s.scalars(select(PolicyVersion).where(PolicyVersion.label == doc.version)).first()
        if named is not None:
            raise PolicyError(
                file,
                "policy.version",
                f"{doc.version!r} already names version {named.version}; give the new "
                "document its own version name. Nothing applied.",
            )
        number = (s.scalar(select(func.max(PolicyVersion.version))) or 0) + 1
        s.add(
            PolicyVersion(
                version=number,
                label=doc.version,
                title=doc.title,
                effective_from=doc.effective_from,
                body=text,
                sha256=checked.sha256,
                rules_file=doc.recording.rules_file,
                rules_body=checked.rules_text,
                rules_sha256=hashlib.sha256(checked.rules_text.encode()).hexdigest(),
                retention_version=checked.retention_version,
                clock_version=checked.clock_version,
                note=note.strip(),
                applied_by=actor.user_id,
                applied_at=utcnow(),
            )
        )
        s.flush()
        record(
            s,
            actor,
            AuditAction.POLICY_APPLY,
            "policy",
            str(number),
            {
                "version": number,
                "label": doc.version,
                "effective_from": doc.effective_from,
                "sha256": checked.sha256,
                "rules_file": doc.recording.rules_file,
                "rules_sha256": hashlib.sha256(checked.rules_text.encode()).hexdigest(),
                "retention_version": checked.retention_version,
                "clock_version": checked.clock_version,
                "warnings": list(checked.warnings),
                "note": note.strip(),
            },
        )
    return AppliedPolicy(number, doc.version, doc.effective_from, checked.sha256, checked.warnings)


# --- reading versions (public: the policy is published) -----------------------------------


@lru_cache(maxsize=64)
def _parsed(body: str) -> PolicyDocument:
    return parse(body, "stored policy")


@lru_cache(maxsize=64)
def _parsed_rules(body: str) -> Rules:
    return Rules.from_toml(body)


@dataclass(frozen=True)
class InForce:
    """One stored policy version, parsed."""

    version: int
    label: str
    title: str
    effective_from: datetime
    applied_at: datetime
    applied_by: str
    sha256: str
    body: str
    rules_file: str
    rules_body: str
    retention_version: int
    clock_version: int
    note: str
    doc: PolicyDocument
    until: datetime | None = None
    """When a later version took over (None: still in force, or not yet)."""

    @property
    def rules(self) -> Rules:
        """The recording rules referenced, as applied."""
        return _parsed_rules(self.rules_body)

    def plain(self, clock_days: int | None = None) -> list[Section]:
        """The policy in plain language."""
        return plain_language(
            self.doc, rules=rules_sentences(self.rules, self.effective_from), clock_days=clock_days
        )


def _view(row: PolicyVersion, by: str, until: datetime | None = None) -> InForce:
    return InForce(
        version=row.version,
        label=row.label,
        title=row.title,
        effective_from=as_utc(row.effective_from),
        applied_at=as_utc(row.applied_at),
        applied_by=by,
        sha256=row.sha256,
        body=row.body,
        rules_file=row.rules_file,
        rules_body=row.rules_body,
        retention_version=row.retention_version,
        clock_version=row.clock_version,
        note=row.note,
        doc=_parsed(row.body),
        until=until,
    )


def _in_force_row(session: Session, at: datetime) -> PolicyVersion | None:
    return session.scalars(
        select(PolicyVersion)
        .where(PolicyVersion.effective_from <= as_utc(at))
        .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.version.desc())
        .limit(1)
    ).first()


def policy_in_force(session: Session, at: datetime | None = None) -> InForce | None:
    """The policy version in force at ``at`` (now when None); None before the first."""
    row = _in_force_row(session, at or utcnow())
    if row is None:
        return None
    user = session.get(User, row.applied_by)
    return _view(row, user.username if user else row.applied_by)


def list_versions(factory: sessionmaker[Session]) -> list[InForce]:
    """Every applied version, newest first, each with when a later one took over."""
    with factory() as s:
        rows = s.execute(
            select(PolicyVersion, User.username)
            .join(User, User.id == PolicyVersion.applied_by)
            .order_by(PolicyVersion.version.desc())
        ).all()
    ordered = sorted(
        (r for r, _ in rows), key=lambda r: (as_utc(r.effective_from), r.version)
    )  # the order in which versions take over
    until: dict[int, datetime | None] = {}
    for i, row in enumerate(ordered):
        later = ordered[i + 1 :]
        until[row.version] = as_utc(later[0].effective_from) if later else None
    return [_view(r, name, until[r.version]) for r, name in rows]


def get_version(factory: sessionmaker[Session], version: int) -> InForce:
    """One applied version; LookupError when there is none."""
    for v in list_versions(factory):
        if v.version == version:
            return v
    raise LookupError(f"There is no policy version {version}.")


# --- differences ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One setting that differs between two documents."""

    key: str
    old: Any
    new: Any

    @property
    def sentence(self) -> str:
        """The change in words."""
        if self.old in (None, "", ()):
            return f"{self.key} is now {_show(self.new)} (was not set)."
        if self.new in (None, "", ()):
            return f"{self.key} is no longer set (was {_show(self.old)})."
        return f"{self.key} changed from {_show(self.old)} to {_show(self.new)}."


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(repr(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


def diff_documents(old: PolicyDocument, new: PolicyDocument) -> list[Change]:
    """The settings that differ from ``old`` to ``new``, in document order."""
    a, b = old.settings(), new.settings()
    return [Change(k, a.get(k), b.get(k)) for k in b if a.get(k) != b.get(k)]


def text_diff(old: str, new: str, old_name: str, new_name: str) -> list[str]:
    """A unified diff of two documents' text (lines without trailing newlines)."""
    return [
        line.rstrip("\n")
        for line in difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_name, new_name, lineterm=""
        )
    ]


def rules_sentences(rules: Rules, at: datetime) -> list[str]:
    """The recording rules in force at ``at`` in plain language."""
    rule = rules.in_force(at) or (rules.policies[-1] if rules.policies else None)
    if rule is None:
        return []
    if "*" in rule.call_types:
        what = "every call for service and self-initiated activity"
    else:
        what = "calls of type " + ", ".join(sorted(c.title() for c in rule.call_types))
    out = [
        f"Officers must record {what}, from "
        + ("arrival at the scene" if rule.window_start == "arrived" else "dispatch")
        + " until the call is cleared."
    ]
    if rule.exclude_call_types:
        out.append(
            "These call types need no recording: "
            + ", ".join(sorted(c.title() for c in rule.exclude_call_types))
            + "."
        )
    if rule.exclude_dispositions:
        out.append(
            "Calls closed as "
            + ", ".join(sorted(d.title() for d in rule.exclude_dispositions))
            + " need no recording."
        )
    out.append(
        f"A recording that starts up to {int(rule.start_grace.total_seconds() // 60)} "
        "minute(s) late, or ends up to "
        f"{int(rule.end_grace.total_seconds() // 60)} minute(s) early, still counts as complete."
    )
    return out
