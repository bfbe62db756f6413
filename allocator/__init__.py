"""allocator: allocate a NAV office's caseload to teams and advisors.

The public API (a table of contents; see the README's "Python API")::

    import allocator
    instance = allocator.read_instance("instances/tiny")
    solution = allocator.solve(instance, time_limit=5, seed=0)
    solution.assignments          # pandas DataFrame, one row per user
    solution.write("solutions/tiny/notebook")

Every rejected input raises :class:`AllocatorError` (``InstanceError``
carries ``.problems``, each with file, row, column and message).
"""

from allocator.api import Bench as Bench
from allocator.api import bench as bench
from allocator.api import bench_folder as bench_folder
from allocator.api import bench_params as bench_params
from allocator.api import capacity_overview as capacity_overview
from allocator.api import check as check
from allocator.api import compare as compare
from allocator.api import compare_structures as compare_structures
from allocator.api import comparison_folder as comparison_folder
from allocator.api import explain as explain
from allocator.api import explain_text as explain_text
from allocator.api import generate as generate
from allocator.api import limits as limits
from allocator.api import make_executor as make_executor
from allocator.api import read_instance as read_instance
from allocator.api import report as report
from allocator.api import solution_folder as solution_folder
from allocator.api import solve as solve
from allocator.api import solve_in_parts as solve_in_parts
from allocator.api import table_rows as table_rows
from allocator.api import validate as validate
from allocator.api import write_instance as write_instance
from allocator.comparison import Comparison as Comparison
from allocator.domain import Instance as Instance
from allocator.domain import Lock as Lock
from allocator.errors import AllocatorError as AllocatorError
from allocator.errors import DataWarning as DataWarning
from allocator.errors import InputProblem as InputProblem
from allocator.errors import InstanceError as InstanceError
from allocator.errors import SolutionError as SolutionError
from allocator.recommend import recommend as recommend
from allocator.recommend import recommendation_text as recommendation_text
from allocator.recommend import weigh_structures as weigh_structures
from allocator.scenario import apply_scenario as apply_scenario
from allocator.scenario import find_scenario as find_scenario
from allocator.scenario import read_scenario as read_scenario
from allocator.solution import Solution as Solution
from allocator.version import __version__ as __version__

__all__ = [
    "AllocatorError",
    "Bench",
    "Comparison",
    "DataWarning",
    "InputProblem",
    "Instance",
    "InstanceError",
    "Lock",
    "Solution",
    "SolutionError",
    "__version__",
    "apply_scenario",
    "bench",
    "bench_folder",
    "bench_params",
    "capacity_overview",
    "check",
    "compare",
    "compare_structures",
    "comparison_folder",
    "explain",
    "explain_text",
    "find_scenario",
    "generate",
    "limits",
    "make_executor",
    "read_instance",
    "read_scenario",
    "recommend",
    "recommendation_text",
    "report",
    "solution_folder",
    "solve",
    "solve_in_parts",
    "table_rows",
    "validate",
    "weigh_structures",
    "write_instance",
]
