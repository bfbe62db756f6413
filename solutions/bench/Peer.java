// The allocation problem as a Timefold Solver planning problem, in Java.
//
// Run by solutions/bench/peer.py (see its docstring), which writes the
// problem as built by the project's own code and reads the allocation back:
//
//   java -cp 'TIMEFOLD_JARS/*' solutions/bench/Peer.java PROBLEM OUT SECONDS SEED PHASES_XML [INIT]
//
// PROBLEM (whitespace-separated integers):
//   advisors N, then N lines: team capacity intake max_municipalities balanced
//     balance_per_mille                       (intake -1 = none, 0 = no limit)
//   units M, then M lines: municipality weight tie must_place waiting_cost pin
//     k, then k triples: advisor cost newcomers   (pin -1 = none)
// OUT: one line per unit, the advisor index or -1 (waiting); then the score.
// INIT: one advisor index (or -1) per unit; with SECONDS 0 the allocation is
// only scored, not searched (the project's allocation in the peer's model).
//
// Benchmark only: Timefold is no dependency of the project.

import ai.timefold.solver.core.api.domain.entity.PlanningEntity;
import ai.timefold.solver.core.api.domain.entity.PlanningPin;
import ai.timefold.solver.core.api.domain.lookup.PlanningId;
import ai.timefold.solver.core.api.domain.solution.PlanningEntityCollectionProperty;
import ai.timefold.solver.core.api.domain.solution.PlanningScore;
import ai.timefold.solver.core.api.domain.solution.PlanningSolution;
import ai.timefold.solver.core.api.domain.solution.ProblemFactCollectionProperty;
import ai.timefold.solver.core.api.domain.valuerange.ValueRangeProvider;
import ai.timefold.solver.core.api.domain.variable.PlanningVariable;
import ai.timefold.solver.core.api.score.buildin.hardsoftlong.HardSoftLongScore;
import ai.timefold.solver.core.api.score.stream.Constraint;
import ai.timefold.solver.core.api.score.stream.ConstraintCollectors;
import ai.timefold.solver.core.api.score.stream.ConstraintFactory;
import ai.timefold.solver.core.api.score.stream.ConstraintProvider;
import ai.timefold.solver.core.api.score.stream.Joiners;
import ai.timefold.solver.core.api.solver.SolutionManager;
import ai.timefold.solver.core.api.solver.Solver;
import ai.timefold.solver.core.api.solver.SolverFactory;
import ai.timefold.solver.core.config.solver.EnvironmentMode;
import ai.timefold.solver.core.config.solver.SolverConfig;
import ai.timefold.solver.core.config.solver.termination.TerminationConfig;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Scanner;

public class Peer {

    public static class Advisor {
        @PlanningId
        public Integer id;
        public int team;
        public int capacity;
        public int intake;
        public int maxMunicipalities;
        public boolean balanced;
        public int balancePerMille;

        public Advisor() {
        }

        // Per mille of capacity, rounded up (as engine/evaluate.py's peaks).
        int perMille(int load) {
            return (int) ((1000L * load + capacity - 1) / capacity);
        }
    }

    // Heavier waiting cost first, then fewer eligible advisors (FFD order).
    public static class Difficulty implements Comparator<Unit> {
        @Override
        public int compare(Unit a, Unit b) {
            int byCost = Long.compare(a.waitingCost, b.waitingCost);
            if (byCost != 0) {
                return byCost;
            }
            int byChoice = Integer.compare(b.eligible.size(), a.eligible.size());
            return byChoice != 0 ? byChoice : Integer.compare(b.id, a.id);
        }
    }

    @PlanningEntity(difficultyComparatorClass = Difficulty.class)
    public static class Unit {
        @PlanningId
        public Integer id;
        public int municipality;
        public int weight;
        public int tie;
        public boolean mustPlace;
        public long waitingCost;
        public int[] cost;
        public int[] newcomers;
        @ValueRangeProvider(id = "eligible")
        public List<Advisor> eligible;
        @PlanningPin
        public boolean pinned;
        @PlanningVariable(valueRangeProviderRefs = "eligible", allowsUnassigned = true)
        public Advisor advisor;

        public Unit() {
        }
    }

    @PlanningSolution
    public static class Plan {
        @ProblemFactCollectionProperty
        public List<Advisor> advisors;
        @PlanningEntityCollectionProperty
        public List<Unit> units;
        @PlanningScore
        public HardSoftLongScore score;

        public Plan() {
        }
    }

