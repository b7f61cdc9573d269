"""The example tutoring app through Starlette's test client (fast), and in headless Chromium (slow)."""

import json
import shutil
import socket
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


def test_stream_sends_started_text_and_solution():
    with TestClient(create_app(fake_solver())) as client:
        response = client.get("/api/stream", params={"problem": "What is 2^3 mod 7?", "budget_s": 5})
        events = sse(response.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "started" and kinds[-1] == "solution" and "text" in kinds
    assert events[-1][1]["answer"] == "1"


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


@pytest.mark.slow
def test_a_student_watches_the_answer_stream_in_a_real_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    uvicorn = pytest.importorskip("uvicorn")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("needs Debian's chromium")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(fake_solver()), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.fill("#problem", "What is 2^3 mod 7?")
            page.click("#go")
            page.wait_for_function("document.getElementById('answer').textContent === '1'", timeout=15000)
            reasoning = page.text_content("#reasoning")
            status = page.text_content("#status")
            page.screenshot(path=str(tmp_path / "tutor.png"))
            browser.close()
        assert "8 = 1 (mod 7)" in reasoning and status.startswith("Done in")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
