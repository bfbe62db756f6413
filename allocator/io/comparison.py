"""Writes a comparison's folder (FORMAT.md section 7).

```
DIR/comparison.csv        one row per scenario and seed
DIR/comparison.json       the same, plus settings, versions and input hashes
DIR/comparison.html       the same as a page
DIR/<scenario>/instance/  the instance as solved (an ordinary instance folder)
DIR/<scenario>/seed-<s>/  the solution folder of that seed (section 5)
DIR/.cache/               results by hash, so a rerun skips unchanged work
```

The whole folder is written at once: every file goes into a hidden
sibling, which then takes DIR's place in one atomic exchange
(``folder.write_folder``'s mechanism), so a reader sees the earlier
comparison or the new one, never a mixture, and a replaced comparison keeps
no stale structure folders. A comparison never replaces another unless
told to (``replace``); by default ``allocator compare`` picks a new folder.
"""

from __future__ import annotations

import json
import os
import tempfile
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Protocol

from allocator.domain import Instance
from allocator.errors import SolutionError
from allocator.io.folder import check_writable
from allocator.io.write import csv_text

# comparison.csv, in this order (README format, section 7), then extras.
COLUMNS = [
    "scenario",
    "seed",
    "description",
    "locks_dropped",
    "status",
    "gap",
    "users",
    "assigned",
    "unassigned",
    "urgent_unassigned",
    "unassigned_weight",
    "shortage_fte",
    "utilisation_max",
    "utilisation_min",
    "utilisation_mean",
    "travel_km",
    "travel_hours",
    "municipalities_per_advisor_max",
    "municipalities_per_advisor_mean",
    "forced_moves",
    "coverage_min",
    "single_points",
    "uncovered",
    "n1_worst_weight",
    "n1_worst_advisor",
    "n1_mean_weight",
    "leakage_fte",
    "freed_fte",
    "objective",
    "wall_s",
    "stopped_by",
    "n1_exact",
]


class Comparison(Protocol):
    """What the writer reads of a comparison (``allocator.comparison.Comparison``).

    A protocol, so that the writer below the comparison's data class needs
    nothing from above it.
    """

    rows: list[dict[str, Any]]
    structures: dict[str, Instance]
    solutions: dict[tuple[str, int], dict[str, str]]

    def document(self) -> dict[str, Any]: ...

    def settings_in_words(self) -> list[tuple[str, str]]: ...


# The files that make a folder a finished comparison.
MARKER = "comparison.json"


def is_comparison(folder: Path) -> bool:
    """Whether ``folder`` holds a finished comparison (its comparison.json)."""
    return (folder / MARKER).is_file()


def check_comparison_target(out: Path, replace: bool = False) -> None:
    """Refuse an --out folder a comparison must not write into; before solving.

    Accepted: a folder that does not exist yet, an empty one, one holding
    only the cache of an interrupted comparison (it resumes there), and an
    earlier comparison when ``replace`` is given. Refused: an earlier
    comparison without ``replace`` (it is never replaced silently), any
    other folder (an instance, a home directory), a file, and a place this
    user cannot write to (a read-only share, a path below a file).

    Raises:
        SolutionError: one line naming the folder and what to do.
    """
    if out.exists() and not out.is_dir():
        raise SolutionError(f"--out {out} exists and is not a folder.")
    if out.is_dir():
        if is_comparison(out) and not replace:
            raise SolutionError(
                f"--out {out} holds an earlier comparison; give --replace to "
                "replace it, or another --out."
            )
        others = [p.name for p in out.iterdir() if p.name != ".cache"]
        if others and not is_comparison(out):
            raise SolutionError(
                f"--out {out} exists and is not a comparison folder (no "
                "comparison.json); choose a new or empty folder."
            )
    check_writable(out)
    if out.is_dir() and not os.access(out, os.W_OK | os.X_OK):
        raise SolutionError(f"cannot write to {out}: permission denied.")


def new_comparison_folder(parent: Path, stem: str = "compare") -> Path:
    """The default --out: ``parent/compare``, else the first free ``compare-N``.

    A folder that holds only an interrupted comparison's cache is taken
    again (the comparison resumes there); a finished comparison never is,
    so a second ``allocator compare`` keeps the first.
    """
    number = 1
    while True:
        folder = parent / (stem if number == 1 else f"{stem}-{number}")
        if not folder.exists():
            return folder
        if (
            folder.is_dir()
            and not is_comparison(folder)
            and all(p.name == ".cache" for p in folder.iterdir())
        ):
            return folder
        number += 1


