"""The allocation problem as a Timefold Solver planning problem: a local-search peer.

Benchmark only; Timefold is no dependency of the package::

    pip install timefold==1.24.0b0        # needs Java 17 or later on the PATH
    allocator solve DIR --time-limit 10 --seed 0 --out SOL --no-xlsx --quiet
    python solutions/bench/peer.py DIR --time-limit 10 --allocator SOL --jsonl out.jsonl
    bash solutions/bench/peer.sh          # the whole side-by-side run and table

Two engines over one planning problem: ``--engine java`` (the default)
runs Peer.java, the same domain and constraints written against the Java
solver whose jars the ``timefold`` package ships (Java's single-file
launcher compiles it; no build tool); ``--engine python`` runs the Python
API, whose constraints are translated to Java but evaluated far more
slowly (office-2, 442 users, under the same load: about 5,500 moves a
second against 150,000 to 175,000 in Java), so the Java engine is the peer.

The instance is read and indexed by the project's own code
(``allocator.read_instance``, ``build_problem``), so the peer sees the same
eligible pairs, capacities, limits and costs as the model. Its allocation is
then priced by the project's own evaluator (``engine.evaluate.objective``)
and checked twice for the hard rules: by the checks below and by the
project's independent checker on a written solution folder
(``allocator.check``). Both searches are thus scored by one yardstick.

The planning problem (see BENCHMARKS.md, "Against a local-search peer"):

- planning entity: a *unit*, one user or one household whose members have
  an eligible advisor in common (placed together or not at all); its
  planning variable is the advisor, unassigned allowed (= waiting), from the
  unit's own eligible advisors (rules 1, 2, 3, 6, forbid: the problem's
  pruning). Members of a household with no common eligible advisor are
  units of their own, tied by a hard constraint.
- hard: capacity (rule 4), weekly intake (rule 4), municipalities per
  advisor (rule 5), assigned household members share an advisor (rule 8);
  fix locks and users held with their current advisor are pinned to it;
  users freed to make room must be placed.
- soft, in hundredths of an objective unit (the model's own resolution):
  waiting users (weight x unassigned, plus urgent), travel, non-local,
  rotation, reassignment, and per team the highest utilisation in whole per
  mille rounded up (load balance), exactly as ``engine.evaluate`` prices
  them. So for a feasible allocation -soft/100 equals the objective.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from timefold.solver import SolverFactory
from timefold.solver.config import (
    Duration,
    EnvironmentMode,
    ScoreDirectorFactoryConfig,
    SolverConfig,
    TerminationConfig,
)
from timefold.solver.domain import (
    PlanningEntityCollectionProperty,
    PlanningId,
    PlanningPin,
    PlanningScore,
    PlanningVariable,
    ProblemFactCollectionProperty,
    ValueRangeProvider,
    planning_entity,
    planning_solution,
)
from timefold.solver.score import (
    ConstraintCollectors,
    ConstraintFactory,
    HardSoftScore,
    Joiners,
    constraint_provider,
)

import allocator
from allocator.compare import first_allocation
from allocator.engine.evaluate import cents, objective, objective_terms
from allocator.engine.problem import SCALE, Problem, build_problem, scaled_weight

# ---------------------------------------------------------------- the domain


@dataclass
class Advisor:
    id: Annotated[int, PlanningId]
    team: int
    capacity: int  # scaled weighted users
    intake: int  # new users per week; -1 = no limit
    max_municipalities: int  # 0 = no limit
    balanced: bool  # counts for its team's peak (available, capacity > 0)
    # Soft cost of one per mille of its team's peak, in hundredths.
    balance_per_mille: int

    def __hash__(self) -> int:
        return self.id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Advisor) and other.id == self.id


@planning_entity
@dataclass
class Unit:
    id: Annotated[int, PlanningId]
    municipality: int
    weight: int  # scaled, all members
    # Negative and unique for a unit needing no household tie; else the
    # household's index (members of a household split over units).
    tie: int
    must_place: bool  # freed users: may move, never wait
    waiting_cost: int  # hundredths, all members left waiting
    cost: list[int]  # per advisor index: hundredths when placed there
    newcomers: list[int]  # per advisor index: members new to that advisor
    eligible: Annotated[list[Advisor], ValueRangeProvider(id="eligible")]
    pinned: Annotated[bool, PlanningPin] = False
    advisor: Annotated[
        Advisor | None,
        PlanningVariable(
            value_range_provider_refs=["eligible"], allows_unassigned=True
        ),
    ] = None


@planning_solution
@dataclass
class Plan:
    advisors: Annotated[list[Advisor], ProblemFactCollectionProperty]
    units: Annotated[list[Unit], PlanningEntityCollectionProperty]
    score: Annotated[HardSoftScore | None, PlanningScore] = field(default=None)


# ----------------------------------------------------------- the constraints


def capacity(factory: ConstraintFactory):
    return (
        factory.for_each(Unit)
        .group_by(lambda u: u.advisor, ConstraintCollectors.sum(lambda u: u.weight))
        .filter(lambda a, load: load > a.capacity)
        .penalize(HardSoftScore.ONE_HARD, lambda a, load: load - a.capacity)
        .as_constraint("capacity")
    )


def intake(factory: ConstraintFactory):
    return (
        factory.for_each(Unit)
        .filter(lambda u: u.advisor.intake >= 0)
        .group_by(
            lambda u: u.advisor,
            ConstraintCollectors.sum(lambda u: u.newcomers[u.advisor.id]),
        )
        .filter(lambda a, new: new > a.intake)
        .penalize(HardSoftScore.ONE_HARD, lambda a, new: SCALE * (new - a.intake))
        .as_constraint("intake")
    )


def municipalities(factory: ConstraintFactory):
    return (
        factory.for_each(Unit)
        .filter(lambda u: u.advisor.max_municipalities > 0)
        .group_by(
            lambda u: u.advisor,
            ConstraintCollectors.count_distinct(lambda u: u.municipality),
        )
        .filter(lambda a, n: n > a.max_municipalities)
        .penalize(
            HardSoftScore.ONE_HARD, lambda a, n: SCALE * (n - a.max_municipalities)
        )
        .as_constraint("municipalities")
    )


def households(factory: ConstraintFactory):
    return (
        factory.for_each_unique_pair(Unit, Joiners.equal(lambda u: u.tie))
        .filter(lambda u, v: u.advisor != v.advisor)
        .penalize(HardSoftScore.ONE_HARD, lambda u, v: SCALE)
        .as_constraint("households")
    )


def freed_placed(factory: ConstraintFactory):
    return (
        factory.for_each_including_unassigned(Unit)
        .filter(lambda u: u.must_place and u.advisor is None)
        .penalize(HardSoftScore.ONE_HARD, lambda u: SCALE)
        .as_constraint("freed placed")
    )


def waiting(factory: ConstraintFactory):
    return (
        factory.for_each_including_unassigned(Unit)
        .filter(lambda u: u.advisor is None)
        .penalize(HardSoftScore.ONE_SOFT, lambda u: u.waiting_cost)
        .as_constraint("waiting")
    )


def placed(factory: ConstraintFactory):
    # Travel, non-local, rotation and reassignment of the placed members.
    return (
        factory.for_each(Unit)
        .filter(lambda u: u.cost[u.advisor.id] != 0)
        .penalize(HardSoftScore.ONE_SOFT, lambda u: u.cost[u.advisor.id])
        .as_constraint("placed")
    )


def balance(factory: ConstraintFactory):
    # Per team: the highest utilisation, in per mille rounded up.
    return (
        factory.for_each(Unit)
        .filter(lambda u: u.advisor.balanced)
        .group_by(lambda u: u.advisor, ConstraintCollectors.sum(lambda u: u.weight))
        .group_by(
            lambda a, load: a.team,
            ConstraintCollectors.max(
                lambda a, load: (
                    a.balance_per_mille * ((1000 * load + a.capacity - 1) // a.capacity)
                )
            ),
        )
        .penalize(HardSoftScore.ONE_SOFT, lambda team, peak: peak)
        .as_constraint("balance")
    )


@constraint_provider
def constraints(factory: ConstraintFactory):
    return [
        capacity(factory),
        intake(factory),
        municipalities(factory),
        households(factory),
        freed_placed(factory),
        waiting(factory),
        placed(factory),
        balance(factory),
    ]


# ------------------------------------------------- problem -> plan -> problem


def hundredths(value: float) -> int:
    return round(cents(value) * 100)


def build_plan(
    problem: Problem, split_households: bool = False
) -> tuple[Plan, list[list[int]], list[str]]:
    """The planning problem, each unit's users, and what was approximated."""
    instance = problem.instance
    weights = instance.policy.weights
    n_adv = problem.num_advisors
    balanced = {a for members in problem.balanced_teams().values() for a in members}
    lb_per_mille = weights.load_balance * 100 / 1000
    notes: list[str] = []
    if lb_per_mille != round(lb_per_mille):
        notes.append(f"load_balance per mille {lb_per_mille} rounded")
    advisors = [
        Advisor(
            id=a,
            team=problem.team_of[a],
            capacity=problem.capacity[a],
            intake=-1 if problem.intake_limit[a] is None else problem.intake_limit[a],
            max_municipalities=problem.max_municipalities[a],
            balanced=a in balanced and problem.capacity[a] > 0,
            balance_per_mille=round(lb_per_mille),
        )
        for a in range(n_adv)
    ]
    if problem.max_moves is not None:
        notes.append("--max-moves not modelled")
    group_of: dict[int, int] = {}
    for g, group in enumerate(problem.groups):
        for u in group.user_idcs:
            group_of[u] = g
    rotation_due = {u: problem.groups[group_of[u]].rotation_due for u in group_of}
    eligible = {u: set(problem.groups[group_of[u]].eligible) for u in group_of}
    pinned_user = {
        u: problem.groups[group_of[u]].current
        for u in group_of
        if group_of[u] in problem.pinned
    }
    for u in group_of:
        fixed = problem.groups[group_of[u]].fixed
        if fixed is not None:
            pinned_user[u] = fixed
    freed = {u for u in group_of if group_of[u] in problem.freed}

    def user_cost(u: int, a: int) -> int:
        user = instance.users[u]
        total = hundredths(weights.travel * problem.km(a, user.municipality))
        if user.prefer_non_local and instance.advisors[a].base == user.municipality:
            total += round(weights.non_local * 100)
        current = problem.current[u]
        if a == current and rotation_due[u] and instance.policy.rotation_months > 0:
            total += round(weights.rotation * 100)
        if current is not None and a != current:
            total += round(weights.reassignment * 100)
        return total

    def user_waiting(u: int) -> int:
        user = instance.users[u]
        total = hundredths(weights.unassigned * scaled_weight(user.weight) / SCALE)
        total += round(weights.urgent_unassigned * 100) * user.urgent
        if problem.current[u] is not None:
            total += round(weights.reassignment * 100)
        return total

    # Units: households whose members share an eligible advisor, else users.
    by_household: dict[str, list[int]] = {}
    for u in sorted(group_of):
        household = instance.users[u].household
        by_household.setdefault(household or f"\0{u}", []).append(u)
    members_of: list[list[int]] = []
    ties: list[int] = []
    split = 0
    for h, members in enumerate(by_household.values()):
        common = set.intersection(*(eligible[u] for u in members))
        munis = {instance.users[u].municipality for u in members}
        pins = {pinned_user[u] for u in members if u in pinned_user}
        whole = common and len(munis) == 1 and len(pins) <= 1
        if len(members) == 1 or (whole and not split_households):
            members_of.append(members)
            ties.append(-1)
        else:
            split += 1
            for u in members:
                members_of.append([u])
                ties.append(h)
    if split:
        notes.append(f"{split} households as separate units tied by a hard rule")
    municipality_idx = {m.id: i for i, m in enumerate(instance.municipalities)}
    units = []
    for i, members in enumerate(members_of):
        elig = sorted(set.intersection(*(eligible[u] for u in members)))
        pin = next((pinned_user[u] for u in members if u in pinned_user), None)
        cost = [0] * n_adv
        newcomers = [0] * n_adv
        for a in elig:
            cost[a] = sum(user_cost(u, a) for u in members)
            newcomers[a] = sum(1 for u in members if problem.current[u] != a)
        unit = Unit(
            id=i,
            municipality=municipality_idx[instance.users[members[0]].municipality],
            weight=sum(scaled_weight(instance.users[u].weight) for u in members),
            tie=ties[i] if ties[i] >= 0 else -1 - i,
            must_place=any(u in freed for u in members),
            waiting_cost=sum(user_waiting(u) for u in members),
            cost=cost,
            newcomers=newcomers,
            eligible=[advisors[a] for a in elig],
            pinned=pin is not None,
            advisor=advisors[pin] if pin is not None else None,
        )
        units.append(unit)
    return Plan(advisors=advisors, units=units), members_of, notes


