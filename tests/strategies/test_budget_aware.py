"""BudgetAware: the plan fits the budget under a synthetic throughput model; the deadline holds with a slow
generator; load from other users shrinks the plan; calibration is reported apart from the budget."""

import time

import pytest

from m1reason.errors import CapacityError, PromptTooLong
from m1reason.generator.fake import FakeCompletion
from m1reason.throughput import Calibration, FittedThroughput
from strategies import BudgetAware
from strategies._runner import end_margin, fallback_force_at
from tests.strategies.conftest import boxed


def speed(occupancy=0):
    """A memory-bound decoder: 20 ms per step plus 0.5 ms per sequence plus KV reads; prefill 0.1 ms/token."""
    rows = [(b, c, 0.02 + 5e-4 * b + 1e-7 * b * c) for b in (1, 16, 64) for c in (100, 4000)]
    return FittedThroughput(Calibration(decode=rows, prefill=[(10, 0.001), (1000, 0.1)]), lambda: occupancy)


@pytest.mark.parametrize("budget_s", [1.0, 5.0, 30.0, 120.0, 600.0])
@pytest.mark.parametrize("occupancy", [0, 40])
def test_plan_fits_the_budget(budget_s, occupancy):
    strategy = BudgetAware(needed_tokens=1024, max_new_tokens=8192)
    plan = strategy.plan(speed(occupancy), budget_s, prompt_tokens=200)
    if "not even one sample" in plan.reason:  # the deadline, not the length, will cut it
        assert plan.n == 1 and plan.max_new_tokens == 8192 and plan.predicted_s > budget_s * (1 - strategy.safety)
        return
    assert plan.predicted_s <= budget_s * (1 - strategy.safety) + 1e-9
    step = speed().decode_step_s(plan.n + occupancy, 200 + plan.max_new_tokens)
    # the plan uses the budget: one more token per sample would not fit (unless capped)
    assert plan.max_new_tokens == 8192 or plan.predicted_s + step > budget_s * (1 - strategy.safety) - 1e-9
    assert 1 <= plan.n <= strategy.n and plan.budget_s == budget_s


def test_requests_that_have_not_submitted_yet_count_as_load():
    # 30 requests arrive together: none is in the engine yet, so occupancy alone says the engine is idle
    strategy, rows = BudgetAware(needed_tokens=256), speed().calibration
    alone = FittedThroughput(rows, capacity=lambda: 64)
    crowd = FittedThroughput(rows, peers=lambda: 29, capacity=lambda: 64)
    assert strategy.plan(alone, 60.0, 200).n == 64
    plan = strategy.plan(crowd, 60.0, 200)
    assert plan.n == 2 and "29 other requests, at most 2 samples each of 64 slots" in plan.reason
    # without a fixed capacity the others still join the predicted batch, so fewer samples fit the time
    unbounded = FittedThroughput(rows, peers=lambda: 29)
    assert strategy.plan(unbounded, 30.0, 200).n < strategy.plan(speed(), 30.0, 200).n


def test_samples_beyond_the_free_slots_are_not_planned():
    strategy, rows = BudgetAware(needed_tokens=256), speed().calibration
    assert strategy.plan(FittedThroughput(rows, lambda: 60, capacity=lambda: 64), 60.0, 200).n == 4
    full = strategy.plan(FittedThroughput(rows, lambda: 64, capacity=lambda: 64), 60.0, 200)
    assert full.n == 1  # it waits for a turn; the deadline says so if none comes


def test_more_budget_buys_more_samples_and_load_buys_fewer():
    strategy = BudgetAware(needed_tokens=1024)
    ns = [strategy.plan(speed(), b, 200).n for b in (1.0, 30.0, 60.0, 600.0)]
    assert ns == sorted(ns) and ns[0] == 1 and ns[-1] == 64
    assert strategy.plan(speed(occupancy=200), 60.0, 200).n < strategy.plan(speed(), 60.0, 200).n
    short = strategy.plan(speed(), 1.0, 200)
    assert short.n == 1 and "not even one sample" in short.reason


def test_answers_are_forced_early_enough_to_prefill_the_appended_text():
    """Forcing an answer out costs a prefill of the appended text, then force_tokens steps: a generator whose
    prefills are slow must be told to force earlier, or the forced answer misses the deadline."""
    strategy = BudgetAware(needed_tokens=100, force_tokens=8)
    fast, slow = speed(), FittedThroughput(Calibration(decode=speed().calibration.decode,
                                                       prefill=[(10, 0.2), (1000, 0.3)]))
    budget_s = 30.0  # a reserve under a tenth of it: at shorter budgets forcing waits as SelfConsistency's does
    plan = strategy.plan(fast, budget_s, prompt_tokens=50)
    step = fast.decode_step_s(plan.n, 50 + plan.max_new_tokens)
    at_fast, at_slow = (strategy.force_at(t, plan, budget_s, 50) for t in (fast, slow))
    assert at_fast < budget_s - 8 * step  # time for the forced tokens...
    assert at_slow < at_fast - 0.19  # ...and for prefilling what forcing appends
    assert at_slow >= fallback_force_at(budget_s)  # never earlier than SelfConsistency forces


