"""Independent check of a written solution against its instance (the test oracle).

The checker reads only the domain entities and the files a solve wrote. It
shares no code with the optimisation model (``problem.py``, ``cpsat/``) on
purpose: routing, authority, capacity, intake limit and travel are worked out
again here, in plain Python, from the format the README specifies, so that a
mistake in one is caught by the other. With ``check --previous`` the plan
is read by the reader ``solve --previous`` uses (``allocator.checking`` reads
it and hands it in) and each user's current advisor and since date come
from the same weekly rule (``domain.plan_current``): what the plan says is
input, not model, and two readings of one hand-edited plan must not
disagree.

The room's modules: ``format`` (the files, columns, keys and tolerances),
``derived`` (routing, capacity, authority, travel worked out again),
``files`` (the solution's tables read), ``solution`` (what the checker knows
after reading), ``rules`` (section 4), ``output`` (section 5) and
``figures`` (objective, since, changes.csv).

``check_solution`` returns one line per violation. Each line starts with the
rule it breaks: ``rule N (...)`` for the README's allocation rules, ``no user
dropped``, or the output file (and row) for the output section. Lines never
carry anything about a user except its id.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# The derived quantities, which tests compare with the model's.
from allocator.checker.derived import authority as authority
from allocator.checker.derived import capacity as capacity
from allocator.checker.derived import intake_limit as intake_limit
from allocator.checker.derived import max_municipalities as max_municipalities
from allocator.checker.derived import routed_rule as routed_rule
from allocator.checker.derived import travel_km as travel_km
from allocator.checker.figures import (
    CHANGES,
    assignments_since,
    changes_rows,
    summary_objective_value,
)
from allocator.checker.files import Table, read_summary, read_table
from allocator.checker.format import ASSIGNMENTS, COLUMNS, SUMMARY
from allocator.checker.output import (
    advisor_load,
    assignments_advisor_and_team,
    assignments_changed,
    assignments_extra_columns,
    assignments_layout,
    assignments_municipality,
    assignments_previous_advisor,
    assignments_reason,
    assignments_rule,
    assignments_status,
    assignments_travel,
    formula_cells_escaped,
    municipality_load,
    summary_cli_locks,
    summary_keys,
    summary_kpis,
    summary_objective,
    summary_run,
    summary_status,
    team_load,
)
from allocator.checker.rules import (
    no_user_dropped,
    rule_1_team,
    rule_2_competence,
    rule_3_authority,
    rule_4_capacity,
    rule_5_municipalities,
    rule_6_availability,
    rule_7_locks,
    rule_8_household,
)
from allocator.checker.solution import Solution, build_solution
from allocator.domain import Instance, Previous

# The index of the rules, in the order the README's format lists them.
SECTION_4_RULES: tuple[Callable[[Solution], list[str]], ...] = (
    rule_1_team,
    rule_2_competence,
    rule_3_authority,
    rule_4_capacity,
    rule_5_municipalities,
    rule_6_availability,
    rule_7_locks,
    rule_8_household,
    no_user_dropped,
)
SECTION_5_CHECKS: tuple[Callable[[Solution], list[str]], ...] = (
    formula_cells_escaped,
    assignments_layout,
    assignments_municipality,
    assignments_advisor_and_team,
    assignments_status,
    assignments_previous_advisor,
    assignments_changed,
    assignments_reason,
    assignments_rule,
    assignments_travel,
    assignments_extra_columns,
    advisor_load,
    team_load,
    municipality_load,
    summary_keys,
    summary_status,
    summary_objective,
    summary_run,
    summary_cli_locks,
    summary_kpis,
    summary_objective_value,
    assignments_since,
    changes_rows,
)


def check_solution(
    instance: Instance,
    solution_dir: Path,
    previous_plan: Previous | str | None = None,
) -> list[str]:
    """Check a solve's files against the instance: the README's rules and output.

    Parameters
    ----------
    instance
        The instance the solve read.
    solution_dir
        The folder holding assignments.csv, advisor_load.csv, team_load.csv,
        municipality_load.csv and summary.json (and changes.csv, when written).
    previous_plan
        The previous plan the solve was given (``--previous``), read as the
        solve reads it (``allocator.checking.check_solution`` reads it from a
        path), so that each row's previous_advisor is checked against it
        instead of taken on trust; a string says why it could not be read,
        and is reported as a violation.

    Returns
    -------
    list[str]
        One line per violation, each starting with the rule it breaks; empty
        when the solution obeys every rule. Missing or unreadable files are
        violations, never exceptions.
    """
    problems: list[str] = []
    tables: dict[str, Table] = {}
    for name in COLUMNS:
        table = read_table(solution_dir / name)
        if isinstance(table, str):
            problems.append(table)
        else:
            tables[name] = table
    read = read_summary(solution_dir / SUMMARY)
    if isinstance(read, str):
        problems.append(read)
    summary = None if isinstance(read, str) else read
    plan: Previous | None = None
    if isinstance(previous_plan, str):
        problems.append(previous_plan)
    else:
        plan = previous_plan
    if ASSIGNMENTS not in tables:
        return problems  # without the assignment nothing else can be judged
    sol = build_solution(instance, tables, summary, plan)
    if (solution_dir / CHANGES).exists():
        changes = read_table(solution_dir / CHANGES)
        if isinstance(changes, str):
            problems.append(changes)
        else:
            sol.changes = changes
    for check in (*SECTION_4_RULES, *SECTION_5_CHECKS):
        problems += check(sol)
    return problems