CH = (
    "<constructionHeuristic><constructionHeuristicType>{}"
    "</constructionHeuristicType></constructionHeuristic>"
)
LS = "<localSearch>{}</localSearch>"
# Change and swap moves (Timefold's default for a basic variable) plus
# pillar moves: a pillar is units sharing an advisor, moved together.
PILLARS = (
    "<unionMoveSelector><changeMoveSelector/><swapMoveSelector/>"
    "<pillarChangeMoveSelector/><pillarSwapMoveSelector/></unionMoveSelector>"
)
SOLVER_XML = {
    # Timefold's defaults: First Fit, then Late Acceptance (size 400, one
    # accepted move per step) over change and swap moves.
    "first-fit-la": CH.format("FIRST_FIT") + LS.format(""),
    # First Fit Decreasing (the costliest units to leave waiting first,
    # then those with the fewest eligible advisors), then Late Acceptance.
    "ffd-la": CH.format("FIRST_FIT_DECREASING") + LS.format(""),
    # The docs' Tabu Search: entity tabu 7, 1,000 accepted moves per step.
    "ffd-tabu": CH.format("FIRST_FIT_DECREASING")
    + LS.format(
        "<acceptor><entityTabuSize>7</entityTabuSize></acceptor>"
        "<forager><acceptedCountLimit>1000</acceptedCountLimit></forager>"
    ),
    "first-fit-tabu": CH.format("FIRST_FIT")
    + LS.format(
        "<acceptor><entityTabuSize>7</entityTabuSize></acceptor>"
        "<forager><acceptedCountLimit>1000</acceptedCountLimit></forager>"
    ),
    "first-fit-la-40": CH.format("FIRST_FIT")
    + LS.format("<acceptor><lateAcceptanceSize>40</lateAcceptanceSize></acceptor>"),
    "first-fit-sa": CH.format("FIRST_FIT")
    + LS.format(
        "<acceptor><simulatedAnnealingStartingTemperature>0hard/2000soft"
        "</simulatedAnnealingStartingTemperature></acceptor>"
        "<forager><acceptedCountLimit>4</acceptedCountLimit></forager>"
    ),
    "ffd-great-deluge": CH.format("FIRST_FIT_DECREASING")
    + LS.format("<localSearchType>GREAT_DELUGE</localSearchType>"),
    "ffd-la-pillars": CH.format("FIRST_FIT_DECREASING") + LS.format(PILLARS),
    "ffd-la-4": CH.format("FIRST_FIT_DECREASING")
    + LS.format(
        "<acceptor><lateAcceptanceSize>400</lateAcceptanceSize></acceptor>"
        "<forager><acceptedCountLimit>4</acceptedCountLimit></forager>"
    ),
}


