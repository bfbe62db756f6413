"""Comparisons on the page: ``POST /api/comparisons`` and the ``/compare`` step.

The same shape as the solve jobs (``jobs.py``): an upload becomes a folder,
queued and run in its own process, polled for progress, stopped on
request, its files downloaded. A comparison job's folder::

    <workdir>/comparisons/<id>/
      input/        the instance folder (uploaded, or the last job's)
      scenarios/    the scenario files to compare (uploaded or shipped)
      out/          the comparison folder (FORMAT.md section 7)
      spec.json, progress.json, result.json, error.json   as for jobs

Routes (``install`` adds them to the app):

- ``GET /compare``: the comparison step of the page.
- ``GET /api/comparisons/shipped``: the shipped scenario files, by instance.
- ``POST /api/comparisons``: instance files (or ``job``, the id of an earlier
  solve whose instance to use), ``scenarios`` (uploaded .toml files),
  ``shipped`` ("hallingdal/E"), ``instance_scenarios`` (every scenario in
  the uploaded instance's ``scenarios/``), ``seeds``, ``time_limit``.
  202 ``{"id", "status"}``, or 400 with located problems.
- ``GET /api/comparisons/{id}``: status, progress (structures done of all,
  the share of the work done), warnings (such as a dropped lock), files.
- ``DELETE /api/comparisons/{id}``: stop; a stopped comparison writes nothing.
- ``GET /api/comparisons/{id}/files/{name}``: comparison.csv, .json, .html.
- ``GET /api/comparisons/{id}/archive``: the whole folder as a zip (every
  structure's instance and solution folders).

Nothing here logs user data: only comparison ids and statuses.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
import zipfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates

from allocator import i18n
from allocator.errors import InputProblem, InstanceError
from allocator.web.jobs import (
    Job,
    JobManager,
    describe_error,
    read_json,
    write_json,
)
from allocator.web.uploads import (
    UploadError,
    refuse,
    remove_tree,
    safe_name,
    save_stream,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

_ = i18n._

HERE = Path(__file__).parent
# The shipped instances and their scenario files, beside the package in a
# source checkout; none in an installation without them.
SHIPPED = HERE.parents[1] / "instances"
MAX_SEEDS = 10
MAX_SCENARIOS = 20


class ComparisonManager(JobManager):
    """The job queue, running comparisons instead of solves.

    Each comparison runs in its own process (``run_comparison``), its
    solves one after another inside it, so a comparison takes one slot as
    a solve does. Its processes are daemons: a server that stops ends them.
    """

    def start(self) -> None:
        """Start the scheduler; the folder is made by the first comparison."""
        self._thread = threading.Thread(target=self._run, name="cmp", daemon=True)
        self._thread.start()

    def _launch(self, job: Job, now: float) -> None:
        process = self._context.Process(
            target=run_comparison, args=(str(job.folder),), name=f"cmp-{job.id[:8]}"
        )
        process.daemon = True
        process.start()
        job.process = process
        job.status = "solving"
        job.started = now


def install(app: FastAPI, settings: Any, workdir: Path) -> None:
    """Add the comparison routes, and its queue to the app's lifespan."""
    from allocator.web.common import (
        MEDIA,
        REPORT_CSP,
        Uploaded,
        one_problem,
        place_instance,
        rejected,
    )

    manager = ComparisonManager(
        workdir / "comparisons",
        slots=settings.slots,
        keep_s=settings.keep_hours * 3600,
    )
    app.state.comparisons = manager
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with previous(application) as state:
            manager.start()
            try:
                yield state
            finally:
                manager.close()

    app.router.lifespan_context = lifespan

    @app.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page(request: Request, lang: str | None = None) -> Response:
        from allocator.web.common import PAGE_CSP
        from allocator.web.labels import LANGUAGES, choose_language, compare_labels_for

        # The language as the allocation step chooses it (and remembers it).
        language = choose_language(
            lang, request.cookies.get("lang"), request.headers.get("accept-language")
        )
        response = templates.TemplateResponse(
            request,
            "compare.html",
            {
                "lang": language,
                "t": compare_labels_for(language),
                "languages": LANGUAGES,
                "max_upload_mb": megabytes(settings.max_upload_mb, language),
                "shipped": shipped_scenarios(),
            },
        )
        response.headers["content-security-policy"] = PAGE_CSP
        if lang in LANGUAGES:
            response.set_cookie("lang", language, samesite="strict", max_age=31536000)
        return response

    @app.get("/api/comparisons/shipped")
    def shipped() -> Response:
        """The shipped scenario files: instance name -> scenario ids."""
        return JSONResponse(shipped_scenarios())

    @app.post("/api/comparisons", status_code=202)
    def submit(
        files: Annotated[list[UploadFile] | None, File()] = None,
        job: Annotated[str | None, Form()] = None,
        scenarios: Annotated[list[UploadFile] | None, File()] = None,
        shipped: Annotated[list[str] | None, Form()] = None,
        instance_scenarios: Annotated[bool, Form()] = False,
        seeds: Annotated[str | None, Form()] = None,
        time_limit: Annotated[str | None, Form()] = None,
        lang: Annotated[str | None, Form()] = None,
    ) -> Response:
        """Queue a comparison of an instance with scenario files.

        ``lang`` (the page's language) is the language of the problems
        answered here and of comparison.html; comparison.csv does not change.
        """
        from allocator.web.labels import LANGUAGES

        language = lang if lang in LANGUAGES else None
        with i18n.language(language):
            return queue(files, job, scenarios, shipped, instance_scenarios, seeds,
                         time_limit, language)  # fmt: skip

    def queue(
        files: list[UploadFile] | None,
        job: str | None,
        scenarios: list[UploadFile] | None,
        shipped: list[str] | None,
        instance_scenarios: bool,
        seeds: str | None,
        time_limit: str | None,
        language: str | None,
    ) -> Response:
        job_id, folder = manager.new_folder()
        # Problems name uploaded files as the user named them, never by the
        # server's paths (as the allocation's submissions do).
        names = Uploaded(folder)
        try:
            instance = place_comparison_instance(
                files, job, folder, app, settings,
                lambda given, to, limits: place_instance(given, to, limits, names),
            )  # fmt: skip
            picked = place_scenarios(
                scenarios or [], shipped or [], instance, instance_scenarios, folder,
                settings,
            )  # fmt: skip
            spec = {
                "instance": str(instance),
                "scenarios": [str(p) for p in picked],
                "seeds": whole_number("seeds", seeds, 1, MAX_SEEDS, default=3),
                "time_limit": seconds("time_limit", time_limit),
                "language": language,
            }
            check_comparison(spec)
        except (UploadError, InstanceError) as error:
            remove_tree(folder)
            return rejected(names.problems(error.problems))
        if manager.queued() >= manager.max_queued:
            remove_tree(folder)
            return one_problem(
                "upload", _("too many jobs are waiting; try later."), 503
            )
        manager.submit(job_id, folder, spec)
        return JSONResponse({"id": job_id, "status": "queued"}, status_code=202)

    @app.get("/api/comparisons/{job_id}")
    def status(job_id: str) -> Response:
        """A comparison's status, progress and (when done) files."""
        job = manager.get(job_id)
        if job is None:
            return not_found()
        return JSONResponse(view(job))

    @app.delete("/api/comparisons/{job_id}", status_code=202)
    def stop(job_id: str) -> Response:
        """Stop a comparison: it ends without writing anything."""
        job = manager.stop(job_id)
        if job is None:
            return not_found()
        return JSONResponse(view(job), status_code=202)

    @app.get("/api/comparisons/{job_id}/files/{name}")
    def download(job_id: str, name: str, inline: bool = False) -> Response:
        """comparison.csv, comparison.json or comparison.html."""
        job = manager.get(job_id)
        if job is None or name not in job.files():
            return not_found()
        suffix = Path(name).suffix.lower()
        response = FileResponse(
            job.out / name,
            media_type=MEDIA.get(suffix, "application/octet-stream"),
            filename=name,
            content_disposition_type="inline" if inline else "attachment",
        )
        if suffix == ".html":
            response.headers["content-security-policy"] = REPORT_CSP
        return response

    @app.get("/api/comparisons/{job_id}/archive")
    def archive(job_id: str) -> Response:
        """The comparison folder as one zip, structure folders included."""
        job = manager.get(job_id)
        if job is None or not job.files():
            return not_found()
        return Response(
            zip_tree(job.out),
            media_type="application/zip",
            headers={"content-disposition": 'attachment; filename="comparison.zip"'},
        )


