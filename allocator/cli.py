"""The ``allocator`` command: thin glue from files to solve to files.

Errors the package raises on purpose become exit codes here and nowhere else:
0 a solution was written, 1 the input was rejected, 2 usage error (click),
3 no solution found within the time limit, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from allocator.domain import Instance, Lock
from allocator.engine import limits
from allocator.errors import AllocatorError, DataWarning, InstanceError

EXIT_INPUT = 1
EXIT_NO_SOLUTION = 3
# 128 + SIGINT, what shells report for a program ended by Ctrl-C.
EXIT_INTERRUPTED = 130


# --- Option ranges (CP-SAT's limits): usage errors, exit 2 -------------------
class FiniteRange(click.FloatRange):
    """A FloatRange that also refuses nan and inf (which pass its comparisons)."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


TIME_LIMIT = FiniteRange(min=limits.TIME_LIMIT_MIN, max=limits.TIME_LIMIT_MAX)
DETERMINISTIC_TIME = FiniteRange(
    min=limits.DETERMINISTIC_MIN, max=limits.DETERMINISTIC_MAX
)
SEED = click.IntRange(min=limits.SEED_MIN, max=limits.SEED_MAX)
WORKERS = click.IntRange(min=1, max=limits.WORKERS_MAX)
# -----------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="allocator")
def main() -> None:
    """Allocate a NAV office's caseload to teams and advisors.

    \b
    Example:
      allocator validate instances/hallingdal
      allocator solve instances/hallingdal --out solutions/hallingdal/week1
      allocator check instances/hallingdal solutions/hallingdal/week1
      allocator explain instances/hallingdal solutions/hallingdal/week1 u00002
    """


