"""The structures a recommendation weighs (FORMAT.md section 8).

A *structure* is a partition of the office's municipalities into host groups,
each with a host municipality that employs the municipal staff of its group
(so municipal authority follows rule 3 as in the shipped scenario files),
together with team options: whether the state staff of the office teams are
pooled in one regional team per team kind, and which team kinds are shared
across the whole office. Every structure is enumerated, not sampled: for n
municipalities there are ``sum_k C(n, k) k^(n-k)`` host structures (1, 3,
10, 41, 196, 1057 for n = 1..6), each a choice of hosts and a map of every
other municipality to a host.

Limits (``read_limits``) prune the space before anything is screened:
municipalities that must stay apart or together, a largest group, a longest
road distance from a member to its host, structures ruled out by name, and a
largest leakage per municipality (applied to the screened floor and to the
solved figures).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from allocator.domain import Instance
from allocator.errors import InputProblem, InstanceError

# A municipality id as it appears in a structure's name.
_NAME_SAFE = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class Structure:
    """One structure: host groups plus team options.

    Attributes:
        groups: ``(host, members)`` per group, ``members`` including the host,
            in the instance's municipality order; groups ordered by their
            first municipality.
        state_pooled: the state employees of the office teams (teams that
            serve only municipalities of one group today) move to one
            regional team per team kind serving every municipality.
        shared: team kinds shared across the office: every team of the kind
            becomes one team serving every municipality and routing to the
            kind no longer tests ``municipality_in``. Only with one group,
            since a shared team's municipal staff need authority everywhere
            (DOMAIN.md 5.1: "without E there is no shared youth team").
    """

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    state_pooled: bool = False
    shared: tuple[str, ...] = ()

    def host_of(self) -> dict[str, str]:
        """Municipality id -> the host of its group."""
        return {m: host for host, members in self.groups for m in members}

    @property
    def host_groups(self) -> str:
        """The groups as text, e.g. ``gol: gol hemsedal; nes; fla``."""
        parts = []
        for host, members in self.groups:
            if len(members) == 1:
                parts.append(host)
            else:
                parts.append(f"{host}: {' '.join(members)}")
        return "; ".join(parts)

    @property
    def shared_teams(self) -> str:
        """The team options as text: ``state pooled``, ``shared debt_counselling``."""
        parts = ["state pooled"] if self.state_pooled else []
        parts += [f"shared {kind}" for kind in self.shared]
        return "; ".join(parts)

    def name(self, short: dict[str, str]) -> str:
        """The structure's id: letters, digits, ``-`` and ``_`` (a file stem).

        Groups are joined by ``_``, a group's host first and its members
        after ``-``; options follow ``__``. ``short`` maps municipality ids to
        name-safe forms (``name_safe_ids``).
        """
        text = "_".join("-".join(short[m] for m in _host_first(g)) for g in self.groups)
        if self.state_pooled:
            text += "__pooled"
        for kind in self.shared:
            text += "__shared-" + _NAME_SAFE.sub("", kind)
        return text

    def description(self, names: dict[str, str]) -> str:
        """A sentence a manager reads: who hosts whom, and the team options."""
        parts = []
        for host, members in self.groups:
            others = [names[m] for m in members if m != host]
            if others:
                parts.append(f"{names[host]} hosts {_listing(others)}")
            else:
                parts.append(f"{names[host]} on its own")
        text = "; ".join(parts)
        if len(self.groups) == 1 and len(self.groups[0][1]) > 1:
            text = f"One host for all: {text}"
        if self.state_pooled:
            text += "; state staff pooled in regional teams"
        for kind in self.shared:
            text += f"; one shared {kind} team for the office"
        return text


def _host_first(group: tuple[str, tuple[str, ...]]) -> list[str]:
    host, members = group
    return [host, *(m for m in members if m != host)]


def _listing(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def name_safe_ids(municipalities: Sequence[str]) -> dict[str, str]:
    """Municipality id -> a form made of letters and digits for structure names.

    The id itself when it is letters and digits only; otherwise the id with
    other characters dropped, and ``m<n>`` (1-based position) when that
    would be empty or clash.
    """
    short: dict[str, str] = {}
    used: set[str] = set()
    for i, m in enumerate(municipalities, start=1):
        text = _NAME_SAFE.sub("", m)
        if not text or text in used:
            text = f"m{i}"
        used.add(text)
        short[m] = text
    return short


# --- Counting and enumerating partitions with a host per group -----------------


def host_structure_count(n: int) -> int:
    """The closed form: ``sum_k C(n, k) k^(n-k)`` host structures of n municipalities.

    Choose the k hosts, then map each of the n - k others to a host
    (OEIS A000248: 1, 1, 3, 10, 41, 196, 1057, 6322, 41393 for n = 0..8).
    """
    return sum(math.comb(n, k) * k ** (n - k) for k in range(n + 1))


def set_partitions(items: Sequence[str]) -> Iterator[list[list[str]]]:
    """Every partition of ``items`` into non-empty blocks, each block in item order.

    Restricted growth strings: item i joins one of the blocks opened before
    it or opens a new one, so each partition comes exactly once.
    """
    if not items:
        yield []
        return
    blocks: list[list[str]] = []

    def grow(i: int) -> Iterator[list[list[str]]]:
        if i == len(items):
            yield [list(block) for block in blocks]
            return
        for block in blocks:
            block.append(items[i])
            yield from grow(i + 1)
            block.pop()
        blocks.append([items[i]])
        yield from grow(i + 1)
        blocks.pop()

    yield from grow(0)


# --- Limits --------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """What the manager rules out (a limits TOML file; all keys optional).

    Attributes:
        apart: sets of municipalities no two of which may share a group.
        together: sets of municipalities that must all share one group.
        largest_group: most municipalities in a group (None: no limit).
        max_distance_km: longest road distance from a member to its host.
        ruled_out: structure names never weighed.
        hosts: municipalities that may host a group of two or more
            (empty: any).
        max_leakage_fte: most FTE of one municipality's own staff (by where
            they sit) spent on other municipalities' users; applied to the
            screened floor and to the solved figures.
        team_options: weigh the team options (pooled state staff, shared
            team kinds); false weighs host groups only.
    """

    apart: tuple[tuple[str, ...], ...] = ()
    together: tuple[tuple[str, ...], ...] = ()
    largest_group: int | None = None
    max_distance_km: float | None = None
    ruled_out: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    max_leakage_fte: float | None = None
    team_options: bool = True
    source: str | None = field(default=None, compare=False)

    def document(self) -> dict[str, Any]:
        """The limits as recommendation.json states them."""
        return {
            "file": self.source,
            "apart": [list(g) for g in self.apart],
            "together": [list(g) for g in self.together],
            "largest_group": self.largest_group,
            "max_distance_km": self.max_distance_km,
            "ruled_out": list(self.ruled_out),
            "hosts": list(self.hosts),
            "max_leakage_fte": self.max_leakage_fte,
            "team_options": self.team_options,
        }


LIMIT_KEYS = {
    "apart": "a list of lists of municipality ids",
    "together": "a list of lists of municipality ids",
    "largest_group": "a whole number of at least 1",
    "max_distance_km": "a number of km, at least 0",
    "ruled_out": "a list of structure names",
    "hosts": "a list of municipality ids",
    "max_leakage_fte": "a number of FTE, at least 0",
    "team_options": "true or false",
}


def read_limits(path: str | Path | None, instance: Instance) -> Limits:
    """Read a limits file (TOML) and check it against the instance.

    Raises ``InstanceError`` naming the file and the key for an unknown key,
    a value of the wrong type, or a municipality id the instance lacks; TOML
    syntax errors are reported with their line. ``None`` gives no limits.
    """
    if path is None:
        return Limits()
    import tomllib

    label = str(path)
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except OSError as err:
        raise InstanceError(
            [
                InputProblem(
                    label, None, None, f"cannot read the limits file ({err.strerror})."
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise InstanceError(
            [InputProblem(label, None, None, "expected UTF-8 text, found other bytes.")]
        ) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InstanceError(
            [InputProblem(label, None, None, f"not valid TOML: {err}")]
        ) from None
    return limits_from_doc(doc, instance, label)


def limits_from_doc(
    doc: dict[str, Any], instance: Instance, label: str = "limits"
) -> Limits:
    """Limits from a parsed TOML document; errors name ``label`` and the key."""
    problems: list[InputProblem] = []
    known = {m.id for m in instance.municipalities}

    def bad(key: str, message: str) -> None:
        problems.append(InputProblem(label, None, key, message))

    def ids(key: str, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            bad(
                key,
                f"expected {LIMIT_KEYS.get(key, 'a list of ids')}, found {value!r}.",
            )
            return ()
        unknown = [v for v in value if v not in known]
        if unknown:
            bad(
                key,
                f"unknown municipality {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known))}).",
            )
        return tuple(value)

    def sets(key: str) -> tuple[tuple[str, ...], ...]:
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, list) for v in value):
            bad(key, f'expected {LIMIT_KEYS[key]}, e.g. [["gol", "hemsedal"]].')
            return ()
        return tuple(ids(f"{key}[{i}]", v) for i, v in enumerate(value, start=1))

    def number(key: str, whole: bool, least: float) -> Any:
        value = doc.get(key)
        if value is None:
            return None
        ok = isinstance(value, int) if whole else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok or value < least:
            bad(key, f"expected {LIMIT_KEYS[key]}, found {value!r}.")
            return None
        return value

    for key in doc:
        if key not in LIMIT_KEYS:
            bad(key, f"unknown key (known: {', '.join(LIMIT_KEYS)}).")
    apart = sets("apart")
    together = sets("together")
    largest = number("largest_group", True, 1)
    distance = number("max_distance_km", False, 0)
    leakage = number("max_leakage_fte", False, 0)
    ruled = doc.get("ruled_out", [])
    if not isinstance(ruled, list) or not all(isinstance(v, str) for v in ruled):
        bad("ruled_out", f"expected {LIMIT_KEYS['ruled_out']}, found {ruled!r}.")
        ruled = []
    hosts = ids("hosts", doc["hosts"]) if "hosts" in doc else ()
    options = doc.get("team_options", True)
    if not isinstance(options, bool):
        bad("team_options", f"expected true or false, found {options!r}.")
        options = True
    if problems:
        raise InstanceError(problems)
    return Limits(
        apart=apart,
        together=together,
        largest_group=largest,
        max_distance_km=float(distance) if distance is not None else None,
        ruled_out=tuple(ruled),
        hosts=hosts,
        max_leakage_fte=float(leakage) if leakage is not None else None,
        team_options=options,
        source=label,
    )


# --- The space of one instance --------------------------------------------------


def current_structure(instance: Instance) -> Structure:
    """Today's structure: the host agreements as groups, the others alone."""
    order = [m.id for m in instance.municipalities]
    host_of = {m: m for m in order}
    for agreement in instance.host_agreements:
        for member in agreement.members:
            host_of[member] = agreement.host
    return _structure(order, host_of)


