"""Municipalities as people type them: names, numbers and ids resolved to
municipality ids, and the "did you mean" for unknown ids.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from allocator.errors import place
from allocator.i18n import _
from allocator.io.instance_columns import COMPETENCES
from allocator.io.rows import Draft
from allocator.io.tables import normalise_id

# Tables whose ids get a "did you mean" (never users: their ids are user data).
_SUGGESTED = frozenset({"municipalities", "teams", "advisors", COMPETENCES})


# Columns naming municipalities: table -> (column, whether it holds a list).
_MUNICIPALITY_COLUMNS = {
    "users": (("municipality", False),),
    "advisors": (("base", False), ("employer", False)),
    "teams": (("municipalities", True),),
}


def _municipality_spellings(draft: Draft) -> dict[str, str]:
    """Name (casefolded, NFC) or municipality number -> id, where unambiguous."""
    found: dict[str, set[str]] = {}
    for m in draft.municipalities:
        for key in (m.name, m.number, m.id):
            if key:
                found.setdefault(normalise_id(key).strip().casefold(), set()).add(m.id)
    return {key: next(iter(ids)) for key, ids in found.items() if len(ids) == 1}


def _resolve_municipality_names(draft: Draft) -> list[str]:
    """Municipalities given by name (any case) or number become their ids.

    Rule (issue 18, docs/language.md): a value that is not an id of
    municipalities.csv but is, after NFC and case folding, exactly one
    municipality's id, name or ``number`` is replaced by that id, with a
    warning naming the file, row, column and the id chosen (never the value
    of a users.csv cell). Anything else is left for the reference check,
    which suggests the closest ids.
    """
    known = draft.ids.get("municipalities")
    if not known:
        return []
    spellings = _municipality_spellings(draft)
    notes: list[str] = []

    def resolve(value: str, where: str) -> str:
        if value in known or value == "state":
            return value
        chosen = spellings.get(normalise_id(value).strip().casefold())
        if chosen is None:
            return value
        notes.append(
            _("{where}: read as municipality id {id}.").format(where=where, id=chosen)
        )
        return chosen

    for table, columns in _MUNICIPALITY_COLUMNS.items():
        label = draft.label(table)
        entities = getattr(draft, table)
        for i, entity in enumerate(entities):
            update: dict[str, Any] = {}
            for column, is_list in columns:
                where = place(label, entity.row, column)
                value = getattr(entity, column)
                new: str | tuple[str, ...] = (
                    tuple(resolve(v, where) for v in value)
                    if is_list
                    else resolve(value, where)
                )
                if new != value:
                    update[column] = new
            if update:
                entities[i] = entity.model_copy(update=update)
    return notes


def _by_exact_name(entities: Sequence[Any]) -> dict[str, str]:
    """Name (casefolded, NFC) -> id, for names that only one entity has."""
    found: dict[str, set[str]] = {}
    for entity in entities:
        if entity.name:
            key = normalise_id(entity.name).strip().casefold()
            found.setdefault(key, set()).add(entity.id)
    return {key: next(iter(ids)) for key, ids in found.items() if len(ids) == 1}


def _resolve_names(draft: Draft) -> list[str]:
    """A team (advisors.csv ``team``) or an advisor (locks.csv ``advisor``)
    given by its exact name, where no other has that name, becomes its id.

    The same rule as for municipalities (any case, NFC), with a warning
    naming the id chosen; an id always wins over a name.
    """
    notes: list[str] = []
    teams, advisors = draft.ids.get("teams"), draft.ids.get("advisors")
    if teams:
        names = _by_exact_name(draft.teams)
        label = draft.label("advisors")
        for i, advisor in enumerate(draft.advisors):
            chosen = names.get(normalise_id(advisor.team).strip().casefold())
            if advisor.team not in teams and chosen is not None:
                notes.append(
                    _("{where}: read as team id {id}.").format(
                        where=place(label, advisor.row, "team"), id=chosen
                    )
                )
                draft.advisors[i] = advisor.model_copy(update={"team": chosen})
    if advisors:
        names = _by_exact_name(draft.advisors)
        label = draft.label("locks")
        for i, lock in enumerate(draft.locks):
            chosen = names.get(normalise_id(lock.advisor).strip().casefold())
            if lock.source == label and lock.advisor not in advisors and chosen:
                notes.append(
                    _("{where}: read as advisor id {id}.").format(
                        where=place(label, lock.row, "advisor"), id=chosen
                    )
                )
                draft.locks[i] = lock.model_copy(update={"advisor": chosen})
    return notes


def _closest_municipalities(draft: Draft, value: str) -> list[str]:
    """Up to three municipality ids whose id or name is closest to ``value``."""
    spellings = _municipality_spellings(draft)
    typed = normalise_id(value).strip().casefold()
    close = difflib.get_close_matches(typed, list(spellings), n=6, cutoff=0.6)
    return list(dict.fromkeys(spellings[c] for c in close))[:3]


def _did_you_mean(draft: Draft, table: str, value: str) -> str:
    """' (did you mean "gol"?)' for the closest known id, or ''.

    The same id in another case wins; otherwise difflib's closest match
    above a similarity of 0.6.
    """
    known = draft.ids.get(table)
    if table not in _SUGGESTED or not known:
        return ""
    folded = {key.casefold(): key for key in known}
    match = folded.get(value.strip().casefold())
    if match is None:
        close = difflib.get_close_matches(value, list(known), n=1, cutoff=0.6)
        match = close[0] if close else None
    if match is None:
        return ""
    return _(' (did you mean "{id}"?)').format(id=match)
