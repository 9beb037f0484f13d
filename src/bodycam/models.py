"""Imports every domain's tables so metadata (and Alembic) sees the whole schema."""

from bodycam.audit.models import AuditCheckpoint, AuditRecord, AuditTreeState
from bodycam.auth.models import ApiToken, Squad, User, WebSession
from bodycam.compliance.models import (
    CadImportBatch,
    ComplianceResult,
    DispatchAssignment,
    DispatchEvent,
)
from bodycam.compliance.review_models import SupervisorReview
from bodycam.db import Base
from bodycam.disclosure import share_models  # noqa: F401 - registers the share tables
from bodycam.disclosure.models import DisclosureAppeal, DisclosureRequest
from bodycam.disclosure.release_models import DisclosureRelease
from bodycam.evidence.models import Category, Recording, RecordingCase, RecordingEdit, RecordingTag
from bodycam.fleet import (
    axis_models,  # noqa: F401 - registers the Axis integration tables
    recall_warning_models,  # noqa: F401 - registers recall warnings
)
from bodycam.fleet import models as fleet_models  # noqa: F401 - registers the fleet tables
from bodycam.jobs.models import Job
from bodycam.policy import models as policy_models  # noqa: F401 - registers the policy tables
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
    "DisclosureAppeal",
    "DisclosureRelease",
    "DisclosureRequest",
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
    "SupervisorReview",
    "User",
    "WebSession",
]
