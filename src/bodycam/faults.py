"""Named crash points for fault-injection tests (inert unless armed).

``point(name)`` does nothing in normal runs. A test arms a point, in-process
with :func:`arm` or through ``BODYCAM_FAULT_KILL_AT=name:n`` in a child's
environment, and the process then kills itself with SIGKILL on the n-th time it
reaches that point: the harshest crash there is, with no cleanup and no flush.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "store.tmp_written",  # blob bytes written to a temp file, not yet fsynced
    "store.tmp_fsynced",  # temp file durable, not yet linked into place
    "store.linked",  # blob linked under its hash, directories not yet fsynced
    "store.done",  # blob durable
    "ingest.row_flushed",  # recording row and audit record sent, not committed
    "ingest.committed",  # committed, acknowledgement not yet given
    "audit.seal_flushed",  # positions and leaf hashes written, checkpoint not committed
)

_armed: dict[str, int] = {}


def arm(name: str, nth: int = 1) -> None:
    """Kill this process the ``nth`` time it reaches point ``name``."""
    if name not in POINTS:
        raise ValueError(f"Unknown fault point {name!r}.")
    _armed.clear()
    _armed[name] = nth


def _from_env() -> None:
    spec = os.environ.get("BODYCAM_FAULT_KILL_AT")
    if spec:
        name, _, nth = spec.partition(":")
        arm(name, int(nth or 1))


def point(name: str) -> None:
    """A crash point; kills the process when armed for this name and count."""
    if not _armed:
        return
    left = _armed.get(name)
    if left is None:
        return
    if left <= 1:
        os.kill(os.getpid(), signal.SIGKILL)
    _armed[name] = left - 1


_from_env()
