"""The default search: decomposed, started from a flow, deterministic.

How it works (docs/reference/search.md):

1. **Parts.** The problem is split into its independent parts
   (:mod:`allocator.engine.decompose`): users who can share no advisor, no
   household and no team never interact, so each part is solved on its own
   and the objective is the sum of the parts' objectives.
2. **A strong start.** Each part starts from the best of the transportation
   relaxation's allocation (:mod:`allocator.engine.flow`), the compact greedy
   and the plain greedy; the written allocation is never worse than any of
   them.
3. **Two rounds, each on a deterministic budget.** Round one gives every
   part two single-worker searches, a plain and (when most of its users are
   open) a core-based one, which prove most parts within a fraction of a
   second, on a share of the budget proportional to its size. Round two
   takes the parts not yet within ``PART_GAP``: HiGHS's branch and bound
   (:mod:`allocator.engine.mip`) on each it can take, two parts at a time,
   on a node limit (where advisors choose municipalities, first a
   relaxation for the bound and a dive from its choice for the allocation,
   ``run_mip``); then CP-SAT's interleaved portfolio, from the best so
   far, on the parts still open, the largest gap first, on what is left.
   The budgets are in CP-SAT's deterministic time (HiGHS's nodes counted
   at ``NODES_PER_UNIT``), sized from the problem (``budget_for``), so
   the same input and seed give the same allocation on any machine and
   under any load. The time limit is only a safety cap: when it cuts in,
   ``stopped_by`` is ``wall_clock`` and the answer is not reproducible.
4. **One answer among equals.** CP-SAT's single worker with a fixed seed is
   deterministic; the groups' counts are handed out to users in input order
   (``AllocationModel.allocation``).

``--portfolio`` keeps the older whole-problem wall-clock search
(:func:`allocator.engine.cpsat.solver.solve`).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from allocator.engine.cpsat import AllocationModel
from allocator.engine.cpsat.solver import (
    REPRODUCIBLE,
    STOP_ORDER,
    ProgressCallback,
    Result,
    SolveParams,
    StopReason,
    configure,
    gap_of,
    interruptible,
)
from allocator.engine.cpsat.solver import solve as solve_whole
from allocator.engine.decompose import Part, merge, options, restrict, split
from allocator.engine.evaluate import objective
from allocator.engine.flow import flow_start
from allocator.engine.greedy import solve_greedy
from allocator.engine.mip import MipOutcome, convertible, solve_mip
from allocator.engine.problem import Problem

# The whole search's deterministic time at the default time limit, shared
# over the parts by size. Sized on the office shape's seeds, the shipped
# instances and their scenarios (solutions/BENCHMARKS.md) so that on an
# idle 2-core machine the search ends within the default 10 s. It was 0.0035
# units per (group, advisor) pair between a floor of 5 and a cap of 6; the
# cap came down to 5 when HiGHS's relaxation freed budget for the
# portfolio, whose interleaved workers take about 1.3 s a unit on two
# cores (at 6 an office, seed 95, ran into the clock), and floor and cap
# being equal, the size no longer counts. The slowest of seeds 0 to 95
# took about 9 s, most of it HiGHS roots that no node limit caps.
BUDGET = 5.0
# The time limit the budget is sized for; a longer limit scales it.
NOMINAL_TIME_LIMIT = 10.0
# Share of a part's budget that round one (one worker) may spend.
ROUND_ONE_SHARE = 0.3
# A part is done when its gap is at most this (CP-SAT's relative_gap_limit).
PART_GAP = 1e-3
# Round one's calls run this many at a time (one per core of a laptop).
ROUND_ONE_THREADS = 2
# Round two's interleaved tasks run this many at a time.
ROUND_TWO_BATCH = 2
# Round two's interleaved workers (CP-SAT's default portfolio size).
PORTFOLIO_WORKERS = 8
# HiGHS branch-and-bound nodes per unit of CP-SAT deterministic time: about
# as long on one core (on the office shape's hard parts a node took about
# 12 ms of CPU, a unit about 1 s).
NODES_PER_UNIT = 85
# Parts with more (group, advisor) pairs than this skip HiGHS: its root LP
# and cuts are not node-limited and would outrun the budget (an office's
# 1,284-pair follow-up part took 3 s of CPU at the root alone).
MIP_MAX_PAIRS = 5000
# Parts with more pairs than this skip the relaxation: HiGHS's roots are
# not node-limited, and on an office's 2,082-pair follow-up part the
# relaxation's, the dive's and the whole model's took 5 s together (the
# whole model's alone 3.2 s), for a relaxation bound below the whole
# model's. The office teams whose municipality choices need the
# relaxation have 200 to 500 pairs.
RELAX_MAX_PAIRS = 1000
# After the relaxation, the whole model runs only on parts of at most this
# many pairs; on larger ones its root (which no node limit caps) costs
# seconds (an office's 851-pair youth team: 5.7 s for 25 nodes, after the
# relaxation had brought it within 0.5 %; a 512-pair family team 5.6 s for
# 3 nodes), and CP-SAT's portfolio takes the part on its budget instead.
# The small teams that needed the whole model after the relaxation had 230
# to 260 pairs.
WHOLE_AFTER_RELAXATION = 300
# The relaxation's branch-and-bound nodes per unit of deterministic time:
# about three times as many as the whole model's (on an office's family
# team 971 nodes took 3.8 s, a node about 4 ms of CPU against 12).
RELAXED_NODES_PER_UNIT = 250
# Nodes the dive may take even when the relaxation spent the part's limit:
# with the municipalities fixed the model is almost a transportation
# problem, which HiGHS solves at its root.
DIVE_NODES = 50
# The tie-break's deterministic time per part: a proved part's ties
# settle in a few thousandths of a unit (an office's parts: at most 0.008).
TIE_BUDGET = 0.2


def pairs(problem: Problem) -> int:
    """Number of (group, advisor) pairs the model has variables for."""
    return sum(len(options(problem, g)) for g in range(len(problem.groups)))


def budget_for(params: SolveParams) -> float:
    """The whole search's deterministic time: ``BUDGET`` scaled by the time limit.

    ``params.deterministic_time``, when given, is used as it is.
    """
    if params.deterministic_time is not None:
        return params.deterministic_time
    return BUDGET * params.time_limit / NOMINAL_TIME_LIMIT


@dataclass
class _PartState:
    """Where one part's search stands."""

    part: Part
    budget: float
    allocation: list[int | None]
    objective: float
    bound: float = float("-inf")
    proven: bool = False
    spent: float = 0.0
    stopped_by: StopReason = "none"
    source: str = "hint"
    workers: int = 0
    # Some call on the part was cut by the clock: what it found (or did
    # not) depends on the machine's load, so the part is not reproducible
    # even when it ends within its gap.
    clock_cut: bool = False
    # The part's allocation is the documented one among its optima
    # (``settle_ties``): proved optimal, then least in the tie-break.
    canonical: bool = False


