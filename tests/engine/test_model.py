"""Each hard rule alone, both ways, and each soft goal's exact value."""

from __future__ import annotations

import datetime as dt

import pytest
from ortools.sat.python import cp_model

from allocator.domain import HostAgreement, Lock, Team
from allocator.engine.cpsat import AllocationModel
from allocator.engine.cpsat.constraints import (
    hold_fix_locks,
    keep_households_together,
    limit_municipalities,
    respect_capacity,
    respect_intake_limit,
)
from allocator.engine.evaluate import objective, objective_terms
from allocator.engine.problem import build_problem
from allocator.errors import InstanceError
from tests.helpers import advisor, eligible, instance, user, verify

# --- Rule 1: team kind and team municipalities (pruning) ---


def test_routed_kind_accepts_matching_team():
    """An active 40-year-old is routed to follow_up and a follow-up advisor may take them."""
    inst = instance([user("u1")], [advisor("a1", "follow")])
    assert eligible(build_problem(inst), "u1") == {"a1"}


def test_routed_kind_rejects_other_team():
    """A youth-team advisor may not take a user routed to follow_up."""
    inst = instance([user("u1")], [advisor("a1", "youth")])
    assert eligible(build_problem(inst), "u1") == set()


def test_keep_current_team_lets_current_advisor_keep_user():
    """With keep_current_team, the current youth advisor keeps a follow_up user."""
    inst = instance([user("u1", current_advisor="a1")], [advisor("a1", "youth")])
    assert eligible(build_problem(inst), "u1") == {"a1"}


def test_keep_current_team_off_moves_user():
    """Without keep_current_team, routing wins over the current advisor."""
    inst = instance(
        [user("u1", current_advisor="a1")],
        [advisor("a1", "youth")],
        keep_current_team=False,
    )
    assert eligible(build_problem(inst), "u1") == set()


def test_team_municipalities_limit_who_is_served():
    """A team serving only sor cannot take a user from nord, but can take sor."""
    teams = [Team(id="follow", kind="follow_up", municipalities=("sor",))]
    inst = instance(
        [user("u1", "nord"), user("u2", "sor")], [advisor("a1")], teams=teams
    )
    problem = build_problem(inst)
    assert eligible(problem, "u1") == set()
    assert eligible(problem, "u2") == {"a1"}


# --- Rule 2: competences ---


def test_competence_present_accepts():
    """An advisor with aap may take a user who needs aap."""
    inst = instance([user("u1", needs=("aap",))], [advisor("a1", competences=("aap",))])
    assert eligible(build_problem(inst), "u1") == {"a1"}


def test_competence_missing_rejects():
    """An advisor without aap may not take a user who needs aap."""
    inst = instance([user("u1", needs=("aap",))], [advisor("a1")])
    assert eligible(build_problem(inst), "u1") == set()


# --- Rule 3: municipal authority (R02) ---

SA = ("social_assistance",)


@pytest.mark.parametrize(
    ("employer", "hosts", "allowed"),
    [
        ("sor", False, True),  # employed by the user's municipality
        ("nord", True, True),  # host of an agreement listing sor
        ("nord", False, False),  # another municipality, no agreement
        ("state", False, False),  # a state employee never has it
    ],
)
def test_municipal_authority(employer, hosts, allowed):
    """Authority comes from the employer or its host agreement, never the state."""
    agreements = [HostAgreement(host="nord", members=("sor",))] if hosts else []
    inst = instance(
        [user("u1", "sor", needs=SA)],
        [advisor("a1", employer=employer, competences=SA)],
        host_agreements=agreements,
    )
    assert (eligible(build_problem(inst), "u1") == {"a1"}) is allowed


def test_state_employee_may_serve_without_authority_need():
    """Without a municipal-authority need, a state employee may serve anyone."""
    inst = instance(
        [user("u1", "sor", needs=("aap",))], [advisor("a1", competences=("aap",))]
    )
    assert eligible(build_problem(inst), "u1") == {"a1"}


# --- Rule 4: capacity and intake ---


def test_capacity_accepts_exact_fit():
    """Four users of weight 1 fill a 1 FTE x 4 cases advisor exactly."""
    inst = instance([user(f"u{i}") for i in range(4)], [advisor("a1")])
    assert verify(respect_capacity, inst, {f"u{i}": "a1" for i in range(4)})


