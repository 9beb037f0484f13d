"""Typed settings from BODYCAM_* environment variables (pydantic-settings).

The defaults give the embedded deployment: a SQLite file and a local
content-addressed blob store under ``BODYCAM_HOME`` (``./var``). Outside
development the settings refuse placeholder secrets.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "dev"}


class Settings(BaseSettings):
    """Every setting bodycam reads; each maps to ``BODYCAM_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BODYCAM_", extra="ignore")

    env: Literal["development", "production"] = Field(
        default="development",
        description="development allows generated secrets; production refuses them.",
    )
    home: Path = Field(
        default=Path("var"), description="Folder for the embedded database, blobs and keys."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/bodycam.db."
    )
    storage_url: str | None = Field(
        default=None,
        description="file:///path or s3://bucket?endpoint=...; default file://<home>/blobs.",
    )
    secret_key: str = Field(
        default="",
        description="Signs the login form's token; generated and kept under home in development.",
    )
    signing_key_path: Path | None = Field(
        default=None,
        description="Ed25519 key signing audit checkpoints; default <home>/keys/audit-ed25519.pem.",
    )
    audit_origin: str = Field(
        default="bodycam.audit/default",
        description="Origin line of signed audit checkpoints (names this log).",
    )
    ingest_decode: Literal["keyframes", "all"] = Field(
        default="keyframes",
        description=(
            "What ingest decodes before acknowledging: every packet's structure is always "
            "checked; 'keyframes' decodes keyframes only (near disk speed), 'all' every frame."
        ),
    )
    agency_name: str = Field(default="Demo Police Department", description="Shown on pages.")
    timezone: str = Field(
        default="America/New_York", description="Agency time zone for display (IANA name)."
    )
    officer_sees_own: bool = Field(
        default=True, description="Policy: officers may view their own recordings."
    )
    user: str | None = Field(default=None, description="User the CLI acts as.")
    session_idle_minutes: int = Field(default=30, description="Web session idle timeout.")
    session_absolute_hours: int = Field(default=12, description="Web session absolute lifetime.")
    mfa: Literal["required", "optional"] = Field(
        default="optional",
        description=(
            "TOTP second factor: 'required' sends every user whose role can see footage (or "
            "manage users) to enrol before anything else; 'optional' lets users enrol at "
            "/account. Default: required when env is production, optional in development."
        ),
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Consecutive failed sign-ins (password or code) that lock a user name.",
    )
    login_lockout_minutes: int = Field(
        default=30,
        ge=0,
        description=(
            "A locked user name unlocks by itself after this many minutes; 0: only an "
            "administrator unlocks it (bodycam users unlock NAME)."
        ),
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto",
        description=(
            "Secure flag of the session cookie: 'auto' when the request came over https "
            "(behind a TLS proxy, let uvicorn trust its X-Forwarded-Proto), 'always', 'never'."
        ),
    )
    token_max_days: int = Field(
        default=365, ge=1, description="Longest lifetime an API token may be given, in days."
    )
    max_upload_bytes: int = Field(
        default=20 * 1024**3, description="Largest accepted upload in bytes."
    )
    upload_expiry_hours: float = Field(
        default=24.0,
        gt=0,
        description=(
            "A resumable upload with no new bytes for this long expires (its bytes are "
            "removed); a finished one's acknowledgement is kept this long."
        ),
    )
    archive_storage_url: str | None = Field(
        default=None,
        description=(
            "Blob store of the archive tier (file:// or s3://, e.g. a colder bucket); "
            "none: no archive tier."
        ),
    )
    archive_after_days: int = Field(
        default=180, description="Originals untouched this many days go to the archive tier."
    )
    jobs: Literal["inprocess", "worker", "celery"] = Field(
        default="inprocess",
        description=(
            "Who runs background jobs: 'inprocess' (bodycam serve too, in a thread), "
            "'worker' (only bodycam worker processes, polling the job table) or 'celery' "
            "(Celery workers fed through the broker at BODYCAM_BROKER_URL)."
        ),
    )
    broker_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        description="Celery broker (Redis) used when BODYCAM_JOBS=celery.",
    )
    jobs_queue: str = Field(
        default="bodycam",
        min_length=1,
        description="Name of the broker queue the Celery workers consume (one per deployment).",
    )
    job_max_attempts: int = Field(
        default=3, ge=1, description="Attempts a job gets before it is quarantined."
    )
    job_retry_base_seconds: float = Field(
        default=2.0,
        gt=0,
        description="Wait after failed attempt n: this many seconds times 2**n (at most 1 h).",
    )
    worker_max_tasks_per_child: int = Field(
        default=20,
        ge=1,
        description="A Celery worker process is replaced after this many jobs (bounds memory).",
    )
    scrub_cycle_days: float = Field(
        default=30.0,
        ge=0,
        description="Every original and redacted copy is re-hashed within this many days; 0: off.",
    )
    scrub_interval_minutes: float = Field(
        default=60.0, gt=0, description="How often the scrub job takes its next slice."
    )
    redaction_detector: str = Field(
        default="centerface",
        description="Detector that redaction projects use (built in, or an installed plug-in).",
    )
    speech_model: Path | None = Field(
        default=None,
        description=(
            "CTranslate2 Whisper model folder for transcripts; default: the shipped tiny.en."
        ),
    )
    speech_model_sha256: str | None = Field(
        default=None,
        description="SHA-256 the speech model's model.bin must have (refused otherwise).",
    )

    @model_validator(mode="before")
    @classmethod
    def _mfa_default(cls, data: Any) -> Any:
        # MFA is required in production unless BODYCAM_MFA says otherwise.
        if isinstance(data, dict) and data.get("mfa") in (None, ""):
            data = {**data, "mfa": "required" if data.get("env") == "production" else "optional"}
        return data

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if not self.audit_origin or any(c.isspace() or c == "+" for c in self.audit_origin):
            raise ValueError(
                "BODYCAM_AUDIT_ORIGIN names the audit log and its key: it must be non-empty, "
                "with no spaces and no '+'."
            )
        if self.env == "production":
            if self.secret_key.strip().lower() in _PLACEHOLDER_SECRETS or len(self.secret_key) < 32:
                raise ValueError(
                    "BODYCAM_SECRET_KEY must be set to a random value of at least 32 characters "
                    "in production."
                )
            if self.database_url is None:
                raise ValueError("BODYCAM_DATABASE_URL must be set explicitly in production.")
        return self

    @property
    def resolved_home(self) -> Path:
        """The home folder as an absolute path."""
        return self.home.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under home."""
        return self.database_url or f"sqlite:///{self.resolved_home / 'bodycam.db'}"

    @property
    def resolved_storage_url(self) -> str:
        """The blob store URL, defaulting to a local folder under home."""
        return self.storage_url or f"file://{self.resolved_home / 'blobs'}"

    @property
    def resolved_signing_key_path(self) -> Path:
        """Path of the Ed25519 checkpoint signing key."""
        return self.signing_key_path or self.resolved_home / "keys" / "audit-ed25519.pem"

    def resolved_secret_key(self) -> str:
        """The cookie-signing secret; in development one is generated and kept under home."""
        if self.secret_key:
            return self.secret_key
        path = self.resolved_home / "keys" / "secret-key"
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        path.write_text(value)
        path.chmod(0o600)
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once from the environment."""
    return Settings()
