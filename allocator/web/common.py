"""What the page's routes share: headers, rejections, uploaded names, settings.

``app.py`` (the solve routes) and ``comparisons.py`` (the comparison
routes) both answer with these, so they live below both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi import UploadFile
from fastapi.responses import JSONResponse

from allocator.errors import InputProblem
from allocator.web.jobs import problem_dict
from allocator.web.schemas import Rejected
from allocator.web.uploads import (
    Limits,
    check_workbook,
    extract_zip,
    folder_holding,
    refuse,
    safe_name,
    save_stream,
)

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
    """The contract's rejection: ``{"errors": [...]}``; a row 0 (a lock given
    on the page, which has no row) is sent as null."""
    errors = [problem_dict(p) | {"row": p.row or None} for p in problems]
    body = Rejected.model_validate({"errors": errors})
    return JSONResponse(body.model_dump(), status_code=status)


def one_problem(file: str, message: str, status: int = 400) -> JSONResponse:
    return rejected([InputProblem(file, None, None, message)], status)


class Uploaded:
    """Server paths of a job's folder and the names the user gave them.

    Messages from the readers name files by their place on disk where they
    know no better; before an answer leaves, every such path becomes the
    uploaded name, so no answer shows where the server keeps its files.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: dict[str, str] = {}
        self.add(folder / "input", "upload")
        self.add(folder, "upload")

    def add(self, path: Path, name: str) -> None:
        for text in {str(path), str(path.resolve())}:
            self.names[text] = name

    def scrub(self, text: str) -> str:
        for path in sorted(self.names, key=len, reverse=True):
            text = text.replace(path + "/", self.names[path] + ": ")
            text = text.replace(path, self.names[path])
        return text

    def problems(self, problems: list[InputProblem]) -> list[InputProblem]:
        return [
            InputProblem(
                self.scrub(p.file), p.row, p.column and self.scrub(p.column),
                self.scrub(p.message),
            )
            for p in problems
        ]  # fmt: skip


def place_instance(
    files: list[UploadFile], folder: Path, settings: Settings, uploaded: Uploaded
) -> Path:
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
        uploaded.add(target, names[0])
    else:
        if len(set(names)) < len(names):
            raise refuse("upload", "the same file name was sent twice.")
        for upload, name in zip(files, names, strict=True):
            save_stream(upload.file, target / name, settings.upload_bytes, name)
        instance = target
    for workbook in instance.rglob("*.xlsx"):
        check_workbook(workbook, settings.limits, workbook.name)
    return instance