@dataclass
class _Tracker:
    """Sums the parts' figures for the progress line, thread-safe."""

    start: float
    callback: ProgressCallback | None
    objective: list[float]
    bound: list[float]
    log: list[tuple[float, float, float]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, i: int, objective: float, bound: float) -> None:
        with self.lock:
            self.objective[i] = min(self.objective[i], objective)
            self.bound[i] = max(self.bound[i], bound)
            total = sum(self.objective)
            low = sum(b if b > float("-inf") else 0.0 for b in self.bound)
            entry = (time.perf_counter() - self.start, total, low)
            self.log.append(entry)
            if self.callback is not None:
                self.callback(*entry)


class _Recorder(cp_model.CpSolverSolutionCallback):
    """Forwards a part's improving solutions to the tracker."""

    def __init__(self, model: AllocationModel, tracker: _Tracker, i: int) -> None:
        super().__init__()
        self.model = model
        self.tracker = tracker
        self.i = i

    def on_solution_callback(self) -> None:
        self.tracker.update(
            self.i,
            self.model.to_objective(self.objective_value),
            self.model.to_objective(self.best_objective_bound),
        )


def variants(state: _PartState) -> tuple[bool, ...]:
    """Round one's single-worker searches for a part: plain, and core-based when open.

    When most of a part's users are settled (a weekly run) the plain search
    proves it at once and a second call would only cost its overhead.
    """
    problem = state.part.problem
    settled = sum(problem.groups[g].size for g in problem.pinned)
    users = sum(group.size for group in problem.groups)
    return (False,) if 2 * settled >= users else (False, True)


