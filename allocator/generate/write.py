"""Writing a generated instance as the format's folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from allocator.domain import Instance
from allocator.io.instance_files import write_instance_files


def write_instance(folder: Path, instance: Instance) -> None:
    """Write ``instance`` as the format's folder: instance.toml and the CSV tables.

    locks.csv and travel.csv are written only when the instance has locks or
    road distances; a stale copy from an earlier write is removed so the
    folder says exactly what ``instance`` says.
    """
    write_instance_files(folder, instance)


def symmetric(
    distances: Mapping[tuple[str, str], float],
) -> dict[tuple[str, str], float]:
    """Both directions of each road distance, as ``Instance.travel`` holds them."""
    out: dict[tuple[str, str], float] = {}
    for (a, b), km in distances.items():
        out[(a, b)] = km
        out[(b, a)] = km
    return out
