"""Cell parsers: a cell's text into a value, raising CellError with what was
expected and what was found.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from allocator.i18n import N_, _
from allocator.io.tables.ids import normalise_id
from allocator.io.tables.table import CellError

# Characters that make a spreadsheet run a cell as a formula; the tool writes
# such text with a leading "'" (the README's output section) and strips it on reading.
_FORMULA_START = "=+-@\t\r"

_TRUE = frozenset({"true", "yes", "ja", "sann", "1"})
_FALSE = frozenset({"false", "no", "nei", "usann", "0"})
_BOOL_TEXT = N_("true or false (or yes/no, ja/nei, sann/usann, 1/0)")

# Whole numbers beyond 15 digits are not counts but ids or garbage, and
# Python refuses to convert strings beyond 4,300 digits.
_MAX_DIGITS = 15

_INT_RE = re.compile(r"[+-]?\d+")
_DECIMAL_RE = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
# Thousands separators Norwegian Excel writes: space, no-break space and
# narrow no-break space (U+202F), in groups of three digits.
_SEPARATORS = " \u00a0\u202f"
_GROUPED_RE = re.compile(r"([+-]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+)((?:[.,]\d*)?)")
_SPACED_DIGITS_RE = re.compile(r"\d[ \u00a0\u202f]+\d")
_PERCENT_RE = re.compile(r"(.*?)[ \u00a0\u202f]*%")
# What Excel shows for a long number in a General cell: 1,23457E+11. An id
# written so has lost its digits, and two ids may now look the same.
_SCIENTIFIC_RE = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]\d+")
_ISO_DATE_RE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# Norwegian Excel writes 05.03.2026; people also type 5.3.2026.
_NORWEGIAN_DATE_RE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def unquote(text: str) -> str:
    """Drop the ``'`` this tool writes before text a spreadsheet would run
    (or before a text that itself starts with ' and one of those)."""
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START + "'":
        return text[1:]
    return text


def parse_text(text: str) -> str:
    """Free text, stripped; may be empty."""
    return unquote(text.strip())


def parse_id(text: str) -> str:
    """A non-empty id without ``;`` (``;`` separates lists), as ``normalise_id``
    gives it.

    An id Excel wrote in scientific notation (``1,23457E+11``) has lost
    digits, so that two ids may look the same: it is rejected, never read.
    """
    value = normalise_id(parse_text(text)).strip()
    if not value:
        raise CellError(_("an id"), text)
    if ";" in value:
        raise CellError(_('an id without ";"'), text)
    if _SCIENTIFIC_RE.fullmatch(value):
        raise CellError(
            _(
                "an id as written, not a number Excel rounded to scientific "
                "notation (format the column as Text in Excel and export again)"
            ),
            text,
        )
    return value


def _digits_only(value: str, grouped: bool, what: str, text: str) -> str:
    """``value`` with thousands separators removed when ``grouped`` allows them."""
    if match := _GROUPED_RE.fullmatch(value):
        if not grouped:
            raise CellError(
                _(
                    "{what} without spaces or thousands separators (this file is "
                    "','-separated; write 1200, not 1 200)"
                ).format(what=what),
                text,
            )
        whole, fraction = match.groups()
        return "".join(c for c in whole if c not in _SEPARATORS) + fraction
    if _SPACED_DIGITS_RE.search(value):
        raise CellError(
            _(
                "{what}; the number holds a space that is not a thousands separator"
            ).format(what=what),
            text,
        )
    return value


def parse_int(text: str, grouped: bool = False) -> int:
    """A whole number such as ``12``, ``-3`` or, when ``grouped``, ``1 200``.

    ``grouped`` allows a space, no-break space or narrow no-break space
    between groups of three digits, as Norwegian Excel writes in ``;`` files.
    """
    value = _digits_only(text.strip(), grouped, _("a whole number"), text)
    if not _INT_RE.fullmatch(value):
        raise CellError(_("a whole number"), text)
    if len(value.lstrip("+-")) > _MAX_DIGITS:
        raise CellError(
            _("a whole number of at most {digits} digits").format(digits=_MAX_DIGITS),
            text,
        )
    return int(value)


def parse_decimal(text: str, decimal_comma: bool, percent: bool = False) -> float:
    """A finite decimal number.

    With ``decimal_comma`` (``;``- and tab-separated files, workbooks),
    ``0,8`` is 0.8 and ``1 200,5`` is 1200.5. With ``percent``, ``80 %``
    or ``80%`` is 0.8 (a share written as a percentage).
    """
    value = text.strip()
    is_percent = False
    if match := _PERCENT_RE.fullmatch(value):
        if not percent:
            raise CellError(_("a decimal number, not a percentage"), text)
        value, is_percent = match.group(1).strip(), True
    value = _digits_only(value, decimal_comma, _("a decimal number"), text)
    if decimal_comma and value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    if not _DECIMAL_RE.fullmatch(value):
        if "," in value and not decimal_comma:
            raise CellError(
                _("a decimal number with a point (this file is ','-separated)"), text
            )
        raise CellError(_("a decimal number"), text)
    number = float(value)
    if not math.isfinite(number):
        raise CellError(_("a finite decimal number"), text)
    return number / 100 if is_percent else number


def parse_bool(text: str, default: bool) -> bool:
    """true/false, yes/no, ja/nei, sann/usann or 1/0 in any case; empty = default."""
    value = text.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise CellError(_(_BOOL_TEXT), text)


def parse_date(text: str) -> dt.date:
    """A date written YYYY-MM-DD or DD.MM.YYYY."""
    value = text.strip()
    if match := _ISO_DATE_RE.fullmatch(value):
        year, month, day = match.groups()
    elif match := _NORWEGIAN_DATE_RE.fullmatch(value):
        day, month, year = match.groups()
    else:
        raise CellError(_("a date YYYY-MM-DD or DD.MM.YYYY"), text)
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError as err:
        raise CellError(_("a date that exists in the calendar"), text) from err


def parse_list(text: str) -> tuple[str, ...]:
    """Ids separated by ``;``, each stripped and normalised; empty items are dropped."""
    items = (normalise_id(item).strip() for item in unquote(text.strip()).split(";"))
    return tuple(item for item in items if item)