def start_for(part: Problem, hint: Sequence[int | None] | None) -> list[int | None]:
    """The part's best start: flow, compact greedy, greedy or the caller's hint.

    Compared on the tool's own objective (``evaluate.objective``); ties keep
    the earlier in that order, so the choice is deterministic.
    """
    settled = sum(part.groups[g].size for g in part.pinned)
    users = sum(group.size for group in part.groups)
    if hint is not None and 2 * settled >= users:
        # A weekly run: most users stay, the caller's hint (the greedy
        # baseline) keeps them, and a new start would only cost time.
        return list(hint)
    candidates: list[list[int | None]] = []
    flow = flow_start(part)
    if flow is not None:
        candidates.append(flow)
    candidates.append(solve_greedy(part, compact=True).allocation)
    candidates.append(solve_greedy(part).allocation)
    if hint is not None:
        candidates.append(list(hint))
    admitted = [a for a in candidates if admissible(part, a)] or candidates[-1:]
    return min(admitted, key=lambda allocation: objective(part, allocation))


def admissible(problem: Problem, allocation: Sequence[int | None]) -> bool:
    """Whether an allocation keeps the problem's whole-office rules.

    The flow start and the greedy obey every rule of an advisor or a group
    through the ledger; these two they do not know: freed users must stay
    placed (the weekly move rule), and ``--max-moves`` caps the moves of
    settled users. The caller's hint keeps both by construction.
    """
    for g in problem.freed:
        if any(allocation[u] is None for u in problem.groups[g].user_idcs):
            return False
    if problem.max_moves is not None:
        moves = sum(
            allocation[u] != problem.groups[g].current
            for g in problem.settled
            for u in problem.groups[g].user_idcs
        )
        if moves > problem.max_moves:
            return False
    return True


def run_part(
    state: _PartState,
    params: SolveParams,
    *,
    workers: int,
    budget: float,
    deadline: float,
    tracker: _Tracker,
    index: int,
    stop: threading.Event | None,
    core: bool = False,
) -> _Outcome:
    """One CP-SAT call on a part from its best allocation so far.

    One worker runs without presolve: on these models CP-SAT's presolve
    loses the hint and the single worker then starts from nothing
    (measured on generated offices: a part proved in 0.06 deterministic
    units without presolve, unproved after 2 with it). ``core`` runs the
    single worker as a core-based (max-SAT style) search, which proves
    parts whose optimum places everyone far sooner, and others far later.
    Returns what the call found; ``absorb`` folds it into the part's state.
    """
    problem = state.part.problem
    model = AllocationModel(problem)
    model.hint(state.allocation)
    remaining = max(0.01, deadline - time.perf_counter())
    solver = configure(
        params,
        workers=workers,
        time_limit=remaining,
        budget=max(0.01, budget),
        interleave=workers > 1,
        gap_target=PART_GAP,
    )
    if workers > 1:
        # Without a batch size the interleaved workers overrun the budget
        # several times over (a budget of 2 spent 10.8); two tasks at a time
        # keep both cores busy and stop within the budget.
        solver.parameters.interleave_batch_size = ROUND_TWO_BATCH
    if workers == 1:
        solver.parameters.cp_model_presolve = False
        solver.parameters.optimize_with_core = core
    recorder = _Recorder(model, tracker, index)
    with interruptible(solver, stop):
        code = solver.solve(model.model, recorder)
    if code == cp_model.MODEL_INVALID:
        raise RuntimeError(f"invalid CP-SAT model: {model.model.validate()}")
    spent = solver.response_proto.deterministic_time
    outcome = _Outcome(spent=spent, workers=workers)
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        found = model.allocation(list(solver.response_proto.solution))
        outcome.allocation = found
        outcome.objective = objective(problem, found)
        outcome.bound = min(
            model.to_objective(solver.best_objective_bound), outcome.objective
        )
    # INFEASIBLE cannot happen (leaving everyone waiting obeys every rule);
    # a call without a solution only adds its spent time.
    # CP-SAT reports OPTIMAL when it ends by proof or by its gap target;
    # otherwise it ended by its budget, an interrupt or the clock. The
    # interleaved workers may stop a little short of the budget, so the
    # clock is told by the time the call took, not by what it spent.
    outcome.timed_out = (
        code != cp_model.OPTIMAL
        and hit_clock(solver, remaining)
        and not (stop is not None and stop.is_set())
    )
    outcome.ran_out = spent >= budget - 1e-6 or (
        code != cp_model.OPTIMAL and not outcome.timed_out
    )
    return outcome


