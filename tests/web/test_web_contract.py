"""The web API's contract, at its edges.

Every rejection is 400 (413 for size) with ``{"errors": [{"file", "row",
"column", "message"}]}`` before a job is queued; ``file`` is the uploaded
name, never a path on the server; a refused submission leaves nothing on
disk; no bad input gets a 500 (a fuzz test over the fields and uploads).
Every answer carries a Content-Security-Policy that forbids other hosts,
``nosniff`` and a referrer policy; /docs and /redoc are off.

The cases upload-long-name-500-orphan, web-api-rejections-outside-contract,
docs-page-loads-cdn-scripts and web-table-empty-semicolon-csv, each with its
value, and more inputs of their kinds. In-process (the application behind
an HTTP client without a socket); the jobs still run in their own processes.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allocator.errors import InputProblem
from allocator.web.app import Settings, Uploaded, create_app
from tests.web_server import INSTANCES, zip_folder

CASES = Path(__file__).parents[1] / "data" / "cases"
TINY = INSTANCES / "tiny"
LIMIT_MB = 1.0


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("contract")


@pytest.fixture(scope="module")
def client(workdir: Path) -> Iterator[TestClient]:
    config = Settings(
        workdir=workdir, max_upload_mb=LIMIT_MB, slots=1, extra_hosts=["testserver"]
    )
    with TestClient(create_app(config), raise_server_exceptions=False) as http:
        yield http


def wait_done(client: TestClient, job_id: str, timeout: float = 120) -> dict:
    """Poll until the job has finished (a deadline, not a guess at speed)."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in {"done", "stopped", "failed"}:
            return job
        assert time.monotonic() < deadline, job["status"]
        time.sleep(0.1)


@pytest.fixture(scope="module")
def done_job(client: TestClient) -> str:
    answer = client.post(
        "/api/jobs", files={"files": ("tiny.zip", zip_folder(TINY))},
        data={"time_limit": "2"},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    job = wait_done(client, answer.json()["id"])
    assert job["status"] == "done", job
    return str(job["id"])


def folders(workdir: Path) -> set[str]:
    return {p.name for p in workdir.iterdir()}


def assert_rejected(answer: Any, workdir: Path | None = None) -> list[dict]:
    """The contract's rejection: 400/413, located errors, no server path, no
    row 0, no command-line flag."""
    assert answer.status_code in (400, 413), (answer.status_code, answer.text)
    errors = answer.json()["errors"]
    assert errors and isinstance(errors, list)
    for error in errors:
        assert set(error) == {"file", "row", "column", "message"}
        assert isinstance(error["file"], str) and isinstance(error["message"], str)
        assert error["row"] != 0
        assert not re.search(r"--[a-z]", error["message"]), error
        text = json.dumps(error)
        assert "/tmp" not in text and "contract" not in text, error
        if workdir is not None:
            assert str(workdir) not in text
    return errors


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tiny_entries(prefix: str = "tiny/") -> dict[str, bytes]:
    return {
        prefix + p.name: p.read_bytes()
        for p in sorted(TINY.iterdir())
        if p.suffix in {".csv", ".toml"}
    }


# --- upload-long-name-500-orphan ---------------------------------------------


def test_case_names_too_long_for_the_file_system_are_400_and_leave_nothing(
    client: TestClient, workdir: Path
) -> None:
    before = folders(workdir)
    files = [("files", (p.name, p.read_bytes())) for p in sorted(TINY.iterdir())
             if p.suffix in {".csv", ".toml"}]  # fmt: skip
    long_file = [*files, ("files", ("a" * 300 + ".csv", b"x"))]
    long_entry = zip_of(tiny_entries() | {"tiny/" + "a" * 300 + ".txt": b"x"})
    deep_entry = zip_of(tiny_entries() | {"tiny/" + "d/" * 2000 + "x.txt": b"x"})
    # More of the kind: 130 two-byte letters (260 bytes), an entry both a
    # file and a folder, a deep folder of short names.
    wide = [*files, ("files", ("ø" * 130 + ".csv", b"x"))]
    clash = zip_of(tiny_entries() | {"tiny/x": b"1", "tiny/x/y.txt": b"2"})
    nested = zip_of(tiny_entries() | {"tiny/" + "d/" * 40 + "x.txt": b"x"})
    for sent in (long_file, wide):
        errors = assert_rejected(client.post("/api/jobs", files=sent), workdir)
        assert "at most 255 bytes" in errors[0]["message"]
        assert len(errors[0]["file"]) <= 60
    for data in (long_entry, deep_entry, clash, nested):
        answer = client.post("/api/jobs", files={"files": ("inst.zip", data)})
        errors = assert_rejected(answer, workdir)
        assert errors[0]["file"] == "inst.zip"
    assert folders(workdir) == before


# --- web-api-rejections-outside-contract ---------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"time_limit": NaN}',  # the case's three bodies
        b'{"time_limit": 0.001}',
        b'{"fix": [{"user": "u4", "advisor": "a1"}]}',
        b'{"time_limit": Infinity}',  # more of the kind
        b'{"time_limit": -Infinity}',
        b'{"time_limit": 1e400}',
        b'{"time_limit": 3601}',
        b'{"seed": 2147483648}',
        b'{"seed": 1.5}',
        b'{"fix": [{"user": "u4"}]}',
        b'{"fix": [{"user": "' + b"u" * 300 + b'", "advisor": "a1"}]}',
        b'{"fix": [{"user": "nobody", "advisor": "a1"}]}',
        b'{"forbid": [{"user": "u1", "advisor": "a9"}]}',
        b'{"fix": "u4"}',
        b"[1, 2]",
        b"not json",
        b"",
    ],
)
def test_case_lock_requests_outside_the_contract_are_400(
    client: TestClient, workdir: Path, done_job: str, body: bytes
) -> None:
    before = folders(workdir)
    answer = client.post(
        f"/api/jobs/{done_job}/locks",
        content=body,
        headers={"content-type": "application/json"},
    )
    errors = assert_rejected(answer, workdir)
    if b"NaN" in body or b"0.001" in body:
        assert errors[0]["file"] == "time_limit"
    if b'"u4", "advisor": "a1"' in body:
        assert errors[0]["file"] == "fix" and errors[0]["row"] is None
        assert "cannot hold" in errors[0]["message"]
    assert folders(workdir) == before


