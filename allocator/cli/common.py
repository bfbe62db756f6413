"""The command group and what every command shares: exit codes, option
ranges, reading INSTANCE, printing input errors.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from allocator import (
    AllocatorError,
    DataWarning,
    Instance,
    InstanceError,
    Lock,
    apply_scenario,
    find_scenario,
    limits,
    read_instance,
)

EXIT_INPUT = 1


EXIT_NO_SOLUTION = 3


# 128 + SIGINT, what shells report for a program ended by Ctrl-C.
EXIT_INTERRUPTED = 130


# --- Option ranges (CP-SAT's limits): usage errors, exit 2 -------------------
class FiniteRange(click.FloatRange):
    """A FloatRange that also refuses nan and inf (which pass its comparisons)."""

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number


TIME_LIMIT = FiniteRange(min=limits.TIME_LIMIT_MIN, max=limits.TIME_LIMIT_MAX)


DETERMINISTIC_TIME = FiniteRange(
    min=limits.DETERMINISTIC_MIN, max=limits.DETERMINISTIC_MAX
)


SEED = click.IntRange(min=limits.SEED_MIN, max=limits.SEED_MAX)


WORKERS = click.IntRange(min=1, max=limits.WORKERS_MAX)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="allocator")
def main() -> None:
    """Allocate a NAV office's caseload to teams and advisors.

    \b
    Example:
      allocator validate instances/hallingdal
      allocator solve instances/hallingdal --out solutions/hallingdal/week1
      allocator check instances/hallingdal solutions/hallingdal/week1
      allocator explain instances/hallingdal solutions/hallingdal/week1 u00002
    """


@contextmanager
def user_errors() -> Iterator[None]:
    """Print DataWarnings and input errors plainly; never a traceback."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        try:
            yield
        except KeyboardInterrupt:
            show_warnings(caught)
            from allocator.i18n import _

            stopped = _("interrupted: nothing was written.")
            click.echo(f"\n{stopped}", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except InstanceError as error:
            show_warnings(caught)
            from allocator.i18n import _

            rejected = _("the input was rejected; nothing was written.")
            click.echo(f"error: {rejected}", err=True)
            for problem in error.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(EXIT_INPUT)
        except AllocatorError as error:
            show_warnings(caught)
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_INPUT)
        show_warnings(caught)


def show_warnings(caught: list[warnings.WarningMessage]) -> None:
    seen = set()
    for item in caught:
        text = str(item.message)
        if issubclass(item.category, DataWarning) and text not in seen:
            seen.add(text)
            click.echo(f"warning: {text}", err=True)


def parse_locks(pairs: tuple[str, ...], kind: str) -> list[Lock]:
    """--fix USER=ADVISOR / --forbid USER=ADVISOR into locks."""
    locks = []
    for pair in pairs:
        user, sep, advisor = pair.partition("=")
        if not sep or not user.strip() or not advisor.strip():
            from allocator.i18n import _

            raise click.BadParameter(
                _("expected USER=ADVISOR, got {pair}").format(pair=repr(pair))
            )
        locks.append(
            Lock(
                user=user.strip(),
                advisor=advisor.strip(),
                kind=kind,
                source=f"--{kind}",
            )  # type: ignore[arg-type]
        )
    return locks


def load(
    folder: Path, locks: list[Lock] | None = None, scenario: Path | None = None
) -> Instance:
    """Read INSTANCE, then apply --scenario (a file, or an id in scenarios/)."""
    from allocator.i18n import adopt

    instance = read_instance(folder, locks or [])
    adopt(instance.language)
    if scenario is None:
        return instance
    return apply_scenario(instance, find_scenario(folder, scenario))


INSTANCE_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def _set_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        from allocator.i18n import set_language

        set_language(value)


# --lang nb|nn|en: the words people read (docs/language.md); files keep formats.
LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(["nb", "nn", "en"], case_sensitive=False),
    callback=_set_lang,
    expose_value=False,
    is_eager=True,
    help="Language of reasons, report.html, allocation.xlsx and the summary "
    "(default: instance.toml's language, else en).",
)


# --- Scenarios (FORMAT.md section 6) -------------------------------------------
SCENARIO_OPTION = click.option(
    "--scenario",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Apply this scenario file (or the id of one in INSTANCE/scenarios/) "
    "to INSTANCE first.",
)