def test_appends_fed_through_decode_steps_need_a_smaller_reserve():
    """A generator that feeds short appends through its decode steps takes the appended text in at one step per
    token, not a prefill: BudgetAware forces later there, by the difference."""
    strategy = BudgetAware(needed_tokens=100, force_tokens=8)
    calibration = Calibration(decode=speed().calibration.decode, prefill=[(10, 0.2), (1000, 0.3)])
    prefilled, fed = FittedThroughput(calibration), FittedThroughput(calibration, fed_appends=32)
    plan = strategy.plan(prefilled, 30.0, prompt_tokens=50)
    later = strategy.force_at(fed, plan, 30.0, 50, appended_tokens=13) - strategy.force_at(
        prefilled, plan, 30.0, 50, appended_tokens=13)
    step = prefilled.decode_step_s(plan.n, 50 + plan.max_new_tokens)
    assert later == pytest.approx(prefilled.prefill_s(13) - 13 * step)
    assert strategy.force_at(fed, plan, 30.0, 50, appended_tokens=40) == strategy.force_at(
        prefilled, plan, 30.0, 50, appended_tokens=40)  # too long to feed: prefilled either way


def test_a_chain_that_cannot_fit_is_forced_at_the_last_moment():
    """Not even one sample gets needed_tokens: forcing early would cut the chains the deadline might still let
    finish, so answers are forced where SelfConsistency forces them, not a quarter of the budget early."""
    strategy = BudgetAware(needed_tokens=100, force_tokens=8)
    slow_prefill = FittedThroughput(Calibration(decode=speed().calibration.decode, prefill=[(10, 0.2), (1000, 0.3)]))
    roomy, tight = (strategy.plan(slow_prefill, b, prompt_tokens=50) for b in (10.0, 1.0))
    assert "not even one sample" not in roomy.reason and "not even one sample" in tight.reason
    roomy_at = strategy.force_at(slow_prefill, roomy, 10.0, 50)
    assert fallback_force_at(10.0) <= roomy_at <= 10.0 - end_margin(10.0) - slow_prefill.prefill_s(10)  # prefill fits
    assert strategy.force_at(slow_prefill, tight, 1.0, 50) == pytest.approx(fallback_force_at(1.0))  # 0.85 s


def test_answers_are_never_forced_earlier_than_self_consistency_forces_them():
    """Where taking in the forced text and its tokens would need more than a tenth of the budget, the chains are
    about as long as the budget: forcing them early cuts the ones that would have finished (BENCHMARKS.md,
    "budget_curve"), so BudgetAware forces where SelfConsistency does; at longer budgets it forces later."""
    strategy = BudgetAware(needed_tokens=100, force_tokens=8)
    slow_prefill = FittedThroughput(Calibration(decode=speed().calibration.decode, prefill=[(10, 0.2), (1000, 0.3)]))
    short = strategy.plan(slow_prefill, 5.0, prompt_tokens=50)
    assert "not even one sample" not in short.reason  # every sample's chain fits: the reserve rule applies
    assert strategy.force_at(slow_prefill, short, 5.0, 50) == pytest.approx(fallback_force_at(5.0))
    long = strategy.plan(slow_prefill, 60.0, prompt_tokens=50)
    assert strategy.force_at(slow_prefill, long, 60.0, 50) > fallback_force_at(60.0) + 1.0


def test_runs_the_plan_and_stops_early_when_settled(spy):
    gen = spy(lambda request, i: boxed("12", steps=2 + i))
    sol = BudgetAware(needed_tokens=20, max_new_tokens=200, n=16).run("?", gen, budget_s=30.0)
    request = gen.requests[0]
    assert request.sampling.n == sol.plan.n == 16 and request.sampling.max_new_tokens == sol.plan.max_new_tokens
    assert request.deadline is not None and request.deadline <= 30.0
    assert sol.answer == "12" and sol.stopped == "settled" and sum(s.counted for s in sol.samples) == 4  # beta rule


def test_deadline_holds_with_a_slow_generator(spy):
    """Samples that would need 100 s: the answer is forced out of the live ones and it returns by the budget."""
    slow = FakeCompletion("thinking hard " * 1000, after_append="3}$")
    gen = spy(lambda request, i: slow, real_time=True, step_s=0.01)
    started = time.monotonic()
    sol = BudgetAware(needed_tokens=10_000).run("?", gen, budget_s=1.5)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 1.0
    assert sol.answer == "3" and sol.stopped == "forced" and all(s.forced for s in sol.samples)
    assert sol.timings["total_s"] <= 1.5 + 0.2


def test_capacity_error_halves_n(spy):
    class Small(spy):
        def stream(self, requests):
            requests = list(requests)
            if requests[0].sampling.n > 4:
                raise CapacityError(f"{requests[0].sampling.n} samples do not fit")
            return super().stream(requests)

    sol = BudgetAware(needed_tokens=10, max_new_tokens=100, n=16).run("?", Small(lambda r, i: boxed(1)), budget_s=30)
    assert sol.plan.n == 4 and "halved" in sol.plan.reason and len(sol.samples) == 4


