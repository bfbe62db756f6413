"""The routes: the page and the JSON API it uses (README "The web page").

``create_app(settings)`` builds the FastAPI application; ``allocator serve``
runs it with uvicorn. Every upload becomes a job folder (jobs.py); input is
read here only to answer 400 with the command line's located messages
before a job is queued; solving happens in the job's own process.

The contract (README "The JSON API"): every rejection is 400 (413 for size)
with ``{"errors": [{"file", "row", "column", "message"}]}``, answered before
a job is queued, with ``file`` the name the user uploaded (never a path on
the server); a rejected submission leaves nothing on disk; the framework's
own errors (a missing field, a malformed body, an unknown route) take the
same shape. Every answer forbids loading anything from another host.
"""

from __future__ import annotations

import errno
import logging
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from allocator import i18n
from allocator.errors import DataWarning, InputProblem, InstanceError
from allocator.web.common import MEDIA as MEDIA
from allocator.web.common import PAGE_CSP as PAGE_CSP
from allocator.web.common import REPORT_CSP as REPORT_CSP
from allocator.web.common import Settings as Settings
from allocator.web.common import Uploaded as Uploaded
from allocator.web.common import one_problem as one_problem
from allocator.web.common import place_instance as place_instance
from allocator.web.common import rejected as rejected
from allocator.web.jobs import (
    FINISHED,
    Job,
    JobManager,
    ScenarioUnavailable,
    apply_scenario,
    read_with_locks,
)
from allocator.web.labels import LANGUAGES, choose_language, labels_for
from allocator.web.leader import install as install_page_facts
from allocator.web.leader import page_facts
from allocator.web.rows import csv_rows
from allocator.web.schemas import (
    TIME_LIMIT_MAX_S,
    TIME_LIMIT_MIN_S,
    Accepted,
    JobView,
    LockRequest,
    Progress,
    Rejected,
    Rows,
)
from allocator.web.uploads import (
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
MAX_TIME_LIMIT_S = TIME_LIMIT_MAX_S
# Every answer: nothing from another host (the page and the JSON alike; a
# served report.html narrows it further), no type sniffing, no referrer.
SAFE_HEADERS = [
    (b"content-security-policy", PAGE_CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]

log = logging.getLogger("allocator.web")


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
            "headers": [(b"content-type", b"application/json"), *SAFE_HEADERS],
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
            await send_json(send, 421, error_body("request", "unknown host name."))
            return
        method = scope["method"]
        origin = headers.get("origin")
        cross_site = origin is not None and origin.split("://", 1)[-1] != host
        if method not in {"GET", "HEAD", "OPTIONS"} and cross_site:
            await send_json(
                send, 403, error_body("request", "request from another site.")
            )
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
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                # A route's own policy (report.html's sandbox) stays.
                headers += [(k, v) for k, v in SAFE_HEADERS if k not in present]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, limited_receive, safe_send)
        except _TooLarge:
            if not started:
                started = True
                await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        megabytes = self.limit / 1e6
        message = f"the upload exceeds the limit of {megabytes:g} MB."
        await send_json(send, 413, error_body("upload", message))


def error_body(file: str, message: str) -> bytes:
    """One problem in the contract's shape, as JSON bytes."""
    body = Rejected.model_validate({"errors": [{"file": file, "message": message}]})
    return body.model_dump_json().encode()


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

    # No /docs or /redoc: FastAPI serves them with scripts and fonts from a
    # CDN, which would run in this server's origin. The schema is at
    # /openapi.json.
    app = FastAPI(
        title="allocator",
        summary="Allocate a NAV office's caseload: upload, allocate, review, lock.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.jobs = jobs
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(Guard, settings=settings)  # type: ignore[arg-type]

    @app.exception_handler(RequestValidationError)
    async def invalid_request(
        request: Request, exc: RequestValidationError
    ) -> Response:
        # FastAPI's own 422 repeats the input (a NaN it cannot even encode);
        # the contract's 400 names the field and the rule, never the value.
        return rejected([validation_problem(error) for error in exc.errors()])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "refused."
        response = rejected(
            [InputProblem("request", None, None, message)], exc.status_code
        )
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

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
        lang: Annotated[str | None, Form()] = None,
    ) -> Response:
        """Queue an allocation of an uploaded instance (zip or its own files)."""
        job_id, folder = jobs.new_folder()
        names = Uploaded(folder)
        queued = False
        try:
            spec = {
                "time_limit": number_field("time_limit", time_limit, float),
                "seed": number_field("seed", seed, int),
                "instance": str(place_instance(files, folder, settings, names)),
                "previous": place_previous(previous, folder, settings, names),
                "scenario": place_scenario(scenario, folder, settings, names),
                "locks": [],
                # The page's language: the report's, the workbook's and the
                # reasons' words.
                "language": lang if lang in LANGUAGES else None,
            }
            spec["page"] = validate(spec)
            if jobs.queued() >= jobs.max_queued:
                return one_problem(
                    "upload", "too many jobs are waiting; try later.", 503
                )
            jobs.submit(job_id, folder, spec)
            queued = True
            return JSONResponse(Accepted(id=job_id).model_dump(), status_code=202)
        except Exception as error:
            return refusal(error, names, job_id)
        finally:
            if not queued:
                # Nothing of a refused submission stays on disk.
                remove_tree(folder)

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
        # The solution's own dialect (";" when users.csv was ";"-separated),
        # found by the tool's own reader.
        return JSONResponse(csv_rows(job.out / name))

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
        names = Uploaded(folder)
        names.add(folder / "previous", "the allocation")
        queued = False
        try:
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
                "language": spec_parent.get("language"),
            }
            spec["page"] = validate(spec)
            jobs.submit(new_id, folder, spec, parent=job_id, locks=locks)
            queued = True
            return JSONResponse(Accepted(id=new_id).model_dump(), status_code=202)
        except Exception as error:
            return refusal(error, names, new_id)
        finally:
            if not queued:
                remove_tree(folder)

    # Comparisons of structures: their own routes and queue (comparisons.py).
    from allocator.web.comparisons import install

    install(app, settings, workdir)
    install_page_facts(app, jobs)
    return app