@contextmanager
def user_errors() -> Iterator[None]:
    """Print DataWarnings and input errors plainly; never a traceback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            yield
        except KeyboardInterrupt:
            show_warnings(caught)
            click.echo("\ninterrupted: nothing was written.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except InstanceError as error:
            show_warnings(caught)
            from allocator.i18n import _

            rejected = _("the input was rejected; nothing was written.")
            click.echo(f"error: {rejected}", err=True)
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
            Lock(
                user=user.strip(),
                advisor=advisor.strip(),
                kind=kind,
                source=f"--{kind}",
            )  # type: ignore[arg-type]
        )
    return locks


def load(
    folder: Path, locks: list[Lock] | None = None, scenario: Path | None = None
) -> Instance:
    """Read INSTANCE, then apply --scenario (a file, or an id in scenarios/)."""
    from allocator.io.read import read_instance

    instance = read_instance(folder, extra_locks=locks or [])
    from allocator.i18n import adopt

    adopt(instance.language)
    if scenario is None:
        return instance
    from allocator.scenario import apply_scenario, find_scenario

    return apply_scenario(instance, find_scenario(folder, scenario))


INSTANCE_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        from allocator.i18n import set_language

        set_language(value)


# --lang nb|nn|en: the words people read (docs/language.md); files keep formats.
LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["nb", "nn", "en"], case_sensitive=False),
    callback=_set_lang,
    expose_value=False,
    is_eager=True,
    help="Language of reasons, report.html, allocation.xlsx and the summary "
    "(default: instance.toml's language, else en).",
)

# --- Scenarios (FORMAT.md section 6) -------------------------------------------
SCENARIO_OPTION = click.option(
    "--scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Apply this scenario file (or the id of one in INSTANCE/scenarios/) "
    "to INSTANCE first.",
)


@main.command("scenario")
@click.argument("instance", type=INSTANCE_DIR)
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the changed instance (new, empty, or written here before).",
)
@LANG_OPTION
def scenario_command(instance: Path, scenario: Path, out: Path) -> None:
    """Apply SCENARIO to INSTANCE and write the changed instance folder.

    SCENARIO is a scenario file, or the id of one in INSTANCE/scenarios/.
    The folder written is an ordinary instance: every other command reads it.

    \b
    Example:
      allocator scenario instances/hallingdal E --out /tmp/hallingdal-E
      allocator validate /tmp/hallingdal-E
    """
    from allocator.io.instance_files import write_instance

    if out.resolve() == instance.resolve() or instance.resolve() in (
        out.resolve().parents
    ):
        raise click.UsageError("--out must not be INSTANCE or a folder inside it.")
    with user_errors():
        changed = load(instance, scenario=scenario)
        write_instance(changed, out)
    click.echo(f"written: {out}")


# --- end of scenarios ----------------------------------------------------------


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
    "workers).",
)
@click.option(
    "--deterministic-time",
    type=DETERMINISTIC_TIME,
    help="CP-SAT deterministic-time budget of the whole search (default: "
    "sized from the problem, 4 to 7 units at 10 s, scaled with --time-limit); "
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

    Ctrl-C during the search stops it and writes the best allocation found
    so far (exit 130); a second Ctrl-C, or one while reading, aborts and
    writes nothing. An earlier folder at --out is only ever replaced whole.
    """
    import signal
    import threading

    from allocator.run import RunOptions, run_solve

    # A script that starts solve in the background (cmd &) hands it SIGINT
    # ignored; Ctrl-C or kill -INT must still mean what the help says.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if max_moves is not None and not rebalance:
        raise click.UsageError("--max-moves needs --rebalance.")
    locks = parse_locks(fixes, "fix") + parse_locks(forbids, "forbid")
    options = RunOptions(
        out=out,
        time_limit=time_limit,
        seed=seed,
        workers=workers,
        portfolio=portfolio,
        deterministic_time=deterministic_time,
        solver=solver,
        cli_locks=locks,
        previous=previous,
        strict_previous=strict_previous,
        rebalance=rebalance,
        max_moves=max_moves,
        xlsx=xlsx,
        progress=not quiet and sys.stderr.isatty(),
        interruptible=True,
        on_interrupt=lambda: click.echo(
            "\ninterrupted: stopping the search; the best allocation so far will "
            "be written (Ctrl-C again to abort and write nothing).",
            err=True,
        ),
        on_searching=None if quiet or sys.stderr.isatty() else searching_line,
    )
    with user_errors():
        data = load(instance, locks, scenario)
        outcome = run_solve(data, options)
    summary = outcome.report.summary
    if summary.get("previous_read"):
        click.echo(f"previous: {summary['previous_read']}", err=True)
    if not quiet:
        from allocator.render.text import summary_table

        click.echo(summary_table(summary))
    click.echo(f"written: {outcome.folder}")
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


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@click.argument("solution", type=INSTANCE_DIR)
@click.argument("user")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@SCENARIO_OPTION
@LANG_OPTION
def explain(
    instance: Path, solution: Path, user: str, as_json: bool, scenario: Path | None
) -> None:
    """Why USER got their advisor in SOLUTION, and not another one.

    Names the routing rule, the goals the chosen advisor served, and for
    every other advisor of a matching team the rule or goal that ruled them
    out, with the figures.

    \b
    Example:
      allocator explain instances/hallingdal solutions/hallingdal/week1 u00002
    """
    import json

    from allocator.analysis.explain import explain_text
    from allocator.io.explain import explain as explain_user

    with user_errors():
        # The id as every id is compared (NFC, no format characters), so an
        # id typed on a Mac finds the user a Windows export named.
        from allocator.io.tables import normalise_id

        data = explain_user(
            load(instance, scenario=scenario), solution, normalise_id(user)
        )
    click.echo(json.dumps(data, indent=2) if as_json else explain_text(data))


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@SCENARIO_OPTION
@click.option(
    "--previous",
    type=INSTANCE_DIR,
    help="Last week's solution folder, read as solve --previous reads it.",
)
@LANG_OPTION
def validate(instance: Path, scenario: Path | None, previous: Path | None) -> None:
    """Read and check INSTANCE; show capacity against demand before solving.

    Also names each user no advisor may take (and why) and each household
    whose members no single advisor may serve.

    \b
    Example:
      allocator validate instances/hallingdal
      allocator validate instances/hallingdal-week2 \\
          --previous solutions/hallingdal/week1
    """
    from allocator.analysis.capacity import capacity_overview
    from allocator.engine.problem import build_problem
    from allocator.io.previous import apply_previous, read_previous

    with user_errors():
        data = load(instance, scenario=scenario)
        if previous is not None:
            data = apply_previous(data, read_previous(previous))
        problem = build_problem(data)
    click.echo(capacity_overview(problem))


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@click.argument("solution", type=INSTANCE_DIR)
@click.option(
    "--previous",
    type=click.Path(exists=True, path_type=Path),
    help="The previous solution folder or allocation.xlsx the solve was given "
    "(checks previous_advisor and since).",
)
@SCENARIO_OPTION
@LANG_OPTION
def check(
    instance: Path, solution: Path, previous: Path | None, scenario: Path | None
) -> None:
    """Check a SOLUTION folder against INSTANCE, rule by rule.

    Independent of the optimiser: exit 0 when every rule holds, else exit 1
    with one line per violation. With --previous, each user's previous
    advisor and since date are checked against that plan, not taken on trust.

    \b
    Example:
      allocator check instances/hallingdal solutions/hallingdal/week1
      allocator check instances/hallingdal-week2 solutions/hallingdal/week2 \\
          --previous solutions/hallingdal/week1
    """
    from allocator.checking import check_solution

    with user_errors():
        data = load(instance, scenario=scenario)
        violations = check_solution(data, solution, previous)
    for line in violations:
        click.echo(line)
    if violations:
        click.echo(f"{len(violations)} violation(s).", err=True)
        sys.exit(EXIT_INPUT)
    click.echo(f"ok: {solution} obeys every rule.")


