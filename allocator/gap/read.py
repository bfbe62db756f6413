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
    """Parse the whitespace-separated numbers of one single-problem GAP file.

    Rows may wrap, so the text is read as one stream of integers: ``m n``, then
    m*n costs, m*n uses and m capacities.

    Raises:
        ValueError: the numbers are not one problem (an OR-Library file of
            several problems is named as such: read it with
            :func:`parse_gap_problems`).
    """
    problems = parse_gap_problems(text, name)
    if len(problems) != 1:
        raise ValueError(
            f"{name}: an OR-Library file with {len(problems)} problems; "
            "read it with read_gap_problems, or split it, one problem per file"
        )
    return problems[0]


def parse_gap_problems(text: str, name: str) -> list[GapInstance]:
    """The problems of a GAP file: one (Yagiura, split OR-Library files) or P.

    OR-Library's gap1 ... gap12 (gapinfo.html) start with the number of
    problems P, followed by P problems, each ``m n``, m*n costs, m*n uses
    and m capacities. Such a file's problems are named ``<name>-0`` ...
    ``<name>-(P-1)``, the names of the split files (``gap1-0``). A file that
    is exactly one problem keeps its ``name``.

    Raises:
        ValueError: a token that is not a whole number, or numbers that fit
            neither layout (with the counts each layout expected).
    """
    numbers = _integers(text, name)
    if len(numbers) < 2:
        raise ValueError(f"{name}: missing the header 'm n'")
    m, n = numbers[0], numbers[1]
    single = 2 + 2 * m * n + m
    if m > 0 and n > 0 and len(numbers) == single:
        return [_problem(numbers[2:], m, n, name)]
    several = _split_problems(numbers)
    if several is not None:
        return [
            _problem(body, m, n, f"{name}-{index}")
            for index, (m, n, body) in enumerate(several)
        ]
    raise ValueError(
        f"{name}: header says m={m}, n={n}, so {single} numbers are expected, "
        f"found {len(numbers)}; nor is it an OR-Library file of {numbers[0]} "
        "problems (a count, then each problem's m n and numbers)"
    )


def _integers(text: str, name: str) -> list[int]:
    numbers = []
    for index, token in enumerate(text.split(), start=1):
        try:
            numbers.append(int(token))
        except ValueError:
            raise ValueError(
                f"{name}: number {index} is not a whole number; a GAP file holds "
                "only whole numbers separated by spaces or line breaks"
            ) from None
    return numbers


def _split_problems(
    numbers: list[int],
) -> list[tuple[int, int, list[int]]] | None:
    """(m, n, body) per problem of an OR-Library multi-problem file, or None."""
    count, position, problems = numbers[0], 1, []
    if count < 1:
        return None
    for _ in range(count):
        if position + 2 > len(numbers):
            return None
        m, n = numbers[position], numbers[position + 1]
        size = 2 * m * n + m
        if m <= 0 or n <= 0 or position + 2 + size > len(numbers):
            return None
        problems.append((m, n, numbers[position + 2 : position + 2 + size]))
        position += 2 + size
    return problems if position == len(numbers) else None


def _problem(body: list[int], m: int, n: int, name: str) -> GapInstance:
    costs = _rows(body[: m * n], m, n)
    uses = _rows(body[m * n : 2 * m * n], m, n)
    capacities = tuple(body[2 * m * n :])
    return GapInstance(name=name, costs=costs, uses=uses, capacities=capacities)


def _rows(flat: list[int], m: int, n: int) -> tuple[tuple[int, ...], ...]:
    """Cut a flat list into m rows of n."""
    return tuple(tuple(flat[i * n : (i + 1) * n]) for i in range(m))


def read_gap(path: str | Path, name: str | None = None) -> GapInstance:
    """Read one single-problem GAP file; the name defaults to ``<folder>/<file>``.

    That default matches the keys of ``data.csv`` (``cattrysse1994/gap1-0``).
    """
    where = Path(path)
    label = name if name is not None else f"{where.parent.name}/{where.name}"
    return parse_gap(where.read_text(), label)


def read_gap_problems(path: str | Path, name: str | None = None) -> list[GapInstance]:
    """Every problem of a GAP file (see :func:`parse_gap_problems`).

    Names default to ``<folder>/<file>`` for a single problem and
    ``<folder>/<file>-<k>`` for the k-th problem of an OR-Library file, the
    keys ``data.csv`` uses for the split files.
    """
    where = Path(path)
    label = name if name is not None else f"{where.parent.name}/{where.name}"
    return parse_gap_problems(where.read_text(), label)


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
