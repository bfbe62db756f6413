"""Ctrl-C (SIGINT) sent to a real ``allocator solve`` process.

The first Ctrl-C during the search writes the best allocation so far,
marked "interrupted", exit 130; a second one aborts and writes nothing; one
while reading writes nothing. An earlier solution folder is only ever
replaced whole. Each test starts the command line in its own process and
signals it, as a leader's terminal would.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from allocator.engine.cpsat.solver import Result
from allocator.generate import Shape, office_instance, write_instance
from allocator.run import interruptible_search

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest.fixture(scope="module")
def week(tmp_path_factory) -> Path:
    """A generated office's first allocation whose family team the search
    does not prove for a long time (3.9 % after 7 deterministic units), so
    with --deterministic-time 1000 it is still searching minutes later."""
    folder = tmp_path_factory.mktemp("interrupts") / "week"
    write_instance(folder, office_instance(25, shape=Shape(first_allocation=True)))
    return folder


# A test hook in the child: the first table read prints "reading" and then
# waits, so a signal sent on that line lands inside the reader on any
# machine, however fast it reads.
PAUSE_READING = (
    "import time, allocator.io.input_tables as read; real = read.parse_csv\n"
    "def paused(*args, **kwargs):\n"
    "    print('reading', file=sys.stderr, flush=True); time.sleep(120)\n"
    "    return real(*args, **kwargs)\n"
    "read.parse_csv = paused\n"
)


def start(
    *args: str | Path, ready: bool = False, pause_reading: bool = False
) -> subprocess.Popen[str]:
    """The command line in a child process; ``ready`` prints a line once the
    package is imported (so a signal then lands in the command, not in the
    interpreter's start-up); ``pause_reading`` holds it in the reader (see
    PAUSE_READING)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = (
        "import sys\nfrom allocator.cli import main\n"
        + (PAUSE_READING if pause_reading else "")
        + "print('ready', file=sys.stderr, flush=True)\n"
        "main(sys.argv[1:], prog_name='allocator')\n"
    )
    command = (
        [sys.executable, "-c", code]
        if ready or pause_reading
        else [sys.executable, "-m", "allocator"]
    )
    return subprocess.Popen(
        [*command, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def wait_for(process: subprocess.Popen[str], text: str, lines: list[str]) -> None:
    """Read stderr until a line holds ``text`` (kept in ``lines``)."""
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return
    raise AssertionError(f"never saw {text!r}: {lines}")


def finish(process: subprocess.Popen[str], lines: list[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=120)
    return process.returncode, out, "".join(lines) + err


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
    }


def earlier_solution(week: Path, out: Path) -> dict[str, str]:
    """A finished plan at ``out`` (the greedy: quick), and its files' hashes."""
    done = subprocess.run(
        [sys.executable, "-m", "allocator", "solve", week, "--out", out,
         "--solver", "greedy", "--quiet"],
        env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, capture_output=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return digests(out)


def long_search(week: Path, out: Path) -> subprocess.Popen[str]:
    return start(
        "solve", week, "--out", out, "--time-limit", "120",
        "--deterministic-time", "1000",
    )  # fmt: skip


def test_first_ctrl_c_during_search_writes_best_so_far(week, tmp_path):
    """Exit 130; summary.json and the screen say interrupted; the folder
    holds a whole, checkable solution no worse than the greedy start."""
    out = tmp_path / "sol"
    before = earlier_solution(week, out)
    process = long_search(week, out)
    lines: list[str] = []
    wait_for(process, "searching: first allocation", lines)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    code, stdout, stderr = finish(process, lines)
    assert code == 130, stderr
    assert "interrupted: stopping the search" in stderr
    assert "best allocation found so far was written" in stderr
    assert "stopped by     interrupted" in stdout
    assert f"written: {out}" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["stopped_by"] == "interrupted"
    assert summary["solver"] == "cpsat"
    assert summary["wall_s"] < 60
    assert summary["objective"] <= summary["greedy_objective"]
    assert digests(out) != before
    assert sorted(digests(out)) == sorted(before)
    assert [p.name for p in tmp_path.iterdir()] == ["sol"]
    checked = subprocess.run(
        [sys.executable, "-m", "allocator", "check", week, out],
        env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT, capture_output=True,
        text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout


def test_second_ctrl_c_aborts_and_keeps_the_earlier_folder(week, tmp_path):
    out = tmp_path / "sol"
    before = earlier_solution(week, out)
    process = long_search(week, out)
    lines: list[str] = []
    wait_for(process, "searching: first allocation", lines)
    process.send_signal(signal.SIGINT)
    wait_for(process, "Ctrl-C again to abort", lines)
    process.send_signal(signal.SIGINT)
    code, _, stderr = finish(process, lines)
    assert code == 130, stderr
    assert "interrupted: nothing was written." in stderr
    assert "Traceback" not in stderr and "terminate" not in stderr
    assert digests(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["sol"]


def test_ctrl_c_while_reading_writes_nothing(week, tmp_path):
    """A signal that lands in the reader (held there by a test hook, so no
    machine is too fast for it) writes nothing, before any search."""
    out = tmp_path / "sol"
    before = earlier_solution(week, out)
    process = start("solve", week, "--out", out, "--time-limit", "60",
                    pause_reading=True)  # fmt: skip
    lines: list[str] = []
    wait_for(process, "reading", lines)
    process.send_signal(signal.SIGINT)
    code, stdout, stderr = finish(process, lines)
    assert code == 130, stderr
    assert "searching" not in stderr
    assert "interrupted: nothing was written." in stderr
    assert "Traceback" not in stderr and "written:" not in stdout
    assert digests(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["sol"]


class FakeSearch:
    """A search stand-in that says which phase it is in (events, not clock
    time), so a test signals it in the phase it means on any machine.

    ``build_until_stopped``: the build lasts until the first Ctrl-C has
    been handled (the signal lands in the build however slow the machine);
    otherwise the build takes no time. ``wind_down``: after the search
    stops, the worker waits for ``released`` before handing back its result.
    """

    def __init__(self, build_until_stopped: bool = False, wind_down: bool = False):
        self.build_until_stopped = build_until_stopped
        self.wind_down = wind_down
        self.seen: list[bool] = []
        self.created = time.perf_counter()
        self.building = threading.Event()
        self.searching = threading.Event()
        self.winding = threading.Event()
        self.released = threading.Event()

    def __call__(self, stop: threading.Event) -> Result:
        self.building.set()
        build_s = 0.0
        if self.build_until_stopped:
            stop.wait(60)
            # Measured from before the search began: the press came earlier.
            build_s = time.perf_counter() - self.created
        self.searching.set()
        stopped = stop.wait(60)
        self.winding.set()
        if self.wind_down:
            self.released.wait(60)
        self.seen.append(stopped)
        return Result(
            status="feasible", objective=1.0, bound=0.0, wall_s=0.0,
            build_s=build_s, time_to_first_s=0.0, allocation=[],
            stopped_by="interrupted" if stopped else "wall_clock",
        )  # fmt: skip


def signal_when(*phases: threading.Event, then: threading.Event | None = None) -> None:
    """Send SIGINT to this process once each phase has begun, in order; then
    (after a last, generous pause for the handler) set ``then``."""

    def send() -> None:
        for phase in phases:
            assert phase.wait(60)
            os.kill(os.getpid(), signal.SIGINT)
        if then is not None:
            time.sleep(0.5)
            then.set()

    threading.Thread(target=send, daemon=True).start()


def test_interrupt_during_build_raises_once_the_worker_is_done():
    search = FakeSearch(build_until_stopped=True)
    signal_when(search.building)
    with pytest.raises(KeyboardInterrupt):
        interruptible_search(search)  # type: ignore[arg-type]
    assert search.seen == [True]


def test_one_interrupt_during_search_returns_the_result():
    search = FakeSearch()
    told: list[str] = []
    signal_when(search.searching)
    result = interruptible_search(search, lambda: told.append("x"))  # type: ignore[arg-type]
    assert search.seen == [True] and told == ["x"]
    assert result.stopped_by == "interrupted"
    # The earlier handler is back: pytest's, which raises KeyboardInterrupt.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_two_interrupts_abort_after_the_search_stopped():
    """The second press comes while the search is still stopping: the
    abort waits for the worker to finish, then raises."""
    search = FakeSearch(wind_down=True)
    signal_when(search.searching, search.winding, then=search.released)
    with pytest.raises(KeyboardInterrupt):
        interruptible_search(search)  # type: ignore[arg-type]
    assert search.seen == [True]
