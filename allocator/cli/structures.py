"""Commands that weigh structures: compare (section 7), recommend (section 8)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from allocator.cli.common import (
    INSTANCE_DIR,
    LANG_OPTION,
    load,
    main,
    user_errors,
)
from allocator.render.text import written_line


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
    from allocator import compare_structures, comparison_folder, make_executor
    from allocator.render.compare_text import ProgressBar, comparison_table

    files = list(scenarios)
    if all_scenarios:
        files += sorted((instance / "scenarios").glob("*.toml"))
    with user_errors():
        data = load(instance)
        folder = out or comparison_folder(data)
        bar = ProgressBar() if not quiet and sys.stderr.isatty() else None
        try:
            executor = make_executor(dask, parallel)
        except (OSError, TimeoutError) as error:
            if bar is not None:
                bar.close()
            raise click.ClickException(
                f"cannot reach the Dask scheduler {dask}: {error}"
            ) from error
        try:
            # Applies the scenarios, checks the folder before any work,
            # solves, measures and writes the folder whole.
            comparison = compare_structures(
                data,
                files,
                seeds=seeds,
                time_limit=time_limit,
                from_current=from_current,
                workers=workers,
                executor=executor,
                out=folder,
                replace=replace,
                progress=bar,
            )
        finally:
            executor.close()
            if bar is not None:
                bar.close()
    if not quiet:
        click.echo(comparison_table(comparison.rows))
    click.echo(written_line(folder))


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
    from allocator import make_executor, recommendation_text, weigh_structures

    with user_errors():
        data = load(instance)
        folder = out or Path("solutions") / data.name / "recommend"
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
            # Reads the limits, checks the folder before any work, weighs
            # and writes FORMAT.md section 8.
            rec = weigh_structures(
                data,
                limits_file,
                top=top,
                time_limit=time_limit,
                scenarios=given,
                out=folder,
                executor=executor,
                progress=progress,
            )
        finally:
            executor.close()
    click.echo(recommendation_text(rec))
    click.echo(written_line(folder))
