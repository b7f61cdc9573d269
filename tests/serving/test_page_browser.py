"""The tutoring page in headless Chromium (Debian's chromium, driven by Playwright) against the app on 127.0.0.1
with a scripted generator: math rendered by the vendored KaTeX, the reasoning of a sample that gives the answer
shown, the vote as bars, the "not sure" and error states. Saves a screenshot of each state to the folder in
$M1REASON_SCREENSHOTS (docs/images for the ones the docs show), else nowhere lasting."""

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright (pip install playwright)")
uvicorn = pytest.importorskip("uvicorn")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None:
    pytest.skip("needs a chromium binary on PATH (Debian: apt-get install chromium)", allow_module_level=True)

from examples.tutoring_app.app import create_app  # noqa: E402
from m1reason.answers import extract_answer  # noqa: E402
from m1reason.errors import CapacityError  # noqa: E402
from m1reason.generator.fake import FakeCompletion, FakeGenerator  # noqa: E402
from m1reason.serving import AsyncSolver  # noqa: E402

# Set to docs/images to refresh the screenshots the docs show; unset (CI), a run leaves the checkout untouched.
IMAGES = Path(os.environ["M1REASON_SCREENSHOTS"]) if os.environ.get("M1REASON_SCREENSHOTS") else None
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
MAX_PROMPT = 600  # the scripted engine's max_len: a longer prompt is refused as the real engine refuses it
CONFIDENT = "Add $\\frac{3}{4}$ and $\\frac{1}{8}$."  # not a bare expression: its answers vote unchecked
SPLIT = "Which number is the mystery number?"
SILENT = "Prove that there are infinitely many primes."
SPLIT_ANSWERS = ("12", "15", "9", "10")
WAIT_MS = 20_000


def reasoning(answer: str) -> str:
    return ("<think>\nWe need a common denominator: $\\frac{3}{4} = \\frac{6}{8}$.\n"
            "Then add the numerators:\n$$\\frac{6}{8} + \\frac{1}{8} = \\frac{6 + 1}{8}$$\n"
            f"So the sum is ${answer}$.\n</think>\n"
            f"Rewriting $\\frac{{3}}{{4}}$ in eighths and adding gives \\boxed{{{answer}}}.")


class Script:
    """Samples by problem: confident (but sample 0, the first to write, is slow and wrong), a split vote, no
    answer at all, and a refusal for a prompt over ``MAX_PROMPT``. Records how many samples each problem got."""

    def __init__(self):
        self.samples: dict[str, int] = {}

    def __call__(self, request, i):
        if len(request.prompt) > MAX_PROMPT:
            raise CapacityError(f"prompt of {len(request.prompt)} tokens does not fit max_len {MAX_PROMPT}")
        problem = next(p for p in (CONFIDENT, SPLIT, SILENT) if p in request.prompt)
        self.samples[problem] = max(self.samples.get(problem, 0), i + 1)
        if problem == CONFIDENT:  # sample 0 writes first, slowly, towards a wrong answer; one other errs too
            if i == 0:
                return FakeCompletion(reasoning("1"), steps=220)
            return FakeCompletion(reasoning("\\frac{1}{2}" if i == 3 else "\\frac{7}{8}"), steps=40 + 20 * i)
        if problem == SPLIT:
            return FakeCompletion(f"Try it. </think> It is $\\boxed{{{SPLIT_ANSWERS[i % 4]}}}$.", steps=5 + i)
        return FakeCompletion("Suppose there are finitely many primes and multiply them all", steps=10)


class SelfConsistencySolver(AsyncSolver):
    """Runs SelfConsistency whatever the page asks ("auto" sizes its vote from a synthetic speed here), so each
    scenario gets the same fixed number of samples."""

    def stream(self, problem, **options):
        return super().stream(problem, **{**options, "strategy": "sc"})


@pytest.fixture(scope="module")
def script():
    return Script()


@pytest.fixture(scope="module")
def base_url(script):
    app = create_app(lambda: SelfConsistencySolver(FakeGenerator(script, real_time=True, step_s=0.01)))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:  # uvicorn offers no start callback; poll its flag
        assert thread.is_alive() and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    """A fresh page on the app that fails the test on a script error or a request to anywhere else."""
    page = browser.new_page(viewport={"width": 960, "height": 900})
    errors, elsewhere = [], []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.on("request", lambda r: None if r.url.startswith(base_url) else elsewhere.append(r.url))
    page.goto(base_url + "/")
    yield page
    page.close()
    assert errors == [] and elsewhere == []


def ask(page, problem: str) -> None:
    page.fill("#problem", problem)
    page.click("#go")


def finished(page, state: str) -> None:
    page.wait_for_function("['answered', 'not-sure', 'error'].includes(document.getElementById('result')"
                           ".dataset.state)", timeout=WAIT_MS)
    assert page.get_attribute("#result", "data-state") == state, page.text_content("#status")


def shot(page, name: str) -> None:
    png = page.screenshot(full_page=True)
    assert png.startswith(b"\x89PNG")
    if IMAGES is not None:
        IMAGES.mkdir(parents=True, exist_ok=True)
        (IMAGES / f"tutoring-{name}.png").write_bytes(png)


