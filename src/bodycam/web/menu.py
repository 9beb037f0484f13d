"""The navigation menu, derived from the permission table: an entry shows when the
reader's permissions grant its page, never because of a role's name.

Pages that other parts of the application add (jobs, evaluation, cost, account, policy)
show only once the app serves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission

P = Permission
ANYONE: frozenset[Permission] = frozenset()


@dataclass(frozen=True)
class Entry:
    """A menu link and what opens its page: every permission in ``needs`` and, when
    ``one_of`` is given, at least one of those."""

    label: str
    href: str
    needs: frozenset[Permission] = ANYONE
    one_of: frozenset[Permission] = ANYONE
    unless: frozenset[Permission] = ANYONE
    """Hidden when the reader holds any of these (a fuller entry replaces it)."""
    optional: bool = False
    """Shown only once the app serves ``href``."""

    def allows(self, held: frozenset[Permission]) -> bool:
        """Whether permissions ``held`` open this entry's page."""
        return (
            self.needs <= held
            and (not self.one_of or bool(self.one_of & held))
            and not (self.unless & held)
        )


def _p(*perms: Permission) -> frozenset[Permission]:
    return frozenset(perms)


MENU: tuple[Entry, ...] = (
    Entry("Home", "/"),
    Entry(
        "Recordings",
        "/recordings",
        one_of=_p(P.RECORDING_VIEW_OWN, P.RECORDING_VIEW_SQUAD, P.RECORDING_VIEW_ANY),
    ),
    Entry(
        "Compliance",
        "/compliance",
        one_of=_p(P.COMPLIANCE_VIEW, P.COMPLIANCE_VIEW_SQUAD, P.COMPLIANCE_VIEW_OWN),
    ),
    Entry(
        "Video reviews",
        "/compliance/reviews",
        one_of=_p(P.COMPLIANCE_REVIEW_PERFORM, P.COMPLIANCE_REVIEW_VIEW),
    ),
    Entry(
        "Review report",
        "/compliance/reviews/report",
        _p(P.COMPLIANCE_REVIEW_REPORT),
        unless=_p(P.COMPLIANCE_REVIEW_PERFORM, P.COMPLIANCE_REVIEW_VIEW),
    ),
    Entry("Requests", "/requests", _p(P.DISCLOSURE_VIEW)),
    Entry("Shares", "/shares", _p(P.SHARE_VIEW)),
    Entry("Fleet", "/fleet", _p(P.FLEET_VIEW)),
    Entry("Deletion queue", "/retention/queue", _p(P.RETENTION_VIEW)),
    Entry("Holds", "/retention/holds", _p(P.RETENTION_VIEW)),
    Entry("Retention schedule", "/retention/schedule", _p(P.RETENTION_VIEW)),
    Entry("Certificates", "/retention/certificates", _p(P.RETENTION_VIEW)),
    Entry("Audit search", "/audit", _p(P.AUDIT_VIEW)),
    Entry("Access report", "/audit/access", _p(P.AUDIT_VIEW)),
    Entry("Evaluation", "/evaluation", _p(P.EVALUATION_VIEW), optional=True),
    Entry("Cost", "/cost", _p(P.EVALUATION_COST_VIEW), optional=True),
    Entry("Users", "/admin/users", _p(P.USER_VIEW)),
    Entry("System health", "/admin/health", _p(P.SYSTEM_HEALTH_VIEW)),
    Entry("Jobs", "/jobs", optional=True),  # everyone sees their own jobs there
)

ACCOUNT = Entry("Account", "/account", optional=True)
FOOTER = (Entry("Policy", "/policy", optional=True), Entry("Releases", "/releases"))


def _shown(entries: tuple[Entry, ...], held: frozenset[Permission], app: Any) -> list[Entry]:
    from bodycam.web.pages import has_page

    return [e for e in entries if e.allows(held) and (not e.optional or has_page(app, e.href))]


def menu_for(actor: Actor | None, app: Any) -> list[Entry]:
    """The main menu of ``actor`` (nothing when signed out)."""
    if actor is None:
        return []
    return _shown(MENU, actor.permissions, app)


def account_for(actor: Actor | None, app: Any) -> list[Entry]:
    """The account link, once the account page exists (signed-in readers only)."""
    return [] if actor is None else _shown((ACCOUNT,), actor.permissions, app)


def footer_links(app: Any) -> list[Entry]:
    """The public links of the footer: the agency's policy (once served) and releases."""
    return _shown(FOOTER, frozenset(), app)
