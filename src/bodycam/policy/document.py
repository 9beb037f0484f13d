"""The agency's camera policy as one TOML document: parsing, checking and plain language.

A policy document has one table per subject (see ``default.toml`` in this package for a
commented example)::

    [policy]            version label, title, effective_from (a TOML date)
    [recording]         rules_file: the compliance recording rules; officer discretion
    [notice]            telling people they are recorded
    [privacy]           victims, homes, restricted categories
    [retention]         schedule: the retention schedule in force; unflagged_max
    [officer_viewing]   own_footage: allowed | after_statement |
                        never_before_statement_for_critical
    [critical]          which categories and tags make a recording a critical incident
    [access]            supervisors, investigators, logging of every view
    [complainant]       viewing: supervised | never; session_minutes; redacted_only
    [release]           the critical-incident track and the disclosure clock it follows
    [biometrics]        face detection only to redact; face_search must be false

:func:`parse` checks the document alone and raises :class:`PolicyError` naming the file,
the key and why. References to the rest of the system (the rules file, the retention
schedule, the disclosure clock, categories) are checked by
:func:`bodycam.policy.service.check_document`. Nothing is stored here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from bodycam.retention.schedule import Period, ScheduleError

OWN_FOOTAGE: Final = ("allowed", "after_statement", "never_before_statement_for_critical")
"""The choices for ``officer_viewing.own_footage``."""
SUPERVISORS: Final = ("squad", "squad_except_critical")
INVESTIGATORS: Final = ("any",)
DISCRETION: Final = ("limited", "broad")
COMPLAINANT: Final = ("supervised", "never")
FACE_DETECTION: Final = ("redaction_only",)
MAX_SESSION_MINUTES: Final = 240

_SECTIONS: Final[dict[str, set[str]]] = {
    "policy": {"version", "title", "agency", "effective_from", "summary"},
    "recording": {"rules_file", "officer_discretion", "stop_reasons", "state_reason_on_stop"},
    "notice": {"required", "when", "exceptions"},
    "privacy": {"victim_may_decline", "residence_consent_required", "restricted_categories"},
    "retention": {"schedule", "unflagged_max"},
    "officer_viewing": {"own_footage", "statement"},
    "critical": {"categories", "tags"},
    "access": {"supervisors", "investigators", "log_every_view"},
    "complainant": {"viewing", "session_minutes", "redacted_only"},
    "release": {"critical_incident_track", "jurisdiction", "critical_incident_days"},
    "biometrics": {"face_detection", "face_search"},
}
_REQUIRED: Final = {
    "policy": ("version", "effective_from"),
    "recording": ("rules_file",),
    "retention": ("unflagged_max",),
    "officer_viewing": ("own_footage",),
    "biometrics": ("face_search",),
}


class PolicyError(ValueError):
    """A policy that cannot be used: ``file``, ``key`` and ``why`` make the sentence."""

    def __init__(self, file: str, key: str, why: str) -> None:
        self.file, self.key, self.why = file, key, why
        super().__init__(f"{file}: {key}: {why}" if key else f"{file}: {why}")


@dataclass(frozen=True)
class Recording:
    """When cameras record, and how much say officers have in stopping."""

    rules_file: str
    officer_discretion: str = "limited"
    stop_reasons: tuple[str, ...] = ()
    state_reason_on_stop: bool = True


@dataclass(frozen=True)
class Notice:
    """Telling people they are being recorded."""

    required: bool = True
    when: str = "as soon as it is safe and practical"
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Privacy:
    """Protections for victims, homes and sensitive footage."""

    victim_may_decline: bool = True
    residence_consent_required: bool = True
    restricted_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Retention:
    """Which retention schedule applies and how long unflagged footage may be kept."""

    schedule: str
    unflagged_max: Period


@dataclass(frozen=True)
class OfficerViewing:
    """Whether officers may watch their own footage, and when."""

    own_footage: str
    statement: str = "an initial written or recorded statement about the incident"


@dataclass(frozen=True)
class Critical:
    """What makes a recording a critical incident."""

    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Access:
    """Who besides the recording officer may watch footage."""

    supervisors: str = "squad"
    investigators: str = "any"
    log_every_view: bool = True


@dataclass(frozen=True)
class Complainant:
    """Whether people who file complaints may see the footage, and how."""

    viewing: str = "supervised"
    session_minutes: int = 60
    redacted_only: bool = False


@dataclass(frozen=True)
class Release:
    """Releasing footage of critical incidents to the public."""

    critical_incident_track: bool = True
    jurisdiction: str | None = None
    critical_incident_days: int | None = None


@dataclass(frozen=True)
class Biometrics:
    """The prohibition on biometric search."""

    face_detection: str = "redaction_only"
    face_search: bool = False


@dataclass(frozen=True)
class PolicyDocument:
    """One parsed policy document (the text it came from is kept by the caller)."""

    version: str
    title: str
    effective_from: datetime
    recording: Recording
    retention: Retention
    officer_viewing: OfficerViewing
    agency: str = ""
    summary: str = ""
    notice: Notice = field(default_factory=Notice)
    privacy: Privacy = field(default_factory=Privacy)
    critical: Critical = field(default_factory=Critical)
    access: Access = field(default_factory=Access)
    complainant: Complainant = field(default_factory=Complainant)
    release: Release = field(default_factory=Release)
    biometrics: Biometrics = field(default_factory=Biometrics)

    def is_critical(self, categories: list[str], tags: list[str]) -> str | None:
        """Why a recording with these categories and tags is critical (None: it is not)."""
        crit_cats = {c.lower(): c for c in self.critical.categories}
        for name in categories:
            if name.lower() in crit_cats:
                return f"category {crit_cats[name.lower()]}"
        crit_tags = {t.lower() for t in self.critical.tags}
        for tag in tags:
            if tag.lower() in crit_tags:
                return f"tag {tag}"
        return None

    def settings(self) -> dict[str, Any]:
        """Every setting as ``section.key`` -> value (for diffs and the scorecard)."""
        out: dict[str, Any] = {
            "policy.version": self.version,
            "policy.title": self.title,
            "policy.agency": self.agency,
            "policy.effective_from": self.effective_from.date().isoformat(),
            "policy.summary": self.summary,
        }
        for section in (
            "recording",
            "notice",
            "privacy",
            "retention",
            "officer_viewing",
            "critical",
            "access",
            "complainant",
            "release",
            "biometrics",
        ):
            obj = getattr(self, section)
            for key, value in vars(obj).items():
                out[f"{section}.{key}"] = value.text() if isinstance(value, Period) else value
        return out


# --- parsing ---------------------------------------------------------------------------------


class _Reader:
    """Typed access to one section's keys, with errors naming the file and key."""

    def __init__(self, file: str, section: str, table: dict[str, Any]) -> None:
        self.file, self.section, self.table = file, section, table

    def err(self, key: str, why: str) -> PolicyError:
        return PolicyError(self.file, f"{self.section}.{key}", why)

    def text(self, key: str, default: str | None = None, *, limit: int = 2000) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.err(key, f"must be text, not {value!r}.")
        if len(value) > limit:
            raise self.err(key, f"is longer than {limit} characters.")
        return value.strip()

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self.err(key, f"must be true or false, not {value!r}.")
        return value

    def words(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.err(key, 'must be a list of text, e.g. ["a", "b"].')
        return tuple(v.strip() for v in value)

    def choice(self, key: str, default: str | None, allowed: tuple[str, ...]) -> str:
        value = self.table.get(key, default)
        if value not in allowed:
            raise self.err(key, f"{value!r} is not one of {', '.join(allowed)}.")
        return str(value)

    def whole(self, key: str, default: int | None, low: int, high: int) -> int | None:
        value = self.table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.err(key, f"must be a whole number from {low} to {high}, not {value!r}.")
        return value


def _date(r: _Reader, key: str) -> datetime:
    value = r.table.get(key)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise r.err(key, f"must be a TOML date like 2026-01-01, not {value!r}.")


def parse(text: str, file: str = "policy") -> PolicyDocument:
    """Parse and check a policy document on its own; a :class:`PolicyError` when wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(file, "", f"not valid TOML: {exc}.") from None
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        raise PolicyError(
            file, unknown[0], f"unknown section; the sections are {', '.join(_SECTIONS)}."
        )
    readers: dict[str, _Reader] = {}
    for section, keys in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise PolicyError(file, section, f"must be a table ([{section}]).")
        extra = sorted(set(table) - keys)
        if extra:
            raise PolicyError(
                file, f"{section}.{extra[0]}", f"unknown key; allowed: {', '.join(sorted(keys))}."
            )
        for needed in _REQUIRED.get(section, ()):
            if needed not in table:
                raise PolicyError(file, f"{section}.{needed}", "is missing.")
        readers[section] = _Reader(file, section, table)
    p, rec, ret = readers["policy"], readers["recording"], readers["retention"]
    version = p.text("version", limit=100)
    try:
        unflagged = Period.parse(ret.table["unflagged_max"])
    except ScheduleError as exc:
        raise ret.err("unflagged_max", f"{exc}.") from None
    if unflagged.forever:
        raise ret.err(
            "unflagged_max", "must be a period; unflagged footage cannot be kept forever."
        )
    schedule = ret.text("schedule", "in force", limit=40)
    if schedule != "in force" and not (
        schedule.startswith("version ") and schedule[8:].strip().isdigit()
    ):
        raise ret.err("schedule", f'must be "in force" or "version N", not {schedule!r}.')
    n, v, c, a = readers["notice"], readers["privacy"], readers["critical"], readers["access"]
    cp, rl, b = readers["complainant"], readers["release"], readers["biometrics"]
    ov = readers["officer_viewing"]
    face_search = b.flag("face_search", False)
    if face_search:
        raise b.err(
            "face_search",
            "must be false: bodycam has no face search, and a policy may not promise one "
            "(face detection exists only to redact).",
        )
    if not a.flag("log_every_view", True):
        raise a.err(
            "log_every_view",
            "must be true: bodycam writes an audit record for every view, stream and "
            "download, and cannot be configured not to.",
        )
    track = rl.flag("critical_incident_track", True)
    jurisdiction = rl.table.get("jurisdiction")
    if jurisdiction is not None and (not isinstance(jurisdiction, str) or not jurisdiction):
        raise rl.err("jurisdiction", "must name a jurisdiction of the disclosure clock.")
    doc = PolicyDocument(
        version=version,
        title=p.text("title", "Body-worn camera policy", limit=200),
        agency=p.text("agency", "", limit=200),
        summary=p.text("summary", "", limit=4000),
        effective_from=_date(p, "effective_from"),
        recording=Recording(
            rules_file=rec.text("rules_file", limit=500),
            officer_discretion=rec.choice("officer_discretion", "limited", DISCRETION),
            stop_reasons=rec.words("stop_reasons"),
            state_reason_on_stop=rec.flag("state_reason_on_stop", True),
        ),
        notice=Notice(
            required=n.flag("required", True),
            when=n.text("when", Notice.when, limit=500),
            exceptions=n.words("exceptions"),
        ),
        privacy=Privacy(
            victim_may_decline=v.flag("victim_may_decline", True),
            residence_consent_required=v.flag("residence_consent_required", True),
            restricted_categories=v.words("restricted_categories"),
        ),
        retention=Retention(schedule=schedule, unflagged_max=unflagged),
        officer_viewing=OfficerViewing(
            own_footage=ov.choice("own_footage", None, OWN_FOOTAGE),
            statement=ov.text("statement", OfficerViewing.statement, limit=1000),
        ),
        critical=Critical(categories=c.words("categories"), tags=c.words("tags")),
        access=Access(
            supervisors=a.choice("supervisors", "squad", SUPERVISORS),
            investigators=a.choice("investigators", "any", INVESTIGATORS),
            log_every_view=True,
        ),
        complainant=Complainant(
            viewing=cp.choice("viewing", "supervised", COMPLAINANT),
            session_minutes=cp.whole("session_minutes", 60, 5, MAX_SESSION_MINUTES) or 60,
            redacted_only=cp.flag("redacted_only", False),
        ),
        release=Release(
            critical_incident_track=track,
            jurisdiction=jurisdiction,
            critical_incident_days=rl.whole("critical_incident_days", None, 1, 3650),
        ),
        biometrics=Biometrics(
            face_detection=b.choice("face_detection", "redaction_only", FACE_DETECTION),
            face_search=False,
        ),
    )
    if doc.officer_viewing.own_footage == "never_before_statement_for_critical" and not (
        doc.critical.categories or doc.critical.tags
    ):
        raise PolicyError(
            file,
            "critical",
            "names no categories or tags, so no recording would be critical and "
            "officer_viewing.own_footage = never_before_statement_for_critical would "
            "never apply.",
        )
    return doc


def read(path: Path) -> tuple[str, PolicyDocument]:
    """Read and parse a policy file: (its text, the document)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(str(path), "", f"cannot be read: {exc}.") from None
    return text, parse(text, str(path))


# --- plain language ---------------------------------------------------------------------------


def _list(items: tuple[str, ...]) -> str:
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


OWN_FOOTAGE_PLAIN: Final = {
    "allowed": "Officers may watch their own recordings at any time.",
    "after_statement": (
        "Officers may watch their own recordings only after they have given {statement} "
        "about the incident."
    ),
    "never_before_statement_for_critical": (
        "Officers may watch their own recordings, except recordings of critical incidents: "
        "those only after they have given {statement}."
    ),
}


@dataclass(frozen=True)
class Section:
    """One subject of the policy in plain language."""

    key: str
    heading: str
    sentences: tuple[str, ...]


def plain_language(
    doc: PolicyDocument, *, rules: list[str] | None = None, clock_days: int | None = None
) -> list[Section]:
    """The policy as sentences a member of the public can read, subject by subject.

    ``rules``: sentences describing the recording rules (from the referenced rules file);
    ``clock_days``: the critical-incident days of the disclosure clock in force.
    """
    r, n, pv = doc.recording, doc.notice, doc.privacy
    recording = list(rules or [])
    if r.officer_discretion == "limited":
        recording.append(
            "Officers may not choose when to record: once recording is required, they "
            "may stop only for the reasons listed here"
            + (f": {_list(r.stop_reasons)}." if r.stop_reasons else ".")
        )
    else:
        recording.append("Officers may use their judgment about when to stop recording.")
    if r.state_reason_on_stop:
        recording.append("An officer who stops recording must say why on the recording first.")
    notice = (
        [f"Officers tell people that they are being recorded {n.when}."]
        if n.required
        else ["Officers are not required to tell people that they are being recorded."]
    )
    if n.required and n.exceptions:
        notice.append(f"Exceptions: {_list(n.exceptions)}.")
    privacy = []
    if pv.victim_may_decline:
        privacy.append("Victims and witnesses may ask not to be recorded, and officers honour it.")
    if pv.residence_consent_required:
        privacy.append(
            "Inside a private home, officers who are not enforcing the law ask before recording."
        )
    if pv.restricted_categories:
        privacy.append(
            f"Recordings of {_list(pv.restricted_categories)} are restricted to the few "
            "staff who need them."
        )
    ret = doc.retention
    schedule = "the retention schedule in force" if ret.schedule == "in force" else ret.schedule
    retention = [
        f"Footage is kept as long as {schedule} says for its category.",
        f"Footage that is not flagged as evidence or for an investigation is deleted after at "
        f"most {ret.unflagged_max.text()}.",
        "Nothing under a legal hold, an open case or an open public-records request is deleted.",
    ]
    crit = []
    if doc.critical.categories:
        crit.append(f"Recordings in the categories {_list(doc.critical.categories)}")
    if doc.critical.tags:
        crit.append(f"recordings tagged {_list(doc.critical.tags)}")
    critical = [
        (" and ".join(crit) + " are critical incidents.")
        if crit
        else "No recordings are treated as critical incidents."
    ]
    viewing = [
        OWN_FOOTAGE_PLAIN[doc.officer_viewing.own_footage].format(
            statement=doc.officer_viewing.statement
        )
    ]
    access = [
        "Supervisors may watch the recordings of the officers in their own squad"
        + (
            ", except recordings of critical incidents."
            if doc.access.supervisors == "squad_except_critical"
            else "."
        ),
        "Investigators (internal affairs, the inspector general, oversight) may watch any "
        "recording.",
        "Every view, stream and download of footage is logged in a tamper-evident audit log.",
    ]
    cp = doc.complainant
    complainant = (
        [
            "A person who files a complaint may watch the footage of their complaint in a "
            f"session run by a supervisor, lasting at most {cp.session_minutes} minutes, "
            "with their name burned into the picture; the session is logged.",
        ]
        + (["They see redacted copies only."] if cp.redacted_only else [])
        if cp.viewing == "supervised"
        else ["People who file complaints may not watch the footage."]
    )
    rel = doc.release
    days = rel.critical_incident_days or clock_days
    release = (
        [
            "Footage of a critical incident is released to the public, redacted, within "
            f"{days} days of the incident."
            if days
            else "Footage of critical incidents is released on a set track."
        ]
        if rel.critical_incident_track
        else ["There is no set track for releasing footage of critical incidents."]
    )
    release.append("Every released file is redacted and signed so anyone can verify it.")
    biometrics = [
        "Face detection is used only to blur faces before footage is released.",
        "Footage is never searched by face: the system has no face recognition.",
    ]
    return [
        Section("recording", "When officers record", tuple(recording)),
        Section("notice", "Telling people they are recorded", tuple(notice)),
        Section("privacy", "Privacy", tuple(privacy)),
        Section("retention", "How long footage is kept", tuple(retention)),
        Section("critical", "Critical incidents", tuple(critical)),
        Section("officer_viewing", "Officers watching their own footage", tuple(viewing)),
        Section("access", "Who else may watch footage", tuple(access)),
        Section("complainant", "People who file complaints", tuple(complainant)),
        Section("release", "Releasing footage", tuple(release)),
        Section("biometrics", "No face recognition", tuple(biometrics)),
    ]
