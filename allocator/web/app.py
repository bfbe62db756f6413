"""The routes: the page and the JSON API it uses (README "The web page").

``create_app(settings)`` builds the FastAPI application; ``allocator serve``
runs it with uvicorn. Every upload becomes a job folder (jobs.py); input is
read here only to answer 400 with the command line's located messages
before a job is queued; solving happens in the job's own process.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.web.jobs import (
    FINISHED,
    Job,
    JobManager,
    ScenarioUnavailable,
    apply_scenario,
    problem_dict,
    read_with_locks,
)
from allocator.web.labels import LANGUAGES, choose_language, labels_for
from allocator.web.schemas import (
    Accepted,
    JobView,
    LockRequest,
    Progress,
    Rejected,
    Rows,
)
from allocator.web.uploads import (
    Limits,
    UploadError,
    check_workbook,
    extract_zip,
    folder_holding,
    refuse,
    remove_tree,
    safe_name,
    save_stream,
)

HERE = Path(__file__).parent
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# The page's policy: everything from this server, nothing inline.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# A served report.html runs sandboxed: its own inline assets, no requests.
REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; img-src data:; font-src data:"
)
MEDIA = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".txt": "text/plain; charset=utf-8",
}
MAX_TIME_LIMIT_S = 3600.0


@dataclass
class Settings:
    """What ``allocator serve`` was asked for."""

    workdir: Path | None = None
    max_upload_mb: float = 50.0
    # An archive may expand to this many times the upload limit.
    expand_factor: float = 10.0
    keep_hours: float = 24.0
    slots: int | None = None
    host: str = "127.0.0.1"
    extra_hosts: list[str] = field(default_factory=list)

    @property
    def upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000)

    @property
    def limits(self) -> Limits:
        return Limits(expanded_bytes=int(self.upload_bytes * self.expand_factor))


def rejected(problems: list[InputProblem], status: int = 400) -> JSONResponse:
    body = Rejected.model_validate({"errors": [problem_dict(p) for p in problems]})
    return JSONResponse(body.model_dump(), status_code=status)


def one_problem(file: str, message: str, status: int = 400) -> JSONResponse:
    return rejected([InputProblem(file, None, None, message)], status)


# -- guards (plain ASGI, so that they also see streamed request bodies) ---------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class _TooLarge(Exception):
    pass


async def send_json(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Host and Origin checks, the upload size limit, and safe headers.

    A request whose Host is not this machine (when bound to loopback) is
    refused, which defeats DNS rebinding; a POST or DELETE from a page of
    another origin is refused, so no web site can drive the API from a
    leader's browser. A body above the limit gets 413 before it is read
    whole, whether or not it announced its length.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = settings.upload_bytes
        self.hosts = {h.lower() for h in settings.extra_hosts}
        self.loopback_only = settings.host in LOOPBACK

    def host_allowed(self, host: str) -> bool:
        if not self.loopback_only:
            return True
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name.lower() in LOOPBACK | self.hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]
        }
        host = headers.get("host", "")
        if not self.host_allowed(host):
            await send_json(send, 421, b'{"detail": "unknown host name"}')
            return
        method = scope["method"]
        origin = headers.get("origin")
        cross_site = origin is not None and origin.split("://", 1)[-1] != host
        if method not in {"GET", "HEAD", "OPTIONS"} and cross_site:
            await send_json(send, 403, b'{"detail": "request from another site"}')
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._too_large(send)
            return
        received = 0
        started = False
        exceeded = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def safe_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The framework answers a failed body read with its own 400;
                # the client is told the real cause instead.
                if not started:
                    started = True
                    await self._too_large(send)
                return
            if message["type"] == "http.response.start":
                started = True
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, limited_receive, safe_send)
        except _TooLarge:
            if not started:
                started = True
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        megabytes = self.limit / 1e6
        body = Rejected.model_validate(
            {
                "errors": [
                    {
                        "file": "upload",
                        "message": f"the upload exceeds the limit of {megabytes:g} MB.",
                    }
                ]
            }
        )
        await send_json(send, 413, body.model_dump_json().encode())


# -- the application -----------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web application; jobs start when the app's lifespan starts."""
    settings = settings or Settings()
    own_workdir = settings.workdir is None
    workdir = settings.workdir or Path(tempfile.mkdtemp(prefix="allocator-serve-"))
    jobs = JobManager(workdir, slots=settings.slots, keep_s=settings.keep_hours * 3600)
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A suspicious cell's warning names the cell; it goes to the job's
        # status, never to the server's log.
        warnings.filterwarnings("ignore", category=DataWarning)
        jobs.start()
        try:
            yield
        finally:
            jobs.close()
            if own_workdir:
                shutil.rmtree(workdir, ignore_errors=True)

    app = FastAPI(
        title="allocator",
        summary="Allocate a NAV office's caseload: upload, allocate, review, lock.",
        lifespan=lifespan,
    )
    app.state.jobs = jobs
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(Guard, settings=settings)  # type: ignore[arg-type]

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request, lang: str | None = None) -> Response:
        language = choose_language(
            lang, request.cookies.get("lang"), request.headers.get("accept-language")
        )
        response = templates.TemplateResponse(
            request,
            "index.html",
            {
                "lang": language,
                "t": labels_for(language),
                "languages": LANGUAGES,
                "max_upload_mb": settings.max_upload_mb,
            },
        )
        response.headers["content-security-policy"] = PAGE_CSP
        if lang in LANGUAGES:
            response.set_cookie("lang", language, samesite="strict", max_age=31536000)
        return response

    @app.post(
        "/api/jobs",
        status_code=202,
        response_model=Accepted,
        responses={400: {"model": Rejected}, 413: {"model": Rejected}},
    )
    def submit(
        files: Annotated[list[UploadFile], File()],
        time_limit: Annotated[str | None, Form()] = None,
        seed: Annotated[str | None, Form()] = None,
        previous: Annotated[UploadFile | None, File()] = None,
        scenario: Annotated[UploadFile | None, File()] = None,
    ) -> Response:
        """Queue an allocation of an uploaded instance (zip or its own files)."""
        job_id, folder = jobs.new_folder()
        try:
            spec = {
                "instance": str(place_instance(files, folder, settings)),
                "time_limit": number_field("time_limit", time_limit, float),
                "seed": number_field("seed", seed, int),
                "previous": place_previous(previous, folder, settings),
                "scenario": place_scenario(scenario, folder, settings),
                "locks": [],
            }
            validate(spec)
        except (UploadError, InstanceError) as error:
            remove_tree(folder)
            return rejected(error.problems)
        except ScenarioUnavailable:
            remove_tree(folder)
            return one_problem(
                "scenario", "scenario files are not supported by this installation."
            )
        if jobs.queued() >= jobs.max_queued:
            remove_tree(folder)
            return one_problem("upload", "too many jobs are waiting; try later.", 503)
        jobs.submit(job_id, folder, spec)
        return JSONResponse(Accepted(id=job_id).model_dump(), status_code=202)

    @app.get("/api/jobs/{job_id}", response_model=JobView)
    def status(job_id: str) -> Response:
        """A job's status, search progress and (when finished) summary."""
        job = jobs.get(job_id)
        if job is None:
            return not_found()
        return JSONResponse(view(job).model_dump())

    @app.delete("/api/jobs/{job_id}", status_code=202, response_model=JobView)
    def stop(job_id: str) -> Response:
        """Stop a job; a solving one keeps its best allocation so far."""
        job = jobs.stop(job_id)
        if job is None:
            return not_found()
        return JSONResponse(view(job).model_dump(), status_code=202)

    @app.get("/api/jobs/{job_id}/files/{name}")
    def download(job_id: str, name: str, inline: bool = False) -> Response:
        """Any file of the job's solution folder."""
        job = jobs.get(job_id)
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

    @app.get("/api/jobs/{job_id}/rows/{name}", response_model=Rows)
    def rows(job_id: str, name: str) -> Response:
        """A CSV file of the solution as JSON columns and rows (for the page)."""
        job = jobs.get(job_id)
        if job is None or name not in job.files() or not name.endswith(".csv"):
            return not_found()
        with (job.out / name).open(encoding="utf-8-sig", newline="") as handle:
            table = list(csv.reader(handle))
        columns = table[0] if table else []
        return JSONResponse({"columns": columns, "rows": table[1:]})

    @app.post(
        "/api/jobs/{job_id}/locks",
        status_code=202,
        response_model=Accepted,
        responses={400: {"model": Rejected}},
    )
    def relock(job_id: str, request: LockRequest) -> Response:
        """Re-allocate from a finished job as last week's plan, with locks."""
        parent = jobs.get(job_id)
        if parent is None:
            return not_found()
        if parent.status not in {"done", "stopped"} or "assignments.csv" not in (
            parent.files()
        ):
            return one_problem("locks", "the job has no allocation to start from.", 409)
        spec_parent = parent_spec(parent)
        locks = merge_locks(parent.locks, request)
        new_id, folder = jobs.new_folder()
        shutil.copytree(Path(spec_parent["instance"]), folder / "input")
        shutil.copytree(parent.out, folder / "previous")
        scenario = None
        if spec_parent.get("scenario"):
            source = Path(spec_parent["scenario"])
            (folder / "scenario").mkdir()
            scenario = str(shutil.copy(source, folder / "scenario" / source.name))
        spec = {
            "instance": str(folder / "input"),
            "time_limit": request.time_limit or spec_parent.get("time_limit"),
            "seed": request.seed
            if request.seed is not None
            else spec_parent.get("seed"),
            "previous": str(folder / "previous"),
            "scenario": scenario,
            "locks": locks,
        }
        try:
            validate(spec)
        except InstanceError as error:
            remove_tree(folder)
            return rejected(error.problems)
        except ScenarioUnavailable:
            remove_tree(folder)
            return one_problem(
                "scenario", "scenario files are not supported by this installation."
            )
        jobs.submit(new_id, folder, spec, parent=job_id, locks=locks)
        return JSONResponse(Accepted(id=new_id).model_dump(), status_code=202)

    # Comparisons of structures: their own routes and queue (comparisons.py).
    from allocator.web.comparisons import install

    install(app, settings, workdir)
    return app


