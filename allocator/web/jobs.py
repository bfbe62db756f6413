"""Solve jobs, each in its own process, at most one per CPU core at a time.

A job is a folder under the work directory::

    <workdir>/<id>/
      input/        the instance folder as uploaded (read_instance reads it)
      previous/     optional: last week's solution (folder or allocation.xlsx)
      scenario/     optional: the scenario file
      out/          the solution folder, written by the job's process
      spec.json     what to solve (written by the server)
      progress.json the latest improving solution (written by the process)
      result.json   status and summary at the end (written by the process)
      error.json    what went wrong, when the process failed on purpose

The server never solves: it starts a fresh ``spawn`` process per job, so a
crash in a job (even a segfault) leaves the server running and the job
``failed``. A stop leaves a ``stop`` file in the job's folder; the process
ends its search, writes the best allocation found so far, and the job is
``stopped``. Nothing here logs user data: only
job ids and statuses.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Literal

from allocator import i18n
from allocator.web.uploads import remove_tree

Status = Literal["queued", "solving", "done", "stopped", "failed"]
FINISHED: set[str] = {"done", "stopped", "failed"}

log = logging.getLogger("allocator.web")

# Progress is written at most this often (seconds); the last one always.
PROGRESS_EVERY_S = 0.25
# How long a stopped process may take to write its allocation before it is
# ended by force (its best allocation is then lost and the job failed).
STOP_GRACE_S = 60.0


@dataclass
class Job:
    """One solve request and what the server knows of its process."""

    id: str
    folder: Path
    created: float
    status: Status = "queued"
    parent: str | None = None
    locks: list[dict[str, str]] = field(default_factory=list)
    started: float | None = None
    finished: float | None = None
    process: BaseProcess | None = None
    stop_requested: float | None = None
    error: dict[str, Any] | None = None
    result: dict[str, Any] | None = None

    @property
    def out(self) -> Path:
        return self.folder / "out"

    def files(self) -> list[str]:
        """The solution folder's file names (empty until the job has written)."""
        if self.status not in {"done", "stopped"} or not self.out.is_dir():
            return []
        return sorted(p.name for p in self.out.iterdir() if p.is_file())

    def progress(self) -> dict[str, float | None]:
        """Elapsed seconds and the latest objective, bound and gap."""
        figures: dict[str, float | None] = {
            "elapsed_s": None,
            "objective": None,
            "bound": None,
            "gap": None,
        }
        if self.started is not None:
            end = self.finished or time.time()
            figures["elapsed_s"] = round(end - self.started, 1)
        latest = read_json(self.folder / "progress.json")
        if latest:
            figures.update({k: latest.get(k) for k in ("objective", "bound", "gap")})
        if self.result is not None:
            summary = self.result.get("summary") or {}
            for key in ("objective", "bound", "gap"):
                value = summary.get(key)
                if isinstance(value, int | float) and value == value:  # not NaN
                    figures[key] = value
        return figures


# What new_job_id makes: 32 lowercase hex digits.
JOB_ID = re.compile(r"[0-9a-f]{32}")


def new_job_id() -> str:
    """An id nobody can guess: it is the only key to a job's files."""
    return secrets.token_hex(16)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, so the server never reads half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, allow_nan=False, default=str), "utf-8")
    os.replace(temporary, path)


