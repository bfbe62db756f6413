"""The ``allocator`` command: thin glue from files to solve to files.

Errors the package raises on purpose become exit codes here and nowhere else:
0 a solution was written, 1 the input was rejected, 2 usage error (click),
3 no solution found within the time limit, 130 interrupted (Ctrl-C).

``common`` holds the group and what every command shares; each other module
adds one group of commands to it when imported.
"""

from allocator.cli import bench, instance, serve, solve, structures
from allocator.cli.common import main as main

__all__ = ["bench", "instance", "main", "serve", "solve", "structures"]
