"""A check of extra CP-SAT parameters (``bench --params``) before any run.

A misspelt key or a value of the wrong type is a usage error naming the
key, found once, never a failure of every run after the instance is read.
The ranges of the run options are in :mod:`allocator.engine.limits`.
"""

from __future__ import annotations

from collections.abc import Mapping

from ortools.sat.python import cp_model


def check_params(params: Mapping[str, object]) -> list[str]:
    """Problems with extra CP-SAT parameters, one message per bad key.

    Args:
        params: parameter name -> value, as read from a ``--params`` TOML file.

    Returns:
        Messages naming each unknown key, each value of the wrong type, and
        each value CP-SAT's own validation rejects (NaN, out of range); an
        empty list when CP-SAT takes them all.
    """
    problems = []
    accepted: dict[str, object] = {}
    for key, value in params.items():
        trial = cp_model.CpSolver().parameters
        if not hasattr(trial, key):
            problems.append(f"{key}: not a CP-SAT parameter")
            continue
        try:
            setattr(trial, key, value)
        except (TypeError, ValueError, AttributeError):
            kind = type(getattr(trial, key)).__name__
            problems.append(
                f"{key}: expected a value of type {kind}, found {type(value).__name__}"
            )
            continue
        accepted[key] = value
    if accepted:
        # CP-SAT validates ranges (and NaN) only when it solves: an empty
        # model shows its verdict at once.
        solver = cp_model.CpSolver()
        for key, value in accepted.items():
            setattr(solver.parameters, key, value)
        solver.parameters.log_search_progress = False
        model = cp_model.CpModel()
        if solver.solve(model) == cp_model.MODEL_INVALID:
            problems.append(solver.response_proto.solution_info)
    return problems