def megabytes(size: float, language: str) -> str:
    """The upload limit as the page's language writes a number (``50,0``)."""
    with i18n.language(language if language in i18n.LANGUAGES else None):
        return i18n.fixed(size, 1)


def not_found() -> JSONResponse:
    return JSONResponse({"detail": "no such comparison or file"}, status_code=404)


def view(job: Job) -> dict[str, Any]:
    """The status answer: as a job's, with the comparison's progress."""
    result = job.result or {}
    error = job.error or {}
    latest = read_json(job.folder / "progress.json") or {}
    elapsed = None
    if job.started is not None:
        elapsed = round((job.finished or time.time()) - job.started, 1)
    return {
        "id": job.id,
        "status": job.status,
        "progress": {
            "elapsed_s": elapsed,
            "structures_done": latest.get("structures_done"),
            "structures": latest.get("structures"),
            "fraction": latest.get("fraction"),
        },
        "files": job.files(),
        "warnings": result.get("warnings", []),
        "error": error.get("message"),
        "errors": error.get("problems", []),
    }


def shipped_scenarios() -> dict[str, list[str]]:
    """Instance name -> the ids of its shipped scenario files (sorted)."""
    if not SHIPPED.is_dir():
        return {}
    return {
        folder.name: sorted(p.stem for p in (folder / "scenarios").glob("*.toml"))
        for folder in sorted(SHIPPED.iterdir())
        if (folder / "scenarios").is_dir()
        and any((folder / "scenarios").glob("*.toml"))
    }


