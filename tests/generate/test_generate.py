"""The synthetic-instance writer and the shipped instances it builds."""

from __future__ import annotations

import csv
import functools
import importlib.util
import math
import random
import time
import tomllib
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType

import pytest

from allocator.checker import authority, capacity, max_municipalities, routed_rule
from allocator.domain import HostAgreement, Instance, Lock, Policy
from allocator.errors import DataWarning
from allocator.generate import (
    COMPETENCES,
    Builder,
    Shape,
    apportion,
    generate,
    municipality,
    region_instance,
    routing_for,
    staircase,
    symmetric,
    team,
    write_instance,
)
from allocator.io.read import read_instance

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("hallingdal", "nord-gudbrandsdal", "lillestrom")

# the README's table formats, column for column.
FORMAT_COLUMNS = {
    "municipalities.csv": ["id", "name", "population", "lat", "lon"],
    "teams.csv": ["id", "name", "kind", "municipalities"],
    "advisors.csv": [
        "id", "name", "team", "employer", "base", "fte", "casework_share",
        "competences", "max_municipalities", "available",
    ],
    "users.csv": [
        "id", "municipality", "age", "children", "needs", "status", "urgent",
        "weight", "current_advisor", "since", "household", "prefer_non_local",
    ],
    "locks.csv": ["user", "advisor", "kind"],
    "travel.csv": ["from", "to", "km"],
}  # fmt: skip


