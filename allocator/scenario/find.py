"""Finding scenario files: an instance's scenarios folder, and a scenario
given by path or by name.
"""

from __future__ import annotations

from pathlib import Path

from allocator.errors import InputProblem, InstanceError
from allocator.i18n import _


def scenario_files(instance_folder: Path) -> list[Path]:
    """The scenario files in ``instance_folder/scenarios/``, sorted by name."""
    folder = Path(instance_folder) / "scenarios"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix == ".toml")


def find_scenario(instance_folder: Path, given: str | Path) -> Path:
    """The scenario file ``given`` names: a path, else an id in ``scenarios/``.

    ``allocator scenario instances/hallingdal E`` finds
    ``instances/hallingdal/scenarios/E.toml``; a path that exists wins.

    Raises
    ------
    InstanceError
        When it is neither, listing the ids the folder has.
    """
    path = Path(given)
    if path.is_file():
        return path
    candidate = Path(instance_folder) / "scenarios" / f"{given}.toml"
    if candidate.is_file():
        return candidate
    known = ", ".join(p.stem for p in scenario_files(instance_folder)) or _("none")
    message = _(
        "expected a scenario file, or the id of one in {folder}, "
        "found neither (ids there: {ids})."
    ).format(folder=candidate.parent, ids=known)
    raise InstanceError([InputProblem(str(given), None, None, message)])
