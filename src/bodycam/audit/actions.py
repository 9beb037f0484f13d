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
    AUDIT_VERIFY = "audit:log:verify"
    """A verification run finished (details: result, counts)."""
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
    TOKEN_CREATE = "auth:token:create"
    """An API token was issued (details: name, expiry)."""
    CATEGORY_CREATE = "evidence:category:create"
    """A category was created or its access class changed."""
    ACCESS_DENIED = "access:request:denied"
    """An action was refused for lack of permission (details: what was attempted)."""
