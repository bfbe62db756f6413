"""Option values CP-SAT cannot take are usage errors, in solve and bench alike.

--time-limit and --deterministic-time must be finite and in range, --seed
within CP-SAT's 32-bit range, --workers at most 256; bench --params keys
and types are checked once, before any run, naming the bad key (exit 2).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from allocator.cli import main
from allocator.engine.cpsat.params import check_params
from allocator.engine.limits import SEED_MAX
from allocator.run import RunOptions, search_params
from tests.shipped import copy_of, shipped

TINY = Path(__file__).parents[2] / "instances" / "tiny"


def run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


BAD_OPTIONS = [
    ("--time-limit", "nan", "'nan' is not a finite number"),
    ("--time-limit", "inf", "inf is not in the range 0.1<=x<=604800.0"),
    ("--time-limit", "-inf", "-inf is not in the range"),
    ("--time-limit", "0", "0.0 is not in the range 0.1<=x<=604800.0"),
    ("--time-limit", "-5", "is not in the range"),
    ("--deterministic-time", "nan", "'nan' is not a finite number"),
    ("--deterministic-time", "inf", "is not in the range"),
    ("--seed", "2147483648", "2147483648 is not in the range 0<=x<=2147483647"),
    ("--seed", "-2147483649", "is not in the range 0<=x<=2147483647"),
    ("--seed", "-1", "is not in the range 0<=x<=2147483647"),
    ("--seed", "9223372036854775807", "is not in the range"),
    ("--workers", "99999999999", "99999999999 is not in the range 1<=x<=256"),
    ("--workers", "0", "0 is not in the range 1<=x<=256"),
]


@pytest.mark.parametrize(("option", "value", "message"), BAD_OPTIONS)
def test_solve_refuses_values_cpsat_cannot_take(tmp_path, option, value, message):
    """The cases time-limit-nan-inf and seed-out-of-range-traceback, and more."""
    code, _, stderr = run("solve", TINY, "--out", tmp_path / "s", option, value)
    assert code == 2
    assert f"Invalid value for '{option}'" in stderr and message in stderr
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [case for case in BAD_OPTIONS if case[0] != "--deterministic-time"],
)
def test_bench_refuses_the_same_values(tmp_path, option, value, message):
    """bench has no --deterministic-time; the others are checked alike."""
    code, _, stderr = run("bench", TINY, "--out", tmp_path / "b", option, value)
    assert code == 2 and message in stderr
    assert not (tmp_path / "b").exists()


def test_the_largest_seed_is_taken(tmp_path):
    code, _, stderr = run(
        "solve", TINY, "--out", tmp_path / "s", "--seed", str(SEED_MAX),
        "--time-limit", "5",
    )  # fmt: skip
    assert code == 0, stderr
    assert f'"seed": {SEED_MAX}' in (tmp_path / "s" / "summary.json").read_text()


def test_policy_seed_beyond_cpsat_range_is_an_input_error(tmp_path):
    """seed = 9223372036854775807 in [policy]: exit 1 naming it, no traceback."""
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    toml = folder / "instance.toml"
    text = toml.read_text()
    assert "seed = 0" in text
    toml.write_text(text.replace("seed = 0", "seed = 9223372036854775807"))
    code, _, stderr = run("solve", folder, "--out", tmp_path / "s")
    assert code == 1 and "policy.seed" in stderr
    assert not (tmp_path / "s").exists()


def test_search_params_checks_options_given_through_the_api():
    tiny = shipped("tiny")
    with pytest.raises(ValueError, match="--seed must be from 0 to 2,147,483,647"):
        search_params(tiny, RunOptions(seed=2**31))
    with pytest.raises(ValueError, match=r"--time-limit must be from 0\.1"):
        search_params(tiny, RunOptions(time_limit=float("nan")))
    params = search_params(tiny, RunOptions(time_limit=3.0, seed=7))
    assert (params.time_limit, params.seed) == (3.0, 7)


# --- bench --params -----------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("no_such_param = 3\n", "no_such_param: not a CP-SAT parameter"),
        (
            'num_workers = "many"\n',
            "num_workers: expected a value of type int, found str",
        ),
        (
            "num_workers = 2.5\n",
            "num_workers: expected a value of type int, found float",
        ),
        ("max_time_in_seconds = nan\n", "parameter 'max_time_in_seconds' is NaN"),
        ("num_workers = -3\n", "parameter 'num_workers' should be in [0,10000]"),
        ("random_seed = 4294967296\n", "random_seed: expected a value of type int"),
        ("[section]\nx = 1\n", "section: not a CP-SAT parameter"),
    ],
)
def test_bench_params_checked_before_any_run(tmp_path, toml, message):
    """The case bench-params-unchecked: exit 2 naming the key, nothing run."""
    params = tmp_path / "p.toml"
    params.write_text(toml)
    code, stdout, stderr = run(
        "bench", TINY, "--time-limit", "1", "--params", params, "--out", tmp_path / "b"
    )
    assert code == 2
    assert "Invalid value for --params" in stderr and message in stderr
    assert stdout == "" and not (tmp_path / "b").exists()


def test_check_params_names_every_bad_key_and_accepts_good_ones():
    assert check_params({"num_workers": 1, "linearization_level": 0}) == []
    assert check_params({"a_typo": 1, "num_workers": "x"}) == [
        "a_typo: not a CP-SAT parameter",
        "num_workers: expected a value of type int, found str",
    ]


def test_bench_with_good_params_runs(tmp_path):
    params = tmp_path / "p.toml"
    params.write_text("num_workers = 1\nlinearization_level = 0\n")
    code, stdout, stderr = run(
        "bench", TINY, "--time-limit", "2", "--solver", "cpsat",
        "--params", params, "--out", tmp_path / "b",
    )  # fmt: skip
    assert code == 0, stderr
    assert "cpsat   runs 1: optimal 1" in stdout