    public static class Constraints implements ConstraintProvider {
        @Override
        public Constraint[] defineConstraints(ConstraintFactory f) {
            return new Constraint[] {
                f.forEach(Unit.class)
                    .groupBy(u -> u.advisor, ConstraintCollectors.sum(u -> u.weight))
                    .filter((a, load) -> load > a.capacity)
                    .penalizeLong(HardSoftLongScore.ONE_HARD, (a, load) -> load - a.capacity)
                    .asConstraint("capacity"),
                f.forEach(Unit.class)
                    .filter(u -> u.advisor.intake >= 0)
                    .groupBy(u -> u.advisor,
                        ConstraintCollectors.sum(u -> u.newcomers[u.advisor.id]))
                    .filter((a, n) -> n > a.intake)
                    .penalizeLong(HardSoftLongScore.ONE_HARD, (a, n) -> 1000L * (n - a.intake))
                    .asConstraint("intake"),
                f.forEach(Unit.class)
                    .filter(u -> u.advisor.maxMunicipalities > 0)
                    .groupBy(u -> u.advisor,
                        ConstraintCollectors.countDistinct(u -> u.municipality))
                    .filter((a, n) -> n > a.maxMunicipalities)
                    .penalizeLong(HardSoftLongScore.ONE_HARD,
                        (a, n) -> 1000L * (n - a.maxMunicipalities))
                    .asConstraint("municipalities"),
                f.forEachUniquePair(Unit.class, Joiners.equal(u -> u.tie))
                    .filter((u, v) -> u.advisor != v.advisor)
                    .penalizeLong(HardSoftLongScore.ONE_HARD, (u, v) -> 1000L)
                    .asConstraint("households"),
                f.forEachIncludingUnassigned(Unit.class)
                    .filter(u -> u.mustPlace && u.advisor == null)
                    .penalizeLong(HardSoftLongScore.ONE_HARD, u -> 1000L)
                    .asConstraint("freed placed"),
                f.forEachIncludingUnassigned(Unit.class)
                    .filter(u -> u.advisor == null)
                    .penalizeLong(HardSoftLongScore.ONE_SOFT, u -> u.waitingCost)
                    .asConstraint("waiting"),
                f.forEach(Unit.class)
                    .filter(u -> u.cost[u.advisor.id] != 0)
                    .penalizeLong(HardSoftLongScore.ONE_SOFT, u -> u.cost[u.advisor.id])
                    .asConstraint("placed"),
                f.forEach(Unit.class)
                    .filter(u -> u.advisor.balanced)
                    .groupBy(u -> u.advisor, ConstraintCollectors.sum(u -> u.weight))
                    .groupBy((a, load) -> a.team,
                        ConstraintCollectors.max(
                            (Advisor a, Integer load) -> a.balancePerMille * a.perMille(load)))
                    .penalizeLong(HardSoftLongScore.ONE_SOFT, (team, peak) -> (long) peak)
                    .asConstraint("balance"),
            };
        }
    }

    static Plan read(Path path) throws Exception {
        Scanner in = new Scanner(Files.readString(path));
        Plan plan = new Plan();
        in.next();
        int n = in.nextInt();
        plan.advisors = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Advisor a = new Advisor();
            a.id = i;
            a.team = in.nextInt();
            a.capacity = in.nextInt();
            a.intake = in.nextInt();
            a.maxMunicipalities = in.nextInt();
            a.balanced = in.nextInt() == 1;
            a.balancePerMille = in.nextInt();
            plan.advisors.add(a);
        }
        in.next();
        int m = in.nextInt();
        plan.units = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            Unit u = new Unit();
            u.id = i;
            u.municipality = in.nextInt();
            u.weight = in.nextInt();
            u.tie = in.nextInt();
            u.mustPlace = in.nextInt() == 1;
            u.waitingCost = in.nextLong();
            int pin = in.nextInt();
            int k = in.nextInt();
            u.cost = new int[n];
            u.newcomers = new int[n];
            u.eligible = new ArrayList<>();
            for (int j = 0; j < k; j++) {
                int a = in.nextInt();
                u.cost[a] = in.nextInt();
                u.newcomers[a] = in.nextInt();
                u.eligible.add(plan.advisors.get(a));
            }
            if (pin >= 0) {
                u.pinned = true;
                u.advisor = plan.advisors.get(pin);
            }
            plan.units.add(u);
        }
        return plan;
    }

    public static void main(String[] args) throws Exception {
        // Timefold's own summary lines only (phase ends, move evaluation speed).
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
            org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(ch.qos.logback.classic.Level.WARN);
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
            "ai.timefold.solver")).setLevel(ch.qos.logback.classic.Level.INFO);
        Plan plan = read(Path.of(args[0]));
        long millis = Math.round(Double.parseDouble(args[2]) * 1000);
        long seed = Long.parseLong(args[3]);
        String phases = "<solver xmlns=\"https://timefold.ai/xsd/solver\">" + args[4] + "</solver>";
        ClassLoader loader = Peer.class.getClassLoader();
        SolverConfig config = SolverConfig.createFromXmlInputStream(
            new ByteArrayInputStream(phases.getBytes(StandardCharsets.UTF_8)), loader);
        config.setClassLoader(loader);
        config.withSolutionClass(Plan.class)
            .withEntityClasses(Unit.class)
            .withConstraintProviderClass(Constraints.class)
            .withEnvironmentMode(EnvironmentMode.NO_ASSERT)
            .withRandomSeed(seed)
            .withTerminationConfig(new TerminationConfig().withSpentLimit(Duration.ofMillis(millis)));
        if (args.length > 5) {
            List<String> init = Files.readAllLines(Path.of(args[5]));
            for (int i = 0; i < plan.units.size(); i++) {
                int a = Integer.parseInt(init.get(i).trim());
                plan.units.get(i).advisor = a < 0 ? null : plan.advisors.get(a);
            }
        }
        long started = System.nanoTime();
        Plan best;
        if (millis == 0) {
            best = plan;
            SolutionManager.<Plan, HardSoftLongScore>create(SolverFactory.<Plan>create(config))
                .update(best);
        } else {
            Solver<Plan> solver = SolverFactory.<Plan>create(config).buildSolver();
            best = solver.solve(plan);
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(Path.of(args[1])))) {
            for (Unit u : best.units) {
                out.println(u.advisor == null ? -1 : u.advisor.id);
            }
            out.println("score " + best.score.hardScore() + " " + best.score.softScore());
            out.printf("seconds %.3f%n", seconds);
        }
    }
}