def solver_config(config: str, seconds: float, seed: int) -> SolverConfig:
    xml = (
        f'<solver xmlns="https://timefold.ai/xsd/solver">{SOLVER_XML[config]}</solver>'
    )
    return SolverConfig(
        xml_source_text=xml,
        solution_class=Plan,
        entity_class_list=[Unit],
        environment_mode=EnvironmentMode.NO_ASSERT,
        random_seed=seed,
        score_director_factory_config=ScoreDirectorFactoryConfig(
            constraint_provider_function=constraints
        ),
        termination_config=TerminationConfig(
            spent_limit=Duration(milliseconds=round(seconds * 1000))
        ),
    )


# --------------------------------------------------------------- hard checks


def hard_breaches(problem: Problem, allocation: list[int | None]) -> list[str]:
    """Every hard rule the model enforces, checked on the allocation."""
    breaches = []
    load = [0] * problem.num_advisors
    new = [0] * problem.num_advisors
    munis: list[set[str]] = [set() for _ in range(problem.num_advisors)]
    household: dict[str, set[int]] = {}
    for g, group in enumerate(problem.groups):
        for u in group.user_idcs:
            a = allocation[u]
            if group.fixed is not None and a != group.fixed:
                breaches.append(f"fix lock of user {u}")
            if g in problem.pinned and a != group.current:
                breaches.append(f"pinned user {u} moved")
            if g in problem.freed and a is None:
                breaches.append(f"freed user {u} waits")
            if a is None:
                continue
            if a not in group.eligible:
                breaches.append(f"user {u} ineligible for advisor {a}")
            load[a] += group.weight
            new[a] += problem.current[u] != a
            munis[a].add(group.municipality)
            h = problem.instance.users[u].household
            if h is not None:
                household.setdefault(h, set()).add(a)
    for a in range(problem.num_advisors):
        if load[a] > problem.capacity[a]:
            breaches.append(f"advisor {a} over capacity")
        limit = problem.intake_limit[a]
        if limit is not None and new[a] > limit:
            breaches.append(f"advisor {a} over intake")
        cap = problem.max_municipalities[a]
        if cap and len(munis[a]) > cap:
            breaches.append(f"advisor {a} over its municipality limit")
    breaches += [f"household {h} split" for h, a in household.items() if len(a) > 1]
    return breaches