def test_capacity_rejects_overload():
    """Two users of weight 1.5 exceed a 0.5 FTE advisor's capacity of 2."""
    inst = instance(
        [user("u1", weight=1.5), user("u2", weight=1.5)], [advisor("a1", fte=0.5)]
    )
    assert verify(respect_capacity, inst, {"u1": "a1"})
    assert not verify(respect_capacity, inst, {"u1": "a1", "u2": "a1"})


def test_capacity_uses_casework_share_and_kind():
    """A leader at 1 FTE, 50 % casework, in a kind with 6 cases/FTE carries 3."""
    inst = instance(
        [user(f"u{i}") for i in range(4)],
        [advisor("a1", casework_share=0.5)],
        cases_per_fte_by_kind={"follow_up": 6},
    )
    assert verify(respect_capacity, inst, {f"u{i}": "a1" for i in range(3)})
    assert not verify(respect_capacity, inst, {f"u{i}": "a1" for i in range(4)})


def test_intake_limit_counts_only_newcomers():
    """Intake 2 per FTE: two newcomers plus a staying user pass, three newcomers fail."""
    users = [user("s1", current_advisor="a1")] + [user(f"n{i}") for i in range(3)]
    inst = instance(users, [advisor("a1")], intake_per_fte=2)
    assert verify(respect_intake_limit, inst, {"s1": "a1", "n0": "a1", "n1": "a1"})
    assert not verify(respect_intake_limit, inst, {"n0": "a1", "n1": "a1", "n2": "a1"})


def test_intake_limit_rounds_down_but_at_least_one():
    """0.1 FTE x 8 = 0.8 rounds to an intake limit of 1, not 0."""
    inst = instance(
        [user("s1", current_advisor="a1"), user("n1"), user("n2")],
        [advisor("a1", fte=0.1)],
        intake_per_fte=8,
        cases_per_fte=100,
    )
    problem = build_problem(inst)
    assert problem.intake_limit == [1]


def test_intake_limit_rounds_down_not_up():
    """0.8 FTE x 8 = 6.4 rounds down to 6 (a ceiling would give 7)."""
    inst = instance(
        [user("s1", current_advisor="a1"), user("n1")],
        [advisor("a1", fte=0.8)],
        intake_per_fte=8,
        cases_per_fte=100,
    )
    assert build_problem(inst).intake_limit == [6]


def test_first_allocation_has_no_intake_limit():
    """With no current advisor anywhere, the intake limit does not apply."""
    inst = instance(
        [user(f"n{i}") for i in range(3)], [advisor("a1")], intake_per_fte=1
    )
    assert build_problem(inst).intake_limit == [None]
    assert verify(respect_intake_limit, inst, {f"n{i}": "a1" for i in range(3)})


# --- Rule 5: municipalities per advisor ---


def test_max_municipalities_accepts_two():
    """Users from two municipalities are allowed under the default limit 2."""
    inst = instance([user("u1", "nord"), user("u2", "sor")], [advisor("a1")])
    assert verify(limit_municipalities, inst, {"u1": "a1", "u2": "a1"})


def test_max_municipalities_rejects_three():
    """Users from three municipalities break the limit of 2."""
    users = [user("u1", "nord"), user("u2", "sor"), user("u3", "vest")]
    inst = instance(users, [advisor("a1")])
    assert not verify(limit_municipalities, inst, {"u1": "a1", "u2": "a1", "u3": "a1"})


def test_advisor_max_municipalities_overrides_policy():
    """An advisor's own limit of 1 wins over the policy's 2."""
    inst = instance(
        [user("u1", "nord"), user("u2", "sor")], [advisor("a1", max_municipalities=1)]
    )
    assert not verify(limit_municipalities, inst, {"u1": "a1", "u2": "a1"})
    assert verify(limit_municipalities, inst, {"u1": "a1"})


# --- Rule 6: availability ---


def test_unavailable_advisor_keeps_current_user_only():
    """An unavailable advisor keeps a current user but takes no new one."""
    inst = instance(
        [user("u1", current_advisor="a1"), user("u2")], [advisor("a1", available=False)]
    )
    problem = build_problem(inst)
    assert eligible(problem, "u1") == {"a1"}
    assert eligible(problem, "u2") == set()


