"""The tutoring app's stream: a summary by default (the followed sample's text, rate-limited progress, the
solution with only the reasoning it shows), every sample's text with ``detail=samples``; and the static files."""

import json
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

from starlette.testclient import TestClient  # noqa: E402

from examples.tutoring_app.app import create_app  # noqa: E402
from examples.tutoring_app.summary import MAX_SHOWN, PROGRESS_EVERY_S, TEXT_EVERY_S, StreamFilter  # noqa: E402
from m1reason.generator.fake import FakeCompletion, FakeGenerator  # noqa: E402
from m1reason.serving import AsyncSolver, ProgressUpdate, SampleEnded, Started, TextDelta  # noqa: E402
from strategies.solution import Plan, SampleRecord, Solution, Vote  # noqa: E402
from tests.serving.test_app import sse  # noqa: E402

STATIC = Path(__file__).parents[2] / "examples" / "tutoring_app" / "static"
PROBLEM = {"problem": "Compute $\\frac{3}{4}+\\frac{1}{8}$", "budget_s": 10, "strategy": "sc"}


def reasoning(answer: str) -> str:
    return (f"<think>\nWrite $\\frac{{3}}{{4}} = \\frac{{6}}{{8}}$.\nAdd: $\\frac{{6}}{{8}} + \\frac{{1}}{{8}}$.\n"
            f"</think>\nThe sum is $\\boxed{{{answer}}}$.")


def first_one_wrong(request, i):
    """The sample that writes first (0) answers 1; all the others 7/8: the page must not show sample 0's text."""
    return FakeCompletion(reasoning("1" if i == 0 else "\\frac{7}{8}"), steps=20 + i)


def solver(handler=first_one_wrong):
    return lambda: AsyncSolver(FakeGenerator(handler, real_time=True, step_s=0.002))


def streamed(client, **params) -> tuple[list[tuple[str, dict]], int]:
    response = client.get("/api/stream", params={**PROBLEM, **params})
    assert response.status_code == 200, response.text
    return sse(response.text), len(response.content)


def lead_text(events) -> tuple[str, str]:
    """The followed sample and its text, as a client rebuilds them from ``lead`` and ``text`` events."""
    sample_id, text = None, ""
    for kind, data in events:
        if kind == "lead":
            sample_id, text = data["sample_id"], data["text"]
        elif kind == "text":
            assert data["sample_id"] == sample_id
            text += data["text"]
    return sample_id, text


# ---- through the app -------------------------------------------------------------------------------------------
def test_the_default_stream_is_a_summary_far_smaller_than_every_sample():
    with TestClient(create_app(solver())) as client:
        summary, summary_bytes = streamed(client)
        samples, samples_bytes = streamed(client, detail="samples")
    kinds = [kind for kind, _ in summary]
    assert kinds[0] == "started" and kinds[-1] == "solution" and kinds.count("started") == 1
    assert set(kinds) <= {"started", "lead", "text", "progress", "solution"}
    assert len(summary) * 5 < len(samples) and summary_bytes * 2 < samples_bytes
    solution = summary[-1][1]
    assert solution["answer"] == "\\frac{7}{8}" and len(solution["samples"]) == 8
    shown = solution["shown_samples"]
    assert len(shown) == MAX_SHOWN
    texts = {s["sample_id"]: s["text"] for s in solution["samples"]}
    assert all(texts[s] for s in shown) and not any(texts[s] for s in texts if s not in shown)
    Solution.model_validate({k: v for k, v in solution.items() if k != "shown_samples"})


def test_the_summary_follows_a_sample_that_gives_the_answer_not_the_first_to_write():
    with TestClient(create_app(solver())) as client:
        events, _ = streamed(client)
    leads = [data["sample_id"] for kind, data in events if kind == "lead"]
    assert leads[0].endswith("/0")  # sample 0 writes first, and its answer (1) loses
    sample_id, text = lead_text(events)
    solution = events[-1][1]
    winner = next(s for s in solution["samples"] if s["sample_id"] == solution["shown_samples"][0])
    assert sample_id != leads[0] and text == reasoning("\\frac{7}{8}")
    assert winner["answer"] == solution["answer"] and winner["text"].endswith("\\boxed{\\frac{7}{8}}$.")


def test_detail_samples_sends_every_samples_whole_text():
    with TestClient(create_app(solver())) as client:
        events, _ = streamed(client, detail="samples")
    texts: dict[str, str] = {}
    for kind, data in events:
        if kind == "text":
            texts[data["sample_id"]] = texts.get(data["sample_id"], "") + data["text"]
    solution = events[-1][1]
    assert [kind for kind, _ in events].count("sample") == 8 and len(texts) == 8
    assert texts == {s["sample_id"]: s["text"] for s in solution["samples"]}
    assert solution["shown_samples"][0].endswith("/1")  # the shortest of the agreeing samples, the first on a tie


