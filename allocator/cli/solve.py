"""``allocator solve``: read, solve, write, print."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from allocator.cli.common import (
    DETERMINISTIC_TIME,
    EXIT_INTERRUPTED,
    EXIT_NO_SOLUTION,
    INSTANCE_DIR,
    LANG_OPTION,
    SCENARIO_OPTION,
    SEED,
    TIME_LIMIT,
    WORKERS,
    load,
    main,
    parse_locks,
    user_errors,
)
from allocator.render.text import written_line


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Solution folder (default solutions/<name>/run-<time>).",
)
@click.option(
    "--time-limit",
    type=TIME_LIMIT,
    help="Seconds (default: the policy's time_limit_s).",
)
@click.option("--seed", type=SEED, help="Random seed (default: the policy's seed).")
@click.option(
    "--workers",
    type=WORKERS,
    help="CP-SAT subsolvers in the search's second round, interleaved so the "
    "answer is reproducible (default: 8; the first round always runs single "
    "workers, and summary.json's workers is the most any call used).",
)
@click.option(
    "--deterministic-time",
    type=DETERMINISTIC_TIME,
    help="CP-SAT deterministic-time budget of the whole search (default: "
    "sized from the problem, 5 to 6 units at 10 s, scaled with --time-limit); "
    "a search it ends is reproducible.",
)
@click.option(
    "--portfolio",
    is_flag=True,
    help="Run the workers as CP-SAT's free parallel portfolio: faster on very "
    "large instances, not reproducible under a time limit.",
)
@click.option(
    "--previous",
    type=click.Path(exists=True, path_type=Path),
    help="Last week's solution folder, or its allocation.xlsx as the leader "
    "edited it: its advisors become current advisors (and its lock column "
    "this week's locks).",
)
@click.option(
    "--strict-previous",
    is_flag=True,
    help="Refuse a --previous plan that lacks users of users.csv who are not "
    "new (rows deleted); without it they get a warning and are placed as if "
    "they had no plan.",
)
@click.option(
    "--rebalance",
    is_flag=True,
    help="Allow moves that improve the balance (default: move only when forced).",
)
@click.option(
    "--max-moves",
    type=click.IntRange(min=0),
    help="With --rebalance: at most N voluntary moves.",
)
@click.option(
    "--fix",
    "fixes",
    multiple=True,
    metavar="USER=ADVISOR",
    help="Lock a user to an advisor for this run (repeatable).",
)
@click.option(
    "--forbid",
    "forbids",
    multiple=True,
    metavar="USER=ADVISOR",
    help="Never give this user this advisor (repeatable).",
)
@click.option(
    "--xlsx/--no-xlsx",
    default=True,
    show_default=True,
    help="Write allocation.xlsx (summary, names, filters, a lock column).",
)
@click.option(
    "--solver",
    type=click.Choice(["cpsat", "greedy"]),
    default="cpsat",
    show_default=True,
    help="The optimiser, or the greedy baseline.",
)
@click.option(
    "--dask",
    metavar="ADDRESS|local",
    help="Solve in parts: split INSTANCE into independent parts (offices that "
    "share nothing) and solve each, as solve solves it alone (its own budget; "
    "--time-limit is per part), on a Dask scheduler (e.g. tcp://host:8786) or "
    "a LocalCluster ('local'); one merged solution folder. Equal-cost "
    "allocations may differ from a single solve's; the same command gives "
    "the same files.",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    help="Solve in parts with at most P parts at once (--dask local: the "
    "number of Dask workers, default one per core; without --dask: local "
    "processes).",
)
@click.option("--quiet", is_flag=True, help="No progress line and no summary table.")
@SCENARIO_OPTION
@LANG_OPTION
def solve(
    instance: Path,
    out: Path | None,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    deterministic_time: float | None,
    portfolio: bool,
    previous: Path | None,
    strict_previous: bool,
    rebalance: bool,
    max_moves: int | None,
    fixes: tuple[str, ...],
    forbids: tuple[str, ...],
    xlsx: bool,
    solver: str,
    dask: str | None,
    parallel: int | None,
    quiet: bool,
    scenario: Path | None,
) -> None:
    """Allocate every user of INSTANCE and write the solution folder.

    \b
    Example:
      allocator solve instances/hallingdal
      allocator solve instances/hallingdal-week2 \\
          --previous solutions/hallingdal/week1 --xlsx
      allocator solve instances/tiny --out /tmp/tiny --fix u5=a2 --forbid u6=a3
      allocator solve /tmp/national --dask local --parallel 2 --no-xlsx

    Ctrl-C during the search stops it and writes the best allocation found
    so far (exit 130); a second Ctrl-C, or one while reading, aborts and
    writes nothing. An earlier folder at --out is only ever replaced whole.
    A solve in parts (--dask, --parallel) writes nothing when interrupted.
    """
    if dask or parallel:
        solve_parts_command(
            instance, out, time_limit, seed, workers, deterministic_time,
            portfolio, previous, strict_previous, rebalance, max_moves,
            fixes, forbids, xlsx, solver, dask, parallel, quiet, scenario,
        )  # fmt: skip
        return
    import gc
    import signal
    import threading

    from allocator import solution_folder
    from allocator import solve as solve_instance

    # A script that starts solve in the background (cmd &) hands it SIGINT
    # ignored; Ctrl-C or kill -INT must still mean what the help says.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if max_moves is not None and not rebalance:
        from allocator.i18n import _

        raise click.UsageError(_("--max-moves needs --rebalance."))
    locks = parse_locks(fixes, "fix") + parse_locks(forbids, "forbid")
    # Where no live line can be drawn (a log), one line at the first allocation.
    told = quiet or sys.stderr.isatty()

    def searching(elapsed: float, objective: float, bound: float) -> None:
        nonlocal told
        if not told:
            told = True
            searching_line(elapsed)

    def interrupted() -> None:
        click.echo(
            "\ninterrupted: stopping the search; the best allocation so far will "
            "be written (Ctrl-C again to abort and write nothing).",
            err=True,
        )

    # The modules, and below the instance and the solution, live until the
    # process ends: frozen, the collector no longer walks them on each full
    # collection (about 0.4 s of CPU on lillestrom-week2's 8,400 users).
    gc.freeze()
    with user_errors():
        data = load(instance, locks, scenario)
        gc.freeze()
        folder = solution_folder(data, out)
        solution = solve_instance(
            data,
            time_limit=time_limit,
            seed=seed,
            previous=previous,
            workers=workers,
            rebalance=rebalance,
            max_moves=max_moves,
            solver=solver,
            deterministic_time=deterministic_time,
            portfolio=portfolio,
            progress=None if told else searching,
            strict_previous=strict_previous,
            locks=locks,
            interruptible=True,
            on_interrupt=interrupted,
            progress_line=not quiet and sys.stderr.isatty(),
        )
        gc.freeze()
        solution.write(folder, xlsx=xlsx)
    summary = solution.summary
    if summary.get("previous_read"):
        click.echo(f"previous: {summary['previous_read']}", err=True)
    if not quiet:
        from allocator.render.text import summary_table

        click.echo(summary_table(summary))
    click.echo(written_line(folder))
    if summary.get("stopped_by") == "interrupted":
        click.echo(
            "interrupted: the search was stopped early; the best allocation "
            "found so far was written.",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    if summary["status"] == "no_solution":
        sys.exit(EXIT_NO_SOLUTION)


def searching_line(elapsed: float) -> None:
    """Where no live progress line can be drawn (a log): one line instead."""
    click.echo(
        f"searching: first allocation after {elapsed:.1f} s; Ctrl-C stops the "
        "search and writes the best so far.",
        err=True,
    )


def solve_parts_command(
    instance: Path,
    out: Path | None,
    time_limit: float | None,
    seed: int | None,
    workers: int | None,
    deterministic_time: float | None,
    portfolio: bool,
    previous: Path | None,
    strict_previous: bool,
    rebalance: bool,
    max_moves: int | None,
    fixes: tuple[str, ...],
    forbids: tuple[str, ...],
    xlsx: bool,
    solver: str,
    dask: str | None,
    parallel: int | None,
    quiet: bool,
    scenario: Path | None,
) -> None:
    """``solve --dask``/``--parallel``: the instance's parts on a cluster, merged."""
    from allocator import make_executor, solution_folder, solve_in_parts
    from allocator.i18n import _

    if max_moves is not None:
        raise click.UsageError(
            _("--max-moves limits moves over the whole instance; it cannot be "
              "used with --dask or --parallel.")
        )  # fmt: skip
    locks = parse_locks(fixes, "fix") + parse_locks(forbids, "forbid")
    live = not quiet and sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if live:
            line = _("parts solved: {done} of {total}").format(done=done, total=total)
            click.echo(f"\r{line}", err=True, nl=done == total)

    with user_errors():
        data = load(instance, locks, scenario)
        folder = solution_folder(data, out)
        try:
            executor = make_executor(dask, parallel)
        except (OSError, TimeoutError) as error:
            raise click.ClickException(
                _("cannot reach the Dask scheduler {address}: {error}").format(
                    address=dask, error=error
                )
            ) from error
        try:
            solution = solve_in_parts(
                data,
                executor=executor,
                time_limit=time_limit,
                seed=seed,
                previous=previous,
                workers=workers,
                rebalance=rebalance,
                solver=solver,
                deterministic_time=deterministic_time,
                portfolio=portfolio,
                strict_previous=strict_previous,
                locks=locks,
                progress=progress,
            )
        finally:
            executor.close()
        solution.write(folder, xlsx=xlsx)
    summary = solution.summary
    if summary.get("previous_read"):
        click.echo(f"previous: {summary['previous_read']}", err=True)
    if not quiet:
        from allocator.render.text import parts_line, summary_table

        click.echo(summary_table(summary))
        click.echo(parts_line(summary))
    click.echo(written_line(folder))
    if summary["status"] == "no_solution":
        sys.exit(EXIT_NO_SOLUTION)