def run(settings: Settings, port: int) -> None:
    """Serve the application with uvicorn until Ctrl-C."""
    import logging

    import uvicorn

    # Job ids and statuses only (jobs.py); never user data.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=port, log_level="info")


def not_found() -> JSONResponse:
    return JSONResponse({"detail": "no such job or file"}, status_code=404)


def view(job: Job) -> JobView:
    """The status answer for one job."""
    result = job.result or {}
    error = job.error or {}
    return JobView.model_validate(
        {
            "id": job.id,
            "status": job.status,
            "progress": Progress.model_validate(job.progress()).model_dump(),
            "summary": result.get("summary") if job.status in FINISHED else None,
            "files": job.files(),
            "warnings": result.get("warnings", []),
            "error": error.get("message"),
            "errors": error.get("problems", []),
            "parent": job.parent,
            "locks": job.locks,
        }
    )


def parent_spec(job: Job) -> dict[str, Any]:
    from allocator.web.jobs import read_json

    return read_json(job.folder / "spec.json") or {}


def merge_locks(
    earlier: list[dict[str, str]], request: LockRequest
) -> list[dict[str, str]]:
    """The parent's locks, less the unlocked users, plus the new pairs."""
    unlocked = set(request.unlock)
    refixed = {pair.user for pair in request.fix}
    kept = [
        lock
        for lock in earlier
        if lock["user"] not in unlocked
        and not (lock["kind"] == "fix" and lock["user"] in refixed)
    ]
    pairs = [{"user": p.user, "advisor": p.advisor, "kind": "fix"} for p in request.fix]
    pairs += [
        {"user": p.user, "advisor": p.advisor, "kind": "forbid"} for p in request.forbid
    ]
    merged: list[dict[str, str]] = []
    for lock in kept + pairs:
        if lock not in merged:
            merged.append(lock)
    return merged


