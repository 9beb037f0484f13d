"""The permission vocabulary and the role table (deny by default).

Permissions are named ``<domain>:<object>:<action>``. A role holds exactly the
permissions listed for it in :data:`ROLE_PERMISSIONS`; anything not listed is
denied. Every permission is documented in ``docs/permissions.md`` (a test checks).
"""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    """Every permission bodycam checks."""

    RECORDING_INGEST = "evidence:recording:ingest"
    """Upload or ingest recordings (an officer only as themselves)."""
    RECORDING_VIEW_OWN = "evidence:recording:view_own"
    """See and play one's own recordings, when the agency policy allows it."""
    RECORDING_VIEW_SQUAD = "evidence:recording:view_squad"
    """See and play the recordings of officers in one's own squad."""
    RECORDING_VIEW_ANY = "evidence:recording:view_any"
    """See and play any recording (within its category's access class)."""
    RECORDING_DOWNLOAD = "evidence:recording:download"
    """Download the original file of a recording one may see."""
    RECORDING_EDIT = "evidence:recording:edit"
    """Edit the metadata (title, notes, category, tags, cases) of a recording one may see."""
    RESTRICTED_VIEW = "evidence:restricted:view"
    """See recordings whose category carries the 'restricted' access class."""
    CONFIDENTIAL_VIEW = "evidence:confidential:view"
    """See recordings whose category carries the 'confidential' access class."""
    CATEGORY_MANAGE = "evidence:category:manage"
    """Create categories and set their access class."""
    AUDIT_VIEW = "audit:log:view"
    """Search the audit log and read any recording's audit trail."""
    AUDIT_EXPORT = "audit:log:export"
    """Export audit trails (CSV, PDF) and inclusion proofs."""
    AUDIT_VERIFY = "audit:log:verify"
    """Run integrity verification of blobs and the audit log."""
    REDACTION_MANAGE = "redaction:project:manage"
    """Detect, review and render redactions of recordings one may see; download the copies."""
    REDACTION_APPROVE = "redaction:copy:approve"
    """Resolve quality-control findings and approve a redacted copy for release."""
    RETENTION_SCHEDULE = "retention:schedule:manage"
    """Import the retention schedule (a new version; every due date is recomputed)."""
    RETENTION_HOLD = "retention:hold:manage"
    """Place and release legal holds on recordings and cases."""
    RETENTION_VIEW = "retention:queue:view"
    """See the deletion queue, upcoming deletions and legal holds."""
    RETENTION_APPROVE = "retention:deletion:approve"
    """Approve (and undo) deletions of recordings past their retention."""
    RETENTION_TIER = "retention:tier:manage"
    """Move originals between the hot and the archive storage tier."""
    COMPLIANCE_IMPORT = "compliance:cad:import"
    """Import dispatch (CAD) exports: events and officer assignments."""
    COMPLIANCE_MATCH = "compliance:match:run"
    """Match recordings to dispatch events under the recording rules."""
    COMPLIANCE_VIEW = "compliance:results:view"
    """See every officer's recording compliance verdicts and their evidence."""
    COMPLIANCE_VIEW_SQUAD = "compliance:results:view_squad"
    """See the compliance verdicts and rates of one's own squad's officers."""
    COMPLIANCE_VIEW_OWN = "compliance:results:view_own"
    """See one's own compliance verdicts and rates."""
    COMPLIANCE_REVIEW_SAMPLE = "compliance:review:sample"
    """Draw a cycle's random sample of recordings for supervisor review, and assign it."""
    COMPLIANCE_REVIEW_PERFORM = "compliance:review:perform"
    """Complete or skip the reviews assigned to oneself or one's squad (never one's own)."""
    COMPLIANCE_REVIEW_VIEW = "compliance:review:view"
    """Read every supervisor review: its checklist answers, notes and skip reason."""
    COMPLIANCE_REVIEW_REPORT = "compliance:review:report"
    """See per supervisor and squad how many reviews were done, skipped, late, and found."""
    DISCLOSURE_MANAGE = "disclosure:request:manage"
    """Log public-records requests, move them through their steps, search for and attach
    footage, extend deadlines, file and decide appeals."""
    DISCLOSURE_VIEW = "disclosure:request:view"
    """See public-records requests, their deadlines and the request report."""
    DISCLOSURE_CLOCK = "disclosure:clock:manage"
    """Import the statutory clocks (deadlines per jurisdiction) of public-records requests."""
    DISCLOSURE_RELEASE_BUILD = "disclosure:release:build"
    """Build signed release packages of a request from its approved redacted copies."""
    DISCLOSURE_DISCOVERY_BUILD = "disclosure:discovery:build"
    """Build court discovery bundles of a case: the recordings one may see (originals or
    approved copies), their full audit trails and inclusion proofs, signed."""
    SHARE_MANAGE = "disclosure:share:manage"
    """Share recordings or approved redacted copies with a named outside recipient (link and
    code), issue a new code, revoke a share; list shares and their access history."""
    SHARE_VIEW = "disclosure:share:view"
    """List external shares and read each one's recipient, items and access history."""
    FLEET_VIEW = "fleet:inventory:view"
    """See the camera fleet: cameras, docks, holders, history, device reports, recalls."""
    FLEET_MANAGE = "fleet:inventory:manage"
    """Import and edit the inventory (cameras, docks), issue, check out and return cameras."""
    FLEET_EVENTS_INGEST = "fleet:events:ingest"
    """Send device events (dock logs, the events API): what dock service accounts hold."""
    FLEET_RECALL_MANAGE = "fleet:recall:manage"
    """Create recalls and firmware rollouts and record each camera's outcome."""
    FLEET_AXIS_UPLOAD = "fleet:axis:upload"
    """Be the account of an Axis Body Worn System: keep its user and device registries and
    upload recordings for the officers it registered (no access to footage)."""
    EVALUATION_COST_VIEW = "evaluation:cost:view"
    """Read the installation's volumes for the cost model: footage per day, month, category
    and tier, redaction projects and time spent (aggregates; no footage)."""
    EVALUATION_VIEW = "evaluation:report:view"
    """Read the stored program evaluations: estimates, readings, figures, counts, reports."""
    EVALUATION_RUN = "evaluation:report:run"
    """Upload an evaluation configuration with its data files and run the evaluation."""
    JOBS_VIEW = "system:jobs:view"
    """See every user's background jobs (status, progress, errors); anyone sees their own."""
    SYSTEM_HEALTH_VIEW = "system:health:view"
    """See system health: audit sealing and verification, the scrub, jobs by state, storage
    by tier, the database engine and its migration revision."""
    POLICY_MANAGE = "policy:document:manage"
    """Apply a new version of the agency's camera policy (validated, audited, kept forever)."""
    POLICY_STATEMENT = "policy:statement:record"
    """Record that an officer gave their initial statement about a recording or event (a
    supervisor for their own squad's officers), and list those statements."""
    POLICY_COMPLAINANT = "policy:complainant:arrange"
    """Arrange and end a complainant's supervised, watermarked viewing session of the footage
    of their complaint (also needs disclosure:share:manage: the session is a share)."""
    POLICY_SCORECARD = "policy:scorecard:run"
    """Score the policy in force and the system's measured behaviour against the civil-rights
    and federal-toolkit criteria (aggregates only; no footage)."""
    USER_VIEW = "auth:user:view"
    """List users and their roles."""
    USER_MANAGE = "auth:user:manage"
    """Create users, change roles, disable accounts."""


