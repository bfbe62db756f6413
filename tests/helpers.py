"""Test helpers: instances built in code, and a verifier for one rule alone."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ortools.sat.python import cp_model

from allocator.domain import (
    Advisor,
    Competence,
    HostAgreement,
    Instance,
    Lock,
    Municipality,
    Policy,
    RoutingRule,
    Team,
    User,
    Weights,
)
from allocator.engine.cpsat.constraints import Rule
from allocator.engine.cpsat.variables import Variables
from allocator.engine.problem import Problem, build_problem


def user(uid: str, municipality: str = "nord", **fields: Any) -> User:
    """An active 40-year-old user with no needs unless told otherwise."""
    values: dict[str, Any] = {"age": 40, "status": "active"} | fields
    return User(id=uid, municipality=municipality, **values)


def advisor(aid: str, team: str = "follow", **fields: Any) -> Advisor:
    """A full-time state advisor based in nord unless told otherwise."""
    values: dict[str, Any] = {"employer": "state", "base": "nord", "fte": 1.0} | fields
    return Advisor(id=aid, team=team, **values)


def instance(
    users: Iterable[User],
    advisors: Iterable[Advisor],
    *,
    locks: Iterable[Lock] = (),
    weights: Mapping[str, float] | None = None,
    teams: Iterable[Team] | None = None,
    host_agreements: Iterable[HostAgreement] = (),
    week: str | None = None,
    **policy: Any,
) -> Instance:
    """Three municipalities (nord, sor 30 km, vest 50 km), two teams.

    Policy defaults: 4 cases per FTE, no intake limit, at most 2
    municipalities; weights all 0 unless given, so each test sees only what
    it switches on.
    """
    zero = dict.fromkeys(Weights.model_fields, 0.0)
    policy_fields: dict[str, Any] = {
        "cases_per_fte": 4,
        "intake_per_fte": 0,
        "weights": Weights(**(zero | dict(weights or {}))),
    } | policy
    return Instance(
        name="test",
        week=week,
        policy=Policy(**policy_fields),
        competences=(
            Competence(id="social_assistance", municipal_authority=True),
            Competence(id="aap"),
        ),
        host_agreements=tuple(host_agreements),
        routing=(
            RoutingRule(team_kind="assessment", status="new"),
            RoutingRule(team_kind="youth", age_max=29),
            RoutingRule(team_kind="follow_up"),
        ),
        municipalities=(
            Municipality(id="nord"),
            Municipality(id="sor"),
            Municipality(id="vest"),
        ),
        teams=tuple(
            teams
            if teams is not None
            else (
                Team(id="assess", kind="assessment"),
                Team(id="youth", kind="youth"),
                Team(id="follow", kind="follow_up"),
            )
        ),
        advisors=tuple(advisors),
        users=tuple(users),
        locks=tuple(locks),
        travel={
            ("nord", "sor"): 30.0,
            ("sor", "nord"): 30.0,
            ("nord", "vest"): 50.0,
            ("vest", "nord"): 50.0,
            ("sor", "vest"): 40.0,
            ("vest", "sor"): 40.0,
        },
    )


def eligible(problem: Problem, user_id: str) -> set[str]:
    """Advisor ids the model may give this user (after pruning)."""
    u = next(i for i, x in enumerate(problem.instance.users) if x.id == user_id)
    group = next(g for g in problem.groups if u in g.user_idcs)
    return {problem.instance.advisors[a].id for a in group.eligible}


def verify(rule: Rule, inst: Instance, assignment: Mapping[str, str | None]) -> bool:
    """Whether ``assignment`` satisfies ``rule`` alone (CP-SAT, pinned).

    Raises KeyError when the assignment uses a pair the model pruned.
    """
    problem = build_problem(inst)
    model = cp_model.CpModel()
    variables = Variables(model, problem)
    rule(model, problem, variables)
    counts: dict[tuple[int, int], int] = {}
    advisor_idx = {a.id: i for i, a in enumerate(inst.advisors)}
    user_idx = {u.id: i for i, u in enumerate(inst.users)}
    for user_id, advisor_id in assignment.items():
        if advisor_id is None:
            continue
        u = user_idx[user_id]
        g = next(i for i, grp in enumerate(problem.groups) if u in grp.user_idcs)
        key = (g, advisor_idx[advisor_id])
        if key not in variables.assign:
            raise KeyError(f"pair {user_id}->{advisor_id} has no variable")
        counts[key] = counts.get(key, 0) + 1
    for key, var in variables.assign.items():
        model.add(var == counts.get(key, 0))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    return solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