class JobManager:
    """Queues jobs, runs ``slots`` of them at a time, removes old ones.

    Args:
        workdir: where job folders live.
        slots: processes at once (default: one per CPU core).
        keep_s: seconds a finished job's folder is kept before removal.
        max_queued: jobs waiting at most; more are refused.
    """

    def __init__(
        self,
        workdir: Path,
        slots: int | None = None,
        keep_s: float = 24 * 3600.0,
        max_queued: int = 50,
        tick_s: float = 0.2,
    ) -> None:
        self.workdir = workdir
        self.slots = max(1, slots or os.cpu_count() or 1)
        self.keep_s = keep_s
        self.max_queued = max_queued
        self.tick_s = tick_s
        self.jobs: dict[str, Job] = {}
        self.lock = threading.RLock()
        self._context = multiprocessing.get_context("spawn")
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle -------------------------------------------------------

    def start(self) -> None:
        """Start the scheduler; first remove job folders no job owns.

        A server that stopped forgot its jobs, so their folders (personal
        data) would never expire; only names that are job ids are touched.
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.lock:
            owned = set(self.jobs)
        for path in self.workdir.iterdir():
            if JOB_ID.fullmatch(path.name) and path.name not in owned:
                remove_tree(path)
        self._thread = threading.Thread(target=self._run, name="jobs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """End every running process and stop the scheduler."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.lock:
            for job in self.jobs.values():
                if job.process is not None and job.process.is_alive():
                    job.process.kill()
                    job.process.join(timeout=5)

    def _run(self) -> None:
        while not self._closing.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # the scheduler must outlive any one job
                log.exception("job scheduler error")

    # -- jobs -------------------------------------------------------------

    def new_folder(self) -> tuple[str, Path]:
        """A fresh job id and its (empty) folder."""
        job_id = new_job_id()
        folder = self.workdir / job_id
        folder.mkdir(parents=True)
        return job_id, folder

    def queued(self) -> int:
        with self.lock:
            return sum(1 for job in self.jobs.values() if job.status == "queued")

    def submit(
        self,
        job_id: str,
        folder: Path,
        spec: dict[str, Any],
        parent: str | None = None,
        locks: list[dict[str, str]] | None = None,
    ) -> Job:
        """Queue a job whose folder holds its input; writes spec.json."""
        write_json(folder / "spec.json", spec)
        job = Job(
            id=job_id,
            folder=folder,
            created=time.time(),
            parent=parent,
            locks=list(locks or []),
        )
        with self.lock:
            self.jobs[job_id] = job
        log.info("job %s queued", job_id)
        self.tick()
        return job

    def get(self, job_id: str) -> Job | None:
        with self.lock:
            return self.jobs.get(job_id)

    def stop(self, job_id: str) -> Job | None:
        """Stop a job: a queued one never starts, a solving one keeps its best."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None or job.status in FINISHED:
                return job
            if job.status == "queued":
                job.status = "stopped"
                job.finished = time.time()
                log.info("job %s stopped before it started", job_id)
                return job
            if job.stop_requested is None and job.process is not None:
                job.stop_requested = time.time()
                # The job's process polls for this file and ends its search
                # (see watch_for_stop for why not a signal).
                (job.folder / "stop").touch()
                log.info("job %s stop requested", job_id)
            return job

    def tick(self) -> None:
        """Reap ended processes, start queued jobs, remove expired ones."""
        with self.lock:
            now = time.time()
            for job in self.jobs.values():
                if job.status == "solving":
                    self._reap(job, now)
            running = sum(1 for j in self.jobs.values() if j.status == "solving")
            for job in sorted(self.jobs.values(), key=lambda j: j.created):
                if running >= self.slots or self._closing.is_set():
                    break
                if job.status == "queued":
                    self._launch(job, now)
                    running += 1
            for job_id in [
                j.id
                for j in self.jobs.values()
                if j.status in FINISHED
                and j.finished is not None
                and now - j.finished > self.keep_s
            ]:
                remove_tree(self.jobs.pop(job_id).folder)
                log.info("job %s removed", job_id)

    def _launch(self, job: Job, now: float) -> None:
        process = self._context.Process(
            target=run_job, args=(str(job.folder),), name=f"job-{job.id[:8]}"
        )
        process.start()
        job.process = process
        job.status = "solving"
        job.started = now
        log.info("job %s solving", job.id)

    def _reap(self, job: Job, now: float) -> None:
        process = job.process
        assert process is not None
        if process.is_alive():
            if job.stop_requested and now - job.stop_requested > STOP_GRACE_S:
                process.kill()
            return
        process.join()
        job.finished = now
        result = read_json(job.folder / "result.json")
        if process.exitcode == 0 and result is not None:
            job.result = result
            job.status = "stopped" if result.get("stopped") else "done"
        else:
            job.status = "failed"
            job.error = read_json(job.folder / "error.json") or {
                "message": "the job's process ended unexpectedly "
                f"(exit code {process.exitcode}); the server goes on.",
                "problems": [],
            }
        log.info("job %s %s", job.id, job.status)


# -- the job's own process -----------------------------------------------------


def run_job(folder_text: str) -> None:
    """Solve the job in ``folder``: the entry point of the job's process.

    Writes ``out/`` and ``result.json`` (exit 0), or ``error.json`` (exit 1)
    with the located problems of a rejected input. A file ``stop`` appearing
    in the folder (or a SIGINT) ends the search; the best allocation found so
    far is written and the job is ``stopped``.
    """
    # Its own session: the Ctrl-C that stops the server in a terminal must
    # not reach the search (the server ends its jobs itself).
    if hasattr(os, "setsid"):  # not on Windows
        os.setsid()
    folder = Path(folder_text)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    watcher = threading.Thread(
        target=watch_for_stop, args=(folder / "stop", stop), daemon=True
    )
    watcher.start()
    try:
        result = solve_job(folder, stop)
    except Exception as error:
        write_json(folder / "error.json", describe_error(error))
        raise SystemExit(1) from None
    write_json(folder / "result.json", result)


def watch_for_stop(marker: Path, stop: threading.Event) -> None:
    """Turn the server's stop file into the search's stop event (polled).

    Not a signal: CP-SAT's own SIGINT handler logs from inside the handler
    and can deadlock in malloc (seen with OR-Tools 9.15); ``allocator.solve``
    ends the search from its ``stop`` event instead, keeping the best
    allocation so far.
    """
    while not stop.is_set():
        if marker.exists():
            stop.set()
        time.sleep(0.2)


def describe_error(error: Exception) -> dict[str, Any]:
    """A failed job's message and located problems, as the CLI would show."""
    from allocator.errors import AllocatorError, InstanceError

    if isinstance(error, InstanceError):
        return {
            "message": "the input was rejected; nothing was written.",
            "problems": [problem_dict(p) for p in error.problems],
        }
    if isinstance(error, AllocatorError):
        return {"message": str(error), "problems": []}
    return {
        "message": f"the job failed: {type(error).__name__}: {error}",
        "problems": [],
    }


