"""Every comparison figure on hand-built instances, with its exact value.

Instances come from ``tests.helpers``: municipalities nord, sor (30 km from
nord) and vest (50 km from nord, 40 from sor); 4 cases per FTE unless told.
Allocations are given by hand (advisor ids per user) unless a test is about
the search.
"""

from __future__ import annotations

import itertools
import random

import pytest

from allocator.analysis.figures import (
    coverage,
    coverage_min,
    forced_moves,
    freed_fte,
    leakage_by_employer,
    leakage_fte,
    most_kept,
    municipalities_per_advisor,
    shortage_fte,
    shortages,
    single_points,
    solution_figures,
    travel_hours,
    travel_km,
    unassigned_weight,
    uncovered,
    utilisation,
)
from allocator.analysis.n1 import absences, n1_summary
from allocator.domain import HostAgreement, Instance, Team
from allocator.engine.greedy import solve_greedy
from allocator.engine.ledger import Ledger
from allocator.engine.problem import Problem, build_problem, scaled_weight
from tests.helpers import advisor, instance, user

SA = ("social_assistance",)


def allocate(inst: Instance, pairs: dict[str, str | None]) -> list[int | None]:
    """Advisor index per user from user id -> advisor id (missing = none)."""
    index = {a.id: i for i, a in enumerate(inst.advisors)}
    return [
        index[pairs[u.id]] if pairs.get(u.id) is not None else None  # type: ignore[index]
        for u in inst.users
    ]


# --- Coverage, single points, uncovered (R15) ---------------------------------


def coverage_instance(**policy: object) -> Instance:
    users = [
        user("u1", "nord", needs=SA),
        user("u2", "sor", needs=("aap", "social_assistance")),
        user("u3", "vest", needs=("aap",)),
        user("u4", "vest", needs=SA),
        user("u5", "nord"),  # no needs: no pair
    ]
    teams = (
        Team(id="follow", kind="follow_up"),
        Team(id="follow-nord", kind="follow_up", municipalities=("nord",)),
    )
    advisors = [
        advisor("a1", employer="nord", competences=("social_assistance", "aap")),
        advisor("a2", employer="nord", competences=SA, available=False),
        advisor("a3", competences=("aap", "social_assistance")),  # state
        advisor("a4", employer="sor", base="sor", competences=SA),
        advisor("a5", "follow-nord", competences=("aap",)),  # serves nord only
    ]
    return instance(users, advisors, teams=teams, **policy)


def test_coverage_counts_qualified_advisors_per_pair() -> None:
    """Available, competent, with authority when needed, in a team serving it."""
    pairs = coverage(coverage_instance())
    assert pairs == {
        ("nord", "social_assistance"): 1,  # a1; a2 absent, a3 state, a4 sor
        ("sor", "aap"): 2,  # a1, a3; a5's team serves nord only
        ("sor", "social_assistance"): 1,  # a4; a1 has no authority in sor
        ("vest", "aap"): 2,  # a1, a3
        ("vest", "social_assistance"): 0,  # nobody holds authority in vest
    }
    assert coverage_min(pairs) == 0
    assert single_points(pairs) == 2
    assert uncovered(pairs) == 1


def test_a_host_agreement_covers_its_members() -> None:
    """nord hosting sor and vest: a1 gains authority in both (R02)."""
    inst = coverage_instance().model_copy(
        update={
            "host_agreements": (HostAgreement(host="nord", members=("sor", "vest")),)
        }
    )
    pairs = coverage(inst)
    assert pairs[("sor", "social_assistance")] == 2  # a1 and a4
    assert pairs[("vest", "social_assistance")] == 1  # a1
    assert (coverage_min(pairs), single_points(pairs), uncovered(pairs)) == (1, 2, 0)


def test_no_needs_no_pairs() -> None:
    pairs = coverage(instance([user("u1")], [advisor("a1")]))
    assert pairs == {}
    assert (coverage_min(pairs), single_points(pairs), uncovered(pairs)) == (None, 0, 0)