# --- Rule 7: locks ---


def test_forbid_lock_removes_pair():
    """A forbid lock removes exactly that pair."""
    inst = instance(
        [user("u1")],
        [advisor("a1"), advisor("a2")],
        locks=[Lock(user="u1", advisor="a1", kind="forbid", row=2)],
    )
    assert eligible(build_problem(inst), "u1") == {"a2"}


def test_fix_lock_must_hold():
    """A fixed user must be assigned to the locked advisor, not left out."""
    inst = instance(
        [user("u1")],
        [advisor("a1"), advisor("a2")],
        locks=[Lock(user="u1", advisor="a2", kind="fix", row=2)],
    )
    assert eligible(build_problem(inst), "u1") == {"a2"}
    assert verify(hold_fix_locks, inst, {"u1": "a2"})
    assert not verify(hold_fix_locks, inst, {"u1": None})


def test_fix_lock_breaking_authority_is_input_error():
    """A fix lock to an advisor without authority names the lock's row."""
    inst = instance(
        [user("u1", "sor", needs=SA)],
        [advisor("a1", competences=SA)],
        locks=[Lock(user="u1", advisor="a1", kind="fix", row=2)],
    )
    with pytest.raises(InstanceError) as caught:
        build_problem(inst)
    (problem,) = caught.value.problems
    assert (problem.file, problem.row) == ("locks.csv", 2)
    assert problem.message == (
        "fix lock of user u1 to advisor a1 cannot hold: advisor a1 is a state "
        "employee, and state employees never hold municipal authority; "
        "social_assistance needs it in sor."
    )


def test_conflicting_household_fix_locks_name_both():
    """Two fix locks sending one household to two advisors name both rows."""
    inst = instance(
        [user("u1", household="h"), user("u2", household="h")],
        [advisor("a1"), advisor("a2")],
        locks=[
            Lock(user="u1", advisor="a1", kind="fix", row=2),
            Lock(user="u2", advisor="a2", kind="fix", row=3),
        ],
    )
    with pytest.raises(InstanceError) as caught:
        build_problem(inst)
    text = str(caught.value)
    assert "locks.csv, row 3" in text and "locks.csv row 2" in text


def test_fix_locks_over_capacity_are_input_error():
    """Five fix locks on a capacity-4 advisor are rejected."""
    users = [user(f"u{i}") for i in range(5)]
    locks = [Lock(user=f"u{i}", advisor="a1", kind="fix", row=i + 2) for i in range(5)]
    inst = instance(users, [advisor("a1")], locks=locks)
    with pytest.raises(InstanceError, match="above its capacity 4"):
        build_problem(inst)


# --- Rule 8: households ---


def test_household_accepts_shared_advisor_and_partial():
    """Members share an advisor, or one member stays unassigned."""
    users = [user("u1", household="h"), user("u2", household="h")]
    inst = instance(users, [advisor("a1"), advisor("a2")])
    assert verify(keep_households_together, inst, {"u1": "a1", "u2": "a1"})
    assert verify(keep_households_together, inst, {"u1": "a1", "u2": None})


def test_household_rejects_split():
    """Members with two different advisors break rule 8."""
    users = [user("u1", household="h"), user("u2", household="h")]
    inst = instance(users, [advisor("a1"), advisor("a2")])
    assert not verify(keep_households_together, inst, {"u1": "a1", "u2": "a2"})


# --- Soft goals: exact values, model and plain Python agree ---


def pinned_objective(inst, assignment) -> float:
    """The full model's objective with every user pinned to ``assignment``.

    Built with rebalance on, so minimal churn does not pin users itself.
    """
    problem = build_problem(inst, rebalance=True)
    model = AllocationModel(problem)
    ids = {a.id: i for i, a in enumerate(inst.advisors)}
    counts: dict[tuple[int, int], int] = {}
    for u, usr in enumerate(inst.users):
        if assignment.get(usr.id) is not None:
            g = next(i for i, grp in enumerate(problem.groups) if u in grp.user_idcs)
            key = (g, ids[assignment[usr.id]])
            counts[key] = counts.get(key, 0) + 1
    for key, var in model.variables.assign.items():
        model.model.add(var == counts.get(key, 0))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    assert solver.solve(model.model) == cp_model.OPTIMAL
    return model.to_objective(solver.objective_value)


