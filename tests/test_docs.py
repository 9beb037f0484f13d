"""The documentation keeps up with the code (fast: no database, no services).

Fails when a permission, role, audit action or setting exists in the code but has
no row in its reference table under docs/; when a registered CLI command or group
is missing from docs/cli.md, or docs/cli.md documents one that does not exist;
when a relative link (or its #anchor) in docs/*.md points nowhere; and when
docs/index.md does not link every page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from bodycam.audit.actions import AuditAction
from bodycam.auth.permissions import Permission, Role
from bodycam.cli import app
from bodycam.config import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"

_FENCE = re.compile(r"^(```|~~~)")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_CLI_HEADING = re.compile(r"^#{1,6}\s+`(bodycam(?: [a-z][a-z0-9-]*)*)`\s*$")


def read(name: str) -> str:
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing"
    return path.read_text(encoding="utf-8")


def prose_lines(text: str) -> Iterator[str]:
    """The lines of a markdown text outside fenced code blocks."""
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            yield line


_ROW_KEY = re.compile(r"^\|\s*`([^`]+)`\s*\|")


def missing(values: list[str], page: str) -> list[str]:
    """The values that start no table row (``| `value` | ...``) of a page."""
    keys = {m.group(1) for line in prose_lines(read(page)) if (m := _ROW_KEY.match(line))}
    return [v for v in values if v not in keys]


def test_every_permission_is_documented() -> None:
    gaps = missing([p.value for p in Permission], "permissions.md")
    assert not gaps, f"docs/permissions.md does not document: {', '.join(gaps)}"


def test_every_role_is_documented() -> None:
    gaps = missing([r.value for r in Role], "permissions.md")
    assert not gaps, f"docs/permissions.md does not document the roles: {', '.join(gaps)}"


def test_every_audit_action_is_documented() -> None:
    gaps = missing([a.value for a in AuditAction], "audit-actions.md")
    assert not gaps, f"docs/audit-actions.md does not document: {', '.join(gaps)}"


def test_every_setting_is_documented() -> None:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    assert prefix == "BODYCAM_"
    names = [f"{prefix}{field.upper()}" for field in Settings.model_fields]
    gaps = missing(names, "settings.md")
    assert not gaps, f"docs/settings.md does not document: {', '.join(gaps)}"


def _walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    for name, sub in sorted((getattr(command, "commands", None) or {}).items()):
        if getattr(sub, "hidden", False):
            continue
        yield (*path, name)
        yield from _walk(sub, (*path, name))


def registered_commands() -> set[str]:
    """Every group and command path of the Typer app, e.g. ``bodycam audit export``."""
    root = typer.main.get_command(app)
    return {" ".join(p) for p in _walk(root, ("bodycam",))}


def test_registered_commands_are_found() -> None:
    found = registered_commands()
    assert {"bodycam verify", "bodycam audit", "bodycam audit export"} <= found


def test_every_command_is_documented() -> None:
    text = read("cli.md")
    gaps = sorted(c for c in registered_commands() if f"`{c}`" not in text)
    assert not gaps, f"docs/cli.md does not document: {', '.join(gaps)}"


def test_cli_doc_names_only_real_commands() -> None:
    documented = {
        m.group(1) for line in prose_lines(read("cli.md")) if (m := _CLI_HEADING.match(line))
    }
    assert documented, "docs/cli.md has no `bodycam ...` headings"
    stale = sorted(documented - registered_commands() - {"bodycam"})
    assert not stale, f"docs/cli.md documents commands that do not exist: {', '.join(stale)}"


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link: keep its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out: set[str] = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        m = _HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def doc_pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def test_docs_exist() -> None:
    names = {p.name for p in doc_pages()}
    expected = {
        "index.md", "records-clerk.md", "supervisor.md", "equipment-unit.md",
        "administrator.md", "auditor.md", "officer.md", "operations.md", "permissions.md",
        "audit-actions.md", "settings.md", "cli.md",
    }  # fmt: skip
    assert expected <= names, f"missing pages: {', '.join(sorted(expected - names))}"


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for line in prose_lines(page.read_text(encoding="utf-8")):
        line = re.sub(r"`[^`]*`", "", line)  # links inside inline code are not links
        for target in _LINK.findall(line):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, mailto: ...
                continue
            file_part, _, fragment = target.partition("#")
            dest = (page.parent / file_part).resolve() if file_part else page
            if not dest.exists():
                broken.append(f"{target} (no file {dest})")
            elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
                broken.append(f"{target} (no heading #{fragment} in {dest.name})")
    assert not broken, f"{page.name} has broken links: " + "; ".join(broken)


def test_index_links_every_page() -> None:
    linked = {
        t.partition("#")[0] for line in prose_lines(read("index.md")) for t in _LINK.findall(line)
    }
    unlinked = sorted(p.name for p in doc_pages() if p.name != "index.md" and p.name not in linked)
    assert not unlinked, f"docs/index.md does not link to: {', '.join(unlinked)}"