@main.command()
@click.argument(
    "instances", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)
@click.option(
    "--time-limit",
    "time_limits",
    type=TIME_LIMIT,
    multiple=True,
    help="Seconds per run (repeatable; default 10).",
)
@click.option(
    "--seed", "seeds", type=SEED, multiple=True, help="Seeds (repeatable; default 0)."
)
@click.option(
    "--workers",
    type=WORKERS,
    help="CP-SAT workers per run (default: as solve chooses; 2 for GAP).",
)
@click.option(
    "--parallel",
    type=WORKERS,
    default=1,
    show_default=True,
    help="Runs at the same time.",
)
@click.option(
    "--params",
    "params_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file of extra CP-SAT parameters.",
)
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["allocator", "gap"]),
    default="allocator",
    show_default=True,
    help="Instance folders, or OR-Library/Yagiura GAP files.",
)
@click.option(
    "--solver",
    "solvers",
    type=click.Choice(["cpsat", "greedy", "highs"]),
    multiple=True,
    help="Solvers (repeatable; default cpsat and greedy, plus highs for GAP).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for results.csv, table.txt, meta.json and solutions.",
)
def bench(
    instances: tuple[Path, ...],
    time_limits: tuple[float, ...],
    seeds: tuple[int, ...],
    workers: int | None,
    parallel: int,
    params_file: Path | None,
    input_format: str,
    solvers: tuple[str, ...],
    out: Path | None,
) -> None:
    """Run every INSTANCE under every setting; print and save one table.

    \b
    Example:
      allocator bench instances/tiny instances/hallingdal \\
          --time-limit 5 --time-limit 10 --seed 0 --seed 1
      allocator bench --format gap instances/gap/cattrysse1994/* --time-limit 1
    """
    import os

    from allocator.runs.bench import (
        all_failed,
        check_bench_out,
        machine_meta,
        make_jobs,
        run_jobs,
        table,
        write_results,
    )

    default_solvers: tuple[str, ...]
    if input_format == "allocator":
        allowed = {"cpsat", "greedy"}
        default_solvers = ("cpsat", "greedy")
    else:
        allowed = {"cpsat", "greedy", "highs"}
        default_solvers = ("cpsat", "highs", "greedy")
    chosen = solvers or default_solvers
    if not set(chosen) <= allowed:
        raise click.UsageError(f"--solver must be one of {sorted(allowed)} here.")
    cores = os.cpu_count() or 1
    if (workers or 1) * parallel > cores:
        click.echo(
            f"warning: {workers or 1} workers x {parallel} parallel runs exceed the "
            f"{cores} cores; times will be slower and less comparable.",
            err=True,
        )
    params: dict[str, object] = {}
    if params_file is not None:
        from allocator.io.read import TomlProblem, load_toml_text

        try:
            # The reader's loader: hostile nesting is refused, not a traceback.
            params = load_toml_text(params_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, TomlProblem) as error:
            raise click.BadParameter(
                f"{params_file}: {error}", param_hint="--params"
            ) from error
        from allocator.engine.cpsat.params import check_params

        # Once, before any run: a misspelt key must not fail every run.
        bad = check_params(params)
        if bad:
            raise click.BadParameter(
                f"{params_file}: " + "; ".join(bad), param_hint="--params"
            )
    limits = time_limits or (10.0,)
    seed_list = seeds or (0,)
    folder = out or Path("solutions") / "bench"
    with user_errors():
        check_bench_out(folder)
    jobs = make_jobs(
        list(instances),
        limits,
        seed_list,
        workers,
        folder,
        input_format,
        chosen,
        params,
    )
    rows = run_jobs(jobs, parallel)
    text = table(rows)
    click.echo(text)
    meta = machine_meta(
        sys.argv[1:], seed_list, time_limits=list(limits), workers=workers,
        parallel=parallel, params=params, format=input_format,
    )  # fmt: skip
    write_results(rows, folder, meta)
    click.echo(f"written: {folder}/results.csv")
    if all_failed(rows):
        click.echo(
            f"error: all {len(rows)} runs failed; the errors are listed above.",
            err=True,
        )
        sys.exit(EXIT_INPUT)


