"""The acting user every service call receives (never a web request)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bodycam.auth.permissions import Permission, Role, permissions_for


class PermissionDenied(Exception):
    """The actor lacks the right; the message is a sentence for the user.

    ``audited`` is set once the refusal has its audit record; the CLI and the web
    app record any refusal that reaches them unaudited, so every denial is logged.
    """

    def __init__(self, message: str, actor: Actor | None = None, object_id: str = "") -> None:
        super().__init__(message)
        self.actor = actor
        self.object_id = object_id
        self.audited = False


@dataclass(frozen=True)
class Actor:
    """Who is acting, through which channel, from where."""

    user_id: str
    username: str
    role: Role
    badge: str | None = None
    squad_id: str | None = None
    via: str = "cli"
    ip: str = ""
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    @classmethod
    def for_user(
        cls,
        *,
        user_id: str,
        username: str,
        role: str,
        badge: str | None,
        squad_id: str | None,
        via: str,
        ip: str = "",
    ) -> Actor:
        """Build an actor holding exactly its role's permissions."""
        r = Role(role)
        return cls(user_id, username, r, badge, squad_id, via, ip, permissions_for(r))

    def can(self, permission: Permission) -> bool:
        """Whether the actor holds ``permission``."""
        return permission in self.permissions

    def require(self, permission: Permission, what: str | None = None) -> None:
        """Raise :class:`PermissionDenied` unless the actor holds ``permission``."""
        if permission not in self.permissions:
            doing = what or f"use {permission.value}"
            raise PermissionDenied(
                f"User {self.username} ({self.role.value}) may not {doing}: "
                f"the role lacks the permission {permission.value}.",
                self,
            )


SYSTEM = Actor(
    user_id="system",
    username="system",
    role=Role.ADMINISTRATOR,
    via="system",
    permissions=frozenset(),
)
