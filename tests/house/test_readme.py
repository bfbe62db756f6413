"""The README's Python examples run as written (from a scratch folder)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def python_blocks(section: str) -> list[str]:
    """The ```python blocks of one README section (``## <section>``)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {section}\n")
    end = text.find("\n## ", start + 1)
    body = text[start : end if end != -1 else None]
    return re.findall(r"```python\n(.*?)```", body, flags=re.S)


def test_python_api_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocks = python_blocks("Python API")
    assert blocks, "the README lost its Python API example"
    shutil.copytree(ROOT / "instances", tmp_path / "instances")
    monkeypatch.chdir(tmp_path)
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    assert (
        tmp_path / "solutions" / "hallingdal" / "notebook" / "assignments.csv"
    ).is_file()


def test_readme_is_a_front_door() -> None:
    """At most 12 kB: what it is, install, first commands, links into docs/."""
    size = len((ROOT / "README.md").read_bytes())
    assert size <= 12_000, f"README.md is {size} bytes; move the detail into docs/"


def test_readme_test_command_is_what_ci_runs() -> None:
    """The README's test command and .ci/run's are the same line, exactly."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [
        line
        for line in readme.splitlines()
        if line.startswith("python3 -m venv") and "pytest" in line
    ]
    assert len(commands) == 1, commands
    assert commands[0] in ci.splitlines()


def test_readme_links_reach_files() -> None:
    """Every relative link of the README names a file of the repository."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [t for t in targets if "://" not in t]
    assert local, "the README links into docs/"
    missing = [t for t in local if not (ROOT / t).exists()]
    assert missing == []
