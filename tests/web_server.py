"""A real ``allocator serve`` server on a free port, for the web tests."""

from __future__ import annotations

import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from allocator.web.app import Settings, create_app
from allocator.web.jobs import FINISHED, JobManager

REPO = Path(__file__).resolve().parents[1]
INSTANCES = REPO / "instances"


@dataclass
class Server:
    url: str
    jobs: JobManager
    settings: Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_server(settings: Settings) -> Iterator[Server]:
    """uvicorn in a thread; the app's lifespan starts and stops the jobs."""
    app = create_app(settings)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield Server(f"http://127.0.0.1:{port}", app.state.jobs, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def zip_folder(folder: Path, prefix: str | None = None) -> bytes:
    """The folder as a zip, its files under ``prefix/`` (default its name)."""
    buffer = io.BytesIO()
    top = folder.name if prefix is None else prefix
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(folder).as_posix()
                archive.write(path, f"{top}/{name}" if top else name)
    return buffer.getvalue()


def wait(
    client: httpx.Client, job_id: str, timeout: float = 180, until: set[str] = FINISHED
) -> dict[str, Any]:
    """Poll a job until its status is one of ``until``."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in until:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']}"
        time.sleep(0.25)