def hit_clock(solver: cp_model.CpSolver, time_limit: float) -> bool:
    """Whether a CP-SAT call ran until its wall-clock limit (seconds)."""
    return solver.response_proto.wall_time >= 0.95 * time_limit


@dataclass
class _Outcome:
    """What one CP-SAT call on a part found."""

    spent: float
    workers: int
    allocation: list[int | None] | None = None
    objective: float = float("inf")
    bound: float = float("-inf")
    ran_out: bool = False
    # Cut by the wall clock (the safety cap), not by proof, gap or budget.
    timed_out: bool = False


def absorb(
    state: _PartState,
    outcomes: Sequence[_Outcome],
    stop: threading.Event | None,
    tracker: _Tracker,
    index: int,
) -> None:
    """Fold calls on one part into its state, in their fixed order.

    The best allocation wins, ties to the earlier call, so the result does
    not depend on which call finished first; the bound is the best proved.
    """
    for outcome in outcomes:
        state.clock_cut = state.clock_cut or outcome.timed_out
        state.spent += outcome.spent
        state.workers = max(state.workers, outcome.workers)
        state.bound = max(state.bound, outcome.bound)
        if outcome.allocation is not None and outcome.objective < state.objective:
            state.allocation = outcome.allocation
            state.objective = outcome.objective
            state.source = "search"
    state.bound = min(state.bound, state.objective)
    state.proven = gap_of(state.objective, state.bound) <= PART_GAP
    if state.clock_cut and not (stop is not None and stop.is_set()):
        state.stopped_by = "wall_clock"
    elif state.objective - state.bound < 5e-3:
        state.stopped_by = "proof"
    elif state.proven:
        state.stopped_by = "gap_limit"
    elif stop is not None and stop.is_set():
        state.stopped_by = "interrupted"
    elif all(o.ran_out for o in outcomes):
        state.stopped_by = "deterministic_time"
    else:
        state.stopped_by = "wall_clock"
    tracker.update(index, state.objective, state.bound)