def place_comparison_instance(
    files: list[UploadFile] | None,
    job: str | None,
    folder: Path,
    app: Any,
    settings: Any,
    place_instance: Any,
) -> Path:
    """The uploaded instance, or the instance of the earlier solve ``job``."""
    uploads = [f for f in files or [] if f.filename]
    if uploads:
        return Path(place_instance(uploads, folder, settings))
    if job:
        earlier = app.state.jobs.get(job.strip())
        spec = read_json(earlier.folder / "spec.json") if earlier else None
        if not spec or not Path(spec.get("instance", "")).is_dir():
            raise refuse("job", _("no such job: upload the instance instead."))
        target = folder / "input"
        shutil.copytree(Path(spec["instance"]), target)
        return target
    raise refuse("upload", _("no instance was sent: upload one, or give the job."))


def place_scenarios(
    uploads: list[UploadFile],
    shipped: list[str],
    instance: Path,
    instance_scenarios: bool,
    folder: Path,
    settings: Any,
) -> list[Path]:
    """The scenario files to compare, copied under ``folder/scenarios``."""
    target = folder / "scenarios"
    target.mkdir(exist_ok=True)
    picked: list[Path] = []
    known = shipped_scenarios()
    for given in shipped:
        name, _slash, sid = given.partition("/")
        if sid not in known.get(name, []):
            raise refuse("shipped", _("no shipped scenario {name}.").format(name=given))
        source = SHIPPED / name / "scenarios" / f"{sid}.toml"
        picked.append(Path(shutil.copy(source, target / f"{name}--{sid}.toml")))
    if instance_scenarios:
        picked += sorted((instance / "scenarios").glob("*.toml"))
    for upload in uploads:
        if not upload.filename:
            continue
        name = safe_name(upload.filename)
        if not name.lower().endswith(".toml"):
            raise refuse(name, _("expected a scenario file (.toml)."))
        path = target / name
        if path.exists():
            raise refuse(name, _("the same scenario file was sent twice."))
        save_stream(upload.file, path, settings.upload_bytes, name)
        picked.append(path)
    if len(picked) > MAX_SCENARIOS:
        raise refuse(
            "scenarios",
            _("at most {count} scenarios at once.").format(count=MAX_SCENARIOS),
        )
    return picked