# --- Forced moves (rules 1 to 6) ----------------------------------------------


def moves_instance(**policy: object) -> Instance:
    users = [
        user("u1", "nord", current_advisor="a1"),  # stays
        user("u2", "nord", current_advisor="gone"),  # advisor left: forced
        user("u3", "sor", needs=SA, current_advisor="a1"),  # via host agreement
        user("u4", "nord", current_advisor="a2"),
        user("u5", "nord", current_advisor="a2"),
        user("u6", "nord", current_advisor="a2"),  # a2 carries 2: one forced
        user("u7", "nord", current_advisor="a3"),
        user("u8", "sor", current_advisor="a3"),
        user("u9", "vest", current_advisor="a3"),  # 3 municipalities, limit 2
        user("u10", "nord", age=25, current_advisor="a1"),  # routed to youth
        user("u11", "nord", current_advisor="a4"),  # a4 unavailable: keeps
    ]
    advisors = [
        advisor("a1", employer="nord", competences=SA),
        advisor("a2", fte=0.5),
        advisor("a3"),
        advisor("a4", available=False),
        advisor("y1", "youth"),
    ]
    agreements = (HostAgreement(host="nord", members=("sor",)),)
    return instance(users, advisors, host_agreements=agreements, **policy)


def test_forced_moves_counts_each_rule() -> None:
    """Left (u2), capacity (one of a2's three), municipalities (one of a3's)."""
    assert forced_moves(moves_instance()) == 3


def test_forced_moves_without_the_host_agreement() -> None:
    """u3 needs social assistance in sor; a1 (nord) loses authority there."""
    inst = moves_instance().model_copy(update={"host_agreements": ()})
    assert forced_moves(inst) == 4


def test_forced_moves_when_the_team_may_not_be_kept() -> None:
    """keep_current_team off: u10, routed to youth, must leave a follow-up team."""
    assert forced_moves(moves_instance(keep_current_team=False)) == 4


def test_forced_moves_after_a_capacity_cut() -> None:
    """A follow-up post carries 2 cases now, so the fewest users must leave.

    u2 (left) 1; a1 (capacity 2) keeps 2 of u1, u3, u10: 1; a2 (capacity
    1) keeps 1 of 3: 2; a3 (capacity 2, limit 2) keeps 2 of 3: 1.
    """
    inst = moves_instance(cases_per_fte_by_kind={"follow_up": 2})
    assert forced_moves(inst) == 5


def test_most_kept_tries_every_choice_of_municipalities() -> None:
    """One municipality allowed: three light sor users beat one nord user."""
    assert most_kept({"nord": [500], "sor": [600, 600, 600]}, 2000, 1) == 3
    assert most_kept({"nord": [1000, 1000], "sor": [3000]}, 3000, 1) == 2
    assert most_kept({"nord": [1000], "sor": [1000]}, 5000, 0) == 2
    assert most_kept({"nord": [1000, 1000]}, 500, 2) == 0


# --- Travel (R21) ------------------------------------------------------------


def travel_case(**policy: object) -> tuple[Problem, list[int | None]]:
    users = [user("u1", "nord"), user("u2", "sor"), user("u3", "vest"), user("u4")]
    advisors = [advisor("a1"), advisor("a2", base="vest")]
    inst = instance(users, advisors, **policy)
    pairs = {"u1": "a1", "u2": "a1", "u3": "a1", "u4": "a2"}
    return build_problem(inst), allocate(inst, pairs)


def test_travel_km_and_hours_at_the_policy_speed() -> None:
    """a1 (nord): 0 + 30 + 50 km; a2 (vest) to nord: 50 km. 130 km at 40 km/h."""
    problem, allocation = travel_case(travel_speed_kmh=40)
    assert travel_km(problem, allocation) == pytest.approx(130.0)
    assert travel_hours(problem, allocation) == pytest.approx(3.25)


def test_travel_hours_default_speed_is_70() -> None:
    problem, allocation = travel_case()
    assert problem.instance.policy.travel_speed_kmh == 70
    assert travel_hours(problem, allocation) == pytest.approx(130 / 70)


