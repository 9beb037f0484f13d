"""Recording rules as configuration: which events must be recorded, over which window.

A rules file holds one or more policy versions, each in force from its date, so a past
event is judged under the rule of its day::

    [[policy]]
    version = "2025-07"
    effective_from = 2025-07-01          # a TOML date (UTC midnight)
    call_types = ["*"]                   # which call types require recording ("*": all)
    exclude_call_types = ["ALARM - FALSE", "ADMIN DETAIL"]
    exclude_dispositions = ["CANCELLED", "GONE ON ARRIVAL"]
    priorities = []                      # empty: every priority
    self_initiated = "any"               # any | only | never
    window_start = "arrived"             # arrived | dispatched
    window_end = "cleared"
    start_grace_minutes = 2              # a start this late still counts as on time
    end_grace_minutes = 2
    gap_grace_minutes = 1                # breaks shorter than this are not gaps
    self_initiated_buffer_minutes = 5    # recordings may start this early on on-view stops

    [categories]                         # optional: the category a matched recording gets
    "TRAFFIC STOP" = "Traffic Stop"
    "DOMESTIC DISTURBANCE" = "Domestic Violence"

Call types and dispositions compare case-insensitively. Parsing refuses anything else
with a sentence naming the policy and key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the policy and key."""


_KEYS = {
    "version",
    "effective_from",
    "call_types",
    "exclude_call_types",
    "exclude_dispositions",
    "priorities",
    "self_initiated",
    "window_start",
    "window_end",
    "start_grace_minutes",
    "end_grace_minutes",
    "gap_grace_minutes",
    "self_initiated_buffer_minutes",
}


@dataclass(frozen=True)
class Policy:
    """One version of the recording policy."""

    version: str
    effective_from: datetime
    call_types: frozenset[str]  # upper-case; {"*"} for all
    exclude_call_types: frozenset[str]
    exclude_dispositions: frozenset[str]
    priorities: frozenset[str]
    self_initiated: str
    window_start: str
    window_end: str
    start_grace: timedelta
    end_grace: timedelta
    gap_grace: timedelta
    buffer: timedelta

    def exemption(
        self,
        call_type: str | None,
        priority: str | None,
        self_initiated: bool | None,
        disposition: str | None,
    ) -> str | None:
        """Why an event needs no recording under this policy, or None when it does."""
        ct = (call_type or "").upper()
        if "*" not in self.call_types and ct not in self.call_types:
            return f"call type {call_type!r} is not one that requires recording"
        if ct in self.exclude_call_types:
            return f"call type {call_type!r} is excluded"
        if (disposition or "").upper() in self.exclude_dispositions:
            return f"disposition {disposition!r} is excluded"
        if self.priorities and (priority or "") not in self.priorities:
            return f"priority {priority!r} does not require recording"
        if self.self_initiated == "only" and self_initiated is False:
            return "only self-initiated events require recording"
        if self.self_initiated == "never" and self_initiated is True:
            return "self-initiated events do not require recording"
        return None


@dataclass(frozen=True)
class Rules:
    """Every policy version, oldest first."""

    policies: tuple[Policy, ...]
    categories: tuple[tuple[str, str], ...] = ()
    """(call type, category) pairs: the category a matched recording gets (upper-case)."""

    def category_for(self, call_type: str | None) -> str | None:
        """The evidence category the rules suggest for recordings of this call type."""
        wanted = (call_type or "").strip().upper()
        return next((cat for ct, cat in self.categories if ct == wanted), None)

    def in_force(self, when: datetime) -> Policy | None:
        """The policy in force at ``when`` (None before the first)."""
        found = None
        for policy in self.policies:
            if policy.effective_from <= when:
                found = policy
        return found

    @classmethod
    def from_toml(cls, text: str) -> Rules:
        """Parse a rules file; raise :class:`RulesError` naming what is wrong."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RulesError(f"The rules are not valid TOML: {exc}.") from None
        if set(data) - {"policy", "categories"}:
            unknown = sorted(set(data) - {"policy", "categories"})
            raise RulesError(f"Unknown top-level key(s): {', '.join(unknown)}.")
        cats = data.get("categories", {})
        if not isinstance(cats, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in cats.items()
        ):
            raise RulesError('[categories] maps call types to category names: "CALL" = "Name".')
        raw = data.get("policy")
        if not isinstance(raw, list) or not raw:
            raise RulesError("The rules have no [[policy]] entries.")
        policies = sorted(
            (_policy(i, p) for i, p in enumerate(raw)), key=lambda p: p.effective_from
        )
        versions = [p.version for p in policies]
        if len(set(versions)) != len(versions):
            raise RulesError("Two policies share a version name.")
        pairs = tuple(sorted((k.strip().upper(), v.strip()) for k, v in cats.items()))
        return cls(tuple(policies), pairs)


def _words(where: str, value: Any, key: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{where}.{key}: must be a list of text.")
    return frozenset(v.strip().upper() for v in value)


def _minutes(where: str, raw: dict[str, Any], key: str, default: int) -> timedelta:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 24 * 60:
        raise RulesError(f"{where}.{key}: must be whole minutes from 0 to 1440, not {value!r}.")
    return timedelta(minutes=value)


def _choice(where: str, raw: dict[str, Any], key: str, default: str, allowed: set[str]) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise RulesError(f"{where}.{key}: {value!r} is not one of {choices}.")
    return str(value)


def _policy(index: int, raw: Any) -> Policy:
    where = f"policy[{index}]"
    if not isinstance(raw, dict):
        raise RulesError(f"{where}: must be a table.")
    unknown = set(raw) - _KEYS
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}.")
    version = raw.get("version")
    if not isinstance(version, str) or not version.strip():
        raise RulesError(f"{where}.version: a name is required.")
    where = f"policy {version!r}"
    start = raw.get("effective_from")
    if isinstance(start, datetime):
        effective = start if start.tzinfo else start.replace(tzinfo=UTC)
    elif isinstance(start, date):
        effective = datetime(start.year, start.month, start.day, tzinfo=UTC)
    else:
        raise RulesError(f"{where}.effective_from: must be a TOML date like 2025-07-01.")
    call_types = _words(where, raw.get("call_types", ["*"]), "call_types") or frozenset({"*"})
    return Policy(
        version=version.strip(),
        effective_from=effective,
        call_types=call_types,
        exclude_call_types=_words(where, raw.get("exclude_call_types"), "exclude_call_types"),
        exclude_dispositions=_words(where, raw.get("exclude_dispositions"), "exclude_dispositions"),
        priorities=frozenset(p.strip() for p in _words(where, raw.get("priorities"), "priorities")),
        self_initiated=_choice(where, raw, "self_initiated", "any", {"any", "only", "never"}),
        window_start=_choice(where, raw, "window_start", "arrived", {"arrived", "dispatched"}),
        window_end=_choice(where, raw, "window_end", "cleared", {"cleared"}),
        start_grace=_minutes(where, raw, "start_grace_minutes", 2),
        end_grace=_minutes(where, raw, "end_grace_minutes", 2),
        gap_grace=_minutes(where, raw, "gap_grace_minutes", 1),
        buffer=_minutes(where, raw, "self_initiated_buffer_minutes", 5),
    )
