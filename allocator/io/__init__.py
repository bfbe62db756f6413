"""The room that touches files.

Tolerant tables, the instance reader, the previous plan and the solution
writer.
"""
