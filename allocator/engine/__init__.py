"""Instance to allocation.

The index view, pair rules, the greedy baseline and the CP-SAT model.
OR-Tools lives here and in ``allocator.gap``.
"""