@main.command()
@click.option(
    "--shape",
    "shape_name",
    type=click.Choice(["region", "office"]),
    default="region",
    show_default=True,
    help="region: many small offices, every team kind in each; office: one "
    "office over a valley (host group, office-wide teams, sub-area "
    "follow-up teams), counts drawn from the seed unless given.",
)
@click.option(
    "--advisors",
    type=click.IntRange(min=1),
    default=None,
    help="Number of advisors (required for --shape region).",
)
@click.option(
    "--users",
    type=click.IntRange(min=1),
    default=None,
    help="Number of users (required for --shape region).",
)
@click.option(
    "--municipalities",
    type=click.IntRange(min=1),
    default=None,
    help="Number of municipalities (default: 10 for a region, 4 to 8 for an office).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Same seed, same files."
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Instance folder to write.",
)
# Shape options: what the office looks like to the search.
@click.option(
    "--first-allocation",
    is_flag=True,
    help="Nobody has a current advisor (a first allocation or a new structure).",
)
@click.option(
    "--rotation-months",
    type=click.FloatRange(min=0),
    default=0,
    help="Policy rotation period; 12 makes about two thirds of users due.",
)
@click.option(
    "--capacity-factor",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Scale cases per FTE; below 1 the office is short of capacity.",
)
@click.option("--tight", is_flag=True, help="Same as --capacity-factor 0.9.")
def generate(
    shape_name: str,
    advisors: int | None,
    users: int | None,
    municipalities: int | None,
    seed: int,
    out: Path,
    first_allocation: bool,
    rotation_months: float,
    capacity_factor: float,
    tight: bool,
) -> None:
    """Write a synthetic instance folder (the layout the README's Input describes).

    \b
    Example:
      allocator generate --advisors 1000 --users 40000 \\
          --municipalities 40 --seed 1 --out /tmp/region
      allocator generate --advisors 40 --users 1200 --municipalities 6 \\
          --first-allocation --seed 2 --out /tmp/first
      allocator generate --shape office --first-allocation --seed 3 --out /tmp/o3
    """
    from allocator.generate import OfficeSize, Shape, generate_office
    from allocator.generate import generate as write_instance

    shape = Shape(
        first_allocation=first_allocation,
        rotation_months=rotation_months,
        capacity_factor=0.9 if tight and capacity_factor == 1.0 else capacity_factor,
    )
    try:
        if shape_name == "office":
            generate_office(
                seed,
                out,
                shape,
                OfficeSize(
                    advisors=advisors or 0,
                    users=users or 0,
                    municipalities=municipalities or 0,
                ),
            )
        else:
            if advisors is None or users is None:
                raise click.UsageError(
                    "--advisors and --users are required for --shape region"
                )
            write_instance(
                advisors=advisors,
                users=users,
                municipalities=municipalities or 10,
                seed=seed,
                out=out,
                shape=shape,
            )
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    click.echo(f"written: {out}")


# --- report: rebuild report.html from a solution folder -----------------------


@main.command()
@click.argument("solution", type=INSTANCE_DIR)
@LANG_OPTION
def report(solution: Path) -> None:
    """Rebuild SOLUTION/report.html from the solution folder's files.

    The page is the one the solve wrote, byte for byte: one self-contained
    file with charts and tables, opened offline in any browser.

    \b
    Example:
      allocator report solutions/hallingdal/week1
    """
    from allocator.io.solution_files import (
        read_solution_files,
        solution_tables,
        write_report,
    )
    from allocator.render.html import report_page

    with user_errors():
        page = report_page(solution_tables(read_solution_files(solution)))
        target = write_report(solution, "report.html", page)
    click.echo(f"written: {target}")


