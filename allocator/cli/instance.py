"""Commands on one instance or solution folder.

scenario, validate, explain, check and report.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from allocator.cli.common import (
    EXIT_INPUT,
    INSTANCE_DIR,
    LANG_OPTION,
    SCENARIO_OPTION,
    load,
    main,
    user_errors,
)
from allocator.render.text import written_line


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
    from allocator import write_instance

    if out.resolve() == instance.resolve() or instance.resolve() in (
        out.resolve().parents
    ):
        from allocator.i18n import _

        raise click.UsageError(
            _("--out must not be INSTANCE or a folder inside it.")
        )
    with user_errors():
        changed = load(instance, scenario=scenario)
        write_instance(changed, out)
    click.echo(written_line(out))


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

    from allocator import explain as explain_user
    from allocator import explain_text

    with user_errors():
        # The id is compared as every id is (explain normalises it).
        data = explain_user(load(instance, scenario=scenario), solution, user)
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
    from allocator import capacity_overview

    with user_errors():
        data = load(instance, scenario=scenario)
        overview = capacity_overview(data, previous=previous)
    click.echo(overview)


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
    from allocator import check as check_solution

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
    from allocator import report as rebuild_report

    with user_errors():
        target = rebuild_report(solution)
    click.echo(written_line(target))