def files(folder: Path) -> dict[str, bytes]:
    # Files only: a shipped folder may also hold scenarios/ (not built).
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def load(folder: Path) -> Instance:
    """Read with the project's reader; a shipped instance must read cleanly."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        return read_instance(folder)


@functools.cache
def shipped_instance(name: str) -> Instance:
    """A shipped instance, read once per test session (Lillestrøm is large)."""
    return load(ROOT / "instances" / name)


@pytest.fixture(scope="module")
def region(tmp_path_factory: pytest.TempPathFactory) -> Instance:
    folder = tmp_path_factory.mktemp("gen") / "region"
    generate(advisors=120, users=3000, municipalities=9, seed=11, out=folder)
    return load(folder)


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request: pytest.FixtureRequest) -> Instance:
    return shipped_instance(request.param)


def build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build", ROOT / "instances/build.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- Determinism ----------------------------------------------------------------


def test_same_seed_writes_identical_bytes(tmp_path: Path) -> None:
    """Two runs with one seed write byte-identical folders."""
    # Same folder name: the instance is named after its folder.
    generate(40, 900, 5, seed=4, out=tmp_path / "one/region")
    generate(40, 900, 5, seed=4, out=tmp_path / "two/region")
    assert files(tmp_path / "one/region") == files(tmp_path / "two/region")


def test_the_region_is_made_in_memory_and_written_apart(tmp_path: Path) -> None:
    """region_instance gives the instance generate writes, without a folder."""
    shape = Shape(first_allocation=True, rotation_months=12)
    generate(40, 900, 5, seed=4, out=tmp_path / "one/region", shape=shape)
    made = region_instance(40, 900, 5, seed=4, shape=shape, name="region")
    assert made.name == "region" and len(made.users) == 900
    write_instance(tmp_path / "two/region", made)
    assert files(tmp_path / "one/region") == files(tmp_path / "two/region")


def test_different_seed_writes_different_data(tmp_path: Path) -> None:
    """Another seed gives other users and staff."""
    generate(40, 900, 5, seed=4, out=tmp_path / "a")
    generate(40, 900, 5, seed=5, out=tmp_path / "a2")
    one, two = files(tmp_path / "a"), files(tmp_path / "a2")
    assert one["users.csv"] != two["users.csv"]
    assert one["advisors.csv"] != two["advisors.csv"]


def test_build_reproduces_the_shipped_instances(tmp_path: Path) -> None:
    """instances/build.py rewrites the shipped folders byte for byte."""
    build = build_module()
    weeks = {"hallingdal": build.hallingdal_week2, "lillestrom": build.lillestrom_week2}
    for make in (build.hallingdal, build.nord_gudbrandsdal, build.lillestrom):
        instance = make()
        built = [instance]
        if instance.name in weeks:
            built.append(weeks[instance.name](instance))
        for each in built:
            write_instance(tmp_path / each.name, each)
            assert files(tmp_path / each.name) == files(ROOT / "instances" / each.name)


# --- An arbitrary region -----------------------------------------------------------


def test_generated_counts_are_as_requested(region: Instance) -> None:
    """Exactly the requested municipalities, advisors and users; 3-6 % new."""
    assert len(region.municipalities) == 9
    assert len(region.advisors) == 120
    assert len(region.users) == 3000
    new = sum(u.status == "new" for u in region.users)
    assert 0.03 * 3000 <= new <= 0.06 * 3000


def test_generated_region_is_realistic(region: Instance) -> None:
    """Team kinds per office, mixed employers, leaders, non-ascii names."""
    kinds = Counter(t.kind for t in region.teams)
    assert set(kinds) == {
        "assessment",
        "youth",
        "family",
        "follow_up",
        "debt_counselling",
    }
    assert all(t.municipalities for t in region.teams)
    employers = Counter(a.employer == "state" for a in region.advisors)
    assert employers[True] > 20 and employers[False] > 20
    assert any(0.35 <= a.casework_share <= 0.65 for a in region.advisors)
    assert sum(a.fte == 1.0 for a in region.advisors) > 0.6 * 120
    hosts = {h.host for h in region.host_agreements}
    municipal = [a for a in region.advisors if a.employer != "state"]
    offices_with_host = {t.id for t in region.teams if t.municipalities[0] in hosts}
    assert all(a.employer in hosts for a in municipal if a.team in offices_with_host)
    weights = Counter(u.weight for u in region.users)
    assert weights[1.0] > weights[1.5] > 0 and weights[2.0] > 0


def test_capacity_has_headroom_per_kind(region: Instance) -> None:
    """Capacity per team kind is 10-25 % above the weighted demand routed there."""
    demand: dict[str, float] = defaultdict(float)
    supply: dict[str, float] = defaultdict(float)
    kind_of = {t.id: t.kind for t in region.teams}
    for user in region.users:
        routed = routed_rule(region, user)
        assert routed is not None
        demand[routed[1]] += user.weight
    for advisor in region.advisors:
        supply[kind_of[advisor.team]] += capacity(region, advisor)
    for kind in demand:
        assert 1.10 <= supply[kind] / demand[kind] <= 1.25, kind


# --- What every instance must satisfy ----------------------------------------------


def check_current_allocation(instance: Instance) -> None:
    """Every active user's current advisor may keep them (rules 1-3, 5; capacity)."""
    advisors = {a.id: a for a in instance.advisors}
    teams = {t.id: t for t in instance.teams}
    competences = {c.id: c for c in instance.competences}
    load: dict[str, float] = defaultdict(float)
    places: dict[str, set[str]] = defaultdict(set)
    for user in instance.users:
        routed = routed_rule(instance, user)
        assert routed is not None, user.id
        if user.status == "new":
            assert user.current_advisor is None and user.since is None
            continue
        advisor = advisors[user.current_advisor or ""]
        team = teams[advisor.team]
        assert team.kind == routed[1], user.id
        assert not team.municipalities or user.municipality in team.municipalities
        assert set(user.needs) <= set(advisor.competences), user.id
        if any(competences[n].municipal_authority for n in user.needs):
            assert user.municipality in authority(instance, advisor), user.id
        assert user.since is not None
        load[advisor.id] += user.weight
        places[advisor.id].add(user.municipality)
    for advisor in instance.advisors:
        assert load[advisor.id] <= capacity(instance, advisor) + 1e-9, advisor.id
        limit = max_municipalities(instance, advisor)
        assert not limit or len(places[advisor.id]) <= limit, advisor.id