def allocation_of(inst, assignment):
    ids = {a.id: i for i, a in enumerate(inst.advisors)}
    return [ids.get(assignment.get(u.id) or "") for u in inst.users]


TERM_CASES = [
    # (weights, users, advisors, assignment, term, expected value)
    # 1000 per weighted user: a weight-1.5 user left out costs 1500.
    ({"unassigned": 1000}, [user("u1", weight=1.5)], [advisor("a1")], {}, "unassigned", 1500.0),
    # An urgent user left out costs the urgent weight.
    ({"urgent_unassigned": 100000}, [user("u1", urgent=True)], [advisor("a1")], {}, "urgent_unassigned", 100000.0),
    # One user moved from a1 to a2 costs one reassignment.
    ({"reassignment": 50}, [user("u1", current_advisor="a1"), user("u2", current_advisor="a1")],
     [advisor("a1"), advisor("a2")], {"u1": "a2", "u2": "a1"}, "reassignment", 50.0),
    # A sor user served from nord: 30 km.
    ({"travel": 1}, [user("u1", "sor")], [advisor("a1")], {"u1": "a1"}, "travel", 30.0),
    # Loads 3/4 and 1/4: the team's peak is 0.75, x weight 100 = 75.
    ({"load_balance": 100}, [user(f"u{i}") for i in range(4)], [advisor("a1"), advisor("a2")],
     {"u0": "a1", "u1": "a1", "u2": "a1", "u3": "a2"}, "load_balance", 75.0),
    # Loads 2/4 and 2/4: balanced, the peak is 0.5 = 50.
    ({"load_balance": 100}, [user(f"u{i}") for i in range(4)], [advisor("a1"), advisor("a2")],
     {"u0": "a1", "u1": "a1", "u2": "a2", "u3": "a2"}, "load_balance", 50.0),
    # A half-time advisor with 1 user and a full-time one with 2: both at 50 %.
    ({"load_balance": 100}, [user(f"u{i}") for i in range(3)], [advisor("a1", fte=0.5), advisor("a2")],
     {"u0": "a1", "u1": "a2", "u2": "a2"}, "load_balance", 50.0),
    # A prefer_non_local user from nord given a nord-based advisor: 10.
    ({"non_local": 10}, [user("u1", prefer_non_local=True)], [advisor("a1")], {"u1": "a1"}, "non_local", 10.0),
]  # fmt: skip


@pytest.mark.parametrize(
    ("weights", "users", "advisors", "assignment", "term", "value"), TERM_CASES
)
def test_objective_term_exact(weights, users, advisors, assignment, term, value):
    """Each goal alone has the expected value, in the model and in plain Python."""
    inst = instance(users, advisors, weights=weights)
    problem = build_problem(inst)
    terms = objective_terms(problem, allocation_of(inst, assignment))
    assert terms[term] == pytest.approx(value)
    assert sum(terms.values()) == pytest.approx(value)
    assert pinned_objective(inst, assignment) == pytest.approx(value)


def test_rotation_goal_counts_users_kept_too_long():
    """A user with the same advisor for 30 months under rotation 24 costs 20 if kept."""
    since = dt.date(2024, 5, 1)
    inst = instance(
        [user("u1", current_advisor="a1", since=since)],
        [advisor("a1"), advisor("a2")],
        weights={"rotation": 20},
        rotation_months=24,
        week="2026-W48",
    )
    problem = build_problem(inst)
    assert objective_terms(problem, allocation_of(inst, {"u1": "a1"}))["rotation"] == 20
    assert objective_terms(problem, allocation_of(inst, {"u1": "a2"}))["rotation"] == 0
    assert pinned_objective(inst, {"u1": "a1"}) == pytest.approx(20)


def test_zero_weight_adds_no_helper_variables():
    """With load_balance 0 the model has no utilisation bound variables."""
    users = [user(f"u{i}") for i in range(4)]
    off = AllocationModel(
        build_problem(instance(users, [advisor("a1"), advisor("a2")]))
    )
    on = AllocationModel(
        build_problem(
            instance(
                users, [advisor("a1"), advisor("a2")], weights={"load_balance": 100}
            )
        )
    )
    count = lambda m: len(m.model.proto.variables)  # noqa: E731
    # One utilisation_peak variable for the one team.
    assert count(on) == count(off) + 1