def _structure(
    order: Sequence[str],
    host_of: dict[str, str],
    pooled: bool = False,
    shared: tuple[str, ...] = (),
) -> Structure:
    groups: dict[str, list[str]] = {}
    for m in order:
        groups.setdefault(host_of[m], []).append(m)
    ranked = sorted(groups.items(), key=lambda item: order.index(item[1][0]))
    return Structure(tuple((h, tuple(ms)) for h, ms in ranked), pooled, shared)


def shareable_kinds(instance: Instance) -> tuple[str, ...]:
    """Team kinds whose sharing across the office would change something.

    A kind is shareable when some routing rule to it tests
    ``municipality_in``, or a service team of the kind (one serving
    municipalities of several of today's groups) serves only some of them;
    and no routing rule without tests sends users to it (the catch-all
    office team). Office teams alone are not enough: under one host they
    are merged into one team for everyone anyway. In teams.csv order.
    """
    everywhere = {m.id for m in instance.municipalities}
    offices = office_teams(instance)
    kinds: list[str] = []
    restricted_routing = {r.team_kind for r in instance.routing if r.municipality_in}
    catch_all = {r.team_kind for r in instance.routing if _is_catch_all(r)}
    for team in instance.teams:
        if team.kind in kinds or team.kind in catch_all:
            continue
        narrow = (
            team.id not in offices
            and bool(team.municipalities)
            and set(team.municipalities) != everywhere
        )
        if narrow or team.kind in restricted_routing:
            kinds.append(team.kind)
    return tuple(kinds)