def whole_number(name: str, text: str | None, low: int, high: int, default: int) -> int:
    """A whole number from a form field, ``default`` when empty."""
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip())
    except ValueError:
        raise refuse(
            name,
            _("expected a whole number, got {text}.").format(
                text=repr(text.strip()[:20])
            ),
        ) from None
    if not low <= value <= high:
        raise refuse(
            name,
            _("expected a whole number from {low} to {high}.").format(
                low=low, high=high
            ),
        )
    return value


def seconds(name: str, text: str | None) -> float | None:
    """Seconds per solve from a form field; empty means each policy's own."""
    if text is None or not text.strip():
        return None
    try:
        value = float(text.strip())
    except ValueError:
        raise refuse(
            name,
            _("expected a number, got {text}.").format(text=repr(text.strip()[:20])),
        ) from None
    if not 0.1 <= value <= 3600:
        raise refuse(
            name,
            _("expected seconds from {low} to {high}.").format(
                low=i18n.number(0.1), high=i18n.number(3600, 0)
            ),
        )
    return value


def check_comparison(spec: dict[str, Any]) -> None:
    """Read the instance and every scenario file as the job will (400 early).

    Applying the scenarios (and dropping the locks a structure makes
    impossible) is the job's work; a problem found there fails the job with
    its located messages.
    """
    import warnings

    import allocator
    from allocator.errors import DataWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        allocator.read_instance(Path(spec["instance"]))
        for path in spec["scenarios"]:
            allocator.read_scenario(Path(path))
    if not spec["scenarios"]:
        raise InstanceError(
            [InputProblem("scenarios", None, None, _("pick at least one scenario."))]
        )


# -- the comparison's own process ------------------------------------------------


def run_comparison(folder_text: str) -> None:
    """Compare in ``folder``: the entry point of a comparison's process.

    Writes ``out/`` and ``result.json`` (exit 0), or ``error.json`` (exit
    1). A ``stop`` file ends the process at once with ``result.json``
    saying so; a stopped comparison writes no folder.
    """
    folder = Path(folder_text)
    threading.Thread(target=watch_stop, args=(folder,), daemon=True).start()
    try:
        result = compare_job(folder)
    except Exception as error:
        write_json(folder / "error.json", describe_error(error))
        raise SystemExit(1) from None
    write_json(folder / "result.json", result)


def watch_stop(folder: Path) -> None:
    """End the process when the server asks: nothing of the comparison is kept."""
    while True:
        if (folder / "stop").exists():
            write_json(folder / "result.json", {"stopped": True, "warnings": []})
            os._exit(0)
        time.sleep(0.2)


def compare_job(folder: Path) -> dict[str, Any]:
    """Read, compare and write; returns result.json's data."""
    import warnings

    import allocator
    from allocator.errors import DataWarning

    spec = read_json(folder / "spec.json") or {}

    def progress(done: int, total: int, work: float, work_total: float) -> None:
        fraction = min(1.0, work / work_total) if work_total > 0 else 1.0
        write_json(
            folder / "progress.json",
            {"structures_done": done, "structures": total, "fraction": fraction},
        )

    # comparison.html and the warnings in the page's language, else in the
    # instance's own (instance.toml's ``language``).
    with warnings.catch_warnings(record=True) as caught, i18n.language(
        spec.get("language")
    ):
        warnings.simplefilter("always", DataWarning)
        instance = allocator.read_instance(Path(spec["instance"]))
        chosen = spec.get("language") or instance.language
        with i18n.language(chosen):
            allocator.compare(
                instance,
                [Path(p) for p in spec["scenarios"]],
                seeds=int(spec.get("seeds") or 1),
                time_limit=spec.get("time_limit"),
                executor="inline",
                out=folder / "out",
                progress=progress,
            )
    return {"stopped": False, "warnings": sorted({str(w.message) for w in caught})}


def zip_tree(folder: Path) -> bytes:
    """``folder`` as a zip (hidden files such as the cache left out)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if path.is_file() and not any(p.startswith(".") for p in relative.parts):
                archive.write(path, f"comparison/{relative.as_posix()}")
    return buffer.getvalue()


__all__ = ["ComparisonManager", "install"]
