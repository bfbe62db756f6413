"""The catalogues: every message has an nb translation; the .mo matches the .po."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

LOCALE = Path(__file__).parents[1] / "allocator" / "locale"


def messages(catalog):
    return {(m.context, m.id if isinstance(m.id, str) else m.id[0]): m for m in catalog if m.id}


def test_every_message_has_an_nb_translation():
    template = messages(read_po((LOCALE / "allocator.pot").open("rb")))
    nb = messages(read_po((LOCALE / "nb/LC_MESSAGES/allocator.po").open("rb")))
    untranslated = [
        key for key in template
        if key not in nb or not all(nb[key].string if isinstance(nb[key].string, tuple) else [nb[key].string])
    ]
    assert len(template) > 200
    assert untranslated == []


def test_the_compiled_catalogue_is_the_po_file():
    po = read_po((LOCALE / "nb/LC_MESSAGES/allocator.po").open("rb"))
    mo = read_mo(io.BytesIO((LOCALE / "nb/LC_MESSAGES/allocator.mo").read_bytes()))
    def text(m):
        return m.string if isinstance(m.string, str) else tuple(m.string)

    assert {k: text(m) for k, m in messages(po).items()} == {
        k: text(m) for k, m in messages(mo).items()
    }
