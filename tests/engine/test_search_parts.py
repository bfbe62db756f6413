"""The default search: parts, the flow start, reproducibility and the tie-break."""

from __future__ import annotations

import dataclasses
import multiprocessing
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from allocator.checker import check_solution
from allocator.domain import Instance, Team
from allocator.engine import search
from allocator.engine.cpsat.solver import Result, SolveParams
from allocator.engine.cpsat.solver import solve as solve_whole
from allocator.engine.decompose import split
from allocator.engine.evaluate import objective
from allocator.engine.flow import flow_start, placed_weight
from allocator.engine.greedy import solve_greedy
from allocator.engine.problem import Problem, build_problem
from allocator.generate import Shape, office_instance, write_instance
from allocator.io.read import read_instance
from allocator.run import RunOptions, solve_instance
from tests.helpers import advisor, instance, user

TEAMS = (
    Team(id="youth", kind="youth"),
    Team(id="follow", kind="follow_up"),
)


def two_teams(household: bool = False) -> Instance:
    """A youth team and a follow-up team that share nothing.

    youth: y1 in nord (capacity 4) and five 20-year-olds in nord, so one
    waits. follow: f1 in sor and f2 in nord (capacity 2 each), three users
    in sor and two in nord, so one waits. The optimum: each advisor takes
    users next door (0 km), one user of each team waits (2 x 1000) and each
    team's peak utilisation is 100 % (2 x 100): 2,200.

    ``household`` puts the first youth user and the first follow-up user in
    one household (they must share an advisor if both are placed).
    """
    youth = [user(f"y{i}", "nord", age=20) for i in range(5)]
    follow = [user(f"s{i}", "sor") for i in range(3)] + [
        user(f"n{i}", "nord") for i in range(2)
    ]
    if household:
        youth[0] = youth[0].model_copy(update={"household": "h1"})
        follow[0] = follow[0].model_copy(update={"household": "h1"})
    advisors = [
        advisor("y1", team="youth", base="nord"),
        advisor("f1", team="follow", base="sor", fte=0.5),
        advisor("f2", team="follow", base="nord", fte=0.5),
    ]
    return instance(
        youth + follow,
        advisors,
        teams=TEAMS,
        weights={"unassigned": 1000, "travel": 1, "load_balance": 100},
    )


def test_independent_teams_are_two_parts_with_the_whole_models_optimum() -> None:
    problem = build_problem(two_teams())
    parts = split(problem)
    assert [sorted({g.kind for g in p.problem.groups}) for p in parts] == [
        ["youth"],
        ["follow_up"],
    ]
    assert [p.users for p in parts] == [5, 5]
    decomposed = search.solve(problem, SolveParams(time_limit=10))
    whole = solve_whole(problem, SolveParams(time_limit=10, workers=1))
    assert decomposed.stopped_by == "proof"
    assert decomposed.objective == whole.objective == 2200.0
    assert decomposed.bound == 2200.0
    # The parts' objectives add up to the whole's.
    assert sum(objective(p.problem, decomposed.allocation) for p in parts) == 2200.0


def test_a_household_across_team_kinds_joins_the_parts() -> None:
    problem = build_problem(two_teams(household=True))
    assert len(split(problem)) == 1
    result = search.solve(problem, SolveParams(time_limit=10))
    whole = solve_whole(problem, SolveParams(time_limit=10, workers=1))
    assert result.objective == whole.objective


def test_a_limit_on_moves_keeps_the_problem_whole() -> None:
    problem = dataclasses.replace(build_problem(two_teams()), max_moves=3)
    parts = split(problem)
    assert len(parts) == 1
    assert parts[0].users == 10


def test_users_nobody_can_take_are_a_constant_outside_the_parts() -> None:
    """A user needing social assistance has no advisor with municipal authority."""
    inst = two_teams()
    stranded = user("w1", "nord", age=20, needs=("social_assistance",))
    inst = inst.model_copy(update={"users": (*inst.users, stranded)})
    problem = build_problem(inst)
    assert sum(p.users for p in split(problem)) == 10
    result = search.solve(problem, SolveParams(time_limit=10))
    assert result.objective == result.bound == 3200.0
    assert result.allocation[-1] is None


@pytest.fixture(scope="module")
def offices() -> list[Problem]:
    """Office-shaped first allocations and weekly runs of a few seeds."""
    return [
        build_problem(
            office_instance(seed, shape=Shape(first_allocation=seed % 2 == 0))
        )
        for seed in (2, 5, 6, 7)
    ]


def test_the_start_is_never_worse_than_either_greedy(offices: list[Problem]) -> None:
    for problem in offices:
        for part in split(problem):
            start = search.start_for(part.problem, None)
            value = objective(part.problem, start)
            assert value <= solve_greedy(part.problem).objective
            assert value <= solve_greedy(part.problem, compact=True).objective


