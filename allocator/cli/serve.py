"""``allocator serve``: the local web page and JSON API (allocator/web)."""

from __future__ import annotations

from pathlib import Path

import click

from allocator.cli.common import (
    main,
)


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 opens the page to the office network.",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8765, show_default=True)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the jobs' files (default: a temporary folder, removed on exit).",
)
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(min=0.001),
    default=50.0,
    show_default=True,
    help="Largest upload; a zip may expand to ten times this.",
)
@click.option(
    "--keep-hours",
    type=click.FloatRange(min=0.0),
    default=24.0,
    show_default=True,
    help="Hours a finished job's files are kept.",
)
@click.option(
    "--jobs",
    "slots",
    type=click.IntRange(min=1),
    help="Solves at the same time (default: one per CPU core); others wait.",
)
def serve(
    host: str,
    port: int,
    workdir: Path | None,
    max_upload_mb: float,
    keep_hours: float,
    slots: int | None,
) -> None:
    """Start the web page for team leaders on this machine.

    \b
    Example:
      allocator serve
      allocator serve --host 0.0.0.0 --port 8080 --workdir /srv/allocator
    """
    try:
        from allocator.web import Settings, run
    except ImportError as error:
        raise click.UsageError(
            "the web page needs the 'web' extra: "
            f"pip install 'allocator[web]' ({error})"
        ) from error
    settings = Settings(
        workdir=workdir,
        max_upload_mb=max_upload_mb,
        keep_hours=keep_hours,
        slots=slots,
        host=host,
    )
    shown = f"[{host}]" if ":" in host else host
    if host in {"0.0.0.0", "::"}:
        shown = "localhost"
    click.echo(f"allocator: open http://{shown}:{port}/ in a browser (Ctrl-C stops).")
    run(settings, port)
