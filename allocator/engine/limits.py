"""The ranges CP-SAT takes for the run options (no OR-Tools import here).

The command line checks ``--time-limit``, ``--deterministic-time``,
``--seed`` and ``--workers`` (solve and bench alike) against these before
anything is read, so a value CP-SAT cannot take is a usage error naming the
option, never a traceback after a long solve; ``allocator.run`` checks the
policy's seed and time limit against the same ranges.
"""

from __future__ import annotations

# random_seed is a 32-bit signed field in CP-SAT's SatParameters; the policy
# rejects negative seeds, so the options do too.
SEED_MIN = 0
SEED_MAX = 2**31 - 1
# CP-SAT accepts up to 10,000 workers; more than 256 threads never helps on
# the machines this runs on and only exhausts memory.
WORKERS_MAX = 256
# Seconds of wall time; a week's run that needs more than a week is a mistake.
TIME_LIMIT_MIN = 0.1
TIME_LIMIT_MAX = 7 * 24 * 3600.0
# Deterministic time units (roughly seconds of one core's work).
DETERMINISTIC_MIN = 0.01
DETERMINISTIC_MAX = 7 * 24 * 3600.0
