"""The CP-SAT model: variables, hard rules, soft goals and their assembly."""

from allocator.engine.cpsat.builder import AllocationModel as AllocationModel
