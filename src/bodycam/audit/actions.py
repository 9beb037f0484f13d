"""The audit vocabulary: every action that writes an audit record.

Each value is ``<domain>:<object>:<action>``; ``docs/audit-actions.md`` documents
each (a test fails when one is missing there).
"""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    """Every action recorded in the audit log."""

    RECORDING_INGEST = "evidence:recording:ingest"
    """A new recording was stored (details: sha256, size, file name)."""
    RECORDING_INGEST_DUPLICATE = "evidence:recording:ingest_duplicate"
    """Bytes already held were submitted again; the existing recording was returned."""
    RECORDING_VIEW = "evidence:recording:view"
    """A recording's detail (metadata and player) was opened."""
    RECORDING_STREAM = "evidence:recording:stream"
    """Bytes of a recording were streamed for playback (details: byte range)."""
    RECORDING_DOWNLOAD = "evidence:recording:download"
    """The original file was downloaded."""
    RECORDING_EDIT = "evidence:recording:edit"
    """Metadata changed (details: field, old and new values)."""
    RECORDING_CATEGORY_CHANGE = "evidence:recording:category_change"
    """The category (and so retention and access class) changed."""
    RECORDING_SEARCH = "evidence:recording:search"
    """A list or search of recordings was run (details: the query and the count)."""
    AUDIT_TRAIL_VIEW = "audit:trail:view"
    """A recording's audit trail was read."""
    AUDIT_EXPORT = "audit:trail:export"
    """An audit trail was exported (details: format, record count)."""
    AUDIT_PROOF = "audit:proof:issue"
    """An inclusion proof for an audit record was issued."""
    AUDIT_SEARCH = "audit:log:search"
    """The whole audit log was searched (details: the filters and the count found)."""
    AUDIT_ACCESS_REPORT = "audit:access:report"
    """The "who viewed what" access report was read (details: recording, user, time range,
    lines)."""
    AUDIT_VERIFY = "audit:log:verify"
    """A verification run finished (details: result, counts)."""
    AUDIT_SCRUB = "audit:scrub:run"
    """A scrub slice finished: stored originals and redacted copies re-hashed (details: pass,
    blobs checked, bytes read, problems, whether the pass is complete)."""
    AUDIT_SCRUB_PROBLEM = "audit:scrub:problem"
    """The scrub found a stored blob missing, changed, of the wrong size or unreadable
    (object: its recording; details: original or copy, sha256, tier, kind, problem, pass)."""
    JOB_RETRY = "system:job:retry"
    """A quarantined background job was queued again with a fresh set of attempts
    (object: the job; details: kind, attempts used, the error it was quarantined with)."""
    LOGIN_SUCCESS = "auth:login:success"
    """A user signed in."""
    LOGIN_FAILURE = "auth:login:failure"
    """A sign-in failed (details: the reason; no password is recorded)."""
    LOGOUT = "auth:login:logout"
    """A user signed out."""
    USER_CREATE = "auth:user:create"
    """A user was created (details: role, badge, squad)."""
    USER_UPDATE = "auth:user:update"
    """A user's role, squad, password or status changed."""
    TOKEN_CREATE = "auth:token:create"  # an action name  # nosec B105
    """An API token was issued (details: name, expiry)."""
    TOKEN_REVOKE = "auth:token:revoke"  # an action name  # nosec B105
    """An API token was revoked by its user or an administrator (details: name, whose)."""
    TOKEN_USE = "auth:token:use"  # an action name  # nosec B105
    """An API request was made with a token: one record per request (details: token, method,
    path)."""
    LOGIN_PASSWORD = "auth:login:password"  # an action name  # nosec B105
    """A password was right but a second step remains: the TOTP code, or enrolling in TOTP
    first (details: next step)."""
    LOGIN_LOCKOUT = "auth:login:lockout"
    """A user name was locked after too many consecutive failed sign-ins (details: failures,
    unlock after; the object is "-" for a name that is no user)."""
    USER_UNLOCK = "auth:user:unlock"
    """A locked user name was unlocked, by an administrator or when its lockout time ran out
    (details: by, failures)."""
    MFA_ENROL = "auth:mfa:enrol"
    """A user confirmed a TOTP authenticator with a first code; recovery codes were issued
    (details: recovery codes issued)."""
    MFA_RESET = "auth:mfa:reset"
    """An administrator removed a user's TOTP authenticator and recovery codes; the user's
    sessions ended (details: sessions ended)."""
    MFA_RECOVERY_CODES = "auth:mfa:recovery_codes"
    """A user replaced their recovery codes with a new set (details: codes issued)."""
    CATEGORY_CREATE = "evidence:category:create"
    """A category was created or its access class changed."""
    REDACTION_DETECT = "redaction:project:detect"
    """A redaction project was started on a recording (details: project, tracks found)."""
    REDACTION_VIEW = "redaction:project:view"
    """A redaction project, with its face thumbnails, was looked at (details: project)."""
    REDACTION_TRANSCRIBE = "redaction:project:transcribe"
    """The audio of a project's recording was transcribed (details: project, model, words)."""
    REDACTION_EDIT = "redaction:project:edit"
    """A redaction decision changed: a track, box, range or style (details: old, new)."""
    REDACTION_RENDER = "redaction:copy:render"
    """A redacted copy was written (details: copy, sha256, plan hash, QC findings)."""
    REDACTION_FINDING_ACCEPT = "redaction:finding:accept"
    """A QC finding was accepted with a reason (details: copy, finding, reason)."""
    REDACTION_APPROVE = "redaction:copy:approve"
    """A redacted copy was approved for release (details: copy, sha256, note)."""
    REDACTION_DOWNLOAD = "redaction:copy:download"
    """A redacted copy was downloaded (details: copy, sha256)."""
    RETENTION_SCHEDULE_IMPORT = "retention:schedule:import"
    """A retention schedule version was imported (details: sha256, changes, recomputed)."""
    RETENTION_HOLD_PLACE = "retention:hold:place"
    """A legal hold was placed on a recording, a case or a query (details: hold, reason)."""
    RETENTION_HOLD_RELEASE = "retention:hold:release"
    """A legal hold was released (details: hold, reason)."""
    RETENTION_CASE_OPEN = "retention:case:open"
    """A case was opened (or reopened): its footage is held (details: title, hold)."""
    RETENTION_CASE_CLOSE = "retention:case:close"
    """A case was closed: its automatic hold released (details: reason, holds released)."""
    RETENTION_DELETION_APPROVE = "retention:deletion:approve"
    """A deletion was approved: recoverable until purge_after (details: due, rule)."""
    RETENTION_DELETION_UNDO = "retention:deletion:undo"
    """An approved deletion was taken back in the recovery window (details: reason)."""
    RETENTION_PURGE = "retention:recording:purge"
    """A recording and its derivatives were destroyed (details: certificate, hashes, rule)."""
    RETENTION_TIER_MOVE = "retention:recording:tier"
    """An original moved between storage tiers (details: sha256, to: hot or archive)."""
    COMPLIANCE_CAD_IMPORT = "compliance:cad:import"
    """A dispatch export was imported (details: file, sha256, mapping, counts)."""
    COMPLIANCE_MATCH = "compliance:match:run"
    """Recordings were matched to dispatch events (details: counts by verdict)."""
    COMPLIANCE_REVIEW_SAMPLE = "compliance:review:sample"
    """A cycle's review sample was drawn (details: cycle, per officer, weights, counts)."""
    COMPLIANCE_REVIEW_ASSIGN = "compliance:review:assign"
    """A recording was drawn for review, or its review assigned (details: review, supervisor)."""
    COMPLIANCE_REVIEW_COMPLETE = "compliance:review:complete"
    """A review was completed (details: review, cycle, every checklist answer, notes hash)."""
    COMPLIANCE_REVIEW_SKIP = "compliance:review:skip"
    """A review was skipped (details: review, cycle, reason)."""
    DISCLOSURE_REQUEST_CREATE = "disclosure:request:create"
    """A public-records request was logged (details: number, requester type, criteria,
    received date, jurisdiction, critical incident)."""
    DISCLOSURE_REQUEST_STATUS = "disclosure:request:status"
    """A request moved to another step (details: from, to, exemption, note)."""
    DISCLOSURE_REQUEST_EXTEND = "disclosure:request:extend"
    """A request's decision deadline was extended (details: days, reason, new due date)."""
    DISCLOSURE_REQUEST_SEARCH = "disclosure:request:search"
    """The footage search of a request was run (details: criteria, candidates found)."""
    DISCLOSURE_RECORDING_ATTACH = "disclosure:recording:attach"
    """A recording was attached to a request (details: request number)."""
    DISCLOSURE_RECORDING_DETACH = "disclosure:recording:detach"
    """A recording was taken off a request (details: request number, reason)."""
    DISCLOSURE_APPEAL_FILE = "disclosure:appeal:file"
    """An appeal of a request's outcome was filed (details: appeal, filed date, grounds)."""
    DISCLOSURE_APPEAL_DECIDE = "disclosure:appeal:decide"
    """An appeal was decided (details: appeal, outcome, note, whether the request reopened)."""
    DISCLOSURE_CLOCK_IMPORT = "disclosure:clock:import"
    """A version of the statutory clocks was imported (details: sha256, jurisdictions)."""
    SHARE_CREATE = "disclosure:share:create"
    """Footage was shared with an outside recipient: one record per item, on its recording
    (details: share, item, copy, sha256, recipient name, organisation, email and role,
    expiry, download allowed, case and request numbers)."""
    SHARE_REVOKE = "disclosure:share:revoke"
    """A share was revoked, by hand or because its creator was disabled: one record per
    item, on its recording (details: share, item, reason)."""
    SHARE_CODE = "disclosure:share:code"
    """A new code was issued for a share; the old one stops working and a lockout ends
    (details: recipient)."""
    RECIPIENT_OPEN = "disclosure:recipient:open"
    """A share's recipient gave the right code and got a share session (details: share,
    recipient, session expiry)."""
    RECIPIENT_CODE_FAILURE = "disclosure:recipient:code_failure"
    """A wrong code was given for a share (details: share, recipient, wrong codes so far,
    whether the share is now locked)."""
    RECIPIENT_VIEW = "disclosure:recipient:view"
    """A share's recipient opened the share's page (details: share, recipient, items)."""
    RECIPIENT_STREAM = "disclosure:recipient:stream"
    """Bytes of a shared item's watermarked video were streamed to its recipient, one record
    per request, on the recording (details: share, recipient, item, copy, source and
    watermark sha256, byte range)."""
    RECIPIENT_DOWNLOAD = "disclosure:recipient:download"
    """A share's recipient downloaded an item's watermarked video (details as for a
    stream)."""
    RECIPIENT_REFUSED = "disclosure:recipient:refused"
    """A share link was used and refused: unknown, revoked, expired, locked, no session, or
    download not allowed (details: share, recipient, reason, what was asked)."""
    DISCLOSURE_RELEASE_BUILD = "disclosure:release:build"
    """A signed release package of a request was built (details: release, manifest sha256,
    released files and their hashes, recordings withheld)."""
    DISCLOSURE_RECORDING_RELEASE = "disclosure:recording:release"
    """A redacted copy of the recording was released to the public (details: request,
    release, copy, released file's sha256, plan hash)."""
    DISCLOSURE_RELEASE_DOWNLOAD = "disclosure:release:download"
    """A released file was downloaded from the public releases page, by anyone (details:
    file, sha256)."""
    DISCLOSURE_DISCOVERY_BUILD = "disclosure:discovery:build"
    """The recording went into a court discovery bundle (details: case, bundle, original or
    redacted copy, sha256 of the file included)."""
    FLEET_IMPORT = "fleet:inventory:import"
    """An inventory CSV (cameras, docks or assignments) was imported (details: kind, file,
    sha256, rows, created, updated, unchanged)."""
    FLEET_CAMERA_UPDATE = "fleet:camera:update"
    """A camera's fields or status were changed by hand (details: serial, changes)."""
    FLEET_CAMERA_ASSIGN = "fleet:camera:assign"
    """A camera was issued to an officer or checked out of a pool (details: serial, badge,
    kind, dock, time)."""
    FLEET_CAMERA_RETURN = "fleet:camera:return"
    """A camera's open assignment ended (details: serial, badge, time)."""
    FLEET_EVENTS_INGEST = "fleet:events:ingest"
    """Device events were received from a dock log or the API (details: source, sha256,
    received, stored, duplicates, warnings)."""
    FLEET_RECALL_CREATE = "fleet:recall:create"
    """A recall was created and its cameras set to recalled (details: criterion, value,
    reason, serials)."""
    FLEET_ROLLOUT_CREATE = "fleet:rollout:create"
    """A firmware rollout was created (details: firmware, model, reason, serials)."""
    FLEET_RECALL_RESOLVE = "fleet:recall:resolve"
    """A recalled camera was returned, replaced or cleared (details: recall, serial,
    outcome, replacement, note)."""
    POLICY_APPLY = "policy:document:apply"
    """A new version of the camera policy was applied (details: version, label, effective
    date, sha256, the rules file and its sha256, retention and clock versions, warnings)."""
    POLICY_VIEW_REFUSED = "policy:recording:refused"
    """The camera policy refused a view, stream, download or edit of a recording (details:
    what was asked, policy version, rule, why the recording is critical, the sentence)."""
    POLICY_STATEMENT_RECORD = "policy:statement:record"
    """An officer's initial statement was recorded (details: officer badge, recording or
    event, when given, note)."""
    POLICY_COMPLAINANT_ARRANGE = "policy:complainant:arrange"
    """A complainant's supervised viewing session was arranged over a watermarked share
    (details: session, share, complaint, complainant, supervisor, items, end time, policy
    version)."""
    POLICY_COMPLAINANT_END = "policy:complainant:end"
    """A complainant's viewing session ended: by hand, or because its time ran out
    (details: session, share, reason)."""
    POLICY_SCORECARD = "policy:scorecard:run"
    """The policy scorecard was computed (details: policy version, criteria met, partly met
    and not met, the sha256 of the HTML and PDF written)."""
    FLEET_RECALL_UPLOAD_WARNING = "fleet:recall:upload_warning"
    """A camera under an open recall (its item still outstanding) uploaded a recording
    (details: serial, recording, sha256, channel, uploader)."""
    FLEET_AXIS_REGISTER = "fleet:axis:register"
    """An Axis Body Worn System registered or updated a user, a device or itself (details:
    registry, key, name, active, linked officer or camera)."""
    FLEET_AXIS_CONTAINER = "fleet:axis:container"
    """An Axis Body Worn System created a recording container (details: name, user, serial)."""
    FLEET_AXIS_COMPLETE = "fleet:axis:complete"
    """An Axis recording container was completed and its clips ingested (details: name,
    officer badge, serial, clips with sha256 and recording id)."""
    FLEET_AXIS_REJECT = "fleet:axis:reject"
    """Completing an Axis recording container was refused for good (details: name, reason)."""
    EVALUATION_REPORT_CREATE = "evaluation:report:create"
    """A program evaluation was stored and queued: its configuration and data files were
    uploaded and checked (details: title, design, configuration, each file's name, size and
    sha256, job)."""
    ACCESS_DENIED = "access:request:denied"
    """An action was refused for lack of permission (details: what was attempted)."""