def test_an_unknown_detail_is_refused_naming_the_choices():
    with TestClient(create_app(solver())) as client:
        response = client.get("/api/stream", params={**PROBLEM, "detail": "everything"})
    assert response.status_code == 400 and "detail must be one of summary, samples" in response.json()["error"]


def test_the_page_and_its_vendored_katex_are_served_from_the_app_with_nothing_fetched_elsewhere():
    with TestClient(create_app(solver())) as client:
        page = client.get("/").text
        for path in ("katex/katex.min.js", "katex/katex.min.css", "katex/contrib/auto-render.min.js", "tutor.js",
                     "tutor.css", "katex/fonts/KaTeX_Main-Regular.woff2"):
            assert client.get(f"/static/{path}").status_code == 200, path
        assert client.get("/static/nothing.js").json()["status"] == 404
    assert "/static/katex/katex.min.js" in page and "/static/tutor.js" in page
    css = (STATIC / "katex" / "katex.min.css").read_text()
    for own in (STATIC.parent / "index.html", STATIC / "tutor.js", STATIC / "tutor.css"):
        assert "://" not in own.read_text(), own
    assert "://" not in css
    fonts = {p.name for p in (STATIC / "katex" / "fonts").iterdir()}
    needed = {part.split(")")[0].removeprefix("fonts/") for part in css.split("url(")[1:] if ".woff2" in part}
    assert needed and needed <= fonts
    assert sum(p.stat().st_size for p in STATIC.rglob("*") if p.is_file()) < 1_500_000
    assert (STATIC / "katex" / "LICENSE").read_text().startswith("The MIT License")


# ---- the filter alone, on a clock the test sets --------------------------------------------------------------
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def progress(tally, finished=0):
    return ProgressUpdate(finished=finished, running=4 - finished, tokens=10, elapsed_s=0.1, tokens_per_s=100.0,
                          tally=tally)


def test_progress_is_sent_at_most_every_interval_and_always_the_latest():
    clock = Clock()
    f = StreamFilter(clock=clock)
    sent = []
    for step in range(10):
        clock.now = step * PROGRESS_EVERY_S / 4
        out = f.feed(progress([], finished=step))
        sent += [json.loads(data)["finished"] for kind, data in out if kind == "progress"]
    assert sent == [0, 4, 8]


def test_the_followed_samples_text_goes_out_in_chunks_and_other_samples_text_not_at_all():
    clock = Clock()
    f = StreamFilter(clock=clock)
    out = f.feed(Started(queued_s=0.0))
    for step in range(20):
        clock.now = step * TEXT_EVERY_S / 5
        out += f.feed(TextDelta(sample_id="r/0", text=f"{step % 10}"))
        out += f.feed(TextDelta(sample_id="r/1", text="x"))
    kinds = [kind for kind, _ in out]
    assert kinds[:2] == ["started", "lead"] and 2 <= kinds.count("text") <= 4
    assert all(json.loads(data)["sample_id"] == "r/0" for kind, data in out if kind in ("lead", "text"))
    sent = "".join(json.loads(data)["text"] for kind, data in out if kind in ("lead", "text"))
    assert "01234567890123456789".startswith(sent) and len(sent) >= 15


def test_a_lead_that_ended_without_the_leading_answer_gives_way_with_its_whole_text():
    f = StreamFilter(clock=Clock())
    for sample_id, text in (("r/0", "so \\boxed{1}"), ("r/1", "so \\boxed{2}"), ("r/2", "still going")):
        f.feed(TextDelta(sample_id=sample_id, text=text))
    assert f.feed(SampleEnded(sample_id="r/0", finish_reason="stop", num_tokens=5)) == []  # not counted yet
    f.feed(SampleEnded(sample_id="r/1", finish_reason="stop", num_tokens=5))
    out = f.feed(progress([("2", 1), ("1", 1)], finished=2))
    assert ("lead", json.dumps({"sample_id": "r/1", "text": "so \\boxed{2}"})) in out


def test_without_a_winner_the_solution_shows_the_followed_sample():
    f = StreamFilter(clock=Clock())
    f.feed(TextDelta(sample_id="r/1", text="thinking"))
    plan = Plan(strategy="SelfConsistency", n=2, max_new_tokens=8, reason="test")
    records = [SampleRecord(sample_id=f"r/{i}", answer=None, text=f"text {i}", num_tokens=4, finish_reason="length")
               for i in range(2)]
    kind, data = f.feed(Solution(problem="p", answer=None, confidence=0.0, samples=records, plan=plan))[-1]
    data = json.loads(data)
    assert kind == "solution" and data["shown_samples"] == ["r/1"]
    assert [s["text"] for s in data["samples"]] == ["", "text 1"]
    won = Solution(problem="p", answer="4", confidence=1.0, plan=plan, votes=[Vote(answer="4", count=1, weight=1.0,
                   sample_ids=["r/0"])], samples=[records[0].model_copy(update={"answer": "4"}), records[1]])
    assert StreamFilter(clock=Clock()).shown_samples(won) == ["r/0"]