def test_interchangeable_users_share_one_group():
    """Forty identical users become one group, not forty."""
    inst = instance(
        [user(f"u{i}") for i in range(40)],
        [advisor("a1", fte=1)],
        weights={"unassigned": 1},
    )
    problem = build_problem(inst)
    assert len(problem.groups) == 1
    # Four placed (capacity 4), thirty-six left at weight 1 each.
    assert objective(problem, [0] * 4 + [None] * 36) == 36


# --- Minimal churn (weekly runs) ---


def test_minimal_churn_pins_users_who_may_stay():
    """By default, users whose current advisor may keep them are pinned."""
    users = [user("u1", current_advisor="a1"), user("u2", current_advisor="a1")]
    inst = instance(
        users, [advisor("a1"), advisor("a2")], weights={"load_balance": 100}
    )
    assert len(build_problem(inst).pinned) == 1
    assert build_problem(inst, rebalance=True).pinned == frozenset()


def test_minimal_churn_frees_an_overfull_advisor():
    """An advisor whose current users no longer fit has none of them pinned."""
    users = [user(f"u{i}", current_advisor="a1") for i in range(3)]
    inst = instance(users, [advisor("a1", fte=0.5), advisor("a2")])
    assert build_problem(inst).pinned == frozenset()


def test_capacity_is_never_exceeded_by_rounding():
    """Four users of weight 1.005 (4.02) do not fit a capacity of 4; three do."""
    inst = instance([user(f"u{i}", weight=1.005) for i in range(4)], [advisor("a1")])
    assert not verify(respect_capacity, inst, {f"u{i}": "a1" for i in range(4)})
    assert verify(respect_capacity, inst, {f"u{i}": "a1" for i in range(3)})


# --- Continuity (R12) against rotation (R13) ---


def solve_alone(inst, **options):
    """Advisor id per user after a full solve (one worker, deterministic)."""
    from allocator.engine.cpsat.solver import SolveParams, solve

    problem = build_problem(inst, **options)
    result = solve(problem, SolveParams(time_limit=5, workers=1))
    ids = [a.id for a in inst.advisors]
    return {
        u.id: ids[a] if a is not None else None
        for u, a in zip(inst.users, result.allocation, strict=True)
    }


@pytest.mark.parametrize(
    ("rotation", "reassignment", "expected"),
    [
        (20, 50, "a1"),  # rotation cheaper than a move: continuity wins
        (100, 50, "a2"),  # rotation dearer than a move: the user rotates
    ],
)
def test_rotation_against_continuity(rotation, reassignment, expected):
    """A user 30 months with a1 (rotation after 24) moves iff rotation outweighs."""
    inst = instance(
        [user("u1", current_advisor="a1", since=dt.date(2024, 5, 1))],
        [advisor("a1"), advisor("a2")],
        weights={
            "rotation": rotation,
            "reassignment": reassignment,
            "unassigned": 1000,
        },
        rotation_months=24,
        week="2026-W48",
    )
    assert solve_alone(inst) == {"u1": expected}


def test_continuity_holds_below_rotation_threshold():
    """Ten months with a1 under rotation 24: the user stays, even if a2 is idle."""
    inst = instance(
        [user("u1", current_advisor="a1", since=dt.date(2026, 1, 5))],
        [advisor("a1"), advisor("a2")],
        weights={"rotation": 100, "reassignment": 50, "load_balance": 100},
        rotation_months=24,
        week="2026-W48",
    )
    assert solve_alone(inst) == {"u1": "a1"}
    assert solve_alone(inst, rebalance=True) == {"u1": "a1"}


def test_greedy_never_splits_a_household():
    """When the household's advisor is full, the next member waits (rule 8).

    Both members have a1, which now has room for one: the second member must
    not be sent to a2 as a full current advisor's users otherwise are.
    """
    from allocator.engine.greedy import solve_greedy

    users = [
        user("u1", household="h", current_advisor="a1"),
        user("u2", household="h", current_advisor="a1"),
    ]
    inst = instance(users, [advisor("a1", fte=0.25), advisor("a2")])
    allocation = solve_greedy(build_problem(inst)).allocation
    placed = {a for a in allocation if a is not None}
    assert len(placed) == 1
