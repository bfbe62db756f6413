"""Property: any user id the format allows survives the whole tool.

Random ids (composed and decomposed letters, delimiters, quotes, formula
starts, emoji) and carried cells are written into tiny's users.csv; the
tool solves, and its own check, explain and --previous must read its output
back with every user present exactly once and nobody moved.
"""

from __future__ import annotations

import csv
import json
import tempfile
import unicodedata
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from allocator.cli import main
from tests.shipped import copy_of

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny"

PIECES = st.sampled_from(
    ["a", "z", "Ø", "å", "e\u0301", "\u00e9", "n\u0303", " ", ",", ";", '"', "'",
     "=", "+", "-", "@", "😀", "x y", "(", ")"]
)  # fmt: skip
# ";" separates list cells, so an id may not hold one (the format's rule).
ID_PIECES = PIECES.filter(lambda piece: piece != ";")
# A user id: "u" first (so no id reads as a number), then any pieces; the
# reader strips surrounding spaces, so an id never ends in one here.
USER_ID = st.lists(ID_PIECES, min_size=1, max_size=6).map(
    lambda parts: ("u" + "".join(parts)).rstrip()
)


def unneutralised(cell: str) -> str:
    """The value behind a cell the writer protected with a leading '."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in "=+-@\t\r'" else cell


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(USER_ID, min_size=7, max_size=7, unique_by=nfc),
    st.lists(st.lists(PIECES, max_size=4).map("".join), min_size=7, max_size=7),
)
@example(
    ["u=1", "u+2", "u-3", "u@4", 'u"5', "u,6", "ue\u0301"],
    ["=x", "a,b", "", '"', "@", "-", "é"],
)
# A text that starts with ' before a formula start is written with one more '.
@example(
    ["ua", "ub", "uc", "ud", "ue", "uf", "ug"], ["'-", "''", "'=x", "'a", "", "'", "'@"]
)
def test_any_user_id_survives_solve_check_explain_and_previous(
    ids: list[str], notes: list[str]
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        folder = work / "tiny"
        copy_of("tiny", folder)
        with open(folder / "users.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        rows[0].append("note")
        for row, user, note in zip(rows[1:], ids, notes, strict=True):
            row[0] = user
            row.append(note)
        with open(folder / "users.csv", "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        runner = CliRunner()
        first = runner.invoke(
            main, ["solve", str(folder), "--out", str(work / "s"), "--time-limit", "2"]
        )
        assert first.exit_code == 0, first.output
        with open(work / "s" / "assignments.csv", newline="", encoding="utf-8") as f:
            written = list(csv.DictReader(f))
        # Every user once, under its id in NFC (the form ids are compared in).
        assert [unneutralised(r["user"]) for r in written] == [nfc(u) for u in ids]
        checked = runner.invoke(main, ["check", str(folder), str(work / "s")])
        assert checked.exit_code == 0, checked.output
        for user in ids:
            told = runner.invoke(
                main, ["explain", str(folder), str(work / "s"), user, "--json"]
            )
            assert told.exit_code == 0, told.output
            assert nfc(json.loads(told.stdout)["user"]) == nfc(user)
        again = runner.invoke(
            main, ["solve", str(folder), "--out", str(work / "s2"), "--previous",
                   str(work / "s"), "--time-limit", "2"],
        )  # fmt: skip
        assert again.exit_code == 0, again.output
        with open(work / "s2" / "assignments.csv", newline="", encoding="utf-8") as f:
            second = list(csv.DictReader(f))
        assert [r["user"] for r in second] == [r["user"] for r in written]
        assert [r["advisor"] for r in second] == [r["advisor"] for r in written]
        with open(work / "s2" / "changes.csv", newline="", encoding="utf-8") as f:
            assert list(csv.DictReader(f)) == []
        checked = runner.invoke(
            main,
            ["check", str(folder), str(work / "s2"), "--previous", str(work / "s")],
        )
        assert checked.exit_code == 0, checked.output