def project_check(instance, problem: Problem, allocation, value: float) -> list[str]:
    """The project's independent checker, on a written solution folder."""
    from allocator.analysis.reasons import explain_all
    from allocator.analysis.report import build_report
    from allocator.engine.cpsat.solver import Result
    from allocator.solution import Solution

    result = Result(
        status="feasible",
        objective=value,
        bound=0.0,
        wall_s=0.0,
        build_s=0.0,
        time_to_first_s=None,
        allocation=list(allocation),
        solver="timefold",
    )
    report = build_report(problem, result, explain_all(problem, allocation), {})
    solution = Solution(
        instance=instance, problem=problem, result=result, report=report, changes=[]
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "peer"
        solution.write(folder, xlsx=False)
        return allocator.check(instance, folder)


# ------------------------------------------------------------------- one run


def allocator_figures(problem: Problem, folder: Path) -> dict:
    """The project's solve: summary.json, and its assignments re-priced here."""
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    import csv

    advisor_idx = {a.id: i for i, a in enumerate(problem.instance.advisors)}
    user_idx = {u.id: i for i, u in enumerate(problem.instance.users)}
    allocation: list[int | None] = [None] * len(problem.instance.users)
    with open(folder / "assignments.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["advisor"]:
                allocation[user_idx[row["user"]]] = advisor_idx[row["advisor"]]
    return allocation, {
        "objective": summary["objective"],
        "bound": summary["bound"],
        "gap": summary["gap"],
        "wall_s": summary["wall_s"],
        "stopped_by": summary["stopped_by"],
        "waiting": summary["kpis"]["unassigned"],
        "repriced": objective(problem, allocation),
        "hard_breaches": len(hard_breaches(problem, allocation)),
        "partial_households": partial_households(problem, allocation),
    }


def partial_households(problem: Problem, allocation) -> int:
    """Households with some members placed and some waiting."""
    placed: dict[str, set[bool]] = {}
    for u, user in enumerate(problem.instance.users):
        if user.household is not None:
            placed.setdefault(user.household, set()).add(allocation[u] is not None)
    return sum(1 for flags in placed.values() if len(flags) > 1)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def write_plan(plan: Plan, path: Path) -> None:
    """The planning problem as Peer.java reads it."""
    lines = [f"advisors {len(plan.advisors)}"]
    for a in plan.advisors:
        lines.append(
            f"{a.team} {a.capacity} {a.intake} {a.max_municipalities} "
            f"{int(a.balanced)} {a.balance_per_mille}"
        )
    lines.append(f"units {len(plan.units)}")
    for u in plan.units:
        pin = u.advisor.id if u.pinned and u.advisor is not None else -1
        triples = " ".join(
            f"{a.id} {u.cost[a.id]} {u.newcomers[a.id]}" for a in u.eligible
        )
        lines.append(
            f"{u.municipality} {u.weight} {u.tie} {int(u.must_place)} "
            f"{u.waiting_cost} {pin} {len(u.eligible)} {triples}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


SKIPPED_JARS = (
    "timefold-solver-python", "jpyinterpreter", "timefold-solver-test", "junit",
    "mockito", "assertj", "byte-buddy", "opentest4j", "objenesis",
)  # fmt: skip


def solve_java(
    plan: Plan, args: argparse.Namespace, init: list[int | None] | None = None
) -> dict:
    """Timefold Solver's Java engine (Peer.java) on the same planning problem."""
    import subprocess

    import timefold.solver

    # The solver's jars as the package ships them, without its Python
    # bridge (whose logback.xml sends the log to Python) and test libraries.
    jars = sorted(
        str(jar)
        for jar in (Path(timefold.solver.__file__).parent / "jars").glob("*.jar")
        if not jar.name.startswith(SKIPPED_JARS)
    )
    source = Path(__file__).with_name("Peer.java")
    with tempfile.TemporaryDirectory() as tmp:
        problem_file, out_file = Path(tmp) / "problem.txt", Path(tmp) / "out.txt"
        write_plan(plan, problem_file)
        seconds = args.time_limit if init is None else 0
        command = [
            "java", "-cp", os.pathsep.join(jars), str(source),
            str(problem_file), str(out_file), str(seconds), str(args.seed),
            SOLVER_XML[args.config],
        ]  # fmt: skip
        if init is not None:
            init_file = Path(tmp) / "init.txt"
            init_file.write_text("".join(f"{-1 if a is None else a}\n" for a in init))
            command.append(str(init_file))
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(done.stdout + done.stderr)
        lines = out_file.read_text(encoding="utf-8").split("\n")
    advisors = [int(x) for x in lines[: len(plan.units)]]
    _, hard, soft = lines[len(plan.units)].split()
    log = [
        line.split(" -- ", 1)[-1]
        for line in (done.stdout + done.stderr).splitlines()
        if "ended" in line
    ]
    return {
        "advisors": [a if a >= 0 else None for a in advisors],
        "hard": int(hard),
        "soft": int(soft),
        "solve_s": float(lines[len(plan.units) + 1].split()[1]),
        "log": log,
    }


def solve_python(plan: Plan, args: argparse.Namespace) -> dict:
    """Timefold Solver through its Python API (constraints translated to Java)."""
    started = time.perf_counter()
    solver = SolverFactory.create(
        solver_config(args.config, args.time_limit, args.seed)
    ).build_solver()
    best = solver.solve(plan)
    return {
        "advisors": [
            u.advisor.id if u.advisor is not None else None for u in best.units
        ],
        "hard": best.score.hard_score,
        "soft": best.score.soft_score,
        "solve_s": round(time.perf_counter() - started, 2),
        "log": [],
    }


def run(args: argparse.Namespace) -> dict:
    instance = allocator.read_instance(args.instance)
    if args.first_allocation:
        instance = first_allocation(instance)
    problem = build_problem(instance)
    plan, members_of, notes = build_plan(problem, args.households == "split")
    load_before = load_average()
    started = time.perf_counter()
    solved = (
        solve_java(plan, args) if args.engine == "java" else solve_python(plan, args)
    )
    process_s = time.perf_counter() - started
    allocation: list[int | None] = [None] * len(instance.users)
    for a, members in zip(solved["advisors"], members_of, strict=True):
        for u in members:
            allocation[u] = a
    value = objective(problem, allocation)
    breaches = hard_breaches(problem, allocation)
    checker = project_check(instance, problem, allocation, value) if args.check else []
    row = {
        "instance": instance.name,
        "users": len(instance.users),
        "units": len(plan.units),
        "engine": args.engine,
        "config": args.config,
        "households": args.households,
        "time_limit": args.time_limit,
        "seed": args.seed,
        "objective": value,
        "waiting": sum(a is None for a in allocation),
        "terms": objective_terms(problem, allocation),
        "score": f"{solved['hard']}hard/{solved['soft']}soft",
        # The peer's own score is the evaluator's objective, to the cent.
        "score_matches": solved["hard"] == 0 and -solved["soft"] == round(value * 100),
        "hard_breaches": breaches[:5],
        "checker": checker[:5],
        "solve_s": solved["solve_s"],
        "process_s": round(process_s, 2),
        "load_before": load_before,
        "load_after": load_average(),
        "log": solved["log"],
        "notes": notes,
    }
    if args.allocator is not None:
        theirs, row["allocator"] = allocator_figures(problem, Path(args.allocator))
        row["allocator"]["in_peer_model"] = score_in_peer(
            plan, members_of, theirs, args, problem
        )
    return row


def score_in_peer(
    plan: Plan,
    members_of: list[list[int]],
    allocation: list[int | None],
    args: argparse.Namespace,
    problem: Problem,
) -> dict:
    """The project's allocation scored by the peer's own constraints (Java).

    "matches" when it is feasible there and its soft score is its objective:
    the peer's model then holds the project's answer and prices it alike,
    so any difference is the search's. A household the project placed in
    part is not a unit's choice: its placed members are set waiting first,
    and ``objective`` is then that allocation's (what the peer's model can
    reach of the project's answer).
    """
    restricted = list(allocation)
    init = []
    for members in members_of:
        chosen = {allocation[u] for u in members}
        if len(chosen) > 1:
            for u in members:
                restricted[u] = None
            chosen = {None}
        init.append(chosen.pop())
    value = objective(problem, restricted)
    figures: dict = {"objective": value, "waiting": restricted.count(None)}
    if args.engine == "java":
        scored = solve_java(plan, args, init)
        ok = scored["hard"] == 0 and -scored["soft"] == round(value * 100)
        score = f"{scored['hard']}hard/{scored['soft']}soft"
        figures["score"] = f"matches ({score})" if ok else f"differs ({score})"
    return figures


def table(path: str) -> str:
    """The side-by-side table (markdown) from the result lines of peer.sh."""
    rows = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    loads: dict[str, float] = {}
    load_file = Path(path).with_name("allocator-load.txt")
    if load_file.exists():
        for line in load_file.read_text().splitlines():
            name, load = line.split()
            loads[name] = float(load)
    by_instance: dict[str, list[dict]] = {}
    for row in rows:
        by_instance.setdefault(row["instance"], []).append(row)
    lines = [
        "| instance | users | allocator @10 s (waiting, load) | gap | "
        "peer @10 s (waiting, config, load) | peer @30 s (waiting, config, load) | "
        "peer behind @10 s |",
        "|---|---|---|---|---|---|---|",
    ]

    def best(runs: list[dict]) -> dict | None:
        feasible = [r for r in runs if not r["hard_breaches"] and not r["checker"]]
        return min(feasible, key=lambda r: r["objective"]) if feasible else None

    def cell(run: dict | None) -> str:
        if run is None:
            return "-"
        return (
            f"{run['objective']:,.2f} ({run['waiting']}, {run['config']}, "
            f"{run['load_before']:.1f})"
        )

    for name, runs in by_instance.items():
        ours = runs[0]["allocator"]
        at10 = best([r for r in runs if r["time_limit"] == 10])
        at30 = best([r for r in runs if r["time_limit"] == 30])
        behind = (
            f"{(at10['objective'] - ours['objective']) / ours['objective']:+.1%}"
            if at10
            else "-"
        )
        load = f", {loads[name]:.1f}" if name in loads else ""
        lines.append(
            f"| {name} | {runs[0]['users']} | {ours['objective']:,.2f} "
            f"({ours['waiting']}{load}) | {ours['gap']:.2%} | {cell(at10)} | "
            f"{cell(at30)} | {behind} |"
        )
    return "\n".join(lines)


def main() -> None:
    if sys.argv[1:2] == ["table"]:
        print(table(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--engine", choices=("java", "python"), default="java")
    parser.add_argument(
        "--households",
        choices=("units", "split"),
        default="units",
        help="a household as one unit (placed whole or waiting), or its members "
        "as units tied by the hard rule (exact, but moved one at a time)",
    )
    parser.add_argument("--config", choices=sorted(SOLVER_XML), default="ffd-la")
    parser.add_argument(
        "--first-allocation",
        action="store_true",
        help="drop every current advisor first (as compare does)",
    )
    parser.add_argument("--allocator", help="the project's solution folder to compare")
    parser.add_argument("--no-check", dest="check", action="store_false")
    parser.add_argument("--jsonl", help="append the result line to this file")
    parser.add_argument("--log", action="store_true", help="Timefold's own log")
    args = parser.parse_args()
    if args.log:
        import logging

        logging.basicConfig()
        logging.getLogger("timefold.solver").setLevel(logging.INFO)
    row = run(args)
    line = json.dumps(row, ensure_ascii=False)
    print(line)
    if args.jsonl:
        with open(args.jsonl, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