def test_the_flow_start_places_at_least_the_lp_rounded_weight(
    offices: list[Problem],
) -> None:
    """The flow start places nearly all the weight the greedy does, and often more.

    It is not always more (rounding and the municipality repair lose some),
    which is why the search starts from the better of the two.
    """
    more = 0
    for problem in offices:
        flow = flow_start(problem)
        assert flow is not None
        greedy = placed_weight(problem, solve_greedy(problem).allocation)
        placed = placed_weight(problem, flow)
        assert placed >= 0.97 * greedy
        more += placed >= greedy
    assert more >= 1


def test_the_flow_start_obeys_every_rule_by_the_independent_checker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The flow start written as the run's allocation passes ``allocator check``."""
    inst = office_instance(6, shape=Shape(first_allocation=True))
    write_instance(tmp_path / "office", inst)
    inst = read_instance(tmp_path / "office")

    def flow_as_greedy(problem: Problem, *, compact: bool = False) -> Result:
        allocation = flow_start(problem)
        assert allocation is not None
        return Result(
            status="feasible",
            objective=objective(problem, allocation),
            bound=float("nan"),
            wall_s=0.0,
            build_s=0.0,
            time_to_first_s=0.0,
            allocation=allocation,
            solver="greedy",
        )

    monkeypatch.setattr("allocator.run.solve_greedy", flow_as_greedy)
    solution = solve_instance(inst, RunOptions(solver="greedy"))
    folder = solution.write(tmp_path / "out", xlsx=False)
    assert check_solution(inst, folder) == []
    assert solution.result.allocation == flow_start(solution.problem)


def test_two_optima_give_the_documented_allocation() -> None:
    """Two identical advisors, two interchangeable users, balance on.

    Either advisor may take either user: two optima of equal cost (one user
    each, peak 25 %). The documented tie-break hands a group's users out in
    input order to advisors in input order: u0 to a0, u1 to a1, on every run
    and every seed.
    """
    inst = instance(
        [user("u0"), user("u1")],
        [advisor("a0"), advisor("a1")],
        weights={"unassigned": 1000, "load_balance": 100},
    )
    problem = build_problem(inst)
    for seed in (0, 1, 7):
        result = search.solve(problem, SolveParams(time_limit=10, seed=seed))
        assert result.objective == 25.0
        assert result.allocation == [0, 1]


def test_two_optima_not_interchangeable_give_the_documented_allocation() -> None:
    """Two identical advisors, two users in different municipalities.

    u0 (nord) and u1 (sor) are not interchangeable, but either advisor may
    take either of them at the same cost (one each, peak 25 %; no travel
    weight): two optima. The documented tie-break (docs/reference/search.md,
    "Ties") takes the one whose pairs' costs sum the least, each cost the
    first four bytes of SHA-256 of ``user NUL advisor`` modulo 1,000 plus 1,
    worked out here on its own; the same on every seed.
    """
    import hashlib

    def cost(user_id: str, advisor_id: str) -> int:
        digest = hashlib.sha256(f"{user_id}\0{advisor_id}".encode()).digest()
        return int.from_bytes(digest[:4], "big") % 1000 + 1

    straight = cost("u0", "a0") + cost("u1", "a1")
    crossed = cost("u0", "a1") + cost("u1", "a0")
    assert straight != crossed
    expected = [0, 1] if straight < crossed else [1, 0]
    inst = instance(
        [user("u0"), user("u1", "sor")],
        [advisor("a0"), advisor("a1")],
        weights={"unassigned": 1000, "load_balance": 100},
    )
    problem = build_problem(inst)
    assert len(problem.groups) == 2
    for seed in (0, 1, 7):
        result = search.solve(problem, SolveParams(time_limit=10, seed=seed))
        assert result.objective == 25.0
        assert result.canonical
        assert result.allocation == expected


def _burn(seconds: float) -> None:
    """Keep one core busy (a CPU-bound process beside the solve)."""
    import time

    end = time.perf_counter() + seconds
    x = 0
    while time.perf_counter() < end:
        x += 1


@contextmanager
def busy() -> Iterator[None]:
    """Two CPU-bound processes running beside the block."""
    context = multiprocessing.get_context("spawn")
    burners = [context.Process(target=_burn, args=(120.0,)) for _ in range(2)]
    for process in burners:
        process.start()
    try:
        yield
    finally:
        for process in burners:
            process.terminate()
            process.join()


