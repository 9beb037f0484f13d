"""Write requirements.lock: every distribution installed in this venv, pinned exactly.

Run by ``make lock`` after a change of dependencies in pyproject.toml (and ``make install``).
bodycam itself is left out (it is installed editable from the checkout). The file is sorted
and carries no timestamp, so an unchanged environment writes the same bytes.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

HEADER = """\
# Exact versions of every package in the development environment (.venv), written by
# `make lock` (tools/lock_deps.py) from the installed distributions; do not edit by hand.
# Install exactly these: .venv/bin/pip install -r requirements.lock && pip install --no-deps -e .
# `make lint` checks these versions against the known-vulnerability database (pip-audit).
"""


def pins() -> list[str]:
    """``name==version`` of every installed distribution except bodycam, sorted by name."""
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name or name.lower() == "bodycam":
            continue
        found[name.lower().replace("_", "-")] = dist.version
    return [f"{name}=={version}" for name, version in sorted(found.items())]


def main(argv: list[str]) -> int:
    """Write the lock file named by argv[1] (default requirements.lock)."""
    out = Path(argv[1] if len(argv) > 1 else "requirements.lock")
    lines = pins()
    out.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{out}: {len(lines)} packages pinned.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
