"""The requester's status lookup: where a request stands, for whoever holds its code.

A request has no secret of its own in the database, and its number is sequential
(``R-2026-000123``), so the number alone must not open anything: the next number is easy
to guess. The requester is given a **status code** with the acknowledgement: an HMAC
(SHA-256) of the request number under the deployment's secret key (``BODYCAM_SECRET_KEY``),
50 bits shown as ten letters and digits (``ABCDE-23456``). Nobody without the key can
compute it, the server needs to store nothing, and the clerk sees it on the request's page
to print on the acknowledgement. Changing the secret key changes every code (give the open
requesters their new codes).

The answer holds no name, contact, description, location, officer, note or footage: only
the number, the status in words, its dates and deadlines, and whether an appeal is open.
A wrong code and an unknown number get the same sentence, so the page does not tell which
numbers exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.disclosure.deadlines import clock_in_force, local_date
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.models import DisclosureRequest, DisclosureStep
from bodycam.disclosure.requests import jurisdiction_of, normalise_number, view_of
from bodycam.ids import utcnow

__all__ = ["STATUS_WORDS", "PublicStatus", "lookup", "status_code"]

_PURPOSE = b"bodycam request status v1\x00"
_CODE_CHARS = 10
NO_MATCH = (
    "No request matches that number and status code; check both as printed on the acknowledgement."
)

STATUS_WORDS = {
    "received": "Received. It has not been acknowledged yet.",
    "acknowledged": "Acknowledged. The search for the footage has not started yet.",
    "searching": "The agency is searching for the footage asked for.",
    "redacting": "The footage found is being redacted (faces and private details hidden).",
    "review": "The redacted footage is in its final review before release.",
    "released_full": "Released in full.",
    "released_partial": "Released in part; the decision letter says what was withheld and why.",
    "denied": "Denied; the decision letter cites the exemption and how to appeal.",
    "withdrawn": "Withdrawn.",
}
"""Each status as the requester reads it."""


def status_code(secret: str, number: str) -> str:
    """The status code of request ``number`` under ``secret`` (e.g. ``ABCDE-23456``)."""
    mac = hmac.new(
        secret.encode("utf-8"), _PURPOSE + normalise_number(number).encode(), hashlib.sha256
    )
    text = base64.b32encode(mac.digest()).decode("ascii")[:_CODE_CHARS]
    return f"{text[:5]}-{text[5:]}"


def _clean_code(code: str) -> str:
    """A typed code compared as printed: case, spaces and dashes ignored, and the digits
    a reader may type for look-alike letters (0 for O, 1 for I, 8 for B) read as letters."""
    text = "".join(ch for ch in code.upper() if ch.isalnum())
    return text.translate(str.maketrans("018", "OIB"))


@dataclass(frozen=True)
class PublicStatus:
    """What the requester may see of a request (nothing about anyone, no footage)."""

    number: str
    status: str
    explanation: str
    received: date
    acknowledged: date | None
    acknowledge_due: date
    decide_due: date | None
    """The decision deadline as extended (None: the law sets none)."""
    extension_days: int
    critical_due: date | None
    closed: date | None
    late: bool
    """A deadline has passed and the agency has not met it."""
    appeal: str | None
    """The latest appeal in words, e.g. ``pending, decision due 2026-04-02``."""
    steps: list[tuple[date, str]]
    """Each status change: its date and the new status."""
    as_of: date


def lookup(
    factory: sessionmaker[Session],
    number: str,
    code: str,
    secret: str,
    *,
    now: datetime | None = None,
) -> PublicStatus:
    """The public status of request ``number`` when ``code`` is its status code; the same
    sentence (:data:`NO_MATCH`) when the number is unknown or the code wrong."""
    now = now or utcnow()
    wanted = normalise_number(number)
    if not wanted or len(wanted) > 40 or not code.strip() or len(code) > 40:
        raise DisclosureError(NO_MATCH)
    expected = _clean_code(status_code(secret, wanted))
    if not hmac.compare_digest(expected, _clean_code(code)):
        raise DisclosureError(NO_MATCH)
    with factory() as s:
        req = s.scalars(select(DisclosureRequest).where(DisclosureRequest.number == wanted)).first()
        if req is None:
            raise DisclosureError(NO_MATCH)
        view = view_of(s, req, now)
        _, clock = clock_in_force(s)
        j = jurisdiction_of(clock, req.jurisdiction)
        steps = [
            (local_date(at, j), str(to))
            for at, to in s.execute(
                select(DisclosureStep.at, DisclosureStep.to_status)
                .where(DisclosureStep.request_id == req.id, DisclosureStep.to_status.is_not(None))
                .order_by(DisclosureStep.at, DisclosureStep.id)
            )
        ]
    d = view.deadlines
    appeal = None
    if view.appeals:
        last = view.appeals[-1]
        filed = local_date(last.filed_at, j).isoformat()
        if last.outcome is None:
            appeal = f"filed {filed}, pending, decision due {d.appeal_due}"
        else:
            decided = local_date(last.decided_at, j).isoformat() if last.decided_at else "?"
            appeal = f"filed {filed}, {last.outcome} on {decided}"
    return PublicStatus(
        number=req.number,
        status=req.status,
        explanation=STATUS_WORDS.get(req.status, req.status),
        received=d.received,
        acknowledged=d.acknowledged,
        acknowledge_due=d.acknowledge_due,
        decide_due=d.decide_due,
        extension_days=req.extension_days,
        critical_due=d.critical_due,
        closed=d.closed,
        late=d.late,
        appeal=appeal,
        steps=steps,
        as_of=d.today,
    )