def structure_folder(scenario: str) -> str:
    """The folder of a structure: its id in NFC (``scenario.folder_key``)."""
    return unicodedata.normalize("NFC", scenario)


def as_written(instance: Instance) -> Instance:
    """``instance`` written as an instance folder and read back.

    What is solved is then exactly what ``DIR/<structure>/instance`` holds,
    with the ``input_sha256`` that ``read_instance`` gives that folder, so
    ``allocator check`` accepts the solution. Warnings of the reading are
    not repeated (the input was read and warned about once).
    """
    from allocator.errors import DataWarning
    from allocator.io.instance_files import instance_files
    from allocator.io.read import read_instance

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "instance"
        folder.mkdir()
        for name, text in instance_files(instance).items():
            (folder / name).write_text(text, encoding="utf-8", newline="")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            read = read_instance(folder)
    return read.model_copy(update={"files": {}})


def instance_files(instance: Instance) -> dict[str, str]:
    """An instance folder's files by name, as ``allocator scenario`` writes them."""
    from allocator.io.instance_files import instance_files as files_of

    return files_of(instance)


def comparison_json(comparison: Comparison) -> str:
    """comparison.json's text: the document, UTF-8, letters kept as they are."""
    return json.dumps(comparison.document(), indent=2, ensure_ascii=False) + "\n"


def comparison_files(comparison: Comparison) -> dict[str, str | bytes]:
    """Every file of the comparison folder by relative path (no cache)."""
    files: dict[str, str | bytes] = {}
    for sid, instance in comparison.structures.items():
        for name, text in instance_files(instance).items():
            files[f"{structure_folder(sid)}/instance/{name}"] = text
    for (sid, seed), solution in comparison.solutions.items():
        for name, content in solution.items():
            files[f"{structure_folder(sid)}/seed-{seed}/{name}"] = content
    files["comparison.csv"] = csv_text(comparison.rows, COLUMNS)
    files["comparison.json"] = comparison_json(comparison)
    files["comparison.html"] = comparison_html(comparison)
    return files


def write_comparison(comparison: Comparison, out: Path, replace: bool = False) -> Path:
    """Write the section 7 folder (and comparison.html) whole; returns its path.

    The files go into a hidden sibling of ``out`` (with ``out/.cache``
    moved in, so a rerun still finds it), which then takes ``out``'s place
    in one exchange; the earlier folder, with any structure folders the new
    comparison does not have, is removed after. A failure leaves ``out`` as
    it was and no hidden folder behind.

    Raises:
        SolutionError: ``out`` holds an earlier comparison and ``replace``
            is not given, is not a comparison folder, or cannot be written
            ("cannot write to OUT: no space left on device; nothing was
            written.").
    """
    from allocator.io.folder import _hidden, _parent_lock, _reason, _remove, _swap_in

    check_comparison_target(out, replace)
    files = comparison_files(comparison)
    out = out.absolute()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SolutionError(f"cannot write to {out}: {_reason(error)}.") from error
    with _parent_lock(out.parent, out):
        staging = _hidden(out, "new")
        cache = out / ".cache"
        moved = False
        try:
            staging.mkdir()
            for name, content in files.items():
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                if isinstance(content, bytes):
                    target.write_bytes(content)
                else:
                    target.write_text(content, encoding="utf-8", newline="")
            if cache.is_dir():
                cache.rename(staging / ".cache")
                moved = True
            old = _swap_in(staging, out)
        except OSError as error:
            if moved:
                (staging / ".cache").rename(cache)
            _remove(staging)
            raise SolutionError(
                f"cannot write to {out}: {_reason(error)}; nothing was written."
            ) from error
        except BaseException:
            if moved:
                (staging / ".cache").rename(cache)
            _remove(staging)
            raise
    if old is not None:
        _remove(old)
    return out


def comparison_html(comparison: Comparison) -> str:
    """comparison.html: the side-by-side table and charts, one offline page."""
    from allocator.render.html import comparison_page

    return comparison_page(comparison.rows, comparison.settings_in_words())
