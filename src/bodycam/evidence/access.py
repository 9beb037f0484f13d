"""Which recordings an actor may read: one access-scoped statement used everywhere.

Every query for recordings starts from :func:`readable_recordings`, so a missing
filter cannot leak footage. Scope (own, squad, any) comes from the actor's
permissions and the agency policy; a category's access class then narrows it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, or_, select

from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.evidence.models import AccessClass, Category, Recording


def allowed_access_classes(actor: Actor) -> list[str]:
    """Access classes whose recordings the actor may see."""
    classes = [AccessClass.NORMAL.value]
    if actor.can(Permission.RESTRICTED_VIEW):
        classes.append(AccessClass.RESTRICTED.value)
    if actor.can(Permission.CONFIDENTIAL_VIEW):
        classes.append(AccessClass.CONFIDENTIAL.value)
    return classes


def scope_clause(actor: Actor, officer_sees_own: bool) -> ColumnElement[bool]:
    """The WHERE clause limiting recordings to the actor's scope (false when none)."""
    if actor.can(Permission.RECORDING_VIEW_ANY):
        return Recording.id.is_not(None)
    parts: list[ColumnElement[bool]] = []
    if actor.can(Permission.RECORDING_VIEW_SQUAD) and actor.squad_id:
        squad_members = select(User.id).where(User.squad_id == actor.squad_id)
        parts.append(Recording.officer_id.in_(squad_members))
    if actor.can(Permission.RECORDING_VIEW_OWN) and officer_sees_own:
        parts.append(Recording.officer_id == actor.user_id)
    return or_(*parts) if parts else false()


def readable_recordings(actor: Actor, officer_sees_own: bool) -> Select[Recording]:
    """SELECT of the recordings ``actor`` may read (scope and access class; not purged)."""
    return (
        select(Recording)
        .join(Category, Category.id == Recording.category_id)
        .where(Recording.purged_at.is_(None))
        .where(scope_clause(actor, officer_sees_own))
        .where(Category.access_class.in_(allowed_access_classes(actor)))
    )


def has_any_view(actor: Actor) -> bool:
    """Whether the actor holds any recording-view permission at all."""
    return any(
        actor.can(p)
        for p in (
            Permission.RECORDING_VIEW_ANY,
            Permission.RECORDING_VIEW_SQUAD,
            Permission.RECORDING_VIEW_OWN,
        )
    )
