"""HTTP API of the auth domain: who am I, users."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from bodycam.auth import service
from bodycam.web.deps import ApiActor, CtxDep

router = APIRouter(prefix="/api/v1", tags=["auth"])


class MeOut(BaseModel):
    """The caller's identity and permissions."""

    username: str
    role: str
    badge: str | None
    permissions: list[str]


class UserOut(BaseModel):
    """A user as listed to those who may view users."""

    username: str
    role: str
    badge: str | None
    active: bool


@router.get("/me", response_model=MeOut)
def me(actor: ApiActor) -> MeOut:
    """Who the caller is and what they may do."""
    return MeOut(
        username=actor.username,
        role=actor.role.value,
        badge=actor.badge,
        permissions=sorted(p.value for p in actor.permissions),
    )


@router.get("/users", response_model=list[UserOut])
def users(ctx: CtxDep, actor: ApiActor) -> list[UserOut]:
    """Every user (needs auth:user:view)."""
    with ctx.sessions() as s:
        return [
            UserOut(username=u.username, role=u.role, badge=u.badge, active=u.active)
            for u in service.list_users(s, actor)
        ]
