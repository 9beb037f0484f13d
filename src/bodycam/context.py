"""The collaborators a service call needs, built once from settings.

CLI commands, the web app and jobs all build one :class:`Context` and pass its
parts to services explicitly; nothing reads globals behind the caller's back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.service import AuditSigner
from bodycam.audit.signing import load_or_create_signing_key, load_signing_key
from bodycam.config import Settings
from bodycam.db import make_engine, make_sessionmaker
from bodycam.storage import BlobStore, open_store


@dataclass
class Context:
    """Settings, database, blob store and audit signer of one deployment."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: BlobStore
    signer: AuditSigner
    archive: BlobStore | None = None
    """The archive tier's store (``BODYCAM_ARCHIVE_STORAGE_URL``), when one is configured."""

    @classmethod
    def from_settings(cls, settings: Settings, *, create_key: bool = False) -> Context:
        """Open the database, the blob store and the signing key named by ``settings``.

        The key is created only when ``create_key`` is set (``bodycam init``): a key
        made silently under a wrong BODYCAM_HOME would sign a second, unrelated log.
        """
        path = settings.resolved_signing_key_path
        key = load_or_create_signing_key(path) if create_key else load_signing_key(path)
        engine = make_engine(settings.resolved_database_url)
        store = open_store(settings.resolved_storage_url)
        signer = AuditSigner(key, settings.audit_origin, settings.audit_origin)
        archive = open_store(settings.archive_storage_url) if settings.archive_storage_url else None
        return cls(settings, engine, make_sessionmaker(engine), store, signer, archive)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()