# --- Leakage (R25) and freed FTE (R37) ----------------------------------------


def leakage_case() -> tuple[Problem, list[int | None]]:
    users = [
        user("u1", "nord"),
        user("u2", "sor", weight=2.0),
        user("u3", "vest", age=25),  # youth
        user("u4", "sor"),
    ]
    advisors = [
        advisor("a1", employer="nord"),
        advisor("a2", "youth", employer="sor", base="sor", casework_share=0.5),
        advisor("a3"),  # state: never leakage
        advisor("a4", employer="vest", available=False),
    ]
    inst = instance(users, advisors, cases_per_fte_by_kind={"youth": 2})
    pairs = {"u1": "a1", "u2": "a1", "u3": "a2", "u4": "a3"}
    return build_problem(inst), allocate(inst, pairs)


def test_leakage_per_employer_in_fte() -> None:
    """nord's a1 spends 2/4 FTE on sor; sor's a2 spends 1/2 on vest."""
    problem, allocation = leakage_case()
    assert leakage_by_employer(problem, allocation) == {
        "nord": pytest.approx(0.5),
        "sor": pytest.approx(0.5),
        "vest": 0.0,
    }
    assert leakage_fte(problem, allocation) == pytest.approx(1.0)


def test_freed_fte_counts_available_posts_only() -> None:
    """a1: 1 - 3/4; a2: 0.5 casework - 1/2 youth post; a3: 1 - 1/4; a4 absent."""
    problem, allocation = leakage_case()
    assert freed_fte(problem, allocation) == pytest.approx(0.25 + 0.0 + 0.75)


def test_freed_fte_of_an_idle_office() -> None:
    users = [user("u1")]
    advisors = [advisor("a1", fte=0.8, casework_share=0.5), advisor("a2", fte=0.6)]
    inst = instance(users, advisors)
    problem = build_problem(inst)
    assert freed_fte(problem, allocate(inst, {"u1": "a2"})) == pytest.approx(
        0.4 + 0.6 - 0.25
    )


# --- Placement, shortage, utilisation, municipalities per advisor -------------


def test_placement_figures() -> None:
    users = [
        user("u1", "nord", weight=2.0),
        user("u2", "sor", weight=1.5, urgent=True),
        user("u3", "vest", needs=SA),  # nobody qualified: not a shortage
        user("u4", "nord"),
        user("u5", "sor", age=20),  # youth, nobody in youth: not a shortage
    ]
    advisors = [advisor("a1"), advisor("a2", fte=0.5), advisor("a3", casework_share=0)]
    inst = instance(users, advisors)
    problem = build_problem(inst)
    allocation = allocate(inst, {"u1": "a1", "u4": "a2"})
    assert unassigned_weight(problem, allocation) == pytest.approx(3.5)
    assert [
        (s.kind, s.municipality, s.weight) for s in shortages(problem, allocation)
    ] == [("follow_up", "sor", 1.5)]
    assert shortage_fte(problem, allocation) == pytest.approx(1.5 / 4)
    spread = utilisation(problem, allocation)
    # a1 2/4, a2 1/2; a3 has no capacity and is left out.
    assert (spread.max, spread.min, spread.mean) == (0.5, 0.5, 0.5)
    figures = solution_figures(problem, allocation)
    assert figures["urgent_unassigned"] == 1
    assert (figures["assigned"], figures["unassigned"]) == (2, 3)


def test_municipalities_per_advisor_over_advisors_with_users() -> None:
    users = [user("u1", "nord"), user("u2", "sor"), user("u3", "vest")]
    advisors = [advisor("a1"), advisor("a2"), advisor("a3")]
    inst = instance(users, advisors)
    problem = build_problem(inst)
    allocation = allocate(inst, {"u1": "a1", "u2": "a1", "u3": "a2"})
    assert municipalities_per_advisor(problem, allocation) == (2, 1.5)
    assert municipalities_per_advisor(problem, [None, None, None]) == (None, None)