def check_households(instance: Instance) -> None:
    """Household members share municipality, current advisor and routed kind."""
    groups: dict[str, list] = defaultdict(list)
    for user in instance.users:
        if user.household:
            groups[user.household].append(user)
    assert groups
    for members in groups.values():
        assert 2 <= len(members) <= 3
        assert len({u.municipality for u in members}) == 1
        assert len({u.current_advisor for u in members}) == 1
        assert len({routed_rule(instance, u) for u in members}) == 1


def test_generated_current_allocation_is_feasible(region: Instance) -> None:
    """Active users' current advisors exist and satisfy the rules."""
    check_current_allocation(region)


def test_generated_households_share_municipality(region: Instance) -> None:
    """Households in a generated region live together with one advisor."""
    check_households(region)


def test_shipped_current_allocation_is_feasible(shipped: Instance) -> None:
    """Each shipped instance reads cleanly and its current allocation is legal."""
    check_current_allocation(shipped)
    check_households(shipped)


def test_every_routed_kind_has_a_team(shipped: Instance) -> None:
    """Routing never sends a user to a team kind nobody staffs."""
    kinds = {t.kind for t in shipped.teams}
    assert {rule.team_kind for rule in shipped.routing} <= kinds


# --- The shipped instances ----------------------------------------------------------


def test_hallingdal_staff_follows_the_table() -> None:
    """40 staff, 36.35 FTE, 20 state and 20 municipal, Gol hosting Hemsedal."""
    instance = shipped_instance("hallingdal")
    advisors = instance.advisors
    assert len(advisors) == 40
    assert math.isclose(sum(a.fte for a in advisors), 36.35)
    assert sum(a.employer == "state" for a in advisors) == 20
    assert instance.host_agreements == (
        HostAgreement(host="gol", members=("hemsedal",)),
    )
    assert {m.name for m in instance.municipalities} >= {"Flå", "Ål"}
    assert len(instance.travel) == 2 * 15
    assert instance.travel[("fla", "hol")] == 104
    debt = [a for a in advisors if a.team == "hal-debt"]
    assert [a.fte for a in debt] == [0.5, 0.5]
    assert sorted(a.casework_share for a in advisors)[:3] == [0.2, 0.5, 0.5]


def test_nord_gudbrandsdal_has_no_shared_authority() -> None:
    """Six offices, no host agreement, no travel table; Dovre has 5.4 FTE."""
    instance = shipped_instance("nord-gudbrandsdal")
    assert not instance.host_agreements and not instance.travel
    assert instance.policy.road_factor == 1.4
    dovre = [a for a in instance.advisors if a.base == "dovre"]
    assert math.isclose(sum(a.fte for a in dovre), 5.4)
    assert math.isclose(sum(a.fte for a in dovre if a.employer == "dovre"), 3.0)
    assert sum("social_assistance" in a.competences for a in dovre) == 1
    for advisor in instance.advisors:
        assert advisor.employer in ("state", advisor.base)


def test_lillestrom_has_24_teams() -> None:
    """One municipality, about 200 advisors in 24 teams, about 8,300 users."""
    instance = shipped_instance("lillestrom")
    assert len(instance.municipalities) == 1
    assert len(instance.teams) == 24
    assert len(instance.advisors) == 200
    assert {t.kind for t in instance.teams} >= {"recruitment", "family", "youth"}
    assert Counter(u.status for u in instance.users) == {"active": 8000, "new": 300}


# --- Writing ---------------------------------------------------------------------------


