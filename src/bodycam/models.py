"""Imports every domain's tables so metadata (and Alembic) sees the whole schema."""

from bodycam.audit.models import AuditCheckpoint, AuditRecord, AuditTreeState
from bodycam.auth.models import ApiToken, Squad, User, WebSession
from bodycam.compliance.models import (
    CadImportBatch,
    ComplianceResult,
    DispatchAssignment,
    DispatchEvent,
)
from bodycam.db import Base
from bodycam.evidence.models import Category, Recording, RecordingCase, RecordingEdit, RecordingTag
from bodycam.jobs.models import Job
from bodycam.redaction.models import QCFinding, RedactedCopy, RedactionProject, RedactionTrack
from bodycam.retention.models import DeletionItem, LegalHold, RetentionSchedule

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
    "AuditRecord",
    "AuditTreeState",
    "Base",
    "CadImportBatch",
    "Category",
    "ComplianceResult",
    "DeletionItem",
    "DispatchAssignment",
    "DispatchEvent",
    "Job",
    "LegalHold",
    "QCFinding",
    "Recording",
    "RecordingCase",
    "RecordingEdit",
    "RecordingTag",
    "RedactedCopy",
    "RedactionProject",
    "RedactionTrack",
    "RetentionSchedule",
    "Squad",
    "User",
    "WebSession",
]