# --- compare: structures side by side (README format, section 7) -------------


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@click.argument(
    "scenarios", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--all",
    "all_scenarios",
    is_flag=True,
    help="Every scenario file in INSTANCE/scenarios/.",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Solve each structure with seeds 0 to N-1; their spread is the band a "
    "difference must clear to be called real.",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    help="Seconds per solve (default: the policy's time_limit_s). Each solve "
    "stops as `allocator solve` does: by proof, by its reproducible budget, or "
    "once within 1 % of the bound; stopped_by says which.",
)
@click.option(
    "--from-current",
    is_flag=True,
    help="Solve as a weekly run (users keep their advisor where the structure "
    "allows) instead of a first allocation.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Comparison folder (default: a new folder, solutions/<name>/compare or "
    "the first free compare-N); an interrupted comparison resumes there.",
)
@click.option(
    "--replace",
    is_flag=True,
    help="Replace the earlier comparison in --out (its unchanged work is "
    "read back from its cache).",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    help="At most P solves at once (local pool: never more processes x CP-SAT "
    "workers than cores; --dask local: the number of Dask workers).",
)
@click.option(
    "--dask",
    metavar="ADDRESS|local",
    help="Run the solves on a Dask scheduler, or on a LocalCluster ('local').",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="CP-SAT workers per solve (default: as solve chooses).",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no table.")
@LANG_OPTION
def compare(
    instance: Path,
    scenarios: tuple[Path, ...],
    all_scenarios: bool,
    seeds: int,
    time_limit: float | None,
    from_current: bool,
    out: Path | None,
    replace: bool,
    parallel: int | None,
    dask: str | None,
    workers: int | None,
    quiet: bool,
) -> None:
    """Solve INSTANCE (as base) and each SCENARIO on the same users; compare.

    Writes comparison.csv, comparison.json, comparison.html and each
    structure's instance (as solved) and solution folders into a new folder,
    and prints one column per structure, one row per figure, each difference
    marked real or not (docs/comparison.md). A lock a structure makes
    impossible is dropped for it with a warning.

    \b
    Example:
      allocator compare instances/hallingdal --all
      allocator compare instances/hallingdal instances/hallingdal/scenarios/E.toml \\
          --seeds 3 --out /tmp/hallingdal-E
      allocator compare instances/nord-gudbrandsdal --all --dask local
      allocator compare instances/hallingdal --all --out /tmp/h --replace
    """
    from allocator.compare import compare_variants, scenario_variants
    from allocator.io.comparison import (
        check_comparison_target,
        new_comparison_folder,
        write_comparison,
    )
    from allocator.render.compare_text import ProgressBar, comparison_table
    from allocator.runs.executor import make_executor

    files = list(scenarios)
    if all_scenarios:
        files += sorted((instance / "scenarios").glob("*.toml"))
    with user_errors():
        data = load(instance)
        found = scenario_variants(data, files)
        folder = out or new_comparison_folder(Path("solutions") / data.name)
        check_comparison_target(folder, replace)
        bar = ProgressBar() if not quiet and sys.stderr.isatty() else None
        try:
            executor = make_executor(dask, parallel)
        except (OSError, TimeoutError) as error:
            raise click.ClickException(
                f"cannot reach the Dask scheduler {dask}: {error}"
            ) from error
        try:
            comparison = compare_variants(
                data,
                found.variants,
                list(range(seeds)),
                time_limit,
                from_current,
                executor,
                workers=workers,
                cache=folder / ".cache",
                progress=bar,
                sources=found.sources,
                descriptions=found.descriptions,
                dropped_locks=found.dropped,
            )
        finally:
            executor.close()
            if bar is not None:
                bar.close()
        write_comparison(comparison, folder, replace)
    if not quiet:
        click.echo(comparison_table(comparison.rows))
    click.echo(f"written: {folder}")


# --- recommend: weigh every structure (FORMAT.md section 8) ------------------


@main.command()
@click.argument("instance", type=INSTANCE_DIR)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Recommendation folder (default solutions/<name>/recommend); a rerun "
    "there skips unchanged solves.",
)
@click.option(
    "--limits",
    "limits_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file of limits: apart, together, largest_group, max_distance_km, "
    "ruled_out, hosts, max_leakage_fte, team_options.",
)
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=8,
    show_default=True,
    help="Most screened survivors solved in full (besides today's structure "
    "and the instance's own scenarios).",
)
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1),
    default=5.0,
    show_default=True,
    help="Seconds per solve, as `allocator compare --time-limit`.",
)
@click.option(
    "--without-given",
    is_flag=True,
    help="Do not solve the instance's own scenarios/*.toml alongside.",
)
@click.option(
    "--dask",
    metavar="ADDRESS|local",
    help="Run the solves on a Dask scheduler, or on a LocalCluster ('local').",
)
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    help="At most P solves at once.",
)
def recommend(
    instance: Path,
    out: Path | None,
    limits_file: Path | None,
    top: int,
    time_limit: float,
    without_given: bool,
    dask: str | None,
    parallel: int | None,
) -> None:
    """Weigh every host structure of INSTANCE's municipalities; show the front.

    Enumerates every partition into host groups (with team options), screens
    each exactly from the structure alone, solves the survivors as `compare`
    does, and writes recommendation.csv, .json, .html and scenarios/.

    \b
    Example:
      allocator recommend instances/hallingdal
      allocator recommend instances/nord-gudbrandsdal --limits limits.toml --top 6
    """
    from allocator.recommend.output import (
        check_target,
        front_table,
        write_recommendation,
    )
    from allocator.recommend.space import read_limits
    from allocator.recommend.weigh import recommend_structures
    from allocator.runs.executor import make_executor

    with user_errors():
        data = load(instance)
        limits = read_limits(limits_file, data)
        folder = out or Path("solutions") / data.name / "recommend"
        check_target(folder)
        given = [] if without_given else sorted((instance / "scenarios").glob("*.toml"))
        try:
            executor = make_executor(dask, parallel)
        except (OSError, TimeoutError) as error:
            raise click.ClickException(
                f"cannot reach the Dask scheduler {dask}: {error}"
            ) from error

        def progress(stage: str, done: int, total: int) -> None:
            if sys.stderr.isatty():
                click.echo(f"\r{stage}: {done}/{total}", err=True, nl=done == total)

        try:
            rec = recommend_structures(
                data,
                limits,
                top=top,
                time_limit=time_limit,
                given=given,
                executor=executor,
                cache=folder / ".cache",
                progress=progress,
            )
        finally:
            executor.close()
        write_recommendation(rec, folder)
    click.echo(front_table(rec))
    click.echo(f"written: {folder}")