def test_utilisation_uneven() -> None:
    """An absent advisor without users does not count; one keeping users does."""
    users = [user(f"u{i}") for i in range(5)]
    advisors = [
        advisor("a1"),
        advisor("a2", fte=0.5),
        advisor("off", available=False),
        advisor("kept", available=False),
    ]
    inst = instance(users, advisors)
    problem = build_problem(inst)
    pairs = {"u0": "a1", "u1": "a2", "u2": "a2", "u3": "a1", "u4": "kept"}
    spread = utilisation(problem, allocate(inst, pairs))
    assert (spread.max, spread.min) == (1.0, 0.25)
    assert spread.mean == pytest.approx((0.5 + 1.0 + 0.25) / 3)


# --- N-1 (R15) ---------------------------------------------------------------


def test_n1_worst_and_mean_exact() -> None:
    """Each advisor absent in turn; capacity 4 each, everyone in nord."""
    users = [
        user("u1", weight=1.0),
        user("u2", weight=1.0),
        user("u3", weight=2.0, needs=("aap",)),
        user("u4"),
        user("u5"),
        user("u6"),
        user("u7", needs=("aap",)),
        user("u8", needs=("aap",)),
    ]
    advisors = [
        advisor("a1", competences=("aap",)),
        advisor("a2", competences=("aap",)),
        advisor("a3"),
    ]
    inst = instance(users, advisors)
    problem = build_problem(inst)
    pairs = {
        "u1": "a1", "u2": "a1", "u3": "a1",  # a1 full (4)
        "u4": "a2", "u7": "a2", "u8": "a2",  # a2: 3 of 4
        "u5": "a3", "u6": "a3",  # a3: 2 of 4
    }  # fmt: skip
    items = absences(problem, allocate(inst, pairs))
    by_advisor = {item.advisor: item.weight for item in items}
    # a1 out: u1, u2 -> a3 (room 2), u3 (aap, 2) -> a2 has room 1 only: 2 left.
    # a2 out: u7, u8 need aap -> a1 is full: 2 left; u4 -> a3.
    # a3 out: u5, u6 -> a2 (room 1) and a1 (full): 1 left.
    assert by_advisor == {"a1": 2.0, "a2": 2.0, "a3": 1.0}
    assert all(item.exact for item in items)
    worst, who, mean, exact = n1_summary(items)
    assert (worst, who, exact) == (2.0, "a1", True)
    assert mean == pytest.approx(5 / 3)


def test_n1_finds_what_a_greedy_pass_misses() -> None:
    """The heavy user takes the aap advisor's room in a greedy pass; the exact
    re-placement sends it to a3 and u2 (aap) to a2: nothing is left."""
    users = [
        user("u1", weight=2.0),
        user("u2", needs=("aap",)),
        user("f1", needs=("aap",)),
        user("f2", needs=("aap",)),
        user("g1"),
        user("g2"),
    ]
    advisors = [
        advisor("a1", competences=("aap",)),
        advisor("a2", competences=("aap",)),
        advisor("a3"),
    ]
    inst = instance(users, advisors)
    problem = build_problem(inst)
    pairs = {"u1": "a1", "u2": "a1", "f1": "a2", "f2": "a2", "g1": "a3", "g2": "a3"}
    items = {i.advisor: i for i in absences(problem, allocate(inst, pairs))}
    assert items["a1"].weight == 0.0 and items["a1"].exact


def test_n1_keeps_households_together_and_respects_municipality_limit() -> None:
    """a1's household lives in sor; a2 and a3 serve nord and may serve no
    second municipality (limit 1), so the household is left."""
    users = [
        user("h1", "sor", household="h"),
        user("h2", "sor", household="h"),
        user("x1", "nord"),
        user("x2", "nord"),
        user("x3", "nord"),
    ]
    advisors = [advisor("a1"), advisor("a2"), advisor("a3")]
    inst = instance(users, advisors, max_municipalities_per_advisor=1)
    problem = build_problem(inst)
    pairs = {"h1": "a1", "h2": "a1", "x1": "a2", "x2": "a3", "x3": "a3"}
    items = {i.advisor: i for i in absences(problem, allocate(inst, pairs))}
    # a2 serves nord (limit 1): no sor. a3 serves nord too. Nobody takes sor.
    assert items["a1"].weight == 2.0
    # a3 out: x2, x3 (nord) -> a2 (room 3): nothing left.
    assert items["a3"].weight == 0.0