def test_a_lock_that_holds_is_accepted(client: TestClient, done_job: str) -> None:
    """The other side: the rejections above are not a route that refuses all."""
    answer = client.post(
        f"/api/jobs/{done_job}/locks", json={"fix": [{"user": "u5", "advisor": "a3"}],
                                             "time_limit": 0.5},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    assert wait_done(client, answer.json()["id"])["status"] == "done"


def previous_uploads() -> list[tuple[str, bytes]]:
    broken = (CASES / "web-api-rejections-outside-contract" / "broken-allocation.xlsx")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "assignments"
    sheet.append(["user", "advisor", "lock"])
    sheet.append(["u3", "a2", '=IF(TRUE,"fix","")'])
    formula = io.BytesIO()
    book.save(formula)
    headless = openpyxl.Workbook()
    headless.active.title = "assignments"
    headless.active.append(["u3", "a2", "", "a2"])
    no_header = io.BytesIO()
    headless.save(no_header)
    return [
        ("broken-allocation.xlsx", broken.read_bytes()),  # the case's file
        ("allocation.xlsx", formula.getvalue()),
        ("allocation.xlsx", no_header.getvalue()),
        ("w1.zip", zip_of({"w1/summary.json": b"{}"})),
        ("w1.zip", zip_of({"assignments.csv": b"user,advisor\nu1,a1\nu1,a2\n"})),
        ("w1.csv", b"user,advisor\n"),
    ]


@pytest.mark.parametrize("name, data", previous_uploads())
def test_case_a_previous_that_cannot_be_read_is_400(
    client: TestClient, workdir: Path, name: str, data: bytes
) -> None:
    before = folders(workdir)
    answer = client.post(
        "/api/jobs",
        files={"files": ("tiny.zip", zip_folder(TINY)), "previous": (name, data)},
    )
    errors = assert_rejected(answer, workdir)
    assert errors[0]["file"].startswith(name.removesuffix(".zip")), errors
    assert folders(workdir) == before


def test_case_a_request_without_files_is_400(client: TestClient, workdir: Path) -> None:
    before = folders(workdir)
    errors = assert_rejected(client.post("/api/jobs"), workdir)
    assert errors[0]["file"] == "files"
    for fields in ({"time_limit": "nan"}, {"time_limit": "0.001"}, {"seed": "-1"}):
        answer = client.post(
            "/api/jobs", files={"files": ("tiny.zip", zip_folder(TINY))}, data=fields
        )
        assert assert_rejected(answer, workdir)[0]["file"] == next(iter(fields))
    assert folders(workdir) == before


def test_a_server_path_never_reaches_an_answer(
    client: TestClient, workdir: Path, tmp_path: Path
) -> None:
    """Problems naming a path on the server name the upload instead."""
    data = zip_of({"x/users.csv": b"id\n"})
    errors = assert_rejected(
        client.post("/api/jobs", files={"files": ("mine.zip", data)}), workdir
    )
    assert {e["file"] for e in errors} >= {"instance.toml"}
    names = Uploaded(tmp_path)
    names.add(tmp_path / "input", "mine.zip")
    problem = InputProblem(str(tmp_path / "input" / "x"), None, None,
                           f"expected {tmp_path / 'input'} to hold it.")
    scrubbed = names.problems([problem])[0]
    assert scrubbed.file == "mine.zip: x"
    assert scrubbed.message == "expected mine.zip to hold it."


def test_a_rejected_scenario_is_named_by_its_uploaded_name(
    client: TestClient, workdir: Path
) -> None:
    answer = client.post(
        "/api/jobs",
        files={"files": ("tiny.zip", zip_folder(TINY)),
               "scenario": ("mine.toml", b"name = 3\n")},
    )  # fmt: skip
    errors = assert_rejected(answer, workdir)
    assert errors[0]["file"] == "mine.toml" and errors[0]["column"] == "name"


def test_framework_errors_take_the_contracts_shape(client: TestClient) -> None:
    for method, path, code in (
        ("GET", "/no/such/route", 404),
        ("DELETE", "/", 405),
        ("GET", "/api/jobs/0123", 404),
        ("GET", "/static/none.js", 404),
    ):
        answer = client.request(method, path)
        assert answer.status_code == code, path
        assert answer.json()["errors"][0]["message"], path


def test_stale_job_folders_are_removed_when_the_server_starts(tmp_path: Path) -> None:
    orphan = tmp_path / ("ab" * 16)
    (orphan / "input").mkdir(parents=True)
    (orphan / "input" / "users.csv").write_text("id\n")
    kept = tmp_path / "notes"
    kept.mkdir()
    config = Settings(workdir=tmp_path, extra_hosts=["testserver"], slots=1)
    with TestClient(create_app(config)):
        assert not orphan.exists()
        assert kept.exists()


# --- web-table-empty-semicolon-csv ----------------------------------------------


def test_case_a_semicolon_solution_is_read_in_its_own_dialect(
    client: TestClient,
) -> None:
    folder = CASES / "web-table-empty-semicolon-csv" / "tiny-semicolon"
    answer = client.post(
        "/api/jobs", files={"files": ("semi.zip", zip_folder(folder))},
        data={"time_limit": "2"},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    job = wait_done(client, answer.json()["id"])
    assert job["status"] == "done"
    for name in (f for f in job["files"] if f.endswith(".csv")):
        table = client.get(f"/api/jobs/{job['id']}/rows/{name}").json()
        assert len(table["columns"]) >= 2 and not any(";" in c for c in table["columns"])
    table = client.get(f"/api/jobs/{job['id']}/rows/assignments.csv").json()
    users = [row[table["columns"].index("user")] for row in table["rows"]]
    assert sorted(users) == [f"u{n}" for n in range(1, 8)]


# --- docs-page-loads-cdn-scripts: headers on every route ------------------------

OTHER_HOST = re.compile(r"(?:https?:|[\"'(=])//([A-Za-z0-9.-]+)")


def assert_safe_headers(answer: Any, path: str) -> None:
    policy = answer.headers.get("content-security-policy", "")
    assert policy, path
    for token in policy.replace(";", " ").split():
        token = token.strip("'\"")
        wide = token in {"*", "http:", "https:"} or "." in token or "*" in token
        assert not wide, (path, token)
    assert "default-src" in policy or "sandbox" in policy, path
    assert answer.headers.get("x-content-type-options") == "nosniff", path
    assert answer.headers.get("referrer-policy") == "no-referrer", path
    if "html" in answer.headers.get("content-type", ""):
        hosts = set(OTHER_HOST.findall(answer.text)) - {"www.w3.org"}
        assert not hosts, (path, hosts)


def test_every_route_answers_with_safe_headers_and_no_hosted_docs(
    client: TestClient, done_job: str
) -> None:
    app = client.app
    job = client.get(f"/api/jobs/{done_job}").json()
    values = {"job_id": done_job, "name": "assignments.csv"}
    walked = 0
    for route in app.routes:  # type: ignore[attr-defined]
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or {"GET"}
        concrete = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "x"), path)
        if path == "/static":
            concrete = "/static/app.js"
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            answer = client.request(method, concrete)
            assert answer.status_code != 500, (method, concrete)
            assert_safe_headers(answer, f"{method} {concrete}")
            walked += 1
    assert walked >= 8
    for name in job["files"]:
        answer = client.get(f"/api/jobs/{done_job}/files/{name}", params={"inline": 1})
        assert_safe_headers(answer, name)
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert_safe_headers(answer, path)
    assert client.get("/openapi.json").status_code == 200
    # The guard's own answers (another host, another site, too large) too.
    assert_safe_headers(client.get("/", headers={"host": "evil.example"}), "421")
    refused = client.post("/api/jobs", headers={"origin": "https://evil.example"})
    assert refused.status_code == 403
    assert_safe_headers(refused, "403")
    big = client.post("/api/jobs", files={"files": ("a.zip", b"0" * 1_100_000)})
    assert big.status_code == 413
    assert_safe_headers(big, "413")
    assert big.json()["errors"][0]["file"] == "upload"