def validate(spec: dict[str, Any]) -> None:
    """Read the instance (and scenario) as the job will; raises InstanceError."""
    instance = read_with_locks(Path(spec["instance"]), spec.get("locks", []))
    if spec.get("scenario"):
        apply_scenario(instance, Path(spec["scenario"]))


def number_field(name: str, text: str | None, kind: type[float] | type[int]) -> Any:
    """An optional number from a form field; empty means the policy's value."""
    if text is None or not text.strip():
        return None
    try:
        value = kind(text.strip())
    except ValueError:
        raise refuse(name, f"expected a number, got {text.strip()[:20]!r}.") from None
    if kind is float and not 0.1 <= value <= MAX_TIME_LIMIT_S:
        raise refuse(name, f"expected seconds from 0.1 to {MAX_TIME_LIMIT_S:g}.")
    if kind is int and not 0 <= value < 2**31:
        raise refuse(name, "expected a whole number from 0 to 2147483647.")
    return value


def place_instance(files: list[UploadFile], folder: Path, settings: Settings) -> Path:
    """Put the uploaded instance under ``folder/input``; returns its folder.

    One ``.zip`` is expanded (the folder holding instance.toml inside it is
    the instance); otherwise the files are the instance folder's files.
    """
    target = folder / "input"
    target.mkdir()
    names = [safe_name(upload.filename) for upload in files]
    if not names:
        raise refuse("upload", "no files were sent.")
    zips = [n for n in names if n.lower().endswith(".zip")]
    if zips:
        if len(names) > 1:
            raise refuse(zips[0], "send one .zip of the instance folder, or its files.")
        archive = folder / "upload.zip"
        save_stream(files[0].file, archive, settings.upload_bytes, names[0])
        extract_zip(archive, target, settings.limits, names[0])
        archive.unlink()
        instance = folder_holding(target, "instance.toml", names[0])
    else:
        if len(set(names)) < len(names):
            raise refuse("upload", "the same file name was sent twice.")
        for upload, name in zip(files, names, strict=True):
            save_stream(upload.file, target / name, settings.upload_bytes, name)
        instance = target
    for workbook in instance.rglob("*.xlsx"):
        check_workbook(workbook, settings.limits, workbook.name)
    return instance


