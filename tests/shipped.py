"""The shipped instances, shared by the tests: read once, or copied to break.

Tests that only solve, check or compare a shipped instance share one read
of it per test process (an ``Instance`` is frozen: tuples of frozen
entities), so the suite does not read hallingdal forty times. Tests that
edit or break a shipped instance take a copy of its folder instead, never
the folder itself.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

from allocator import Instance, read_instance

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"


@cache
def shipped(name: str) -> Instance:
    """``instances/<name>`` as read by the tool, once per test process."""
    return read_instance(INSTANCES / name)


def copy_of(name: str, where: Path) -> Path:
    """A copy of the folder ``instances/<name>`` at ``where``, to edit or break."""
    return Path(shutil.copytree(INSTANCES / name, where))