def solve(
    problem: Problem,
    params: SolveParams,
    hint: Sequence[int | None] | None = None,
    progress: ProgressCallback | None = None,
    stop: threading.Event | None = None,
) -> Result:
    """Solve ``problem`` part by part (see the module docstring).

    ``hint`` is a complete allocation of the whole problem; the written
    allocation is never worse than it, nor than the flow start and the
    greedy starts. ``params.deterministic_time``, when given, is the budget
    of the whole search, shared over the parts by size. ``--portfolio``
    (``params.portfolio``) runs the whole-problem wall-clock search instead.
    Setting ``stop`` ends the search early with the best found so far.
    """
    if params.portfolio:
        return solve_whole(problem, params, hint, progress, stop)
    start = time.perf_counter()
    deadline = start + params.time_limit
    parts = split(problem)
    # What a Ctrl-C during the build would lose: the parts, not the starts
    # (from here on there is always an allocation to write).
    build_s = time.perf_counter() - start
    placed = {g for part in parts for g in part.groups}
    waiting = restrict(
        problem, [g for g in range(len(problem.groups)) if g not in placed], []
    )
    states = []
    total = budget_for(params)
    sizes = [max(1, pairs(part.problem)) for part in parts]
    budgets = [total * size / sum(sizes) for size in sizes]
    for part, budget in zip(parts, budgets, strict=True):
        allocation = start_for(part.problem, hint)
        states.append(
            _PartState(
                part=part,
                budget=budget,
                allocation=allocation,
                objective=objective(part.problem, allocation),
            )
        )
    tracker = _Tracker(
        start=start,
        callback=progress,
        objective=[s.objective for s in states],
        bound=[float("-inf")] * len(states),
    )
    # Round one: two single-worker searches per part (plain and core-based),
    # each on a fixed share of the part's budget, two at a time (one per
    # core). Each call is deterministic and their results are folded in a
    # fixed order, so running them side by side changes nothing.
    calls = [(i, core) for i, state in enumerate(states) for core in variants(state)]

    def round_one(call: tuple[int, bool]) -> _Outcome:
        i, core = call
        if stop is not None and stop.is_set():
            return _Outcome(spent=0.0, workers=0)
        return run_part(
            states[i],
            params,
            workers=1,
            budget=states[i].budget * ROUND_ONE_SHARE / len(variants(states[i])),
            deadline=deadline,
            tracker=tracker,
            index=i,
            stop=stop,
            core=core,
        )

    with ThreadPoolExecutor(max_workers=ROUND_ONE_THREADS) as pool:
        outcomes = list(pool.map(round_one, calls))
    for i, state in enumerate(states):
        mine = [o for (j, _), o in zip(calls, outcomes, strict=True) if j == i]
        absorb(state, mine, stop, tracker, i)
    # Round two, first HiGHS: its branch and bound on every open part it
    # can take, two parts at a time (one per core), each on its share of
    # what round one left (shares by gap). Then the interleaved portfolio
    # on the parts still open (those HiGHS cannot take, or did not prove),
    # the largest gap first, each on its share of what is left, what it
    # does not spend going to the next. Every amount is deterministic (node
    # limits, deterministic time) and results are folded in a fixed order,
    # so the answer stays reproducible.
    open_parts = within_office_gap(states, opened(states))
    left = total - sum(s.spent for s in states)
    shares = shares_by_gap(states, open_parts, left)
    models = {
        i: model
        for i in open_parts
        if (model := mip_model(states[i].part.problem, params)) is not None
    }

    # What each HiGHS part may stay from its bound and still leave the
    # office within PART_GAP (an equal share each).
    allowance = PART_GAP * sum(s.objective for s in states) / max(1, len(models))

    def mip_call(i: int) -> _Outcome:
        if stop is not None and stop.is_set():
            return _Outcome(spent=0.0, workers=0)
        return run_mip(
            states[i], models[i], shares[i], deadline, tracker, i, stop, allowance
        )

    with ThreadPoolExecutor(max_workers=ROUND_ONE_THREADS) as pool:
        mip_outcomes = list(pool.map(mip_call, models))
    for i, outcome in zip(models, mip_outcomes, strict=True):
        absorb(states[i], [outcome], stop, tracker, i)
    left -= sum(o.spent for o in mip_outcomes)
    open_parts = within_office_gap(states, opened(states))
    for n, i in enumerate(open_parts):
        if stop is not None and stop.is_set():
            break
        if time.perf_counter() >= deadline:
            states[i].stopped_by = "wall_clock"
            continue
        share = shares_by_gap(states, open_parts[n:], left)[i]
        outcome = run_part(
            states[i],
            params,
            workers=params.workers or PORTFOLIO_WORKERS,
            budget=max(share, 0.01),
            deadline=deadline,
            tracker=tracker,
            index=i,
            stop=stop,
        )
        left -= outcome.spent
        absorb(states[i], [outcome], stop, tracker, i)
    for i, state in enumerate(states):
        if (stop is not None and stop.is_set()) or not params.settle_ties:
            break
        settle_ties(state, params, deadline, stop, tracker, i)
    if states and all(s.bound == float("-inf") for s in states):
        # CP-SAT ran in no part (no time, or stopped at once): the search
        # found nothing of its own, and says so; the caller writes the
        # greedy baseline and marks it as such.
        return Result(
            status="no_solution",
            objective=float("nan"),
            bound=float("nan"),
            wall_s=time.perf_counter() - start,
            build_s=build_s,
            time_to_first_s=None,
            allocation=[None] * len(problem.instance.users),
            log=tracker.log,
            stopped_by=overall_stop(states, stop),
            workers=max((s.workers for s in states), default=1),
            deterministic=[round(sum(s.spent for s in states), 6)],
            budget=total,
        )
    allocation = merge(
        len(problem.instance.users),
        [s.part for s in states],
        [s.allocation for s in states],
    )
    value = objective(problem, allocation)
    constant = objective(waiting, allocation) if waiting.groups else 0.0
    bound = sum(s.bound for s in states) + constant
    bound = min(bound, value)
    wall_s = time.perf_counter() - start
    return Result(
        status="optimal" if value - bound < 5e-3 else "feasible",
        objective=value,
        bound=bound,
        wall_s=wall_s,
        build_s=build_s,
        time_to_first_s=build_s,
        allocation=allocation,
        log=tracker.log,
        stopped_by=overall_stop(states, stop),
        workers=max((s.workers for s in states), default=1),
        source="search" if any(s.source == "search" for s in states) else "hint",
        deterministic=[round(sum(s.spent for s in states), 6)],
        budget=total,
        canonical=all(s.canonical for s in states),
    )