# --- serve: the local web page and JSON API (allocator/web) -----------------


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 opens the page to the office network.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the jobs' files (default: a temporary folder, removed on exit).",
)
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(min=0.001),
    default=50.0,
    show_default=True,
    help="Largest upload; a zip may expand to ten times this.",
)
@click.option(
    "--keep-hours",
    type=click.FloatRange(min=0.0),
    default=24.0,
    show_default=True,
    help="Hours a finished job's files are kept.",
)
@click.option(
    "--jobs",
    "slots",
    type=click.IntRange(min=1),
    help="Solves at the same time (default: one per CPU core); others wait.",
)
def serve(
    host: str,
    port: int,
    workdir: Path | None,
    max_upload_mb: float,
    keep_hours: float,
    slots: int | None,
) -> None:
    """Start the web page for team leaders on this machine.

    \b
    Example:
      allocator serve
      allocator serve --host 0.0.0.0 --port 8080 --workdir /srv/allocator
    """
    try:
        from allocator.web.app import Settings, run
    except ImportError as error:
        raise click.UsageError(
            "the web page needs the 'web' extra: "
            f"pip install 'allocator[web]' ({error})"
        ) from error
    settings = Settings(
        workdir=workdir,
        max_upload_mb=max_upload_mb,
        keep_hours=keep_hours,
        slots=slots,
        host=host,
    )
    shown = f"[{host}]" if ":" in host else host
    if host in {"0.0.0.0", "::"}:
        shown = "localhost"
    click.echo(f"allocator: open http://{shown}:{port}/ in a browser (Ctrl-C stops).")
    run(settings, port)