def problem_dict(problem: Any) -> dict[str, Any]:
    return {
        "file": problem.file,
        "row": problem.row,
        "column": problem.column,
        "message": problem.message,
    }


def solve_job(folder: Path, stop: threading.Event) -> dict[str, Any]:
    """Read, solve and write the job's solution; returns result.json's data.

    The words of the reasons, the report and the workbook are in the spec's
    ``language`` (the page's), else in the instance's ``language`` key.
    """
    import warnings

    import allocator
    from allocator.errors import DataWarning

    spec = read_json(folder / "spec.json") or {}
    with (
        warnings.catch_warnings(record=True) as caught,
        i18n.language(spec.get("language")),
    ):
        warnings.simplefilter("always", DataWarning)
        instance = read_with_locks(Path(spec["instance"]), spec.get("locks", []))
        if spec.get("scenario"):
            instance = apply_scenario(instance, Path(spec["scenario"]))
    last = [0.0]

    def on_progress(elapsed: float, objective: float, bound: float) -> None:
        now = time.perf_counter()
        if now - last[0] < PROGRESS_EVERY_S:
            return
        last[0] = now
        gap = (
            0.0 if abs(objective) < 1e-9 else max(0.0, (objective - bound) / objective)
        )
        write_json(
            folder / "progress.json",
            {"elapsed_s": elapsed, "objective": objective, "bound": bound, "gap": gap},
        )

    options: dict[str, Any] = {
        "time_limit": spec.get("time_limit"),
        "seed": spec.get("seed"),
        "previous": spec.get("previous"),
        "progress": on_progress,
        "stop": stop,
    }
    with i18n.language(spec.get("language") or instance.language):
        solution = allocator.solve(instance, **options)
        solution.write(folder / "out", xlsx=True)
    return {
        "stopped": stop.is_set(),
        "summary": solution.summary,
        "warnings": sorted({str(w.message) for w in caught}),
    }


def read_with_locks(folder: Path, locks: list[dict[str, str]]) -> Any:
    """read_instance with the page's fix/forbid locks."""
    import allocator
    from allocator.domain import Lock

    extra = [
        Lock(
            user=lock["user"],
            advisor=lock["advisor"],
            kind=lock["kind"],  # type: ignore[arg-type]
            source=lock["kind"],
        )
        for lock in locks
    ]
    return allocator.read_instance(folder, locks=extra)


class ScenarioUnavailable(Exception):
    """This installation has no scenario support yet."""


def apply_scenario(instance: Any, path: Path) -> Any:
    """The instance changed by a scenario file (FORMAT.md section 6).

    Raises:
        ScenarioUnavailable: no scenario module in this installation.
        InstanceError: the scenario was rejected (located problems).
    """
    import importlib

    import allocator

    function = getattr(allocator, "apply_scenario", None)
    if function is None:
        try:
            module = importlib.import_module("allocator.scenario")
        except ImportError:
            module = None
        function = getattr(module, "apply_scenario", None)
    if function is None:
        raise ScenarioUnavailable
    return function(instance, path)
