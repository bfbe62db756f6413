"""Many solves: benchmark jobs and their tables."""
