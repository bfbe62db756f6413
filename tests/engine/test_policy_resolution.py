"""Policy values the model cannot represent exactly are rejected, not rounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from allocator.errors import InstanceError
from allocator.io.read import read_instance
from tests.shipped import copy_of

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny"


@pytest.mark.parametrize("weight", ["4", "15", "2.5"])
def test_load_balance_off_the_models_resolution_is_rejected(
    tmp_path: Path, weight: str
) -> None:
    """4 would round to nothing in the model (a goal silently off), 15 to 20."""
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    toml = folder / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    assert "load_balance = 100" in text
    toml.write_text(text.replace("load_balance = 100", f"load_balance = {weight}"))
    with pytest.raises(InstanceError) as caught:
        read_instance(folder)
    assert [str(p) for p in caught.value.problems] == [
        "instance.toml, column policy.weights.load_balance: expected 0 or a "
        f"multiple of 10 (the model's resolution), found {weight}."
    ]


@pytest.mark.parametrize("weight", ["0", "10", "250"])
def test_load_balance_on_the_resolution_is_read(tmp_path: Path, weight: str) -> None:
    folder = tmp_path / "tiny"
    copy_of("tiny", folder)
    toml = folder / "instance.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("load_balance = 100", f"load_balance = {weight}"))
    assert read_instance(folder).policy.weights.load_balance == float(weight)
