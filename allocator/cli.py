"""The ``allocator`` command: thin glue from files to solve to files.

Errors the package raises on purpose become exit codes here and nowhere else:
0 a solution was written, 1 the input was rejected, 2 usage error (click),
3 no solution found within the time limit.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


INSTANCE_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Solution folder (default solutions/<name>/run-<time>).")
@click.option("--time-limit", type=click.FloatRange(min=0.1), help="Seconds (default: the policy's time_limit_s).")
@click.option("--seed", type=int, help="Random seed (default: the policy's seed).")
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="CP-SAT search workers.")
@click.option("--previous", type=INSTANCE_DIR, help="Last week's solution folder: its advisors become current advisors.")
@click.option("--rebalance", is_flag=True, help="Allow moves that improve the balance (default: move only when forced).")
@click.option("--max-moves", type=click.IntRange(min=0), help="With --rebalance: at most N voluntary moves.")
@click.option("--fix", "fixes", multiple=True, metavar="USER=ADVISOR", help="Lock a user to an advisor for this run (repeatable).")
@click.option("--forbid", "forbids", multiple=True, metavar="USER=ADVISOR", help="Never give this user this advisor (repeatable).")
@click.option("--xlsx", is_flag=True, help="Also write allocation.xlsx with every report as a sheet.")
@click.option("--solver", type=click.Choice(["cpsat", "greedy"]), default="cpsat", show_default=True, help="The optimiser, or the greedy baseline.")
@click.option("--quiet", is_flag=True, help="No progress line and no summary table.")
def solve(
    instance: Path,
    out: Path | None,
    time_limit: float | None,
    seed: int | None,
    workers: int,
    previous: Path | None,
    rebalance: bool,
    max_moves: int | None,
    fixes: tuple[str, ...],
    forbids: tuple[str, ...],
    xlsx: bool,
    solver: str,
    quiet: bool,
) -> None:
    """Allocate every user of INSTANCE and write the solution folder.

    \b
    Example:
      allocator solve instances/hallingdal
      allocator solve instances/hallingdal-week2 --previous solutions/hallingdal/week1 --xlsx
      allocator solve instances/tiny --out /tmp/tiny --fix u5=a2 --forbid u6=a3
    """
    from .run import RunOptions, run_solve

    if max_moves is not None and not rebalance:
        raise click.UsageError("--max-moves needs --rebalance.")
    locks = parse_locks(fixes, "fix") + parse_locks(forbids, "forbid")
    options = RunOptions(
        out=out,
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        solver=solver,
        cli_locks=locks,
        previous=previous,
        rebalance=rebalance,
        max_moves=max_moves,
        xlsx=xlsx,
        progress=not quiet and sys.stderr.isatty(),
    )
    with user_errors():
        data = load(instance, locks)
        outcome = run_solve(data, options)
    summary = outcome.report.summary
    if not quiet:
        from .terminal import summary_table

        click.echo(summary_table(summary))
        click.echo(f"written: {outcome.folder}")
    if summary["status"] == "no_solution":
        sys.exit(EXIT_NO_SOLUTION)


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@click.argument("solution", type=INSTANCE_DIR)
@click.argument("user")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def explain(instance: Path, solution: Path, user: str, as_json: bool) -> None:
    """Why USER got their advisor in SOLUTION, and not another one.

    Names the routing rule, the goals the chosen advisor served, and for
    every other advisor of a matching team the rule or goal that ruled them
    out, with the figures.

    \b
    Example:
      allocator explain instances/tiny solutions/tiny/reference u6
    """
    import json

    from .explain import explain as explain_user
    from .explain import explain_text

    with user_errors():
        data = explain_user(load(instance), solution, user)
    click.echo(json.dumps(data, indent=2) if as_json else explain_text(data))


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
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
@click.argument("instance", type=INSTANCE_DIR)
@click.argument("solution", type=INSTANCE_DIR)
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