def test_calibration_is_a_cold_start_cost_outside_the_budget(spy):
    class Calibrating(spy):
        def throughput_model(self):
            time.sleep(0.3)
            return super().throughput_model()

    sol = BudgetAware(needed_tokens=10, max_new_tokens=50, n=2).run("?", Calibrating(lambda r, i: boxed(1)),
                                                                    budget_s=5)
    assert sol.timings["calibration_s"] >= 0.3 and sol.timings["total_s"] < 0.3


def test_the_prompt_is_encoded_once_and_sent_as_the_generators_own_token_ids():
    # BudgetAware needs the prompt's length to plan (inside the budget); it sends the ids it counted, so the
    # generator does not tokenize the prompt a second time, and through SharedGenerator too
    from m1reason.defaults import ByteTokenizer
    from m1reason.generator.m1 import M1Generator
    from m1reason.model import HybridLM, ModelConfig
    from m1reason.serving import SharedGenerator
    from strategies._runner import prompt_for

    model = HybridLM(ModelConfig.tiny(vocab_size=259))
    gen = M1Generator(model, tokenizer=ByteTokenizer(), max_slots=4, max_len=256)
    gen.throughput_model()  # calibrates by serving scratch requests: not the ones under test
    sent = []
    original = gen.submit
    gen.submit = lambda requests, **kw: original(sent.extend(requests) or requests, **kw)
    for generator in (gen, SharedGenerator(gen)):
        sent.clear()
        BudgetAware(n=2, needed_tokens=4, max_new_tokens=8, seed=0).run("2 + 2?", generator, budget_s=30)
        [request] = sent
        assert request.prompt is None
        assert list(request.prompt_token_ids) == gen.encode_prompt(prompt_for("2 + 2?", gen))


def test_the_forcing_text_is_counted_once_per_tokenizer():
    from strategies.budget_aware import _count_forcing_tokens

    class Counting:
        def __init__(self, per_char: int):
            self.calls, self.per_char = 0, per_char

        def __call__(self, text, add_special_tokens=True):
            self.calls += 1
            return {"input_ids": [0] * (len(text) * self.per_char)}

    one, two = (type("Generator", (), {"tokenizer": Counting(k)})() for k in (1, 2))
    assert [_count_forcing_tokens(one, "</think>") for _ in range(3)] == [8, 8, 8] and one.tokenizer.calls == 1
    assert _count_forcing_tokens(two, "</think>") == 16 and two.tokenizer.calls == 1
    assert _count_forcing_tokens(one, "\\boxed{") == 7 and one.tokenizer.calls == 2  # another text: counted
    no_tokenizer = type("Generator", (), {"tokenizer": None})()
    assert _count_forcing_tokens(no_tokenizer, "</think>") == 8  # characters


def test_a_prompt_too_long_is_raised_at_once_not_halved(spy):
    tries = []

    class Short(spy):
        def stream(self, requests):
            requests = list(requests)
            tries.append(requests[0].sampling.n)
            raise PromptTooLong("prompt of 900 tokens does not fit max_len 512")

    with pytest.raises(PromptTooLong):
        BudgetAware(needed_tokens=10, max_new_tokens=100, n=16).run("?", Short(lambda r, i: boxed(1)), budget_s=30)
    assert len(tries) == 1


def test_useful_samples_caps_n_and_gives_the_time_to_length():
    uncapped = BudgetAware(needed_tokens=256, max_new_tokens=8192).plan(speed(), 60.0, 200)
    capped = BudgetAware(needed_tokens=256, max_new_tokens=8192, useful_samples=2).plan(speed(), 60.0, 200)
    assert uncapped.n > 2 and capped.n == 2  # more would fit, but the vote curve says they do not help
    assert capped.max_new_tokens > uncapped.max_new_tokens  # the time left goes to length
    assert capped.predicted_s <= 60.0 * 0.9 + 1e-9
    assert capped.reason.startswith(f"2 samples of up to {capped.max_new_tokens} tokens")
    assert "did not raise this model's accuracy on its development set (vote curve)" in capped.reason
    one = BudgetAware(needed_tokens=256, max_new_tokens=8192, useful_samples=1).plan(speed(), 60.0, 200)
    assert one.n == 1 and one.reason.startswith("1 sample of up to")


def test_without_a_vote_curve_or_with_room_to_spare_n_is_unchanged():
    plain = BudgetAware(needed_tokens=256).plan(speed(), 60.0, 200)
    assert BudgetAware(needed_tokens=256, useful_samples=None).plan(speed(), 60.0, 200) == plain
    roomy = BudgetAware(needed_tokens=256, useful_samples=4096).plan(speed(), 60.0, 200)
    assert roomy == plain and "vote curve" not in roomy.reason
    # a cap above what the budget allows does not add samples: n is the most that fit
    tight = BudgetAware(needed_tokens=1024, useful_samples=64).plan(speed(), 30.0, 200)
    assert tight.n == BudgetAware(needed_tokens=1024).plan(speed(), 30.0, 200).n < 64
    assert "vote curve" not in tight.reason
