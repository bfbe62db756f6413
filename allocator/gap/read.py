"""Read GAP instances in the OR-Library / Yagiura format and the best-known table."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GapInstance:
    """A generalized assignment problem: each job to one agent, minimise cost.

    ``costs[i][j]`` and ``uses[i][j]`` are indexed agent first, job second, as in
    the files; ``capacities[i]`` bounds the summed uses of agent ``i``.
    """

    name: str
    costs: tuple[tuple[int, ...], ...]
    uses: tuple[tuple[int, ...], ...]
    capacities: tuple[int, ...]

    @property
    def num_agents(self) -> int:
        """Number of agents (m)."""
        return len(self.capacities)

    @property
    def num_jobs(self) -> int:
        """Number of jobs (n)."""
        return len(self.costs[0]) if self.costs else 0


def parse_gap(text: str, name: str) -> GapInstance:
    """Parse the whitespace-separated numbers of one GAP file.

    Rows may wrap, so the text is read as one stream of integers: ``m n``, then
    m*n costs, m*n uses and m capacities.
    """
    numbers = [int(token) for token in text.split()]
    if len(numbers) < 2:
        raise ValueError(f"{name}: missing the header 'm n'")
    m, n = numbers[0], numbers[1]
    expected = 2 + 2 * m * n + m
    if m <= 0 or n <= 0 or len(numbers) != expected:
        raise ValueError(
            f"{name}: header says m={m}, n={n}, so {expected} numbers are "
            f"expected, found {len(numbers)}"
        )
    body = numbers[2:]
    costs = _rows(body[: m * n], m, n)
    uses = _rows(body[m * n : 2 * m * n], m, n)
    capacities = tuple(body[2 * m * n :])
    return GapInstance(name=name, costs=costs, uses=uses, capacities=capacities)


def _rows(flat: list[int], m: int, n: int) -> tuple[tuple[int, ...], ...]:
    """Cut a flat list into m rows of n."""
    return tuple(tuple(flat[i * n : (i + 1) * n]) for i in range(m))


def read_gap(path: str | Path, name: str | None = None) -> GapInstance:
    """Read one GAP file; the name defaults to ``<folder>/<file>``.

    That default matches the keys of ``data.csv`` (``cattrysse1994/gap1-0``).
    """
    where = Path(path)
    label = name if name is not None else f"{where.parent.name}/{where.name}"
    return parse_gap(where.read_text(), label)


BestKnown = tuple[int, int | None, int]


def read_best_known(data_csv: str | Path) -> dict[str, BestKnown]:
    """Map instance path to (best known bound, proven optimum or None, best known).

    All values are for minimisation of cost.
    """
    table: dict[str, BestKnown] = {}
    with Path(data_csv).open(newline="") as handle:
        for record in csv.DictReader(handle):
            optimum = record["Optimum"].strip()
            table[record["Path"].strip()] = (
                int(record["Best known bound"]),
                int(optimum) if optimum else None,
                int(record["Best known solution value"]),
            )
    return table