def plain_text(page, selector: str) -> str:
    """The text of ``selector`` outside KaTeX's output: what shows as source rather than as math."""
    return page.evaluate("""(selector) => {
        const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
        let text = "";
        while (walker.nextNode()) {
            const node = walker.currentNode;
            if (!node.parentElement.closest(".katex")) text += node.nodeValue;
        }
        return text;
    }""", selector)


def bars(page) -> list[tuple[str, int]]:
    return [(row.get_attribute("data-answer"), int(row.get_attribute("data-count")))
            for row in page.query_selector_all("#votes .vote")]


def test_a_confident_answer_streams_in_then_shows_the_reasoning_of_a_sample_that_gave_it(page, script):
    ask(page, CONFIDENT)
    page.wait_for_function("document.getElementById('result').dataset.state === 'streaming'"
                           " && document.querySelectorAll('#reasoning .step').length >= 2"
                           " && document.querySelectorAll('#reasoning .step .katex').length >= 1"
                           " && document.querySelectorAll('#votes .vote').length >= 2", timeout=WAIT_MS)
    assert "following sample 0 as it writes" in page.text_content("#lead") and page.text_content("#answer") == "…"
    assert page.query_selector("#reasoning .step.final") is None  # still writing: no boxed answer yet
    shot(page, "streaming")
    finished(page, "answered")
    shot(page, "answered")
    n = script.samples[CONFIDENT]
    assert n >= 2, "the scenario needs a vote: the strategy ran one sample"

    assert page.get_attribute("#answer", "data-source") == "\\frac{7}{8}"
    assert page.query_selector("#answer .katex") and page.query_selector("#problem-shown .katex")
    assert page.is_hidden("#not-sure") and page.is_hidden("#error")

    steps = [item.get_attribute("data-source") for item in page.query_selector_all("#reasoning .step")]
    assert len(steps) == 5 and len(page.query_selector_all("#reasoning .katex")) == 5  # a formula a step, two last
    assert page.query_selector("#reasoning .katex-display")  # the $$ formula over lines stays one step
    assert not any("think>" in step for step in steps) and "think>" not in page.text_content("#reasoning")
    shown_as_source = plain_text(page, "#reasoning")
    assert not any(mark in shown_as_source for mark in ("$", "\\frac", "\\boxed")), shown_as_source
    final = page.query_selector_all("#reasoning .step.final")
    assert len(final) == 1 and final[0].get_attribute("data-source") == steps[-1]
    assert len(final[0].query_selector_all(".katex")) == 2  # its \\boxed{...} is outside $...$, rendered too
    assert extract_answer(steps[-1]) == page.get_attribute("#answer", "data-source")
    page.click("#more-reasoning summary")  # another agreeing sample's reasoning, drawn when opened
    page.wait_for_selector("#more-reasoning details[open] .step.final .katex")
    other = page.query_selector_all("#more-reasoning details[open] .step")[-1].get_attribute("data-source")
    assert extract_answer(other) == "\\frac{7}{8}"

    (first, agreed), second = bars(page)  # the vote settles before sample 0 ends: its answer never counts
    assert first == "\\frac{7}{8}" and 2 <= agreed <= n - 2 and second == ("\\frac{1}{2}", 1)
    width = page.eval_on_selector("#votes .vote.first .bar", "bar => bar.style.width")
    assert abs(float(width.rstrip("%")) - 100 * agreed / (agreed + 1)) < 0.1


def test_a_split_vote_is_shown_as_not_sure_with_a_bar_per_answer(page, script):
    ask(page, SPLIT)
    finished(page, "not-sure")
    shot(page, "not-sure")
    n = script.samples[SPLIT]
    counts = {answer: len(range(k, n, 4)) for k, answer in enumerate(SPLIT_ANSWERS) if k < n}
    assert max(counts.values()) / n < 0.5, "the scenario needs a split vote"
    assert sorted(bars(page)) == sorted(counts.items()) and bars(page)[0] == ("12", counts["12"])
    assert page.is_visible("#not-sure") and "disagree" in page.text_content("#not-sure")
    assert page.get_attribute("#answer", "data-source") == "12"
    assert extract_answer(page.query_selector("#reasoning .step.final").get_attribute("data-source")) == "12"


def test_no_answer_is_not_sure_with_the_solvers_reason_and_the_reasoning_so_far(page):
    ask(page, SILENT)
    finished(page, "not-sure")
    shot(page, "no-answer")
    assert page.text_content("#answer") == "No answer" and bars(page) == []
    assert "No sample reached an answer" in page.text_content("#not-sure")  # the Solution's status_reason
    assert "finitely many primes" in page.text_content("#reasoning")


def test_a_problem_the_engine_cannot_fit_shows_the_refusal(page):
    ask(page, "Simplify $" + " + ".join(f"x_{{{k}}}" for k in range(120)) + "$.")
    finished(page, "error")
    shot(page, "error")
    message = page.text_content("#error")
    assert page.is_visible("#error") and "does not fit max_len" in message and "HTTP 413" in message
    assert page.query_selector("#problem-shown .katex")
    assert page.is_hidden(".answer-card") and page.is_hidden("#not-sure")
    assert not page.is_disabled("#go")