# --- no 500 from any input: a fuzz test over the fields and uploads --------------

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e999", "0x10", "1_000", "٣", " ", ""]),
    st.text(max_size=30),
)
NAMES = st.one_of(
    st.text(max_size=40),
    st.text(min_size=200, max_size=400),
    st.sampled_from(["../x.csv", "/etc/passwd", "a\\b.zip", "a\x00b", ".", "..",
                     "con.zip", "users.csv", "x.xlsx", "p.zip", "s.toml"]),
)  # fmt: skip
CONTENT = st.one_of(
    st.binary(max_size=200),
    st.just(zip_folder(TINY)),
    st.just(zip_of({"a" * 300: b"x"})),
    st.builds(lambda n: zip_of({"d/" * n + "x": b"x"}), st.integers(0, 3000)),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
LOCK_BODY = st.fixed_dictionaries(
    {},
    optional={
        "time_limit": JSON,
        "seed": JSON,
        "fix": st.lists(st.fixed_dictionaries(
            {"user": st.text(max_size=8) | st.sampled_from(["u1", "u4"]),
             "advisor": st.text(max_size=8) | st.sampled_from(["a1", "a3"])}),
            max_size=3) | JSON,
        "forbid": JSON,
        "unlock": JSON,
    },
)  # fmt: skip


def assert_contract(answer: Any) -> None:
    assert answer.status_code != 500, answer.text[:500]
    if answer.status_code >= 400:
        errors = answer.json()["errors"]
        assert errors and all(isinstance(e["file"], str) for e in errors)


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    uploads=st.lists(st.tuples(NAMES, CONTENT), min_size=0, max_size=3),
    time_limit=st.none() | NUMBERS,
    seed=st.none() | NUMBERS,
    previous=st.none() | st.tuples(NAMES, CONTENT),
    scenario=st.none() | st.tuples(NAMES, st.binary(max_size=100)),
)
def test_fuzz_submissions_never_get_a_500_and_leave_nothing_when_refused(
    client: TestClient,
    workdir: Path,
    uploads: list[tuple[str, bytes]],
    time_limit: str | None,
    seed: str | None,
    previous: tuple[str, bytes] | None,
    scenario: tuple[str, bytes] | None,
) -> None:
    files: list[tuple[str, tuple[str, bytes]]] = [("files", u) for u in uploads]
    if previous is not None:
        files.append(("previous", previous))
    if scenario is not None:
        files.append(("scenario", scenario))
    data = {k: v for k, v in {"time_limit": time_limit, "seed": seed}.items()
            if v is not None}  # fmt: skip
    before = folders(workdir)
    try:
        answer = client.post("/api/jobs", files=files or None, data=data)
    except UnicodeEncodeError:
        return  # a name no HTTP client can send (lone surrogates)
    assert_contract(answer)
    if answer.status_code == 202:
        client.delete(f"/api/jobs/{answer.json()['id']}")
    else:
        assert folders(workdir) == before


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(body=LOCK_BODY | JSON)
def test_fuzz_lock_requests_never_get_a_500(
    client: TestClient, workdir: Path, done_job: str, body: Any
) -> None:
    before = folders(workdir)
    text = json.dumps(body)  # NaN and Infinity as Python writes them
    answer = client.post(
        f"/api/jobs/{done_job}/locks",
        content=text.encode(),
        headers={"content-type": "application/json"},
    )
    assert_contract(answer)
    if answer.status_code == 202:
        client.delete(f"/api/jobs/{answer.json()['id']}")
    else:
        assert folders(workdir) == before
