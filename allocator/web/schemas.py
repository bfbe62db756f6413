"""The JSON shapes of the API (pydantic models, in /openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# The time limits a job may ask for (seconds): the search's least, the page's most.
TIME_LIMIT_MIN_S = 0.1
TIME_LIMIT_MAX_S = 3600.0


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
    # The page's own limits (README "The JSON API"); NaN and infinities are
    # refused by the schema, so they never reach the solve or a 500.
    time_limit: float | None = Field(
        default=None, ge=TIME_LIMIT_MIN_S, le=TIME_LIMIT_MAX_S, allow_inf_nan=False
    )
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class Rows(BaseModel):
    """A CSV file of the solution as JSON, for the page's tables."""

    columns: list[str]
    rows: list[list[str]]


JobView.model_rebuild()
