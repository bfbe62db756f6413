"""Measure the GAP solvers: ``python -m allocator.gap PATH... --time-limit S``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from allocator.gap.bench import SOLVERS, benchmark_gap
from allocator.gap.read import read_best_known


def main(argv: list[str] | None = None) -> None:
    """Solve each file and print one fixed-width row per solve."""
    parser = argparse.ArgumentParser(prog="python -m allocator.gap")
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--solvers", default=",".join(SOLVERS))
    parser.add_argument(
        "--data-csv", type=Path, help="best-known table; default: data.csv beside"
    )
    args = parser.parse_args(argv)
    data_csv = args.data_csv or args.paths[0].parent.parent / "data.csv"
    best_known = read_best_known(data_csv) if data_csv.exists() else {}
    print(_header())
    for path in args.paths:
        rows = benchmark_gap(
            [path],
            [args.time_limit],
            [args.seed],
            args.workers,
            best_known,
            solvers=args.solvers.split(","),
        )
        for row in rows:
            print(_line(row), flush=True)


def _header() -> str:
    """Column titles matching ``_line``."""
    return (
        f"{'instance':<24} {'solver':<6} {'status':<11} {'objective':>9} "
        f"{'bound':>9} {'best':>7} {'gap%':>7} {'first_s':>7} {'wall_s':>6}"
    )


def _line(row: dict[str, Any]) -> str:
    """One fixed-width row."""

    def num(value: Any, digits: int = 0) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    gap = row["gap_to_best_known"]
    return (
        f"{row['instance']:<24} {row['solver']:<6} {row['status']:<11} "
        f"{num(row['objective']):>9} {num(row['bound'], 1):>9} "
        f"{num(row['best_known']):>7} {num(None if gap is None else 100 * gap, 3):>7} "
        f"{num(row['time_to_first_s'], 2):>7} {num(row['wall_s'], 2):>6}"
    )


if __name__ == "__main__":
    main()