def opened(states: Sequence[_PartState]) -> list[int]:
    """The parts not yet within ``PART_GAP``, the largest gap first."""
    return sorted(
        (i for i, s in enumerate(states) if not s.proven),
        key=lambda i: (-(states[i].objective - states[i].bound), i),
    )


def within_office_gap(states: Sequence[_PartState], parts: list[int]) -> list[int]:
    """``parts``, or none when their gaps together are within PART_GAP of the office.

    A part's own gap may stay above ``PART_GAP`` while the office as a
    whole is well within it (a small part 0.2 % from its bound in an office
    0.01 % from its own); searching on would only cost time. The parts left
    open are then marked as ended by the gap target, which depends on the
    figures only, so the answer stays reproducible.
    """
    office = sum(s.objective for s in states)
    gaps = sum(states[i].objective - states[i].bound for i in parts)
    if parts and math.isfinite(gaps) and gaps <= PART_GAP * office:
        for i in parts:
            states[i].stopped_by = "gap_limit"
        return []
    return parts


def shares_by_gap(
    states: Sequence[_PartState], parts: Sequence[int], left: float
) -> dict[int, float]:
    """``left`` shared over ``parts`` by the size of their gaps.

    A part without a bound yet (round one found nothing) has no size of gap
    to weigh by: then every part gets an equal share.
    """
    gaps = [states[i].objective - states[i].bound for i in parts]
    if gaps and all(math.isfinite(gap) for gap in gaps) and sum(gaps) > 0:
        return {i: left * gap / sum(gaps) for i, gap in zip(parts, gaps, strict=True)}
    return {i: left / len(parts) for i in parts}


def mip_model(problem: Problem, params: SolveParams) -> AllocationModel | None:
    """The part's model for HiGHS, or None when HiGHS does not take the part.

    HiGHS takes a part that is purely linear and has at most
    ``MIP_MAX_PAIRS`` pairs, unless one worker is asked for or CP-SAT's
    parameters are set by hand (``bench --params``), which then measures
    CP-SAT alone.
    """
    if params.workers == 1 or params.extra or pairs(problem) > MIP_MAX_PAIRS:
        return None
    model = AllocationModel(problem)
    return model if convertible(model) else None


