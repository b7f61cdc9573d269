"""The example app against hostile input: size limits enforced before reading or tokenizing, refusals with an
explicit status and a message naming the limit, never a 500 or a Python internal for client input."""

import asyncio
import doctest
import json
import random

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

import examples.tutoring_app.app as app_module  # noqa: E402
from examples.tutoring_app.app import Limits, create_app  # noqa: E402
from m1reason.answers import MAX_ANSWER_CHARS  # noqa: E402
from m1reason.errors import CapacityError, ConfigError  # noqa: E402
from m1reason.generator.fake import FakeCompletion, FakeGenerator  # noqa: E402
from m1reason.serving import AsyncSolver  # noqa: E402
from m1reason.serving.events import Started  # noqa: E402
from tests.serving.test_app import sse  # noqa: E402

SMALL = Limits(max_body_bytes=2_000, max_problem_chars=300)
# What a client must never see in a 4xx message: reprs, class names, tracebacks, converters' complaints.
INTERNALS = ("Traceback", "object has no attribute", "NoneType", "<class", "float()", "int()", "Error:", "m1reason.",
             "starlette", "pydantic", "errors.pydantic.dev")


def recording_solver(seen: list):
    """A fast scripted solver that records every prompt its generator is given (so a test can see that a
    refused problem never reached the tokenizer)."""

    def handler(request, i):
        seen.append(request.prompt)
        return FakeCompletion("2 + 2 = 4 </think> $\\boxed{4}$", steps=2)

    return lambda: AsyncSolver(FakeGenerator(handler))


class StubSolver:
    """An AsyncSolver stand-in whose solve and stream fail with ``error`` (stream after its Started event)."""

    def __init__(self, error: Exception):
        self.error = error

    async def start(self):
        pass

    async def aclose(self, grace_s=None):
        pass

    async def solve(self, problem, **options):
        raise self.error

    async def stream(self, problem, **options):
        yield Started(queued_s=0.0)
        raise self.error

    def stats(self):
        return {"active": 0, "queued": 0, "occupancy": None}


