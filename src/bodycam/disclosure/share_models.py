"""External shares: time-limited links to specific footage for a named recipient.

A :class:`Share` is made by a records clerk for one recipient (a prosecutor, a defense
lawyer, someone else) and lists its :class:`ShareItem` rows: original recordings or
approved redacted copies. Neither the link's token nor the code that opens it is stored:
only the token's SHA-256 and the code's argon2 hash. A recipient who gives the right code
gets a short-lived :class:`ShareSession` (its cookie's hash is stored). Every opening,
wrong code, view, stream request and download is written to the audit log and, as the
share's own readable history, to :class:`ShareAccess`.

Video streamed through a share is a watermarked derivative rendered for that share and
item (``bodycam.disclosure.watermark``): a temporary file under the deployment's home,
never a vault blob. Its hash is kept on the item once it has been served.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, utcnow


class RecipientRole(StrEnum):
    """Who receives a share."""

    PROSECUTOR = "prosecutor"
    DEFENSE = "defense"
    OTHER = "other"
    COMPLAINANT = "complainant"  # a supervised viewing session (bodycam.policy.complainant)


class ShareState(StrEnum):
    """Where a share stands (computed from its times, never stored)."""

    ACTIVE = "active"
    LOCKED = "locked"  # active, but too many wrong codes: needs a new code
    EXPIRED = "expired"
    REVOKED = "revoked"


class Share(Base):
    """A link to some footage for one named recipient, until it expires or is revoked."""

    __tablename__ = "shares"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    """SHA-256 of the link's token (the token itself is shown once, never stored)."""
    code_hash: Mapped[str] = mapped_column(String(200))
    """argon2id hash of the code that opens the link."""
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_org: Mapped[str] = mapped_column(String(200), default="")
    recipient_email: Mapped[str] = mapped_column(String(320))
    recipient_role: Mapped[str] = mapped_column(String(20))
    case_number: Mapped[str] = mapped_column(String(64), default="")
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("disclosure_requests.id"), default=None
    )
    allow_download: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"), default=None)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
    code_issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_codes: Mapped[int] = mapped_column(Integer, default=0)
    """Wrong codes given since the current code was issued."""
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    """Set at the fifth wrong code; only a new code unlocks the share."""

    def state(self, now: datetime) -> ShareState:
        """Where the share stands at ``now``."""
        if self.revoked_at is not None:
            return ShareState.REVOKED
        if self.expires_at <= now:
            return ShareState.EXPIRED
        if self.locked_at is not None:
            return ShareState.LOCKED
        return ShareState.ACTIVE


class ShareItem(Base):
    """One recording or approved redacted copy in a share, numbered from 1."""

    __tablename__ = "share_items"
    __table_args__ = (UniqueConstraint("share_id", "position"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    recording_id: Mapped[str] = mapped_column(ForeignKey("recordings.id"), index=True)
    copy_id: Mapped[str | None] = mapped_column(ForeignKey("redacted_copies.id"), default=None)
    """The approved redacted copy shared, or None for the original recording."""
    sha256: Mapped[str] = mapped_column(String(64))
    """The blob shared: the original's or the copy's (what the watermark is drawn on)."""
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    label: Mapped[str] = mapped_column(String(200))
    watermark_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    """SHA-256 of the watermarked derivative last served for this item."""
    watermark_size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    watermarked_at: Mapped[datetime | None] = mapped_column(default=None)


class ShareSession(Base):
    """A recipient's session after the right code; the cookie holds a secret whose hash
    is the key."""

    __tablename__ = "share_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ip: Mapped[str] = mapped_column(String(64), default="")


class ShareAccess(Base):
    """One line of a share's history: created, opened, wrong code, viewed, streamed,
    downloaded, refused, new code, revoked.

    The audit log holds the same facts, signed; this is the share's own readable history.
    """

    __tablename__ = "share_accesses"

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    share_id: Mapped[str] = mapped_column(ForeignKey("shares.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(20))
    position: Mapped[int | None] = mapped_column(Integer, default=None)
    ip: Mapped[str] = mapped_column(String(64), default="")
    by: Mapped[str] = mapped_column(String(200), default="")
    """Who: the recipient's name, or the staff user for created, new code and revoked."""
    detail: Mapped[str] = mapped_column(Text, default="")
