"""What the leader's page shows beside the solution's files.

The solution's CSV files hold ids (scripts depend on them); a leader reads
names. When a job is accepted, the instance it will solve has already been
read and checked (app.py ``validate``), so its names, and what was read from
last week's plan, are kept in the job's spec.json under ``page`` and served
by ``GET /api/jobs/{id}/page``. Names are the office's own (advisors, teams,
municipalities), never users'.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from allocator.domain import Instance
from allocator.web.jobs import JobManager, read_json
from allocator.web.schemas import Rejected


def page_facts(instance: Instance, checked: Instance, previous: bool) -> dict[str, Any]:
    """Names by id, and the locks read from last week's plan.

    ``instance`` is the instance as read (with the page's locks), ``checked``
    the same as the search sees it (``allocator.validate``: with the locks of
    an edited allocation.xlsx). ``previous`` says whether a plan was given;
    its locks are those it adds (a pair locks.csv holds too counts once).
    Returns ``{"advisors": {id: name}, "teams": {...}, "municipalities":
    {...}, "previous": {"locks": n} | None}``.
    """
    return {
        "advisors": {a.id: a.name for a in checked.advisors if a.name},
        "teams": {t.id: t.name for t in checked.teams if t.name},
        "municipalities": {m.id: m.name for m in checked.municipalities if m.name},
        "previous": (
            {"locks": max(0, len(checked.locks) - len(instance.locks))}
            if previous
            else None
        ),
    }


def install(app: FastAPI, jobs: JobManager) -> None:
    """Add ``GET /api/jobs/{id}/page`` to ``app``."""

    @app.get("/api/jobs/{job_id}/page")
    def page_facts_of(job_id: str) -> Response:
        """Names by id and what was read from last week's plan, for the page."""
        job = jobs.get(job_id)
        if job is None:
            missing = {"file": "request", "message": "no such job or file."}
            body = Rejected.model_validate({"errors": [missing]}).model_dump()
            return JSONResponse(body, status_code=404)
        spec = read_json(job.folder / "spec.json") or {}
        empty: dict[str, Any] = {
            "advisors": {},
            "teams": {},
            "municipalities": {},
            "previous": None,
        }
        return JSONResponse(spec.get("page") or empty)