def refusal(response, status: int) -> str:
    """The error message of a refusal, after checking its status is ``status`` in the line and the body."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and isinstance(body["error"], str) and body["error"]
    assert not any(word in body["error"] for word in INTERNALS), body["error"]
    return body["error"]


def asgi_post(app, headers: dict, chunks: list[bytes]) -> tuple[dict, int]:
    """POST /api/solve straight through ASGI, the body in ``chunks``; returns the response start message and
    how many body bytes the app pulled."""
    pulled = 0
    sent = []

    async def receive():
        nonlocal pulled
        if pulled // len(chunks[0]) < len(chunks):
            chunk = chunks[pulled // len(chunks[0])]
            pulled += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": pulled < len(chunks) * len(chunks[0])}
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/solve", "raw_path": b"/api/solve", "root_path": "", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return {**start, "json": json.loads(body)}, pulled


# ---- body and problem size ---------------------------------------------------------------------------------------
def test_a_declared_oversize_body_is_refused_before_any_of_it_is_read():
    app = create_app(recording_solver([]), limits=SMALL)
    chunks = [b"x" * 1_000] * 4_000  # 4 MB
    start, pulled = asgi_post(app, {"content-type": "application/json", "content-length": str(4_000_000)}, chunks)
    assert start["status"] == 413 and "2000 bytes" in start["json"]["error"] and start["json"]["status"] == 413
    assert pulled == 0


def test_a_streamed_oversize_body_is_read_only_up_to_the_limit():
    app = create_app(recording_solver([]), limits=SMALL)
    chunks = [b"x" * 1_000] * 4_000  # chunked: no Content-Length to go by
    start, pulled = asgi_post(app, {"content-type": "application/json"}, chunks)
    assert start["status"] == 413 and "2000 bytes" in start["json"]["error"]
    assert pulled <= SMALL.max_body_bytes + 1_000


def test_a_content_length_that_is_not_a_number_is_refused():
    app = create_app(recording_solver([]), limits=SMALL)
    start, pulled = asgi_post(app, {"content-length": "12abc"}, [b"{}"])
    assert start["status"] == 400 and "Content-Length" in start["json"]["error"] and pulled == 0


def test_a_problem_over_the_limit_is_refused_before_it_is_tokenized():
    seen = []
    with TestClient(create_app(recording_solver(seen), limits=SMALL)) as client:
        long = "1 + " * 75 + "1"  # 301 characters
        message = refusal(client.post("/api/solve", json={"problem": long, "budget_s": 5}), 413)
        assert "300 characters" in message and "301" in message and "problem" in message
        message = refusal(client.get("/api/stream", params={"problem": long, "budget_s": 5}), 413)
        assert "300 characters" in message
        assert seen == []
        at_limit = long[:300]
        assert client.post("/api/solve", json={"problem": at_limit, "budget_s": 5}).status_code == 200
        assert any(at_limit in prompt for prompt in seen)


def test_the_problem_limit_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("M1REASON_MAX_PROBLEM_CHARS", "10")
    monkeypatch.setenv("M1REASON_MAX_BODY_BYTES", "4096")
    assert Limits.from_env() == Limits(max_problem_chars=10, max_body_bytes=4096)
    with TestClient(create_app(recording_solver([]))) as client:
        assert "10 characters" in refusal(client.post("/api/solve", json={"problem": "What is 2+2?"}), 413)


@pytest.mark.parametrize("value", ["many", "0", "-5", "1e3", ""])
def test_a_bad_limit_in_the_environment_names_the_variable(monkeypatch, value):
    monkeypatch.setenv("M1REASON_MAX_BODY_BYTES", value)
    with pytest.raises(ConfigError, match="M1REASON_MAX_BODY_BYTES"):
        Limits.from_env()


def test_check_refuses_answers_over_the_answer_limit_and_non_strings():
    with TestClient(create_app(recording_solver([]))) as client:
        too_long = "1" * (MAX_ANSWER_CHARS + 1)
        assert str(MAX_ANSWER_CHARS) in refusal(client.post("/api/check", json={"candidate": too_long, "gold": "1"}),
                                                413)
        assert "candidate" in refusal(client.post("/api/check", json={"candidate": {"a": 1}, "gold": "1"}), 400)
        assert "gold" in refusal(client.post("/api/check", json={"candidate": "1"}), 400)
        assert client.post("/api/check", json={"candidate": "1/2", "gold": "0.5"}).json() == {"equivalent": True}


# ---- capacity errors: 413 when waiting cannot help, 429 only with a number to wait --------------------------------
def test_a_prompt_that_does_not_fit_is_413_not_429():
    too_long = CapacityError("request 1a2b: prompt of 900 tokens does not fit max_len 512")
    with TestClient(create_app(lambda: StubSolver(too_long))) as client:
        response = client.post("/api/solve", json={"problem": "What is 2 + 2?"})
        assert "max_len 512" in refusal(response, 413) and "Retry-After" not in response.headers
        events = sse(client.get("/api/stream", params={"problem": "What is 2 + 2?"}).text)
    kind, data = events[-1]
    assert kind == "error" and data["status"] == 413 and "max_len 512" in data["error"]


def test_a_prompt_the_real_engine_cannot_fit_is_413_and_the_next_student_is_still_served(tiny):
    """Under the character limit but over the engine's max_len (256 tokens): the engine's own refusal."""
    with TestClient(create_app(lambda: AsyncSolver(tiny))) as client:
        long = "1 + " * 200 + "1"
        message = refusal(client.post("/api/solve", json={"problem": long, "budget_s": 5}), 413)
        assert "does not fit max_len 256" in message
        kind, data = sse(client.get("/api/stream", params={"problem": long, "budget_s": 5}).text)[-1]
        assert kind == "error" and data["status"] == 413 and "max_len 256" in data["error"]
        assert client.post("/api/solve", json={"problem": "What is 2 + 3?", "budget_s": 5}).status_code == 200


def test_busy_is_429_with_a_retry_after_header_and_number_in_json_and_in_the_stream():
    busy = CapacityError("busy: 8 requests already wait", retry_after_s=0.2)
    with TestClient(create_app(lambda: StubSolver(busy))) as client:
        response = client.post("/api/solve", json={"problem": "What is 2 + 2?"})
        refusal(response, 429)
        assert response.json()["retry_after_s"] == 0.2 and response.headers["Retry-After"] == "1"
        kind, data = sse(client.get("/api/stream", params={"problem": "What is 2 + 2?"}).text)[-1]
    assert kind == "error" and data["status"] == 429 and data["retry_after_s"] == 0.2


def test_a_refusal_while_shutting_down_is_503():
    with TestClient(create_app(lambda: StubSolver(CapacityError("the solver is shut down")))) as client:
        client.app.state.closing = True
        assert "shut down" in refusal(client.post("/api/solve", json={"problem": "What is 2 + 2?"}), 503)


def test_a_failure_inside_the_solver_is_a_500_that_shows_no_internals():
    with TestClient(create_app(lambda: StubSolver(RuntimeError("tensor a (3) must match tensor b (4)")))) as client:
        response = client.post("/api/solve", json={"problem": "What is 2 + 2?"})
        assert response.status_code == 500 and response.json()["status"] == 500
        assert "tensor" not in response.text and "RuntimeError" not in response.text
        kind, data = sse(client.get("/api/stream", params={"problem": "What is 2 + 2?"}).text)[-1]
    assert kind == "error" and data["status"] == 500 and "tensor" not in data["error"]


def test_a_bug_outside_the_solver_is_still_a_json_500():
    class Broken(StubSolver):
        async def solve(self, problem, **options):
            return object()  # no model_dump: the route itself fails

    with TestClient(create_app(lambda: Broken(None)), raise_server_exceptions=False) as client:
        response = client.post("/api/solve", json={"problem": "What is 2 + 2?"})
    assert response.status_code == 500 and response.json()["status"] == 500 and "model_dump" not in response.text


# ---- validation ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("budget", ["true", "false", '"abc"', '"5"', "NaN", "Infinity", "-Infinity", "-1", "0",
                                    "1e9", "121", "[3]", "null", "{}", "1" + "0" * 5000])
def test_budget_must_be_a_real_number_of_seconds_in_range(budget):
    with TestClient(create_app(recording_solver([]))) as client:
        response = client.post("/api/solve", content=f'{{"problem": "1 + 1", "budget_s": {budget}}}',
                               headers={"content-type": "application/json"})
        message = refusal(response, 400)
    assert "budget_s" in message or "JSON" in message


@pytest.mark.parametrize("budget", ["nan", "inf", "-inf", "true", "abc", "0", "1e9", ""])
def test_stream_budget_must_be_a_real_number_of_seconds_in_range(budget):
    with TestClient(create_app(recording_solver([]))) as client:
        assert "budget_s" in refusal(client.get("/api/stream", params={"problem": "1 + 1", "budget_s": budget}), 400)


@pytest.mark.parametrize("body, named", [
    (b'{"problem": ', "JSON"), (b"", "JSON"), (b"[1, 2, 3]", "object"), (b'"just a string"', "object"),
    (b"null", "object"), (b"42", "object"), (b"[" * 5000 + b"]" * 5000, "nested"),
    (b'{"problem": ' + b"[" * 900 + b"]" * 900 + b"}", "problem"), (b'{"problem": {"nested": [1, 2]}}', "problem"),
    (b'{"problem": "\\ud800 1+1"}', "surrogate"), (b'{"problem": "1+1", "strategy": 5}', "strategy"),
    (b'{"problem": "1+1", "strategy": "majority"}', "strategy"), (b"\xff\xfe not utf-8", "UTF-8"),
    (b'{"problem": "1+1", "budgt_s": 5}', "budgt_s"), (b'{"budget_s": 5}', "problem"),
    (b'{"problem": "   "}', "problem"), (b'{"problem": "1+1", "\\udfff": 1}', "unknown"),
])
def test_hostile_bodies_get_a_short_400_naming_what_is_wrong(body, named):
    with TestClient(create_app(recording_solver([]))) as client:
        response = client.post("/api/solve", content=body, headers={"content-type": "application/json"})
        assert named in refusal(response, 400)


def test_hostile_query_strings_get_a_400_naming_what_is_wrong():
    with TestClient(create_app(recording_solver([]))) as client:
        assert "problem" in refusal(client.get("/api/stream?problem=a&problem=b"), 400)
        assert "cache_buster" in refusal(client.get("/api/stream", params={"problem": "1+1", "cache_buster": 1}), 400)
        assert "problem" in refusal(client.get("/api/stream"), 400)


def test_an_over_long_tenant_is_refused():
    with TestClient(create_app(recording_solver([]))) as client:
        response = client.post("/api/solve", json={"problem": "1+1"}, headers={"X-Tenant": "t" * 1000})
        assert "X-Tenant" in refusal(response, 400)


def test_unknown_routes_and_methods_answer_json_with_a_status():
    with TestClient(create_app(recording_solver([]))) as client:
        refusal(client.get("/api/nothing"), 404)
        refusal(client.put("/api/solve", json={"problem": "1+1"}), 405)


def test_a_fuzz_of_hostile_bodies_never_gets_a_500_or_an_internal():
    rng = random.Random(27)
    valid = {"problem": "What is 2 + 2?", "budget_s": 5, "strategy": "sc"}
    junk = [None, True, -1, 0, 1e308, float("nan"), "", " ", "\ud800", "\udfff x", "x" * 400, [], {}, [[[]]],
            {"a": {"b": 1}}, "auto", 10 ** 30, -0.0, "\x00", "𝑥²"]
    with TestClient(create_app(recording_solver([]), limits=SMALL)) as client:
        for _ in range(400):
            route = rng.choice(["/api/solve", "/api/check"])
            body = dict(valid) if route == "/api/solve" else {"candidate": "1/2", "gold": "0.5"}
            for _ in range(rng.randint(1, 3)):
                body[rng.choice([*body] * 3 + ["extra"])] = rng.choice(junk)
            raw = json.dumps(body, allow_nan=True).encode()
            cut = rng.random()
            if cut < 0.2:
                raw = raw[: rng.randrange(len(raw) + 1)]
            elif cut < 0.3:
                raw = bytes(b ^ (1 << rng.randrange(8)) if rng.random() < 0.05 else b for b in raw)
            response = client.post(route, content=raw, headers={"content-type": "application/json"})
            assert response.status_code in (200, 400, 413), (raw, response.text)
            if response.status_code != 200:
                refusal(response, response.status_code)


def test_the_app_module_doctests_pass():
    results = doctest.testmod(app_module)
    assert results.attempted > 0 and results.failed == 0
