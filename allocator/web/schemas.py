"""The JSON shapes of the API (pydantic models, shown in /docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    """One located input problem, as the command line prints it."""

    file: str
    row: int | None = None
    column: str | None = None
    message: str


class Rejected(BaseModel):
    """400: the input was rejected; nothing was queued."""

    errors: list[Problem]


class Accepted(BaseModel):
    """202: the job is queued."""

    id: str
    status: Literal["queued"] = "queued"


class Progress(BaseModel):
    elapsed_s: float | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None


class JobView(BaseModel):
    """GET /api/jobs/{id}."""

    id: str
    status: Literal["queued", "solving", "done", "stopped", "failed"]
    progress: Progress
    summary: dict[str, Any] | None = None
    files: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    error: str | None = None
    errors: list[Problem] = Field(default_factory=list)
    parent: str | None = None
    locks: list[LockPair] = Field(default_factory=list)


class Pair(BaseModel):
    user: str = Field(min_length=1, max_length=200)
    advisor: str = Field(min_length=1, max_length=200)


class LockPair(Pair):
    kind: Literal["fix", "forbid"]


class LockRequest(BaseModel):
    """POST /api/jobs/{id}/locks: the re-allocation's locks.

    The parent job's locks are kept, except for the users named in
    ``unlock``; ``fix`` and ``forbid`` add pairs (a new fix replaces the
    user's earlier fix).
    """

    fix: list[Pair] = Field(default_factory=list, max_length=10000)
    forbid: list[Pair] = Field(default_factory=list, max_length=10000)
    unlock: list[str] = Field(default_factory=list, max_length=10000)
    time_limit: float | None = Field(default=None, gt=0, le=3600)
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class Rows(BaseModel):
    """A CSV file of the solution as JSON, for the page's tables."""

    columns: list[str]
    rows: list[list[str]]


JobView.model_rebuild()