def _is_catch_all(rule: Any) -> bool:
    tests = (
        "status",
        "age_min",
        "age_max",
        "children_min",
        "children_max",
        "needs_any",
        "needs_all",
        "urgent",
        "municipality_in",
    )
    return all(getattr(rule, t) is None for t in tests)


def has_local_state_staff(instance: Instance) -> bool:
    """Whether pooling state staff changes anything."""
    offices = office_teams(instance)
    return any(a.employer == "state" and a.team in offices for a in instance.advisors)


def office_teams(instance: Instance) -> set[str]:
    """Teams that serve only municipalities of one of today's groups.

    These follow the grouping (merged within a new group, split across
    groups). A team that serves every municipality, or municipalities of
    several groups today, is a service across groups and stays as it is.
    """
    today = current_structure(instance).host_of()
    found = set()
    for team in instance.teams:
        if team.municipalities and len({today[m] for m in team.municipalities}) == 1:
            found.add(team.id)
    return found


def within_limits(
    structure: Structure, instance: Instance, limits: Limits, distance: Any
) -> bool:
    """Whether the structure keeps the limits that follow from the groups alone.

    ``distance(a, b)`` is the road km between two municipalities.
    """
    host_of = structure.host_of()
    for apart in limits.apart:
        hosts = [host_of[m] for m in apart]
        if len(set(hosts)) < len(hosts):
            return False
    for together in limits.together:
        if len({host_of[m] for m in together}) > 1:
            return False
    for host, members in structure.groups:
        if limits.largest_group is not None and len(members) > limits.largest_group:
            return False
        if limits.hosts and len(members) > 1 and host not in limits.hosts:
            return False
        if limits.max_distance_km is not None and any(
            distance(m, host) > limits.max_distance_km + 1e-9 for m in members
        ):
            return False
    return True


