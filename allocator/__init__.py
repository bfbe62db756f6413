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

from allocator.api import check as check
from allocator.api import compare as compare
from allocator.api import read_instance as read_instance
from allocator.api import solve as solve
from allocator.api import validate as validate
from allocator.domain import Instance as Instance
from allocator.errors import AllocatorError as AllocatorError
from allocator.errors import InputProblem as InputProblem
from allocator.errors import InstanceError as InstanceError
from allocator.errors import SolutionError as SolutionError
from allocator.recommend import recommend as recommend
from allocator.scenario import apply_scenario as apply_scenario
from allocator.scenario import read_scenario as read_scenario
from allocator.solution import Solution as Solution
from allocator.version import __version__ as __version__

__all__ = [
    "AllocatorError",
    "InputProblem",
    "Instance",
    "InstanceError",
    "Solution",
    "SolutionError",
    "__version__",
    "apply_scenario",
    "check",
    "compare",
    "read_instance",
    "read_scenario",
    "recommend",
    "solve",
    "validate",
]