def run(settings: Settings, port: int) -> None:
    """Serve the application with uvicorn until Ctrl-C."""
    import logging

    import uvicorn

    # Job ids and statuses only (jobs.py); never user data.
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    uvicorn.run(create_app(settings), host=settings.host, port=port, log_level="info")


def not_found() -> JSONResponse:
    return one_problem("request", "no such job or file.", 404)


# Errors of the file system that an upload's names or shape cause.
NAME_ERRORS = {errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL, errno.ENOTDIR}


def refusal(error: Exception, names: Uploaded, job_id: str) -> JSONResponse:
    """The contract's answer to a submission that cannot become a job.

    Located problems are sent as they are (with uploaded names for server
    paths); a file system error is named without its path; anything else
    is logged by type only (never user data) and refused, not a 500.
    """
    if isinstance(error, UploadError | InstanceError):
        return rejected(names.problems(error.problems))
    if isinstance(error, ScenarioUnavailable):
        return one_problem(
            "scenario", "scenario files are not supported by this installation."
        )
    if isinstance(error, OSError) and error.errno not in NAME_ERRORS:
        log.warning("job %s not stored: %s", job_id, type(error).__name__)
        return one_problem(
            "upload", "the server could not store the upload; try later.", 503
        )
    if isinstance(error, OSError):
        what = error.strerror or "refused"
        return one_problem("upload", f"a file could not be stored ({what}).")
    log.warning("job %s refused: %s", job_id, type(error).__name__)
    return one_problem(
        "upload", f"the upload could not be read ({type(error).__name__})."
    )


