"""The ``allocator`` command: thin glue from files to solve to files.

Errors the package raises on purpose become exit codes here and nowhere else:
0 a solution was written, 1 the input was rejected, 2 usage error (click),
3 no solution found within the time limit.
"""

from __future__ import annotations

import datetime as dt
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from .domain import Instance, Lock
from .errors import AllocatorError, DataWarning, InstanceError

EXIT_INPUT = 1
EXIT_NO_SOLUTION = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="allocator")
def main() -> None:
    """Allocate a NAV office's caseload to teams and advisors.

    \b
    Example:
      allocator validate instances/hallingdal
      allocator solve instances/hallingdal
      allocator check instances/hallingdal solutions/hallingdal/latest
    """


@contextmanager
def user_errors() -> Iterator[None]:
    """Print DataWarnings and input errors plainly; never a traceback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            yield
        except InstanceError as error:
            show_warnings(caught)
            click.echo("error: the input was rejected; nothing was written.", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(EXIT_INPUT)
        except AllocatorError as error:
            show_warnings(caught)
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_INPUT)
        show_warnings(caught)


def show_warnings(caught: list[warnings.WarningMessage]) -> None:
    seen = set()
    for item in caught:
        text = str(item.message)
        if issubclass(item.category, DataWarning) and text not in seen:
            seen.add(text)
            click.echo(f"warning: {text}", err=True)


def parse_locks(pairs: tuple[str, ...], kind: str) -> list[Lock]:
    """--fix USER=ADVISOR / --forbid USER=ADVISOR into locks."""
    locks = []
    for pair in pairs:
        user, sep, advisor = pair.partition("=")
        if not sep or not user.strip() or not advisor.strip():
            raise click.BadParameter(f"expected USER=ADVISOR, got {pair!r}")
        locks.append(
            Lock(user=user.strip(), advisor=advisor.strip(), kind=kind, source=f"--{kind}")  # type: ignore[arg-type]
        )
    return locks


def load(folder: Path, locks: list[Lock] | None = None) -> Instance:
    from .read import read_instance

    return read_instance(folder, extra_locks=locks or [])


@main.command()
@click.argument("instance", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Solution folder (default solutions/<name>/<run>).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), help="Seconds (default: the policy's time_limit_s).")
@click.option("--seed", type=int, help="Random seed (default: the policy's seed).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="CP-SAT search workers.")
@click.option("--fix", "fixes", multiple=True, metavar="USER=ADVISOR", help="Lock a user to an advisor for this run (repeatable).")
@click.option("--forbid", "forbids", multiple=True, metavar="USER=ADVISOR", help="Never give this user this advisor (repeatable).")
@click.option("--solver", type=click.Choice(["cpsat", "greedy"]), default="cpsat", show_default=True, help="The optimiser, or the greedy baseline.")
@click.option("--quiet", is_flag=True, help="No progress line and no summary table.")
def solve(
    instance: Path,
    out: Path | None,
    time_limit: float | None,
    seed: int | None,
    workers: int,
    fixes: tuple[str, ...],
    forbids: tuple[str, ...],
    solver: str,
    quiet: bool,
) -> None:
    """Allocate every user of INSTANCE and write the solution folder.

    \b
    Example:
      allocator solve instances/hallingdal --time-limit 10 --seed 0
      allocator solve instances/tiny --out /tmp/tiny --fix u3=a2
    """
    from .run import run_solve

    locks = parse_locks(fixes, "fix") + parse_locks(forbids, "forbid")
    with user_errors():
        data = load(instance, locks)
        folder, report = run_solve(
            data,
            out=out,
            time_limit=time_limit,
            seed=seed,
            workers=workers,
            solver=solver,
            cli_locks=locks,
            progress=not quiet and sys.stderr.isatty(),
        )
    if not quiet:
        from .terminal import summary_table

        click.echo(summary_table(report.summary))
        click.echo(f"written: {folder}")
    if report.summary["status"] == "no_solution":
        sys.exit(EXIT_NO_SOLUTION)


@main.command()
@click.argument("instance", type=click.Path(exists=True, file_okay=False, path_type=Path))
def validate(instance: Path) -> None:
    """Read and check INSTANCE; show capacity against demand before solving.

    \b
    Example:
      allocator validate instances/hallingdal
    """
    from .capacity import capacity_overview
    from .problem import build_problem

    with user_errors():
        data = load(instance)
        problem = build_problem(data)
    click.echo(capacity_overview(problem))


@main.command()
@click.argument("instance", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("solution", type=click.Path(exists=True, file_okay=False, path_type=Path))
def check(instance: Path, solution: Path) -> None:
    """Check a SOLUTION folder against INSTANCE, rule by rule (FORMAT.md 4-5).

    Independent of the optimiser: exit 0 when every rule holds, else exit 1
    with one line per violation.

    \b
    Example:
      allocator check instances/hallingdal solutions/hallingdal/latest
    """
    from .checker import check_solution

    with user_errors():
        data = load(instance)
        violations = check_solution(data, solution)
    for line in violations:
        click.echo(line)
    if violations:
        click.echo(f"{len(violations)} violation(s).", err=True)
        sys.exit(EXIT_INPUT)
    click.echo(f"ok: {solution} obeys every rule.")


def default_run_folder(instance: Instance) -> Path:
    """solutions/<name>/<UTC timestamp>: a fresh folder per run."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("solutions") / instance.name / f"run-{stamp}"


Command = Callable[..., Any]
