"""Commands that make instances and measure the search: generate, bench."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from allocator.cli.common import (
    EXIT_INPUT,
    SEED,
    TIME_LIMIT,
    WORKERS,
    main,
    user_errors,
)
from allocator.render.text import written_line


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
    help="Folder for results.csv, table.txt, meta.json and solutions "
    "(default: a new solutions/bench/run-<UTC time>).",
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

    from allocator import bench as run_bench
    from allocator import bench_folder, bench_params

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
        try:
            # Read and checked once, before any run: a misspelt key must not
            # fail every run.
            params = bench_params(params_file)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--params") from error
    limits = time_limits or (10.0,)
    seed_list = seeds or (0,)
    with user_errors():
        folder = bench_folder(out)
    result = run_bench(
        list(instances),
        folder,
        time_limits=limits,
        seeds=seed_list,
        workers=workers,
        parallel=parallel,
        params=params,
        input_format=input_format,
        solvers=chosen,
        argv=sys.argv[1:],
    )
    click.echo(result.table)
    result.write()
    click.echo(written_line(f"{folder}/results.csv"))
    if result.failed:
        click.echo(
            f"error: all {len(result.rows)} runs failed; the errors are listed above.",
            err=True,
        )
        sys.exit(EXIT_INPUT)


@main.command()
@click.option(
    "--shape",
    "shape_name",
    type=click.Choice(["region", "office", "national"]),
    default="region",
    show_default=True,
    help="region: many small offices, every team kind in each; office: one "
    "office over a valley (host group, office-wide teams, sub-area "
    "follow-up teams), counts drawn from the seed unless given; national: "
    "office-shaped offices side by side (default 250 offices, 356 synthetic "
    "municipalities, 6,000 advisors, 250,000 users).",
)
@click.option(
    "--offices",
    type=click.IntRange(min=1),
    default=None,
    help="Offices of a national instance (default 250); the other counts "
    "scale with it unless given.",
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
    help="Number of municipalities (default: 10 for a region, 4 to 8 for an "
    "office, 356 for a national instance).",
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
    offices: int | None,
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
      allocator generate --shape national --seed 1 --out /tmp/national
    """
    # The verb, not the module of the same name (allocator.generate).
    import allocator

    try:
        allocator.generate(
            out,
            shape=shape_name,
            offices=offices,
            advisors=advisors,
            users=users,
            municipalities=municipalities,
            seed=seed,
            first_allocation=first_allocation,
            rotation_months=rotation_months,
            capacity_factor=0.9
            if tight and capacity_factor == 1.0
            else capacity_factor,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    click.echo(written_line(out))