def place_previous(
    upload: UploadFile | None, folder: Path, settings: Settings
) -> str | None:
    """Last week's solution: a zip of its folder, or allocation.xlsx."""
    if upload is None or not upload.filename:
        return None
    name = safe_name(upload.filename)
    target = folder / "previous"
    target.mkdir()
    if name.lower().endswith(".zip"):
        archive = folder / "previous.zip"
        save_stream(upload.file, archive, settings.upload_bytes, name)
        extract_zip(archive, target, settings.limits, name)
        archive.unlink()
        return str(folder_holding(target, "assignments.csv", name))
    if name.lower().endswith(".xlsx"):
        path = target / name
        save_stream(upload.file, path, settings.upload_bytes, name)
        check_workbook(path, settings.limits, name)
        return str(path)
    raise refuse(name, "expected last week's solution as a .zip or allocation.xlsx.")


def place_scenario(
    upload: UploadFile | None, folder: Path, settings: Settings
) -> str | None:
    if upload is None or not upload.filename:
        return None
    name = safe_name(upload.filename)
    if not name.lower().endswith(".toml"):
        raise refuse(name, "expected a scenario file (.toml).")
    target = folder / "scenario"
    target.mkdir()
    save_stream(upload.file, target / name, settings.upload_bytes, name)
    return str(target / name)
