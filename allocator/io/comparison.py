"""Writes a comparison's folder (README format, section 7).

```
DIR/comparison.csv        one row per scenario and seed
DIR/comparison.json       the same, plus settings, versions and input hashes
DIR/<scenario>/instance/  the changed instance, as an ordinary instance folder
DIR/<scenario>/seed-<s>/  the solution folder of that seed (section 5)
DIR/.cache/               results by hash, so a rerun skips unchanged work
```

Each folder is written atomically (``write.write_folder``); comparison.csv
and comparison.json come last, so a folder with them is complete.
"""

from __future__ import annotations

import importlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from allocator.domain import Instance
from allocator.errors import SolutionError
from allocator.io.write import csv_text, write_folder

if TYPE_CHECKING:
    from allocator.compare import Comparison


def check_comparison_target(out: Path) -> None:
    """Refuse an --out folder that holds anything but an earlier comparison.

    A comparison replaces its structures' folders, so an instance folder or
    a home directory must fail before anything is touched. A folder with
    only the cache of an interrupted comparison is accepted.
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise SolutionError(f"--out {out} exists and is not a folder.")
    earlier = (out / "comparison.json").is_file() or (out / ".cache").is_dir()
    if any(out.iterdir()) and not earlier:
        raise SolutionError(
            f"--out {out} exists and is not a comparison folder (no "
            "comparison.json); choose a new or empty folder."
        )


def instance_writer() -> Callable[[Instance, Path], None]:
    """The writer of instance folders: ``write_instance(instance, folder)``.

    The scenario module's (what ``allocator scenario`` writes), else the
    instance-file writer's, else the generator's, which writes the same
    format (section 1) with its arguments the other way round.
    """
    for module in ("allocator.scenario", "allocator.io.instance_files"):
        try:
            writer = importlib.import_module(module).write_instance
        except (ImportError, AttributeError):
            continue
        return cast(Callable[[Instance, Path], None], writer)
    from allocator.generate import write_instance

    return lambda instance, folder: write_instance(folder, instance)


def instance_files(instance: Instance) -> dict[str, str | bytes]:
    """An instance folder's files by name, as the writer writes them."""
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "instance"
        instance_writer()(instance, folder)
        return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def comparison_json(comparison: Comparison) -> str:
    return json.dumps(comparison.document(), indent=2, ensure_ascii=False) + "\n"


def write_comparison(comparison: Comparison, out: Path) -> Path:
    """Write the section 7 folder (and comparison.html); returns its path.

    Raises:
        SolutionError: ``out`` exists and is not a comparison folder.
    """
    from allocator.compare import COLUMNS

    check_comparison_target(out)
    out.mkdir(parents=True, exist_ok=True)
    for sid, instance in comparison.structures.items():
        write_folder(instance_files(instance), out / sid / "instance")
    for (sid, seed), files in comparison.solutions.items():
        texts: dict[str, str | bytes] = dict(files)
        write_folder(texts, out / sid / f"seed-{seed}")
    rows: list[dict[str, Any]] = comparison.rows
    (out / "comparison.csv").write_text(
        csv_text(rows, COLUMNS), encoding="utf-8", newline=""
    )
    (out / "comparison.json").write_text(comparison_json(comparison), encoding="utf-8")
    (out / "comparison.html").write_text(comparison_html(comparison), encoding="utf-8")
    return out


def comparison_html(comparison: Comparison) -> str:
    """comparison.html: the side-by-side table and charts, one offline page."""
    from allocator.render.html import comparison_page

    settings = {
        "instance": comparison.inputs.get("instance", ""),
        **comparison.settings,
    }
    return comparison_page(comparison.rows, settings)
