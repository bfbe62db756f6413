"""explain on hand-built cases: the exact rule or goal, with its figure."""

from __future__ import annotations

from allocator.analysis.explain import explain_user
from allocator.domain import Lock
from allocator.engine.problem import build_problem
from tests.helpers import advisor, instance, user


def verdicts(inst, assignment, user_id):
    """advisor id -> what explain says about them, for one user."""
    problem = build_problem(inst, rebalance=True)
    ids = {a.id: i for i, a in enumerate(inst.advisors)}
    allocation = [ids.get(assignment.get(u.id) or "") for u in inst.users]
    u = next(i for i, x in enumerate(inst.users) if x.id == user_id)
    data = explain_user(problem, allocation, u)
    return {
        alt["advisor"]: alt.get("excluded_by") or "; ".join(alt["worse_on"])
        for alt in data["alternatives"]
    }


def test_capacity_exclusion_names_load_and_weight():
    """a2 carries 4 of 4: the user (weight 1) does not fit."""
    users = [user("u0")] + [user(f"f{i}") for i in range(4)]
    inst = instance(users, [advisor("a1"), advisor("a2")])
    said = verdicts(inst, {"u0": "a1", **{f"f{i}": "a2" for i in range(4)}}, "u0")
    assert said == {"a2": "capacity: carries 4 of 4, the user weighs 1"}


def test_intake_exclusion_names_the_limit():
    """a2 already took its 2 new users this week."""
    users = [
        user("u0", current_advisor="a1"),
        user("n1"),
        user("n2"),
        user("s", current_advisor="a2"),
    ]
    inst = instance(users, [advisor("a1"), advisor("a2")], intake_per_fte=2)
    said = verdicts(inst, {"u0": "a1", "n1": "a2", "n2": "a2", "s": "a2"}, "u0")
    assert said == {"a2": "intake: already 2 new users of a weekly limit 2"}


def test_municipality_exclusion_lists_what_is_served():
    """a2 serves nord and vest; a sor user would be a third municipality."""
    users = [user("u0", "sor"), user("x", "nord"), user("y", "vest")]
    inst = instance(users, [advisor("a1", base="sor"), advisor("a2")])
    said = verdicts(inst, {"u0": "a1", "x": "a2", "y": "a2"}, "u0")
    assert said == {"a2": "municipalities: already serves nord, vest (limit 2)"}


def test_household_exclusion_names_the_member():
    """The other household member has a1, so a2 is out."""
    users = [user("u0", household="h"), user("u1", household="h")]
    inst = instance(users, [advisor("a1"), advisor("a2")])
    said = verdicts(inst, {"u0": "a1", "u1": "a1"}, "u0")
    assert said == {"a2": "household: member u1 has advisor a1"}


def test_competence_and_forbid_exclusions():
    """A missing competence, then a forbid lock, each named as such."""
    users = [user("u0", needs=("aap",))]
    advisors = [
        advisor("a1", competences=("aap",)),
        advisor("a2"),
        advisor("a3", competences=("aap",)),
    ]
    lock = Lock(user="u0", advisor="a3", kind="forbid", row=2)
    said = verdicts(instance(users, advisors, locks=[lock]), {"u0": "a1"}, "u0")
    assert said == {
        "a2": "advisor a2 lacks competence aap",
        "a3": "a forbid lock excludes advisor a3",
    }


def test_goal_comparison_gives_travel_figures():
    """An advisor 30 km away who could take the user is worse on travel."""
    inst = instance(
        [user("u0")], [advisor("a1"), advisor("a2", base="sor")], weights={"travel": 1}
    )
    assert verdicts(inst, {"u0": "a1"}, "u0") == {"a2": "travel: 30 km vs 0 km"}