@dataclass
class Space:
    """The structures left after the limits, and what was counted.

    ``structures`` starts with today's structure (always weighed, to be
    marked; it is not removed by limits, which say only what may be
    recommended).
    """

    structures: list[Structure]
    enumerated: int
    ruled_out_by_limits: int
    current: Structure


def enumerate_structures(instance: Instance, limits: Limits | None = None) -> Space:
    """Every structure of the instance's municipalities within the limits.

    Host structures: every partition, every choice of host per group. Team
    options multiply them: pooled state staff (when some state employee sits
    in an office team) for every host structure, and each shareable team
    kind (``shareable_kinds``) only for the one-group structures. With
    ``limits.team_options`` false, host structures only.
    """
    from allocator.checker import travel_km

    limits = limits or Limits()
    order = [m.id for m in instance.municipalities]
    short = name_safe_ids(order)
    current = current_structure(instance)
    pooled_options = [False]
    kinds: tuple[str, ...] = ()
    if limits.team_options:
        if has_local_state_staff(instance):
            pooled_options.append(True)
        kinds = shareable_kinds(instance)
    cache: dict[tuple[str, str], float] = {}

    def distance(a: str, b: str) -> float:
        if (a, b) not in cache:
            cache[a, b] = travel_km(instance, a, b)
        return cache[a, b]

    ruled = set(limits.ruled_out)
    kept: list[Structure] = [current]
    enumerated = 0
    pruned = 0
    for blocks in set_partitions(order):
        for hosts in _host_choices(blocks):
            host_of = {
                m: h for h, block in zip(hosts, blocks, strict=True) for m in block
            }
            shared_sets: list[tuple[str, ...]] = [()]
            if len(blocks) == 1:
                shared_sets += [(k,) for k in kinds]
            for pooled in pooled_options:
                for shared in shared_sets:
                    s = _structure(order, host_of, pooled, shared)
                    enumerated += 1
                    if s == current:
                        continue
                    if s.name(short) in ruled or not within_limits(
                        s, instance, limits, distance
                    ):
                        pruned += 1
                        continue
                    kept.append(s)
    return Space(kept, enumerated, pruned, current)


def _host_choices(blocks: list[list[str]]) -> Iterator[tuple[str, ...]]:
    import itertools

    yield from itertools.product(*blocks)