def _solve(folder: Path, out: Path) -> bytes:
    done = subprocess.run(
        [sys.executable, "-m", "allocator", "solve", str(folder), "--out", str(out),
         "--quiet", "--no-xlsx", "--seed", "7"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return (out / "assignments.csv").read_bytes()


@pytest.fixture(scope="module")
def office_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated office's first allocation (550 users), written to disk."""
    folder = tmp_path_factory.mktemp("office") / "o6"
    write_instance(folder, office_instance(6, shape=Shape(first_allocation=True)))
    return folder


@pytest.mark.alone
def test_same_input_and_seed_same_file_idle_and_under_load(
    office_folder: Path, tmp_path: Path
) -> None:
    """Byte-identical assignments.csv: twice idle, then with two busy cores beside."""
    idle = _solve(office_folder, tmp_path / "a")
    assert _solve(office_folder, tmp_path / "b") == idle
    with busy():
        assert _solve(office_folder, tmp_path / "c") == idle


def test_a_household_member_nobody_can_take_leaves_the_rest_together() -> None:
    """The first member needs municipal authority nobody has; the other two share."""
    inst = two_teams()
    users = list(inst.users)
    users[5] = users[5].model_copy(
        update={"household": "h2", "needs": ("social_assistance",)}
    )
    users[6] = users[6].model_copy(update={"household": "h2"})
    users[7] = users[7].model_copy(update={"household": "h2"})
    problem = build_problem(inst.model_copy(update={"users": tuple(users)}))
    follow = next(p for p in split(problem) if p.problem.groups[0].kind == "follow_up")
    assert len(follow.problem.households) == 1
    assert len(follow.problem.households[0]) == 2
    result = search.solve(problem, SolveParams(time_limit=10))
    whole = solve_whole(problem, SolveParams(time_limit=10, workers=1))
    assert result.objective == whole.objective
    assert result.allocation[6] == result.allocation[7]


def test_the_mip_of_each_part_proves_the_parts_optimum() -> None:
    """HiGHS on a part's own CP-SAT model: each team's optimum is 1,100.

    One user of each team waits (1,000) and its peak utilisation is 100 %
    (100); the two parts sum to the whole model's 2,200.
    """
    from allocator.engine.cpsat import AllocationModel
    from allocator.engine.mip import convertible, solve_mip

    problem = build_problem(two_teams())
    found = []
    for part in split(problem):
        model = AllocationModel(part.problem)
        assert convertible(model)
        outcome = solve_mip(model, nodes=10_000, time_limit=60, gap=0.0)
        assert outcome.proved and not outcome.timed_out
        assert outcome.values is not None
        allocation = model.allocation(outcome.values)
        found.append(objective(part.problem, allocation))
        assert model.to_objective(outcome.bound) == pytest.approx(found[-1])
    assert found == [1100.0, 1100.0]


def test_a_model_with_a_conditional_constraint_is_not_handed_to_highs() -> None:
    from allocator.engine.cpsat import AllocationModel
    from allocator.engine.mip import convertible

    model = AllocationModel(build_problem(two_teams()))
    assert convertible(model)
    flag = model.model.new_bool_var("flag")
    model.model.add(flag <= 1).only_enforce_if(flag)
    assert not convertible(model)


@pytest.mark.alone
def test_round_two_with_highs_gives_the_same_answer_under_load(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An office whose youth team CP-SAT does not prove in round one (its
    advisors each choose 2 of 7 municipalities): HiGHS runs in round two,
    and the answer is the same with two busy cores beside it.

    The time limit is set far out so that only the deterministic budget
    ends the search, as it does at the default on an idle machine.
    """
    from allocator.engine import mip

    problem = build_problem(office_instance(23, shape=Shape(first_allocation=True)))
    calls: list[int] = []

    def counted(*args: object, **kwargs: object) -> mip.MipOutcome:
        outcome = mip.solve_mip(*args, **kwargs)  # type: ignore[arg-type]
        calls.append(outcome.nodes)
        return outcome

    monkeypatch.setattr(search, "solve_mip", counted)
    params = SolveParams(
        time_limit=600, deterministic_time=search.budget_for(SolveParams())
    )
    first = search.solve(problem, params)
    with busy():
        second = search.solve(problem, params)
    assert calls and calls[: len(calls) // 2] == calls[len(calls) // 2 :]
    assert first.stopped_by in {"proof", "gap_limit", "deterministic_time"}
    assert second.allocation == first.allocation
    assert (second.objective, second.bound) == (first.objective, first.bound)
    assert first.objective <= objective(problem, solve_greedy(problem).allocation)


def clock_test_state(objective: float) -> search._PartState:
    """A part's state as ``absorb`` sees it (absorb never reads the part)."""
    return search._PartState(part=None, budget=1.0, allocation=[], objective=objective)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("timed_out", "bound", "expected"),
    [
        (True, 99.95, "wall_clock"),  # within the 0.1 % gap, but cut
        (True, 100.0, "wall_clock"),  # even a proof, if a call was cut
        (False, 99.95, "gap_limit"),
        (False, 100.0, "proof"),
    ],
)
def test_a_part_with_a_call_cut_by_the_clock_is_not_reproducible(
    timed_out: bool, bound: float, expected: str
) -> None:
    """What the clock cut depends on the load: the part says wall_clock."""
    state = clock_test_state(100.0)
    tracker = search._Tracker(
        start=0.0, callback=None, objective=[100.0], bound=[float("-inf")]
    )
    call = search._Outcome(
        spent=0.2, workers=1, allocation=[], objective=100.0, bound=bound,
        timed_out=timed_out,
    )  # fmt: skip
    search.absorb(state, [call], None, tracker, 0)
    assert state.stopped_by == expected
    assert (expected in {"proof", "gap_limit"}) == (
        Result(status="feasible", objective=100.0, bound=bound, wall_s=0.0,
               build_s=0.0, time_to_first_s=None, allocation=[],
               stopped_by=search.overall_stop([state], None)).reproducible
    )  # fmt: skip


def test_the_capacity_is_stated_as_the_load_the_users_can_make_up() -> None:
    """Rule 4 in its rounded form: 0.6 FTE at 4 cases per FTE is 2.4.

    Users of weight 1 can fill at most 2 of it, users of weight 1 and 1.5
    also 2 (steps of 0.5), users of weight 1 and 1.2 the whole 2.4 (steps of
    0.2). The optimum is the same: with three users of weight 1 one waits.
    """
    from allocator.engine.cpsat import AllocationModel
    from allocator.engine.cpsat.constraints import usable_capacity

    def usable(*weights: float) -> int:
        users = [user(f"u{i}", weight=w) for i, w in enumerate(weights)]
        inst = instance(users, [advisor("a0", fte=0.6)], weights={"unassigned": 1000})
        problem = build_problem(inst)
        model = AllocationModel(problem)
        assert problem.capacity[0] == 2400
        return usable_capacity(problem, 0, model.variables.by_advisor[0])

    assert usable(1.0, 1.0, 1.0) == 2000
    assert usable(1.0, 1.5, 1.0) == 2000
    assert usable(1.0, 1.2, 1.0) == 2400
    inst = instance(
        [user("u0"), user("u1"), user("u2")],
        [advisor("a0", fte=0.6)],
        weights={"unassigned": 1000},
    )
    result = search.solve(build_problem(inst), SolveParams(time_limit=10))
    assert (result.objective, result.bound) == (1000.0, 1000.0)


def test_the_relaxation_and_its_dive_reach_the_whole_models_optimum() -> None:
    """A part whose advisors each choose one municipality (rule 5).

    a0 in nord and a1 in sor take 4 users each; nord has 5 users, sor 2 and
    vest 1. The best choice is a0 in nord and a1 in sor: one nord user and
    the vest user wait (2 x 1,000), no travel. HiGHS's relaxation (the
    municipality choices and waiting counts whole) bounds the part at
    exactly that, and the dive from its choice finds the allocation.
    """
    import time

    users = [user(f"n{i}") for i in range(5)]
    users += [user("s0", "sor"), user("s1", "sor"), user("v0", "vest")]
    inst = instance(
        users,
        [advisor("a0"), advisor("a1", base="sor")],
        weights={"unassigned": 1000, "travel": 1},
        max_municipalities_per_advisor=1,
    )
    problem = build_problem(inst)
    (part,) = split(problem)
    model = search.mip_model(part.problem, SolveParams())
    assert model is not None and model.variables.serves
    waiting: list[int | None] = [None] * len(inst.users)
    state = search._PartState(
        part=part,
        budget=1.0,
        allocation=waiting,
        objective=objective(part.problem, waiting),
    )
    tracker = search._Tracker(
        start=time.perf_counter(),
        callback=None,
        objective=[state.objective],
        bound=[float("-inf")],
    )
    outcome = search.run_mip(state, model, 1.0, time.perf_counter() + 60, tracker, 0)
    whole = solve_whole(problem, SolveParams(time_limit=10, workers=1))
    assert whole.status == "optimal" and whole.objective == 2000.0
    assert (outcome.objective, outcome.bound) == (2000.0, 2000.0)
    assert outcome.allocation is not None
    served = {
        (a, inst.users[u].municipality)
        for u, a in enumerate(outcome.allocation)
        if a is not None
    }
    assert served == {(0, "nord"), (1, "sor")}
    assert not outcome.timed_out and outcome.ran_out
