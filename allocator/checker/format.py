"""What the README's output format fixes: the files a solve writes, their
columns and keys, and the tolerances figures are compared with.
"""

from __future__ import annotations

# Figures in the output files are rounded (capacity and load to 3 decimals,
# utilisation to 4), so they are compared with this tolerance, relative for
# large values and absolute for small ones.
TOLERANCE = 1e-3
# travel_km is written with one decimal place.
TRAVEL_ROW_TOLERANCE = 0.051
TRAVEL_TOTAL_KM = 0.1
TRAVEL_TOTAL_RELATIVE = 1e-6
# Loads are sums of decimal weights; allow float noise, not a real overload.
CAPACITY_SLACK = 1e-6
GAP_TOLERANCE = 1e-6
EARTH_RADIUS_KM = 6371.0
# A text cell starting with one of these would run as a spreadsheet formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

ASSIGNMENTS = "assignments.csv"
ADVISOR_LOAD = "advisor_load.csv"
TEAM_LOAD = "team_load.csv"
MUNICIPALITY_LOAD = "municipality_load.csv"
SUMMARY = "summary.json"

COLUMNS: dict[str, tuple[str, ...]] = {
    ASSIGNMENTS: (
        "user",
        "municipality",
        "team",
        "advisor",
        "status",
        "previous_advisor",
        "changed",
        "rule",
        "travel_km",
        "reason",
    ),
    ADVISOR_LOAD: (
        "advisor",
        "team",
        "fte",
        "capacity",
        "load",
        "utilisation",
        "users",
        "new_users",
        "intake_limit",
        "municipalities",
    ),
    TEAM_LOAD: ("team", "kind", "advisors", "assigned", "load", "capacity"),
    MUNICIPALITY_LOAD: (
        "municipality",
        "users",
        "assigned",
        "unassigned",
        "load",
        "advisors",
    ),
}
SUMMARY_KEYS = (
    "instance",
    "status",
    "objective",
    "bound",
    "gap",
    "wall_s",
    "seed",
    "input_sha256",
    "policy",
    "kpis",
)
KPI_KEYS = (
    "users",
    "assigned",
    "unassigned",
    "urgent_unassigned",
    "reassignments",
    "utilisation_max",
    "utilisation_min",
    "travel_km",
)
SOLVE_STATUSES = ("optimal", "feasible", "no_solution")
ROW_STATUSES = ("assigned", "unassigned")