def run_mip(
    state: _PartState,
    model: AllocationModel,
    budget: float,
    deadline: float,
    tracker: _Tracker,
    index: int,
    stop: threading.Event | None = None,
    allowance: float = 0.0,
) -> _Outcome:
    """The part's ``model`` as a MIP in HiGHS (:mod:`allocator.engine.mip`).

    A part whose advisors choose municipalities (rule 5) is solved in two
    steps: first its relaxation in which only the choices, and how many of
    each group wait, are whole numbers (``relaxed``): far fewer nodes to a
    bound that holds for the part, and on office teams the same value (an
    office's family team: proved in about 1,000 nodes, against over 4,000
    for the whole model, unproved). Then a dive: the whole model with each
    advisor's municipalities fixed to those the relaxation chose, which is
    almost a transportation problem, for the allocation; the whole model
    then gets what is left only when the part is still further from its
    bound than its ``allowance`` (objective units: its share of the
    office's PART_GAP) and than PART_GAP of its own, and only on parts of
    at most ``WHOLE_AFTER_RELAXATION`` pairs, since its root, which
    no node limit caps, can take seconds (an office's 851-pair youth team:
    5.8 s for 25 nodes). Other parts are solved whole. The budget is a
    node limit (``NODES_PER_UNIT`` per unit), so the call is deterministic;
    the spent time is reported in the same units.
    """
    problem = state.part.problem
    limit = max(1, round(NODES_PER_UNIT * budget))
    if not model.variables.serves or pairs(problem) > RELAX_MAX_PAIRS:
        # No municipality choices, or a part so large that three roots
        # (relaxation, dive, whole model) cost more than they gain: the
        # whole model at once.
        found = solve_mip(
            model,
            nodes=limit,
            time_limit=deadline - time.perf_counter(),
            gap=PART_GAP,
            stop=stop,
        )
        return mip_outcome(problem, model, found, limit, found.nodes, found.bound)
    # The relaxation on the part's nodes (counted at its own rate: its
    # nodes are cheaper), then the dive from its choice of municipalities.
    nodes = max(1, round(RELAXED_NODES_PER_UNIT * budget))
    relaxation = solve_mip(
        model,
        nodes=nodes,
        time_limit=deadline - time.perf_counter(),
        gap=PART_GAP,
        stop=stop,
        relax=relaxed(model),
    )
    spent = min(relaxation.nodes, nodes) / RELAXED_NODES_PER_UNIT
    best = dive(problem, relaxation.values, deadline, stop)
    if best is None:
        outcome = _Outcome(spent=spent, workers=1)
        outcome.bound = model.to_objective(relaxation.bound)
    else:
        dived, found = best
        outcome = mip_outcome(
            problem, dived, found, DIVE_NODES, found.nodes, relaxation.bound
        )
        outcome.spent += spent
        outcome.timed_out = found.timed_out
    outcome.timed_out = outcome.timed_out or relaxation.timed_out
    left = budget - outcome.spent
    reached = min(outcome.objective, state.objective)
    if (
        gap_of(reached, max(outcome.bound, state.bound)) > PART_GAP
        and reached - max(outcome.bound, state.bound) > allowance
        and pairs(problem) <= WHOLE_AFTER_RELAXATION
        and left * NODES_PER_UNIT >= 1
        and not outcome.timed_out
        and not (stop is not None and stop.is_set())
    ):
        # The relaxation's bound falls short where how many of a group each
        # advisor takes matters (the groups' whole numbers): the whole model
        # on what is left, as for a part without municipality choices.
        limit = round(NODES_PER_UNIT * left)
        whole = solve_mip(
            model,
            nodes=limit,
            time_limit=deadline - time.perf_counter(),
            gap=PART_GAP,
            stop=stop,
        )
        rest = mip_outcome(problem, model, whole, limit, whole.nodes, whole.bound)
        if rest.objective < outcome.objective:
            outcome.allocation = rest.allocation
            outcome.objective = rest.objective
        outcome.bound = max(outcome.bound, rest.bound)
        outcome.spent += rest.spent
        outcome.timed_out = rest.timed_out
    # Ended by its node limits or by proof: either way not by the clock.
    outcome.ran_out = not outcome.timed_out
    outcome.bound = min(outcome.bound, outcome.objective)
    return outcome


def dive(
    problem: Problem,
    values: Sequence[float] | None,
    deadline: float,
    stop: threading.Event | None,
) -> tuple[AllocationModel, MipOutcome] | None:
    """The whole model with the municipalities a relaxation chose, solved by HiGHS."""
    if values is None:
        return None
    target = AllocationModel(problem)
    fix_municipalities(target, values)
    found = solve_mip(
        target,
        nodes=DIVE_NODES,
        time_limit=deadline - time.perf_counter(),
        gap=PART_GAP,
        stop=stop,
    )
    return (target, found) if found.values is not None else None


def mip_outcome(
    problem: Problem,
    model: AllocationModel,
    found: MipOutcome,
    limit: int,
    used: int,
    bound: float,
) -> _Outcome:
    """A HiGHS run's allocation, bound and spent time as an ``_Outcome``."""
    outcome = _Outcome(spent=min(used, limit) / NODES_PER_UNIT, workers=1)
    if found.values is not None:
        allocation = model.allocation([int(v) for v in found.values])
        outcome.allocation = allocation
        outcome.objective = objective(problem, allocation)
    outcome.bound = min(model.to_objective(bound), outcome.objective)
    outcome.timed_out = found.timed_out
    outcome.ran_out = not found.proved and not found.timed_out
    return outcome


def relaxed(model: AllocationModel) -> list[int]:
    """The variables ``run_mip``'s relaxation leaves continuous.

    How many users of a group each advisor takes, the households' choice of
    advisor and the teams' peaks: with those continuous, the municipality
    choices and the counts of waiting users still whole.
    """
    v = model.variables
    return [
        var.index
        for var in (*v.assign.values(), *v.household.values(), *v.peak.values())
    ]


def fix_municipalities(model: AllocationModel, values: Sequence[float]) -> None:
    """Fix each advisor's municipalities (rule 5) to a relaxation's choice.

    ``values`` is the relaxation's solution by variable index; its serves
    flags are whole numbers. The same flags exist in ``model`` (one problem
    builds the same model).
    """
    for flag in model.variables.serves.values():
        if values[flag.index] < 0.5:
            model.model.add(flag == 0)


