"""The phrases reasons and ``explain`` are built from, in the active language.

The rules themselves live in ``allocator.engine`` (eligibility, the ledger);
this module only says in words which rule stopped a pair and with which
figures, for a team leader: advisors by name and id where the language's
catalogue names them so, a full advisor's load, capacity and this user's
weight, municipalities by name. The English messages are the engine's own
sentences, word for word, so English output and scripts reading it do not
change; the Norwegian catalogues say more (docs/language.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from allocator.domain import Advisor, Instance, User
from allocator.engine.eligibility import (
    Facts,
    article,
    authority_rule,
    availability_rule,
    competence_rule,
    forbid_rule,
    needs_authority,
    team_kind_rule,
    team_municipality_rule,
)
from allocator.engine.ledger import Breach, Ledger
from allocator.engine.problem import SCALE, HouseholdSplit, Problem
from allocator.i18n import _, active, catalogue, ngettext, number


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message


# The team kinds of DOMAIN.md's glossary, so that their words are in the
# catalogues; a kind not listed here is shown as its id.
TEAM_KINDS = (
    N_("reception"), N_("follow_up"), N_("assessment"), N_("youth"),
    N_("family"), N_("recruitment"), N_("debt_counselling"),
    N_("social_assistance"),
)  # fmt: skip


def pgettext(context: str, message: str) -> str:
    """``message`` in the active language, chosen by ``context``."""
    return str(catalogue(active()).pgettext(context, message))


def person_of(advisor: Advisor) -> str:
    """An advisor as a reason names them: the id in English, name and id in nb."""
    return pgettext("advisor named in a reason", "{id}").format(
        id=advisor.id, name=advisor.name or advisor.id
    )


def person(problem: Problem, a: int) -> str:
    """Advisor index ``a`` named as :func:`person_of` names them."""
    return person_of(problem.instance.advisors[a])


def place(instance: Instance, municipality: str) -> str:
    """A municipality as a reason names it: the id in English, the name in nb."""
    name = next(
        (m.name for m in instance.municipalities if m.id == municipality), ""
    )
    return pgettext("municipality named in a reason", "{id}").format(
        id=municipality, name=name or municipality
    )


def amount(value: float) -> str:
    """A caseload figure: ``1.5`` in English, ``1,5`` in Norwegian."""
    return f"{value:g}" if active() == "en" else number(value, 2)


def team_kind_words(kind: str, article_too: bool = False) -> str:
    """A team kind in words: 'youth' / 'ung'; with the article 'a youth team'."""
    word = _(kind) if kind in TEAM_KINDS else kind
    if not article_too:
        return word
    return _("{article} {kind} team").format(article=article(kind), kind=word)


def and_list(items: Sequence[str]) -> str:
    """'a, b and c' in the active language."""
    if len(items) <= 1:
        return "".join(items)
    return _("{first} and {last}").format(
        first=", ".join(items[:-1]), last=items[-1]
    )


def full_words(
    problem: Problem, ledger: Ledger, a: int, breach: Breach, weight: int
) -> str:
    """Why advisor ``a`` can take no more, with the figures behind "full".

    ``weight`` is the scaled weight of what was to be added (a user, or a
    household's members together). English gives the engine's short label
    ("at capacity"); Norwegian adds load, capacity and the user's weight.
    """
    if breach.cause == "capacity":
        return _("at capacity").format(
            load=amount(ledger.load[a] / SCALE),
            capacity=amount(problem.capacity[a] / SCALE),
            weight=amount(weight / SCALE),
            left=amount(max(0, problem.capacity[a] - ledger.load[a]) / SCALE),
        )
    if breach.cause == "intake":
        return _("at the weekly intake limit").format(
            intake=ledger.intake[a], limit=problem.intake_limit[a]
        )
    most = problem.max_municipalities[a]
    served = [place(problem.instance, m) for m in sorted(ledger.municipalities[a])]
    return ngettext(
        "at its limit of {most} municipality",
        "at its limit of {most} municipalities",
        most,
    ).format(most=most, served=and_list(served))


def pair_words(
    facts: Facts, user: User, kind: str, advisor: Advisor, current: str | None
) -> str | None:
    """The first pair rule (user, advisor) breaks, in words, or None.

    The same rules in the same order as ``eligibility.first_breach``.
    """
    team = facts.teams[advisor.team]
    who = person_of(advisor)
    where = place(facts.instance, user.municipality)
    if team_kind_rule(facts, user, kind, advisor, current):
        return _(
            "team {team} is {team_phrase}, the user is routed to {kind}"
        ).format(
            team=team.id, team_name=team.name or team.id,
            team_phrase=team_kind_words(team.kind, article_too=True),
            kind=team_kind_words(kind),
        )  # fmt: skip
    if team_municipality_rule(facts, user, advisor):
        return _("team {team} does not serve {municipality}").format(
            team=team.id, team_name=team.name or team.id, municipality=where
        )
    if competence_rule(facts, user, advisor):
        missing = [n for n in user.needs if n not in advisor.competences]
        return _("advisor {advisor} lacks competence {needs}").format(
            advisor=who, needs=", ".join(missing)
        )
    if authority_rule(facts, user, advisor):
        needs = [n for n in user.needs if n in facts.authority_competences]
        wanted = ngettext(
            "{needs} needs it in {municipality}",
            "{needs} need it in {municipality}",
            len(needs),
        ).format(needs=_(" and ").join(needs), municipality=where)
        if advisor.employer == "state":
            return _(
                "advisor {advisor} is a state employee, and state employees never "
                "hold municipal authority; {wanted}"
            ).format(advisor=who, wanted=wanted)
        held = sorted(facts.authority[advisor.id])
        listed = and_list([place(facts.instance, m) for m in held])
        if len(held) > 1:
            message = _(
                "advisor {advisor} is employed by {employer}, which holds municipal "
                "authority in {listed} (as host of an agreement); {wanted}"
            )
        else:
            message = _(
                "advisor {advisor} is employed by {employer}, which holds municipal "
                "authority in {listed} only; {wanted}"
            )
        return message.format(
            advisor=who, employer=place(facts.instance, advisor.employer),
            listed=listed, wanted=wanted,
        )  # fmt: skip
    if availability_rule(facts, user, advisor, current):
        return _("advisor {advisor} is not available this week").format(advisor=who)
    if forbid_rule(facts, user, advisor):
        return _("a forbid lock excludes advisor {advisor}").format(advisor=who)
    return None


def no_advisor_words(facts: Facts, user: User, kind: str) -> str:
    """Why no advisor at all is eligible (``eligibility.no_advisor_reason``)."""
    pool = [a for a in facts.instance.advisors if facts.teams[a.team].kind == kind]
    words = team_kind_words(kind)
    where = place(facts.instance, user.municipality)
    if not pool:
        return _("no {kind} team has any advisor").format(kind=words)
    pool = [a for a in pool if team_municipality_rule(facts, user, a) is None]
    if not pool:
        return _("no {kind} team serves {municipality}").format(
            kind=words, municipality=where
        )
    clauses: list[str] = []
    if user.needs:
        pool = [a for a in pool if competence_rule(facts, user, a) is None]
        clauses.append(
            _("competence {needs}").format(needs=_(" and ").join(user.needs))
        )
    if pool and needs_authority(facts, user):
        pool = [a for a in pool if authority_rule(facts, user, a) is None]
        clauses.append(_("authority in {municipality}").format(municipality=where))
    phrase = team_kind_words(kind, article_too=True)
    if not pool:
        if clauses:
            return _("no advisor in {team_phrase} has {what}").format(
                team_phrase=phrase, what=_(" and ").join(clauses)
            )
        return _("no advisor in {team_phrase}").format(team_phrase=phrase)
    pool = [a for a in pool if a.available]
    if not pool:
        if clauses:
            return _("no available advisor in {team_phrase} has {what}").format(
                team_phrase=phrase, what=_(" and ").join(clauses)
            )
        return _("no available advisor in {team_phrase}").format(team_phrase=phrase)
    return _("every eligible advisor is excluded by a forbid lock")


def household_split_words(split: HouseholdSplit) -> str:
    """Why a household's members can share no advisor (``describe``'s words)."""
    if len(split.kinds) > 1:
        routed = _(" and ").join(
            f"{team_kind_words(kind)} ({', '.join(users)})"
            for kind, users in split.kinds.items()
        )
        if len(split.kinds) == 2:
            message = _(
                "household {household}: members are routed to {routed}; no advisor "
                "can serve both"
            )
        else:
            message = _(
                "household {household}: members are routed to {routed}; no advisor "
                "can serve all"
            )
        return message.format(household=split.household, routed=routed)
    return _(
        "household {household}: no advisor is eligible for every member "
        "({members}), so its members cannot share one advisor"
    ).format(household=split.household, members=", ".join(split.members))
