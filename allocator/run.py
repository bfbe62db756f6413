"""One solve from instance to written folder: the steps the CLI chains."""

from __future__ import annotations

import time
from pathlib import Path

from .domain import Instance, Lock
from .greedy import solve_greedy
from .problem import build_problem
from .reasons import explain_all
from .report import Report, build_report
from .solve import SolveParams, solve
from .terminal import ProgressLine
from .write import report_files, write_folder


def run_solve(
    instance: Instance,
    *,
    out: Path | None = None,
    time_limit: float | None = None,
    seed: int | None = None,
    workers: int = 2,
    solver: str = "cpsat",
    cli_locks: list[Lock] | None = None,
    progress: bool = False,
    extra_cpsat: dict[str, object] | None = None,
) -> tuple[Path, Report]:
    """Solve ``instance`` and write its solution folder; return both."""
    from .cli import default_run_folder

    params = SolveParams(
        time_limit=time_limit if time_limit is not None else instance.policy.time_limit_s,
        seed=seed if seed is not None else instance.policy.seed,
        workers=workers,
        extra=extra_cpsat or {},
    )
    start = time.perf_counter()
    problem = build_problem(instance)
    greedy = solve_greedy(problem)
    if solver == "greedy":
        result = greedy
    else:
        line = ProgressLine() if progress else None
        result = solve(
            problem,
            params,
            hint=greedy.allocation,
            progress=line.update if line else None,
        )
        if line:
            line.close()
    result.wall_s = time.perf_counter() - start
    reasons = explain_all(problem, result.allocation)
    extra = {
        "seed": params.seed,
        "time_limit_s": params.time_limit,
        "workers": params.workers,
        "cli_locks": [
            {"user": lock.user, "advisor": lock.advisor, "kind": lock.kind}
            for lock in cli_locks or []
        ],
    }
    report = build_report(problem, result, reasons, extra)
    folder = out if out is not None else default_run_folder(instance)
    files: dict[str, str | bytes] = dict(report_files(report))
    files["progress.csv"] = progress_csv(result.log)
    write_folder(files, folder)
    return folder, report


def progress_csv(log: list[tuple[float, float, float]]) -> str:
    """The solver's improving solutions, for the solution folder."""
    lines = ["elapsed_s,objective,bound"]
    lines += [f"{t:.3f},{obj:.2f},{bound:.2f}" for t, obj, bound in log]
    return "\n".join(lines) + "\n"
