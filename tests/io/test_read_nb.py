"""The reader's messages in Norwegian: a broken users.csv through
``allocator solve --lang nb|nn``.

The words come from the catalogues; the file, row, column and ids stay as
they are written (docs/language.md), and the values of users.csv are never
shown, in any language.
"""

from __future__ import annotations

import contextvars

import pytest
from click.testing import CliRunner

from allocator import i18n
from allocator.cli import main
from allocator.errors import InputProblem
from allocator.io.read import read_instance
from tests.io.test_read import append, copy_valid, edit

# (users.csv edit: old, new or None to append, then one line the command
# line must print in bokmål, file, row and column untranslated.)
CASES = [
    (
        "1,,,h1,false\n",
        "1,,,h1,kanskje\n",
        "users.csv, rad 2, kolonne prefer_non_local: forventet true eller false "
        "(eller yes/no, ja/nei, sann/usann, 1/0); verdien vises ikke (brukerdata).",
    ),
    (
        "u4,hemsedal,",
        "u4,hemsdal,",
        "users.csv, rad 5, kolonne municipality: forventet en kommune-id fra "
        "municipalities.csv; verdien er ikke en av dem (mente du hemsedal?). "
        "Verdien vises ikke (brukerdata).",
    ),
    (
        "id,municipality,age,",
        "id,municipality,alder,",
        'users.csv, rad 1, kolonne age: forventet en kolonne som heter "age", '
        "fant ingen.",
    ),
    (
        None,
        "u1,gol,34,2,social_assistance,new,false,1,,,,false",
        'users.csv, rad 10, kolonne id: forventet en unik id, fant "u1" igjen '
        "(først i rad 2).",
    ),
]

# English words of the reader's messages that must not reach a Norwegian
# reader (the column names and values written in the file may).
ENGLISH = ("expected", "found", ", row ", ", column ", "the value", "did you mean")


def invoke(*args):
    """The command line in a copy of this context, so that its --lang does
    not stay active for the tests that run after it."""
    return contextvars.copy_context().run(CliRunner().invoke, main, list(args))


def broken(tmp_path, old, new):
    folder = copy_valid(tmp_path)
    if old is None:
        append(folder, "users.csv", new)
    else:
        edit(folder, "users.csv", old, new)
    return folder


@pytest.mark.parametrize(("old", "new", "line"), CASES)
def test_a_broken_users_csv_is_told_in_bokmal(tmp_path, old, new, line):
    """Exit 1, nothing written, every line Norwegian with its place kept."""
    folder = broken(tmp_path, old, new)
    out = tmp_path / "solution"
    result = invoke("solve", str(folder), "--out", str(out), "--lang", "nb")
    assert result.exit_code == 1
    assert "error: filene ble avvist; ingenting ble skrevet." in result.stderr
    assert f"  {line}\n" in result.stderr
    for word in ENGLISH:
        assert word not in result.stderr, word
    assert "Traceback" not in result.stdout + result.stderr
    assert not out.exists()
    assert i18n.active() == "en"


def test_the_same_problems_in_english_and_nynorsk(tmp_path):
    """One broken folder, three languages: the places are the same, the
    message follows the language active when the problem is read."""
    folder = broken(tmp_path, "1,,,h1,false\n", "1,,,h1,kanskje\n")

    def problems(lang):
        with i18n.language(lang), pytest.raises(Exception) as caught:
            read_instance(folder)
        found: list[InputProblem] = caught.value.problems  # type: ignore[attr-defined]
        return found

    english, nynorsk = problems("en"), problems("nn")
    assert [(p.file, p.row, p.column) for p in english] == [
        (p.file, p.row, p.column) for p in nynorsk
    ]
    assert english[0].message.startswith("expected true or false")
    assert nynorsk[0].message == (
        "venta true eller false (eller yes/no, ja/nei, sann/usann, 1/0); "
        "verdien vert ikkje vist (brukardata)."
    )
    with i18n.language("nn"):
        assert str(nynorsk[0]).startswith("users.csv, rad 2, kolonne prefer_non_local: ")
    with i18n.language("en"):
        assert str(english[0]).startswith("users.csv, row 2, column prefer_non_local: ")


def test_a_municipality_read_by_name_is_noted_in_bokmal(tmp_path):
    """The warning names the id chosen, in the language of the run."""
    folder = broken(tmp_path, "u4,hemsedal,", "u4,Hemsedal,")
    result = invoke("validate", str(folder), "--lang", "nb")
    assert result.exit_code == 0, result.output
    assert (
        "users.csv, rad 5, kolonne municipality: lest som kommunen hemsedal."
        in result.stderr
    )