def tiny() -> Instance:
    """Two municipalities, two teams, a handful of users, a lock and a distance."""
    builder = Builder(
        random.Random(1),
        host_agreements=(HostAgreement(host="nord", members=("sor",)),),
        routing=routing_for(["assessment", "follow_up"]),
    )
    places = (
        municipality("nord", "Nordbø", 1200, 61.0, 9.0),
        municipality("sor", "Sørås", 900, 60.8, 9.1),
    )
    teams = (
        team("t-new", "Kartlegging", "assessment"),
        team("t-follow", "Oppfølging", "follow_up", ["nord", "sor"]),
    )
    assessor = builder.advisor(teams[0], employer="nord", base="nord")
    follow = [
        builder.advisor(teams[1], employer="nord", base="nord", fte=0.8),
        builder.advisor(teams[1], employer="state", base="sor", casework_share=0.5),
    ]
    builder.caseload(teams[1], follow, {"nord": 5, "sor": 4})
    builder.new_users(teams[0], [assessor], {"sor": 2})
    users = tuple(builder.finish_users())
    return Instance(
        name="tiny-written",
        description='Quotes " and æøå survive',
        week="2026-W48",
        policy=Policy(cases_per_fte=20, cases_per_fte_by_kind={"assessment": 5}),
        competences=COMPETENCES,
        host_agreements=builder.host_agreements,
        routing=builder.routing,
        municipalities=places,
        teams=teams,
        advisors=(assessor, *follow),
        users=users,
        locks=(Lock(user=users[0].id, advisor=follow[1].id, kind="forbid"),),
        travel=symmetric({("nord", "sor"): 30.5}),
    )


def test_written_headers_match_format(tmp_path: Path) -> None:
    """Every table's header is the columns of the README's table formats, in order."""
    write_instance(tmp_path / "tiny", tiny())
    written = sorted(p.name for p in (tmp_path / "tiny").iterdir())
    assert written == sorted([*FORMAT_COLUMNS, "instance.toml"])
    for name, columns in FORMAT_COLUMNS.items():
        with (tmp_path / "tiny" / name).open(encoding="utf-8", newline="") as f:
            assert next(csv.reader(f)) == columns, name


def test_written_instance_reads_back_equal(tmp_path: Path) -> None:
    """Reading what was written gives the same entities, TOML included."""
    original = tiny()
    write_instance(tmp_path / "tiny", original)
    doc = tomllib.loads((tmp_path / "tiny/instance.toml").read_text("utf-8"))
    assert doc["description"] == original.description
    back = load(tmp_path / "tiny")
    assert back.policy == original.policy
    assert back.routing == original.routing
    assert back.host_agreements == original.host_agreements
    assert back.travel == original.travel
    for table in ("municipalities", "teams", "advisors", "users", "locks"):
        strip = {"row", "source"}
        ours = [e.model_dump(exclude=strip) for e in getattr(original, table)]
        theirs = [e.model_dump(exclude=strip) for e in getattr(back, table)]
        assert ours == theirs, table


def test_stale_optional_tables_are_removed(tmp_path: Path) -> None:
    """Rewriting without locks or distances drops the old locks.csv and travel.csv."""
    folder = tmp_path / "tiny"
    write_instance(folder, tiny())
    write_instance(folder, tiny().model_copy(update={"locks": (), "travel": {}}))
    assert not (folder / "locks.csv").exists()
    assert not (folder / "travel.csv").exists()


# --- Building blocks -------------------------------------------------------------------


def test_apportion_is_exact_and_proportional() -> None:
    """Largest remainder: the parts sum to the total and follow the weights."""
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(7, [0, 0]) == [4, 3]
    assert sum(apportion(1001, [0.3, 0.2, 0.5])) == 1001


def test_staircase_cuts_in_proportion() -> None:
    """Items go to shares in order and in proportion; a zero share gets none."""
    cuts = staircase([1.0] * 10, [1.0, 0.0, 4.0])
    assert cuts == [0, 0, 2, 2, 2, 2, 2, 2, 2, 2]


def test_too_few_advisors_is_refused(tmp_path: Path) -> None:
    """A region needs one advisor per team kind."""
    with pytest.raises(ValueError, match="at least 5 advisors"):
        generate(4, 100, 2, seed=0, out=tmp_path / "x")


@pytest.mark.slow
def test_scale_instance_is_fast(tmp_path: Path) -> None:
    """1,000 advisors and 40,000 users are written in a few seconds."""
    start = time.perf_counter()
    generate(1000, 40000, 40, seed=1, out=tmp_path / "big")
    assert time.perf_counter() - start < 20
    with (tmp_path / "big/users.csv").open(encoding="utf-8") as f:
        assert sum(1 for _ in f) == 40001
