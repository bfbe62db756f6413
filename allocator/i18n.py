"""The words people read, in Norwegian bokmål, nynorsk or English.

Every text a team leader reads (report.html, allocation.xlsx's sheet and
column headers, the reasons, ``explain``, the terminal summary) is looked up
in the gettext catalogues under ``allocator/locale/<lang>/LC_MESSAGES/``
through Babel's :class:`babel.support.Translations`. The English text in the
code is the message id; a language without a translation for a message shows
that English text, and ``tests/i18n/test_i18n_catalogue.py`` fails on any message
without an ``nb`` translation.

What never changes with the language: file formats, CSV column names, the
values scripts read (status, change kind) and ids (docs/language.md).

The active language is a context variable, so a web request or a thread can
use its own. ``--lang`` sets it explicitly; an instance's ``language`` key is
used only when no ``--lang`` was given (:func:`adopt`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

# Languages with a catalogue, and their names in their own words.
LANGUAGES = {"nb": "Norsk bokmål", "nn": "Norsk nynorsk", "en": "English"}
# English unless --lang or the instance's ``language`` key says otherwise
# (docs/language.md says why).
DEFAULT = "en"
DOMAIN = "allocator"
LOCALE_DIR = Path(__file__).with_name("locale")

_active: ContextVar[str] = ContextVar("language", default=DEFAULT)
_explicit: ContextVar[bool] = ContextVar("language_explicit", default=False)


@cache
def catalogue(lang: str) -> NullTranslations:
    """The compiled catalogue (.mo) of ``lang``; English is the message ids."""
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [lang], domain=DOMAIN)


def active() -> str:
    """The language in use: ``nb``, ``nn`` or ``en``."""
    return _active.get()


def checked(lang: str) -> str:
    """``lang`` lower-cased, or ValueError naming the languages there are."""
    code = lang.strip().lower()
    if code not in LANGUAGES:
        raise ValueError(
            f"expected a language {', '.join(LANGUAGES)}, found {lang!r}."
        )
    return code


def is_explicit() -> bool:
    """Whether ``--lang`` (or a caller) chose the language on purpose."""
    return _explicit.get()


def set_language(lang: str, explicit: bool = True) -> None:
    """Use ``lang`` from now on in this context (``--lang``: explicit)."""
    _active.set(checked(lang))
    _explicit.set(explicit)


def adopt(lang: str | None) -> None:
    """An instance's ``language`` key: used unless ``--lang`` chose already."""
    if lang and not _explicit.get():
        set_language(lang, explicit=False)


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Within the block, ``lang`` (None: keep the active one)."""
    if lang is None:
        yield active()
        return
    token = _active.set(checked(lang))
    try:
        yield lang
    finally:
        _active.reset(token)


def _(message: str) -> str:
    """``message`` (English, the message id) in the active language."""
    return catalogue(active()).gettext(message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogues; translate it later with ``_``.

    For texts kept in module-level constants, which are read before any
    language is chosen: the constant holds the English id, and the code
    translates it where it is shown.
    """
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """Singular or plural of a message by ``n``, in the active language."""
    return catalogue(active()).ngettext(singular, plural, n)


def spellings(message: str) -> set[str]:
    """``message`` in every language, e.g. to read back a translated header."""
    return {message} | {catalogue(lang).gettext(message) for lang in LANGUAGES}


def _locale() -> str:
    return {"nb": "nb_NO", "nn": "nn_NO", "en": "en_GB"}[active()]


def number(value: float | None, digits: int = 1) -> str:
    """A number as the language writes it: ``1,5`` in Norwegian, ``1.5`` in
    English; at most ``digits`` decimals, trailing zeros dropped; '' for None."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale())


def fixed(value: float | None, digits: int = 2) -> str:
    """A number with exactly ``digits`` decimals (``0,50`` / ``0.50``)."""
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale())


def percent(value: float | None, digits: int = 0) -> str:
    """A share as a percentage: ``94 %`` in Norwegian, ``94%`` in English."""
    if value is None:
        return "-"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    if active() != "en":
        # Norwegian writes a (non-breaking) space before the sign.
        pattern = pattern[:-1] + "\u00a0%"
    return format_percent(value, format=pattern, locale=_locale())


def date(value: dt.date | str | None) -> str:
    """A date: ``06.12.2026`` in Norwegian, ``2026-12-06`` in English."""
    if not value:
        return ""
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if active() == "en":
        return day.isoformat()
    return format_date(day, "dd.MM.yyyy", locale=_locale())


def negotiate(accept_language: str | None, default: str = DEFAULT) -> str:
    """The best of our languages for a browser's Accept-Language header.

    ``nb-NO,nb;q=0.9,en;q=0.8`` gives ``nb``; a plain ``no`` (Norwegian)
    gives ``nb``; nothing we have gives ``default``.
    """
    if not accept_language:
        return default
    wanted: list[tuple[float, str]] = []
    for order, part in enumerate(accept_language.split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag:
            wanted.append((-quality + order * 1e-6, tag.strip()))
    for _weight, tag in sorted(wanted):
        try:
            code = Locale.parse(tag.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            continue
        code = {"no": "nb"}.get(code, code)
        if code in LANGUAGES:
            return code
    return default
