"""Writing the solution folder: checked before the solve, whole or not at all.

An --out that cannot be written fails before the solve (exit 1, no
traceback); folders get the user's usual permissions; nothing hidden is left
beside them; two runs writing the same --out at once leave one whole folder.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.errors import DataWarning, SolutionError
from allocator.io import folder as folder_module
from allocator.io.folder import check_writable, write_folder

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "instances" / "tiny"


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def as_plain_user() -> list[str]:
    """A command prefix under which file modes apply (root ignores them):
    nothing for a normal user, root without its override capabilities."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: modes are not enforced")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner"]


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*as_plain_user(), sys.executable, "-m", "allocator", *map(str, args)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def test_read_only_parent_fails_before_the_solve(tmp_path):
    """The case readonly-out-traceback: exit 1, the cause, no traceback."""
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        done = cli("solve", TINY, "--out", locked / "sol", "--quiet")
        deeper = cli("solve", TINY, "--out", locked / "a" / "b", "--quiet")
    finally:
        locked.chmod(0o755)
    assert done.returncode == 1
    assert done.stderr == (
        f"error: cannot write to {locked / 'sol'}: permission denied in {locked}.\n"
    )
    assert deeper.returncode == 1 and "permission denied" in deeper.stderr
    assert siblings(locked) == []


def test_read_only_earlier_solution_is_replaced_without_leftovers(tmp_path):
    out = tmp_path / "old"
    assert cli("solve", TINY, "--out", out, "--quiet").returncode == 0
    for path in [*out.iterdir(), out]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    done = cli("solve", TINY, "--out", out, "--quiet", "--fix", "u6=a2")
    assert done.returncode == 0, done.stderr
    assert "u6,sor,t-follow,a2" in (out / "assignments.csv").read_text()
    assert siblings(tmp_path) == ["old"]


def test_folders_and_files_follow_the_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        write_folder({"a.csv": "x\n"}, tmp_path / "sol")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "sol").stat().st_mode) == 0o750
    assert stat.S_IMODE((tmp_path / "sol" / "a.csv").stat().st_mode) == 0o640


