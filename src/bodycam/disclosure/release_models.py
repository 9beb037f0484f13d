"""Release packages: what was handed to the public for a request, signed.

A release is built from the approved redacted copies attached to a request (see
``bodycam.disclosure.releases``). Its row keeps the exact signed manifest (canonical
JSON), its signature and the public key that checks it, and the list of files; the
released files themselves are blobs in the store (addressed by their SHA-256), so the
public page can serve the very bytes the manifest names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class DisclosureRelease(Base):
    """One signed release package for a public-records request."""

    __tablename__ = "disclosure_releases"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    request_id: Mapped[str] = mapped_column(ForeignKey("disclosure_requests.id"), index=True)
    manifest: Mapped[str] = mapped_column(Text)
    """The canonical manifest.json, byte for byte as signed."""
    manifest_sha256: Mapped[str] = mapped_column(String(64), index=True)
    signature: Mapped[str] = mapped_column(Text)
    """manifest.sig: base64 Ed25519 signature over the context prefix + the manifest bytes."""
    public_key: Mapped[str] = mapped_column(Text)
    """public-key.pem: the deployment's signing key that made the signature."""
    key_name: Mapped[str] = mapped_column(String(200))
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Released files: name, sha256, size, recording_id, copy_id, source_sha256, plan_hash."""
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
