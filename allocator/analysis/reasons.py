"""Readable reasons: why a user is unassigned, why a user changed advisor.

Computed from the problem and the final allocation, never canned: each
reason names the rule (or goal) and the figure behind it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from allocator.analysis.words import (
    amount,
    full_words,
    household_split_words,
    no_advisor_words,
    pair_words,
    person,
    team_kind_words,
)
from allocator.engine.eligibility import first_breach, forbid_rule
from allocator.engine.ledger import Breach, Ledger
from allocator.engine.problem import (
    SCALE,
    HouseholdSplit,
    Problem,
    household_splits,
    scaled_weight,
)
from allocator.i18n import _

MAX_NAMED = 4  # advisors named in one reason before "and N more"


@dataclass(frozen=True)
class WaitCause:
    """Why one user is unassigned: the cause and the sentence for the reason.

    ``cause`` is one of ``no_advisor`` (no advisor may take the user at all:
    team, competence, authority, availability or a forbid lock), ``household``
    (the household's members can share no advisor), ``capacity``, ``intake``,
    ``municipalities`` (rules 4-5 on every advisor who may take the user),
    ``lock`` (those are full and a forbid lock excludes one with room) or
    ``weights`` (an advisor had room; the policy preferred to leave the user).
    """

    cause: str
    text: str


def explain_all(problem: Problem, allocation: Sequence[int | None]) -> list[str]:
    """One reason per user: empty unless unassigned or changed."""
    ledger = Ledger.of(problem, allocation)
    held = current_loads(problem)
    splits = {s.household: s for s in household_splits(problem)}
    reasons = []
    group_of = {u: g for g, grp in enumerate(problem.groups) for u in grp.user_idcs}
    for u, user in enumerate(problem.instance.users):
        g = group_of[u]
        parts = []
        if allocation[u] is None:
            parts.append(wait_cause(problem, ledger, allocation, splits, g, u).text)
        if user.current_advisor and allocation[u] != problem.current[u]:
            parts.append(change_reason(problem, held, g, u, allocation[u], allocation))
        reasons.append("; ".join(p for p in parts if p))
    return reasons


def wait_causes(
    problem: Problem, allocation: Sequence[int | None]
) -> dict[int, WaitCause]:
    """User index -> why that user is unassigned, for every unassigned user."""
    ledger = Ledger.of(problem, allocation)
    splits = {s.household: s for s in household_splits(problem)}
    causes = {}
    for g, group in enumerate(problem.groups):
        for u in group.user_idcs:
            if allocation[u] is None:
                causes[u] = wait_cause(problem, ledger, allocation, splits, g, u)
    return causes


def current_loads(problem: Problem) -> list[int]:
    """Scaled weight of the users whose current advisor each advisor is."""
    loads = [0] * problem.num_advisors
    for u, current in enumerate(problem.current):
        if current is not None:
            loads[current] += scaled_weight(problem.instance.users[u].weight)
    return loads


def wait_cause(
    problem: Problem,
    ledger: Ledger,
    allocation: Sequence[int | None],
    splits: dict[str, HouseholdSplit],
    g: int,
    u: int,
) -> WaitCause:
    """Why user u got no advisor, naming the real cause (never room by default).

    The text is in the active language (``allocator.i18n``); advisors are
    named by name and id where the language's catalogue says so, and a full
    advisor's figures (load, capacity, this user's weight) are given.
    """
    group = problem.groups[g]
    user = problem.instance.users[u]
    if not group.eligible:
        return WaitCause(
            "no_advisor", no_advisor_words(problem.facts, user, group.kind)
        )
    if user.household is not None:
        if user.household in splits:
            return WaitCause("household", household_split_words(splits[user.household]))
        found = household_cause(problem, ledger, allocation, g, u)
        if found is not None:
            return found
    breaches = {
        a: ledger.breach(a, group.weight, group.municipality, group.current != a)
        for a in group.eligible
    }
    free = [person(problem, a) for a, b in breaches.items() if b is None]
    if free:
        return WaitCause(
            "weights",
            _(
                "eligible advisor(s) {advisors} had room, but placing the user "
                "would cost more than leaving them unassigned under the policy "
                "weights"
            ).format(advisors=named(free)),
        )
    by_label: dict[str, list[str]] = defaultdict(list)
    for a, breach in breaches.items():
        assert breach is not None
        label = full_words(problem, ledger, a, breach, group.weight)
        by_label[label].append(person(problem, a))
    cause = dominant_cause([b for b in breaches.values() if b is not None])
    if len(group.eligible) == 1:
        ((label, (only,)),) = by_label.items()
        text = _("the only eligible advisor, {advisor}, is {label}").format(
            advisor=only, label=label
        )
    else:
        parts = [f"{named(ids)} {label}" for label, ids in by_label.items()]
        count = len(group.eligible)
        text = _(
            "none of the {count} eligible advisors can take more: {parts}"
        ).format(count=count, parts="; ".join(parts))
    barred = forbidden_with_room(problem, ledger, g, u)
    if barred:
        # Rule 7 is what stops the user: without the lock they would be placed.
        return WaitCause(
            "lock",
            _("a forbid lock excludes advisor {advisors}, who had room; {text}").format(
                advisors=named(barred), text=text
            ),
        )
    return WaitCause(cause, text)


def forbidden_with_room(problem: Problem, ledger: Ledger, g: int, u: int) -> list[str]:
    """Advisors a forbid lock alone keeps from user u, who have room for them."""
    group = problem.groups[g]
    user = problem.instance.users[u]
    facts = problem.facts
    found = []
    for a in problem.candidates(group.kind, user.municipality):
        advisor = problem.instance.advisors[a]
        if (user.id, advisor.id) not in facts.forbidden:
            continue
        breach = first_breach(facts, user, group.kind, advisor, problem.current_id(u))
        if breach != forbid_rule(facts, user, advisor):
            continue  # another rule excludes the pair too
        if (
            ledger.breach(a, group.weight, group.municipality, group.current != a)
            is None
        ):
            found.append(person(problem, a))
    return found


def dominant_cause(breaches: Sequence[Breach]) -> str:
    """The cause to report when every advisor is blocked: capacity if any is full.

    More FTE would place the user as soon as one advisor blocked by capacity
    gets room, so capacity is the cause when it blocks anyone; otherwise the
    intake limit, then the municipality limit.
    """
    causes = {b.cause for b in breaches}
    return next(c for c in ("capacity", "intake", "municipalities") if c in causes)


def household_cause(
    problem: Problem,
    ledger: Ledger,
    allocation: Sequence[int | None],
    g: int,
    u: int,
) -> WaitCause | None:
    """Rule 8 as the cause: the household's advisor cannot take this member.

    When another member is placed, this member may only join that advisor;
    when none is, every advisor eligible for all members must take them all
    at once. None when the household is not what stops the user.
    """
    instance = problem.instance
    user = instance.users[u]
    group = problem.groups[g]
    others = [
        (v, a)
        for v, a in enumerate(allocation)
        if v != u and instance.users[v].household == user.household
    ]
    placed = [(v, a) for v, a in others if a is not None]
    if placed:
        v, a = placed[0]
        advisor = instance.advisors[a]
        head = _("household {household}: member {member} has advisor {advisor}").format(
            household=user.household, member=instance.users[v].id,
            advisor=person(problem, a),
        )  # fmt: skip
        if a not in group.eligible:
            breach = pair_words(
                problem.facts, user, group.kind, advisor, problem.current_id(u)
            )
            return WaitCause(
                "household",
                _("{head}, who may not take this user: {breach}").format(
                    head=head, breach=breach
                ),
            )
        blocked = ledger.breach(a, group.weight, group.municipality, group.current != a)
        if blocked is None:
            return None
        label = full_words(problem, ledger, a, blocked, group.weight)
        return WaitCause(
            blocked.cause, _("{head}, who is {label}").format(head=head, label=label)
        )
    members = [u] + [v for v, _ in others]
    group_of = {w: k for k, grp in enumerate(problem.groups) for w in grp.user_idcs}
    placeable = [w for w in members if problem.groups[group_of[w]].eligible]
    common = set(group.eligible).intersection(
        *(problem.groups[group_of[w]].eligible for w in placeable)
    )
    breaches: dict[int, Breach | None] = {}
    for a in sorted(common):
        items = [
            (
                problem.groups[group_of[w]].weight,
                instance.users[w].municipality,
                problem.current[w] != a,
            )
            for w in placeable
        ]
        breaches[a] = ledger.breach_together(a, items)
    if any(b is None for b in breaches.values()):
        return None
    full = [b for b in breaches.values() if b is not None]
    if not full:
        return None
    labels: dict[str, list[str]] = defaultdict(list)
    together = sum(problem.groups[group_of[w]].weight for w in placeable)
    for a, b in breaches.items():
        assert b is not None
        label = full_words(problem, ledger, a, b, together)
        labels[label].append(person(problem, a))
    parts = "; ".join(f"{named(ids)} {label}" for label, ids in labels.items())
    return WaitCause(
        dominant_cause(full),
        _(
            "household {household} ({members} members) must share one advisor, "
            "and none of the {count} advisor(s) eligible for all of them can take "
            "them together: {parts}"
        ).format(
            household=user.household, members=len(placeable), count=len(common),
            parts=parts,
        ),
    )  # fmt: skip


def change_reason(
    problem: Problem,
    held: list[int],
    g: int,
    u: int,
    new: int | None,
    allocation: Sequence[int | None] = (),
) -> str:
    """Why user u no longer has the previous advisor (in the active language)."""
    instance = problem.instance
    user = instance.users[u]
    previous = problem.current[u]
    group = problem.groups[g]
    if previous is None:
        return _("previous advisor {advisor} left").format(
            advisor=user.current_advisor
        )
    advisor = instance.advisors[previous]
    who = person(problem, previous)
    if group.fixed is not None and group.fixed != previous:
        return _("fix lock to advisor {advisor}").format(
            advisor=person(problem, group.fixed)
        )
    if previous not in group.eligible:
        breach = pair_words(problem.facts, user, group.kind, advisor, advisor.id)
        return _("previous advisor no longer allowed: {breach}").format(breach=breach)
    if group.rerouted:
        rule = problem.routing[u][0] + 1
        kind = problem.facts.teams[advisor.team].kind
        return _(
            "routing now names {team_phrase} (rule {rule}); advisor {advisor} is in "
            "team {team} ({kind})"
        ).format(
            team_phrase=team_kind_words(group.kind, article_too=True), rule=rule,
            advisor=who, team=advisor.team, kind=team_kind_words(kind),
            routed=team_kind_words(group.kind),
        )  # fmt: skip
    if group.rotation_due:
        months = instance.policy.rotation_months
        return _(
            "rotation: with advisor {advisor} for more than {months} months"
        ).format(advisor=who, months=f"{months:g}")
    if held[previous] > problem.capacity[previous]:
        return _(
            "advisor {advisor}'s current caseload {load} exceeds capacity {capacity}"
        ).format(
            advisor=who, load=amount(held[previous] / SCALE),
            capacity=amount(problem.capacity[previous] / SCALE),
        )  # fmt: skip
    served = problem.current_municipalities[previous]
    most = problem.max_municipalities[previous]
    if most and len(served) > most:
        return _(
            "advisor {advisor}'s current users live in {count} municipalities, "
            "above its limit of {most}"
        ).format(advisor=who, count=len(served), most=most)
    if g in problem.freed and allocation:
        taken = [
            instance.users[v].id
            for v, a in enumerate(allocation)
            if a == previous and problem.current[v] != previous
        ]
        if taken:
            return _(
                "moved to make room: advisor {advisor} took {users}, who would "
                "otherwise wait (placement before stability: the unassigned weight "
                "outweighs the reassignment weight)"
            ).format(advisor=who, users=named(taken))
    if user.household is not None and g not in problem.settled:
        return _(
            "household {household} must share one advisor, and its members did "
            "not all have advisor {advisor}"
        ).format(household=user.household, advisor=who)
    if new is not None:
        return _("moved to balance load under the policy weights").format(
            advisor=who
        )
    return _("moved to make room under the policy weights").format(advisor=who)


def named(ids: list[str]) -> str:
    """A short list of people: 'a1, a2 and 3 more'."""
    shown = ", ".join(ids[:MAX_NAMED])
    if len(ids) > MAX_NAMED:
        shown += _(" and {count} more").format(count=len(ids) - MAX_NAMED)
    return shown