def test_a_file_in_the_way_of_out_is_named(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(SolutionError, match="is not a folder"):
        check_writable(tmp_path / "file" / "sol")
    code, _, stderr = run("solve", TINY, "--out", tmp_path / "file" / "sol")
    assert code == 1 and "cannot write to" in stderr and "is not a folder" in stderr


RACER = """
import collections, sys
from pathlib import Path
from allocator.io.write import write_folder
out, n, tag = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
errors = collections.Counter()
for i in range(n):
    files = {"summary.json": f'{{"tag": "{tag}{i}"}}\\n', "assignments.csv": f"user\\n{tag}{i}\\n"}
    try:
        write_folder(files, out)
    except Exception as error:
        errors[type(error).__name__] += 1
print(dict(errors))
"""


def test_two_processes_writing_one_folder_leave_it_whole(tmp_path):
    """The case write-race-latent, at the writer: 2 x 300 writes, no failure,
    no hidden folder left, and the last folder's files come from one write."""
    out = tmp_path / "race"
    out.mkdir()
    (out / "summary.json").write_text("{}")
    script = tmp_path / "race.py"
    script.write_text(RACER)
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONWARNINGS="ignore")
    racers = [
        subprocess.Popen(
            [sys.executable, script, out, "300", tag],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in "AB"
    ]
    results = [racer.communicate(timeout=300)[0].strip() for racer in racers]
    assert results == ["{}", "{}"]
    assert siblings(tmp_path) == ["race", "race.py"]
    tag = (out / "summary.json").read_text().split('"')[3]
    assert (out / "assignments.csv").read_text() == f"user\n{tag}\n"


def test_two_solves_into_one_out_at_once(tmp_path):
    out = tmp_path / "sol"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "allocator", "solve", str(TINY), "--out", str(out)]
    runs = [
        subprocess.Popen([*command, "--quiet"], env=env, cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    outputs = [r.communicate(timeout=300) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    assert all(o[0] == f"written: {out}\n" for o in outputs)
    assert siblings(tmp_path) == ["sol"]
    assert run("check", TINY, out)[0] == 0


def test_a_writer_waits_for_the_lock_and_says_so(tmp_path):
    out = tmp_path / "sol"
    handle = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(handle, fcntl.LOCK_EX)
    threading.Timer(0.5, lambda: os.close(handle)).start()
    started = time.monotonic()
    with pytest.warns(DataWarning, match=r"waited \d\.\d s for another run writing"):
        write_folder({"a.csv": "x\n"}, out)
    assert time.monotonic() - started >= 0.4
    assert (out / "a.csv").read_text() == "x\n"


def test_without_renameat2_the_two_renames_still_replace_whole(tmp_path, monkeypatch):
    """File systems without an atomic exchange take the fallback path."""
    monkeypatch.setattr(folder_module, "_libc_rename", lambda *_: False)
    out = tmp_path / "sol"
    write_folder({"a.csv": "1\n", "b.csv": "1\n"}, out)
    write_folder({"a.csv": "2\n"}, out)
    assert siblings(out) == ["a.csv"] and (out / "a.csv").read_text() == "2\n"
    assert siblings(tmp_path) == ["sol"]


def test_a_failed_write_leaves_the_earlier_folder_and_nothing_hidden(tmp_path):
    out = tmp_path / "sol"
    write_folder({"a.csv": "1\n"}, out)
    with pytest.raises(SolutionError, match="nothing was written"):
        write_folder({"a.csv": "2\n", "sub/b.csv": "x"}, out)
    assert (out / "a.csv").read_text() == "1\n"
    assert siblings(tmp_path) == ["sol"]


def test_quiet_still_prints_the_folder_written(tmp_path):
    code, stdout, _ = run("solve", TINY, "--out", tmp_path / "s", "--quiet")
    assert code == 0 and stdout == f"written: {tmp_path / 's'}\n"


def test_hidden_folders_of_a_killed_run_are_swept(tmp_path):
    """A run killed mid-write (SIGKILL, power cut) leaves its staging folder;
    the next write next to it removes it, but never one of a live process."""
    dead = tmp_path / ".sol-new-999999999-deadbeef"
    live = tmp_path / f".sol-old-{os.getpid()}-cafe0000"
    other = tmp_path / ".other-new-999999999-deadbeef"
    for path in (dead, live, other):
        path.mkdir()
        (path / "a.csv").write_text("x")
    write_folder({"a.csv": "1\n"}, tmp_path / "sol")
    assert siblings(tmp_path) == sorted([live.name, other.name, "sol"])


def test_a_symlinked_out_is_written_where_it_points(tmp_path):
    target = tmp_path / "real"
    write_folder({"a.csv": "1\n"}, target)
    link = tmp_path / "link"
    link.symlink_to(target)
    write_folder({"a.csv": "2\n"}, link)
    assert link.is_symlink() and (target / "a.csv").read_text() == "2\n"
    assert siblings(tmp_path) == ["link", "real"]


def test_ctrl_c_during_the_exchange_takes_effect_after_it(tmp_path, monkeypatch):
    """The swap of old and new folder is never cut in half by Ctrl-C."""
    out = tmp_path / "sol"
    write_folder({"a.csv": "1\n"}, out)
    real_swap = folder_module._swap_in

    def swap_with_a_ctrl_c(staging: Path, target: Path) -> Path | None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)  # the handler has run by now, and must not have raised
        return real_swap(staging, target)

    monkeypatch.setattr(folder_module, "_swap_in", swap_with_a_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        write_folder({"a.csv": "2\n"}, out)
    assert (out / "a.csv").read_text() == "2\n"
    assert siblings(tmp_path) == ["sol"]
