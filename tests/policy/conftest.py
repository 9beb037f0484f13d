"""Policy fixtures: a policy folder (the example policy and its rules), a schedule in force,
a critical category, and a helper that writes variants of the example policy."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from bodycam.db import transaction
from bodycam.evidence.service import ensure_category
from bodycam.policy.cli import DEFAULT_POLICY
from bodycam.policy.service import AppliedPolicy, apply_policy
from bodycam.retention import service as retention

SCHEDULE = """\
[categories."Uncategorized"]
retain = "90 days"
[categories."Traffic Stop"]
retain = "3 years"
[categories."Use of Force"]
retain = "until deleted"
"""


def variant(**settings: str) -> str:
    """The example policy with ``key = value`` lines replaced (values as TOML text)."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    for key, value in settings.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        assert n == 1, key
    return text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding the example's recording rules, where policy files are written."""
    path = tmp_path / "policy"
    path.mkdir()
    rules = DEFAULT_POLICY.with_name("recording-rules.toml")
    (path / "recording-rules.toml").write_text(rules.read_text(encoding="utf-8"))
    return path


@pytest.fixture
def scheduled(ctx, dept) -> None:
    """A retention schedule in force and the critical category Use of Force."""
    retention.import_schedule(ctx.sessions, dept.actor("admin"), SCHEDULE)
    with transaction(ctx.sessions) as s:
        ensure_category(s, "Use of Force")


@pytest.fixture
def apply(ctx, dept, folder, scheduled) -> Callable[..., AppliedPolicy]:
    """Apply a variant of the example policy as the administrator."""

    def do(**settings: str) -> AppliedPolicy:
        text = variant(**settings)
        return apply_policy(
            ctx.sessions,
            dept.actor("admin"),
            text,
            file="test-policy.toml",
            base_dir=folder,
        )

    return do