class Role(StrEnum):
    """The roles of a body-worn camera program."""

    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    RECORDS_CLERK = "records_clerk"
    AUDITOR = "auditor"
    EXTERNAL = "external"
    EQUIPMENT = "equipment"
    ANALYST = "analyst"
    ADMINISTRATOR = "administrator"


ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.OFFICER: "Docks a camera and uploads footage; sees own recordings as policy allows.",
    Role.SUPERVISOR: "Reviews the squad's footage and edits its metadata.",
    Role.RECORDS_CLERK: "Handles public-records requests: finds, downloads and catalogues footage.",
    Role.AUDITOR: "Internal affairs, inspector general, oversight: audits access, read-mostly.",
    Role.EXTERNAL: "Prosecutor or defense: only what is shared with them (no standing access).",
    Role.EQUIPMENT: "Keeps the camera fleet; no access to footage.",
    Role.ANALYST: "Program metrics and evaluation; no access to footage.",
    Role.ADMINISTRATOR: (
        "Users, roles and system health; no access to footage (separation of duties)."
    ),
}

P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset({P.RECORDING_INGEST, P.RECORDING_VIEW_OWN, P.COMPLIANCE_VIEW_OWN}),
    Role.SUPERVISOR: frozenset(
        {
            P.RECORDING_INGEST,
            P.RECORDING_VIEW_OWN,
            P.RECORDING_VIEW_SQUAD,
            P.RECORDING_EDIT,
            P.COMPLIANCE_VIEW_OWN,
            P.COMPLIANCE_VIEW_SQUAD,
            P.COMPLIANCE_REVIEW_PERFORM,
            P.COMPLIANCE_REVIEW_REPORT,
            P.POLICY_STATEMENT,
        }
    ),
    Role.RECORDS_CLERK: frozenset(
        {
            P.RECORDING_INGEST,
            P.RECORDING_VIEW_ANY,
            P.RECORDING_DOWNLOAD,
            P.RECORDING_EDIT,
            P.RESTRICTED_VIEW,
            P.REDACTION_MANAGE,
            P.REDACTION_APPROVE,
            P.RETENTION_HOLD,
            P.RETENTION_VIEW,
            P.RETENTION_APPROVE,
            P.RETENTION_TIER,
            P.DISCLOSURE_MANAGE,
            P.DISCLOSURE_VIEW,
            P.DISCLOSURE_RELEASE_BUILD,
            P.DISCLOSURE_DISCOVERY_BUILD,
            P.SHARE_MANAGE,
            P.SHARE_VIEW,
            P.POLICY_COMPLAINANT,
        }
    ),
    Role.AUDITOR: frozenset(
        {
            P.RECORDING_VIEW_ANY,
            P.RESTRICTED_VIEW,
            P.CONFIDENTIAL_VIEW,
            P.AUDIT_VIEW,
            P.AUDIT_EXPORT,
            P.AUDIT_VERIFY,
            P.USER_VIEW,
            P.RETENTION_HOLD,
            P.RETENTION_VIEW,
            P.COMPLIANCE_VIEW,
            P.COMPLIANCE_REVIEW_VIEW,
            P.COMPLIANCE_REVIEW_REPORT,
            P.DISCLOSURE_VIEW,
            P.DISCLOSURE_DISCOVERY_BUILD,
            P.SHARE_VIEW,
            P.FLEET_VIEW,
            P.POLICY_STATEMENT,
            P.POLICY_SCORECARD,
            P.EVALUATION_VIEW,
        }
    ),
    Role.EXTERNAL: frozenset(),
    Role.EQUIPMENT: frozenset(
        {
            P.FLEET_VIEW,
            P.FLEET_MANAGE,
            P.FLEET_EVENTS_INGEST,
            P.FLEET_RECALL_MANAGE,
            P.FLEET_AXIS_UPLOAD,
        }
    ),
    Role.ANALYST: frozenset(
        {P.COMPLIANCE_VIEW, P.COMPLIANCE_REVIEW_REPORT, P.EVALUATION_COST_VIEW}
        | {P.EVALUATION_VIEW, P.EVALUATION_RUN}
    ),
    Role.ADMINISTRATOR: frozenset(
        {
            P.USER_VIEW,
            P.USER_MANAGE,
            P.CATEGORY_MANAGE,
            P.AUDIT_VERIFY,
            P.JOBS_VIEW,
            P.SYSTEM_HEALTH_VIEW,
            P.RETENTION_SCHEDULE,
            P.RETENTION_VIEW,
            P.RETENTION_TIER,
            P.COMPLIANCE_IMPORT,
            P.COMPLIANCE_MATCH,
            P.COMPLIANCE_VIEW,
            P.COMPLIANCE_REVIEW_SAMPLE,
            P.COMPLIANCE_REVIEW_REPORT,
            P.DISCLOSURE_CLOCK,
            P.FLEET_VIEW,
            P.EVALUATION_COST_VIEW,
            P.POLICY_MANAGE,
            P.POLICY_SCORECARD,
        }
    ),
}


def permissions_for(role: Role) -> frozenset[Permission]:
    """The permissions a role holds (empty for an unknown role: deny by default)."""
    return ROLE_PERMISSIONS.get(role, frozenset())