def validation_problem(error: Any) -> InputProblem:
    """FastAPI's validation error as a located problem, without the input.

    ``loc`` is where in the request: ("body", "time_limit") or ("body",
    "fix", 0, "user"); the field is the file, a nested key the column.
    """
    where = [str(part) for part in error.get("loc", ()) if isinstance(part, str)]
    if where and where[0] in {"body", "query", "path", "header", "cookie"}:
        where = where[1:]
    field = where[0] if where else "request"
    column = where[-1] if len(where) > 1 else None
    if error.get("type") == "missing":
        message = "expected this field, found none."
        if field == "files":
            message = (
                "expected the instance's files (one .zip of its folder, or its "
                "CSV and TOML files), found none."
            )
    elif error.get("type") == "json_invalid":
        field, message = "request", "expected a JSON body, found text that is none."
    else:
        message = str(error.get("msg", "invalid value")).rstrip(".") + "."
    return InputProblem(field, None, column, message)


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


def validate(spec: dict[str, Any]) -> dict[str, Any]:
    """Everything the job's process checks before it solves, done now.

    Reads the instance with the page's locks, applies the scenario, reads
    last week's plan (and its typed locks) and builds the problem, which
    rejects fix locks that cannot hold: every input problem is a 400 before
    a job is queued, never a failed job. Messages the catalogues know are in
    the spec's ``language``. Returns what the page shows beside the files
    (leader.py ``page_facts``: names by id, locks read from the plan).

    Raises:
        InstanceError: every located problem.
        ScenarioUnavailable: a scenario without the scenario module.
    """
    import allocator

    with warnings.catch_warnings(), i18n.language(spec.get("language")):
        warnings.simplefilter("ignore", DataWarning)
        instance = read_with_locks(Path(spec["instance"]), spec.get("locks", []))
        if spec.get("scenario"):
            instance = apply_scenario(instance, Path(spec["scenario"]))
        checked = allocator.validate(instance, previous=spec.get("previous"))
    return page_facts(instance, checked, previous=bool(spec.get("previous")))


def number_field(name: str, text: str | None, kind: type[float] | type[int]) -> Any:
    """An optional number from a form field; empty means the policy's value."""
    if text is None or not text.strip():
        return None
    try:
        value = kind(text.strip())
    except ValueError:
        raise refuse(name, f"expected a number, got {text.strip()[:20]!r}.") from None
    if kind is float and not TIME_LIMIT_MIN_S <= value <= TIME_LIMIT_MAX_S:
        # Also NaN, which no comparison holds for.
        raise refuse(
            name, f"expected seconds from {TIME_LIMIT_MIN_S:g} to {TIME_LIMIT_MAX_S:g}."
        )
    if kind is int and not 0 <= value < 2**31:
        raise refuse(name, "expected a whole number from 0 to 2147483647.")
    return value


def place_previous(
    upload: UploadFile | None, folder: Path, settings: Settings, names: Uploaded
) -> str | None:
    """Last week's solution: a zip of its folder, or allocation.xlsx."""
    if upload is None or not upload.filename:
        return None
    name = safe_name(upload.filename)
    target = folder / "previous"
    target.mkdir()
    names.add(target, name)
    if name.lower().endswith(".zip"):
        archive = folder / "previous.zip"
        save_stream(upload.file, archive, settings.upload_bytes, name)
        # Under the zip's own name, so that a message about a plan zipped
        # without its folder names "w1/assignments.csv" for w1.zip.
        inside = target / (name[:-4] or "previous")
        inside.mkdir()
        extract_zip(archive, inside, settings.limits, name)
        archive.unlink()
        return str(folder_holding(inside, "assignments.csv", name))
    if name.lower().endswith(".xlsx"):
        path = target / name
        save_stream(upload.file, path, settings.upload_bytes, name)
        check_workbook(path, settings.limits, name)
        return str(path)
    raise refuse(name, "expected last week's solution as a .zip or allocation.xlsx.")


def place_scenario(
    upload: UploadFile | None, folder: Path, settings: Settings, names: Uploaded
) -> str | None:
    if upload is None or not upload.filename:
        return None
    name = safe_name(upload.filename)
    if not name.lower().endswith(".toml"):
        raise refuse(name, "expected a scenario file (.toml).")
    target = folder / "scenario"
    target.mkdir()
    names.add(target / name, name)
    save_stream(upload.file, target / name, settings.upload_bytes, name)
    return str(target / name)