def tie_cost(user: str, advisor: str | None) -> int:
    """The documented tie-break's cost of a user with an advisor (None: waiting).

    A whole number from 1 to 1,000 drawn from the two ids (the first four
    bytes of SHA-256 of ``user NUL advisor``): a fixed lottery that depends
    on the ids alone, never on the seed, the machine or the search's path,
    and that makes two allocations of equal cost tie again only by chance.
    """
    text = f"{user}\0{advisor or ''}".encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "big") % 1000 + 1


def settle_ties(
    state: _PartState,
    params: SolveParams,
    deadline: float,
    stop: threading.Event | None,
    tracker: _Tracker,
    index: int,
) -> None:
    """Among a proved part's optimal allocations, take the documented one.

    The issue's rule of one answer among equals: when the part's optimum is
    proved (``stopped_by == "proof"``), a last CP-SAT call keeps the
    objective at that optimum and minimises the tie-break (``tie_cost`` of
    each group's first user with its advisor, or with none for a waiting
    user), on one worker and ``TIE_BUDGET``. When it proves that least
    tie-break the part is ``canonical``: its allocation is then a property
    of the input, the same for every seed. A part not proved keeps what the
    search found (its figures may differ between seeds, never between runs
    of one seed).
    """
    problem = state.part.problem
    if len(problem.pinned) == len(problem.groups):
        # Everyone stays with their advisor (a weekly part without
        # newcomers): one allocation only, nothing to settle.
        state.canonical = state.stopped_by == "proof"
        return
    if state.stopped_by not in ("proof", "gap_limit"):
        return
    model = AllocationModel(problem)
    model.hint(state.allocation)
    proto = model.model.proto
    hinted = dict(
        zip(proto.solution_hint.vars, proto.solution_hint.values, strict=True)
    )
    goal = proto.objective
    found = sum(
        c * hinted.get(v, 0) for v, c in zip(goal.vars, goal.coeffs, strict=True)
    )
    variables = [model.model.get_int_var_from_proto_index(v) for v in goal.vars]
    model.model.add(
        cp_model.LinearExpr.weighted_sum(variables, list(goal.coeffs)) <= found
    )
    users = problem.instance.users
    advisors = problem.instance.advisors
    ties: list[tuple[int, cp_model.IntVar]] = []
    for (g, a), var in model.variables.assign.items():
        first = users[problem.groups[g].user_idcs[0]].id
        ties.append((tie_cost(first, advisors[a].id), var))
    for g, var in model.variables.left.items():
        ties.append((tie_cost(users[problem.groups[g].user_idcs[0]].id, None), var))
    model.model.minimize(
        cp_model.LinearExpr.weighted_sum([v for _, v in ties], [c for c, _ in ties])
    )
    remaining = max(0.01, deadline - time.perf_counter())
    solver = configure(
        params,
        workers=1,
        time_limit=remaining,
        budget=TIE_BUDGET,
        interleave=False,
    )
    solver.parameters.cp_model_presolve = False
    with interruptible(solver, stop):
        code = solver.solve(model.model)
    spent = solver.response_proto.deterministic_time
    state.spent += spent
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        settled = model.allocation(list(solver.response_proto.solution))
        value = objective(problem, settled)
        if value <= state.objective + 1e-6:
            state.allocation = settled
            state.objective = min(state.objective, value)
    state.canonical = code == cp_model.OPTIMAL and state.stopped_by == "proof"
    interrupted = stop is not None and stop.is_set()
    if code != cp_model.OPTIMAL and hit_clock(solver, remaining) and not interrupted:
        # Cut by the clock: which optimum it wrote depends on the load.
        state.clock_cut = True
        state.stopped_by = "wall_clock"
    tracker.update(index, state.objective, state.bound)


def overall_stop(
    states: Sequence[_PartState], stop: threading.Event | None
) -> StopReason:
    """What ended the search as a whole: the worst of the parts' ends."""
    if stop is not None and stop.is_set() and not all(s.proven for s in states):
        return "interrupted"
    ends = {s.stopped_by for s in states}
    for reason in STOP_ORDER:
        if reason in ends:
            return reason
    return "proof"


__all__ = ["REPRODUCIBLE", "budget_for", "solve"]
