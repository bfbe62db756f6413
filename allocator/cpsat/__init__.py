"""The CP-SAT model: variables, hard rules, soft goals and their assembly."""

from .builder import AllocationModel as AllocationModel