def brute_force(problem: Problem, allocation: list[int | None], a: int) -> float:
    """Least weight left when advisor a is absent, by trying every placement."""
    users = [u for u, b in enumerate(allocation) if b == a]
    group_of = {u: g for g, grp in enumerate(problem.groups) for u in grp.user_idcs}
    options = [
        [None, *[b for b in problem.groups[group_of[u]].eligible if b != a]]
        for u in users
    ]
    rest = [b if b != a else None for b in allocation]
    best = sum(problem.instance.users[u].weight for u in users)
    for choice in itertools.product(*options):
        ledger = Ledger.of(problem, rest)
        ok = True
        households: dict[str, int] = {}
        left = 0.0
        for u, b in zip(users, choice, strict=True):
            user_ = problem.instance.users[u]
            if b is None:
                left += user_.weight
                continue
            household = user_.household
            if household is not None and households.setdefault(household, b) != b:
                ok = False
                break
            weight = scaled_weight(user_.weight)
            newcomer = problem.current[u] != b
            if ledger.breach(b, weight, user_.municipality, newcomer) is not None:
                ok = False
                break
            ledger.take(b, weight, user_.municipality, newcomer)
        if ok:
            best = min(best, left)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_n1_equals_brute_force_on_random_offices(seed: int) -> None:
    """Random small offices: N-1 per advisor equals trying every placement."""
    rng = random.Random(seed)
    places = ["nord", "sor", "vest"]
    users = [
        user(
            f"u{i}",
            rng.choice(places),
            weight=rng.choice([1.0, 1.0, 1.5, 2.0]),
            needs=tuple(n for n in ("aap", "social_assistance") if rng.random() < 0.3),
            household=f"h{i // 2}" if i < 4 and rng.random() < 0.5 else None,
        )
        for i in range(14)
    ]
    advisors = [
        advisor(
            f"a{j}",
            employer=rng.choice(["state", *places]),
            base=rng.choice(places),
            fte=rng.choice([0.5, 1.0, 1.0]),
            competences=tuple(
                c for c in ("aap", "social_assistance") if rng.random() < 0.6
            ),
        )
        for j in range(4)
    ]
    inst = instance(
        users,
        advisors,
        max_municipalities_per_advisor=rng.choice([1, 2, 0]),
        weights={"unassigned": 1000},
        host_agreements=[HostAgreement(host="nord", members=("sor",))],
    )
    problem = build_problem(inst)
    allocation = solve_greedy(problem).allocation
    items = absences(problem, allocation)
    assert any(item.users for item in items)
    for a, item in enumerate(items):
        assert item.users <= 6  # capacities keep the enumeration small
        assert item.exact
        assert item.weight == pytest.approx(brute_force(problem, allocation, a)), (
            item.advisor
        )


def test_n1_never_splits_a_household() -> None:
    """a2 and a3 have room for one user each: split, the household would
    fit; rule 8 lets only one member be placed (with a2 or a3)."""
    users = [
        user("h1", household="h"),
        user("h2", household="h"),
        *[user(f"f{i}") for i in range(3)],
        *[user(f"g{i}") for i in range(3)],
    ]
    advisors = [advisor("a1"), advisor("a2"), advisor("a3")]
    inst = instance(users, advisors)
    problem = build_problem(inst)
    pairs = {"h1": "a1", "h2": "a1"}
    pairs |= {f"f{i}": "a2" for i in range(3)} | {f"g{i}": "a3" for i in range(3)}
    items = {i.advisor: i for i in absences(problem, allocate(inst, pairs))}
    assert items["a1"].weight == 1.0 and items["a1"].exact
