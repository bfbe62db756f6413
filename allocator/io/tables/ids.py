"""Invisible characters and ids: what a cell's text looks like, and an id
compared without the characters spreadsheets and copying add.
"""

from __future__ import annotations

import unicodedata


def _invisible(char: str) -> bool:
    """Characters a reader cannot see: controls, format marks, odd spaces."""
    category = unicodedata.category(char)
    return category in {"Cc", "Cf", "Co", "Cn", "Zl", "Zp"} or (
        category == "Zs" and char != " "
    )


def visible(text: str) -> str:
    """``text`` with every invisible character written as ``\\uXXXX``.

    For messages about ids and cells: ``"u1\\u200b"`` shows why it differs from
    ``"u1"``. Tab, CR and LF are written ``\\t``, ``\\r`` and ``\\n``.
    """
    out = []
    for char in text:
        if char in "\t\r\n":
            out.append(repr(char)[1:-1])
        elif _invisible(char):
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return "".join(out)


# Control characters have no Unicode name; these are the ones met in pasted text.
_CONTROL_NAMES = {
    "\x00": "null",
    "\x07": "bell",
    "\x08": "backspace",
    "\x0b": "vertical tab",
    "\x0c": "form feed",
    "\x1a": "end of file, Ctrl-Z",
    "\x1b": "escape",
    "\x7f": "delete",
    "\x85": "next line",
}


def char_name(char: str) -> str:
    """``U+200B (zero width space)``, for messages."""
    name = unicodedata.name(char, "").lower() or _CONTROL_NAMES.get(char, "")
    return f"U+{ord(char):04X}" + (f" ({name})" if name else "")


def _format_chars(text: str) -> list[str]:
    """The format characters (zero-width space, joiners, BOM, bidi marks) in ``text``.

    A zero-width joiner between two symbols is part of an emoji sequence
    (as in a family emoji) and is kept.
    """
    if text.isascii():
        return []
    found = []
    for i, char in enumerate(text):
        if unicodedata.category(char) != "Cf":
            continue
        if char == "\u200d" and 0 < i < len(text) - 1:
            before = unicodedata.category(text[i - 1])
            after = unicodedata.category(text[i + 1])
            if before in {"So", "Sk", "Mn"} and after in {"So", "Sk", "Mn"}:
                continue
        found.append(char)
    return found


def normalise_id(text: str) -> str:
    """An id as compared everywhere: NFC form, without format characters.

    The same name typed on a Mac (NFD, "å" as "a" and a combining ring) and
    on Windows (NFC) is one id; a zero-width space pasted from a web page or
    chat does not make another. Applied to every id and reference in every
    file, to ``--fix``/``--forbid`` and to a ``--previous`` solution, so
    comparisons agree everywhere.
    """
    if text.isascii():
        return text
    drop = set(_format_chars(text))
    if drop:
        text = "".join(char for char in text if char not in drop)
    return unicodedata.normalize("NFC", text)


def stripped_from_id(text: str) -> list[str]:
    """The format characters ``normalise_id`` removes from ``text``, once each."""
    return list(dict.fromkeys(_format_chars(text)))
