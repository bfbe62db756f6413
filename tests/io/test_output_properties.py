"""Properties of what the tool writes, over generated cells and headers.

Whatever text a carried column holds (quotes, delimiters, line breaks,
formula starts, control characters, any script), the CSV writer keeps one
record per row with every cell readable back, the workbook writer never
fails, and the tool's own check and --previous read its output back with
every user present once.
"""

from __future__ import annotations

import csv
import io
import tempfile
import warnings
from pathlib import Path

from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from allocator.cli import main
from allocator.io.write import FORMULA_STARTS, csv_text
from tests.shipped import copy_of
from tests.xlsx_sheets import workbook_bytes

TINY = Path(__file__).parents[2] / "instances" / "tiny"

# Characters that break naive writers and readers, and a spread of others.
TRICKY = st.sampled_from(
    ['"', "'", ",", ";", "\t", "\r", "\n", "=", "+", "-", "@", " ", "\x0b", "\x01"]
)
TEXT = st.text(st.one_of(TRICKY, st.characters(codec="utf-8")), max_size=12)


def unneutralised(text: str) -> str:
    """The text before the writer's leading ' (which a spreadsheet hides)."""
    if text.startswith("'") and text[1:].startswith((*FORMULA_STARTS, "'")):
        return text[1:]
    return text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=6))
def test_every_csv_row_reads_back_as_one_record(pairs):
    header = ["user", "note"]
    rows = [{"user": a, "note": b} for a, b in pairs]
    text = csv_text(rows, header)
    records = list(csv.reader(io.StringIO(text, newline="")))
    assert records[0] == header
    assert len(records) == len(rows) + 1
    for record, (a, b) in zip(records[1:], pairs, strict=True):
        assert [unneutralised(cell) for cell in record] == [a, b]
        assert not record[0].startswith(FORMULA_STARTS)


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=4, unique=True), TEXT)
def test_generated_headers_are_neutralised_and_read_back(columns, value):
    text = csv_text([dict.fromkeys(columns, value)], columns)
    header = next(csv.reader(io.StringIO(text, newline="")))
    assert [unneutralised(h) for h in header] == columns
    assert not [h for h in header if h.startswith(FORMULA_STARTS)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(TEXT, TEXT), min_size=1, max_size=5), TEXT)
def test_the_workbook_writer_never_fails(pairs, column):
    header = ["user", column or "note"]
    rows = [dict(zip(header, pair, strict=True)) for pair in pairs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = workbook_bytes({"assignments": (header, rows)})
    sheet = load_workbook(io.BytesIO(data))["assignments"]
    read = [[workbook_view(c.value or "") for c in row] for row in sheet.iter_rows()]
    expected = [[workbook_view(str(v)) for v in header]] + [
        [workbook_view(v) for v in pair] for pair in pairs
    ]
    assert read == expected


def workbook_view(text: str) -> str:
    """A text as the workbook holds it: without the characters it cannot hold;
    line ends compared as LF (XML may hand a CR back as LF)."""
    return ILLEGAL_CHARACTERS_RE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


# Carried cells through the whole tool (control characters other than tab,
# CR and LF are the reader's to reject or keep, so they are left out here).
CARRIED = st.text(
    st.one_of(
        st.sampled_from(
            ['"', "'", ",", ";", "\t", "\r", "\n", "=", "+", "-", "@", " "]
        ),
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")),
    ),
    max_size=10,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.lists(CARRIED, min_size=7, max_size=7))
# Cells that start with a tab or a CR are neutralised too, and read back.
@example(["a\rb", "\r", "=x\r\n", "p\nq", '"', " ; ", "\tz"])
def test_carried_cells_survive_solve_check_and_previous(notes):
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        folder = work / "tiny"
        copy_of("tiny", folder)
        with open(folder / "users.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        rows[0].append("note")
        for row, note in zip(rows[1:], notes, strict=True):
            row.append(note)
        with open(folder / "users.csv", "w", newline="", encoding="utf-8") as handle:
            # CRLF, as Excel writes: the csv module then quotes a lone CR too.
            csv.writer(handle, lineterminator="\r\n").writerows(rows)
        runner = CliRunner()
        first = runner.invoke(
            main, ["solve", str(folder), "--out", str(work / "s"), "--xlsx",
                   "--time-limit", "2"],
        )  # fmt: skip
        assert first.exit_code == 0, first.output
        with open(work / "s" / "assignments.csv", newline="", encoding="utf-8") as f:
            written = list(csv.DictReader(f))
        assert [r["user"] for r in written] == [row[0] for row in rows[1:]]
        assert [unneutralised(r["note"]) for r in written] == notes
        checked = runner.invoke(main, ["check", str(folder), str(work / "s")])
        assert checked.exit_code == 0, checked.output
        again = runner.invoke(
            main, ["solve", str(folder), "--out", str(work / "s2"), "--previous",
                   str(work / "s"), "--time-limit", "2"],
        )  # fmt: skip
        assert again.exit_code == 0, again.output
        with open(work / "s2" / "changes.csv", newline="", encoding="utf-8") as f:
            assert [r["kind"] for r in csv.DictReader(f)] == []
