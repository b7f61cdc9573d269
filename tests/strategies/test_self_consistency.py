"""SelfConsistency on scripted samples: the vote, early stopping that cancels the rest, confidence, degrading."""

import json

import pytest
from pydantic import ValidationError

from m1reason.errors import BudgetError
from m1reason.generator.fake import FakeCompletion
from strategies import SelfConsistency, Solution
from tests.strategies.conftest import boxed


def scripted(answers, steps=None, **options):
    steps = steps or [i + 1 for i in range(len(answers))]
    return lambda request, i: boxed(answers[i], steps=steps[i], **options)


def test_vote_picks_the_equivalent_cluster_and_records_every_sample(spy):
    gen = spy(scripted(["3", "1/2", "3", "0.5", "\\frac{1}{2}"]))
    sol = SelfConsistency(n=5, early_stop="none", seed=11).run("Half of one?", gen)
    assert sol.answer == "1/2" and sol.confidence == pytest.approx(0.6)
    assert [(v.answer, v.count) for v in sol.votes] == [("1/2", 3), ("3", 2)]
    assert [s.answer for s in sol.samples] == ["3", "1/2", "3", "0.5", "\\frac{1}{2}"]
    assert gen.requests[0].sampling.n == 5 and gen.requests[0].sampling.temperature == 0.7
    assert sol.reproducibility["seed"] == 11 and sol.reproducibility["generator"] == "FakeGenerator"
    assert sol.stopped == "finished" and not gen.cancels
    assert Solution.model_validate(json.loads(sol.model_dump_json())) == sol


def test_unbeatable_early_stop_cancels_the_samples_still_running(spy):
    steps = [1, 2, 3, 4, 5, 50, 50, 50]
    gen = spy(scripted(["4"] * 8, steps=steps))
    sol = SelfConsistency(n=8).run("2 + 2?", gen)
    assert sol.stopped == "settled" and gen.cancels == [gen.requests[0].request_id]
    assert sol.votes[0].count == 5  # 5 votes against 3 remaining: nothing can overtake
    cancelled = [s for s in sol.samples if s.finish_reason == "cancelled"]
    assert len(cancelled) == 3 and not any(s.counted for s in cancelled)
    assert max(s.num_tokens for s in cancelled) < len(boxed("4").text)  # cut short, not run to the end
    assert sol.confidence == 1.0


@pytest.mark.parametrize("rule, votes_cast", [("beta", 4), ("first_m", 3), ("none", 16)])
def test_other_stopping_rules(spy, rule, votes_cast):
    gen = spy(scripted(["4"] * 16))
    sol = SelfConsistency(n=16, early_stop=rule, m=3).run("2 + 2?", gen)
    assert sum(s.counted for s in sol.samples) == votes_cast and sol.answer == "4"


def test_without_cancel_every_sample_votes(spy):
    gen = spy(scripted(["4"] * 8, steps=[1, 2, 3, 4, 5, 50, 50, 50]), capabilities={"stream", "append"})
    sol = SelfConsistency(n=8).run("2 + 2?", gen)
    assert sol.stopped == "finished" and sum(s.counted for s in sol.samples) == 8


def test_without_stream_it_votes_over_blocking_results(spy):
    gen = spy(scripted(["1", "2", "2"]), capabilities=set())
    sol = SelfConsistency(n=3).run("?", gen)
    assert sol.answer == "2" and len(sol.samples) == 3


def test_confidence_weighting_and_filtering(spy):
    confidences = [-5.0, -5.0, -5.0, -0.1, -0.2]
    answers = ["5", "5", "5", "7", "7"]
    handler = lambda request, i: boxed(answers[i], steps=i + 1, confidence=confidences[i])  # noqa: E731
    assert SelfConsistency(n=5, early_stop="none").run("?", spy(handler)).answer == "5"
    weighted = SelfConsistency(n=5, early_stop="none", weighting="confidence").run("?", spy(handler))
    assert weighted.answer == "7" and weighted.confidence > 0.9
    assert weighted.samples[0].confidence == -5.0
    filtered = SelfConsistency(n=5, early_stop="none", keep_top=0.4).run("?", spy(handler))
    assert filtered.answer == "7" and [s.counted for s in filtered.samples] == [False] * 3 + [True] * 2
    no_conf = spy(handler, capabilities={"stream", "cancel", "append"})
    assert SelfConsistency(n=5, early_stop="none", weighting="confidence").run("?", no_conf).answer == "5"


def test_samples_without_answers_do_not_vote_but_lower_confidence(spy):
    gen = spy(lambda request, i: boxed("9") if i == 0 else FakeCompletion("I give up."))
    sol = SelfConsistency(n=4, early_stop="none").run("?", gen)
    assert sol.answer == "9" and sol.confidence == pytest.approx(0.25)
    assert SelfConsistency(n=2).run("?", spy(lambda r, i: "nothing")).answer is None


def test_bad_settings_and_inputs_fail_clearly(spy):
    with pytest.raises(ValidationError, match="n"):
        SelfConsistency(n=0)
    with pytest.raises(ValidationError, match="early_stop"):
        SelfConsistency(early_stop="sometimes")
    with pytest.raises(BudgetError, match="budget_s must be a finite number of seconds > 0"):
        SelfConsistency().run("?", spy(scripted(["1"])), budget_s=0)
    with pytest.raises(ValueError, match="non-empty"):
        SelfConsistency().run("  ", spy(scripted(["1"])))


def test_lenient_extraction_reads_unboxed_answers_and_excludes_strict(spy):
    unboxed = spy(lambda request, i: FakeCompletion("We add them. </think> Adding the two gives $9$."))
    assert SelfConsistency(n=2).run("4 + 5?", unboxed).answer is None
    lenient = SelfConsistency(n=2, lenient=True).run("4 + 5?", unboxed)
    assert lenient.answer == "9" and lenient.status == "answered"
    with pytest.raises(ValidationError, match="exclude each other"):
        SelfConsistency(strict=True, lenient=True)
