"""The example tutoring app through Starlette's test client (the page in a browser: test_page_browser.py)."""

import json
import threading
import time

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from examples.tutoring_app.app import create_app  # noqa: E402
from m1reason.generator.fake import FakeCompletion, FakeGenerator  # noqa: E402
from m1reason.serving import AsyncSolver  # noqa: E402


def fake_solver(**options):
    handler = lambda request, i: FakeCompletion("2^3 = 8, and 8 = 1 (mod 7). </think> $\\boxed{1}$", steps=6)
    return lambda: AsyncSolver(FakeGenerator(handler, real_time=True, step_s=0.005), **options)


def sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def test_json_api_solves_checks_and_reports_health():
    with TestClient(create_app(fake_solver())) as client:
        solved = client.post("/api/solve", json={"problem": "What is 2^3 mod 7?", "budget_s": 5})
        assert solved.status_code == 200 and solved.json()["answer"] == "1"
        assert client.post("/api/check", json={"candidate": "1/2", "gold": "0.5"}).json() == {"equivalent": True}
        assert client.post("/api/solve", json={"problem": ""}).status_code == 400
        assert client.get("/api/health").json()["ok"] is True
        assert "<textarea" in client.get("/").text


def test_stream_sends_started_the_followed_samples_text_and_solution():
    with TestClient(create_app(fake_solver())) as client:
        response = client.get("/api/stream", params={"problem": "What is 2^3 mod 7?", "budget_s": 5})
        events = sse(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "started" and kinds[1] == "lead" and kinds[-1] == "solution"
    assert events[-1][1]["answer"] == "1" and events[-1][1]["shown_samples"]


def test_a_full_queue_answers_429_with_retry_after():
    slow = lambda: AsyncSolver(FakeGenerator(lambda r, i: FakeCompletion("</think> \\boxed{1}", steps=30),
                                             real_time=True, step_s=0.01), max_active=1, max_queue=0)
    with TestClient(create_app(slow)) as client:
        first = threading.Thread(target=client.post, args=("/api/solve",), kwargs={"json": {"problem": "a"}})
        first.start()
        time.sleep(0.1)
        busy = client.post("/api/solve", json={"problem": "b"})
        first.join()
    assert busy.status_code == 429 and int(busy.headers["Retry-After"]) >= 1


def test_health_is_503_once_the_engine_has_failed():
    class Failed(AsyncSolver):
        def stats(self):
            return {**super().stats(), "ok": False, "error": "the engine failed (AssertionError)"}

    generator = FakeGenerator(lambda request, i: FakeCompletion("</think> $\\boxed{1}$"))
    with TestClient(create_app(lambda: Failed(generator))) as client:
        health = client.get("/api/health")
    assert health.status_code == 503 and health.json()["ok"] is False and "engine failed" in health.json()["error"]
