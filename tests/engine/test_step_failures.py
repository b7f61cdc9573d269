"""The engine never dies from one batch's problem: admission holds back what forks will take, and a step that fails
for some sequences ends only those (finish_reason "error") while the others keep their exact tokens."""

import time

import pytest

from m1reason.engine import Engine, Sequence
from m1reason.types import SamplingParams
from tests.conftest import flat_tiny_model

GREEDY = SamplingParams(temperature=0, max_new_tokens=6, ignore_eos=True)


@pytest.fixture(scope="module")
def model():
    return flat_tiny_model(64)


def group(request, prompt, n, deadline_at=None):
    return [Sequence(f"{request}/{i}", request, i, 0, GREEDY, list(prompt), len(prompt), deadline_at)
            for i in range(n)]


def drain(engine, max_steps=200):
    for _ in range(max_steps):
        if not engine.has_work():
            return
        engine.step()
    raise AssertionError("the engine did not finish")


def free_after(engine, *groups):
    """Free slots once the finished samples (kept a step, for appends) are let go."""
    for seq in (s for g in groups for s in g):
        engine.release(seq)
    return engine.cache.free_slots


def solo(model, prompt, n=1):
    engine = Engine(model, max_slots=8, max_len=64)
    seqs = group("solo", prompt, n)
    engine.add(seqs)
    drain(engine)
    return [s.generated for s in seqs]


def test_admission_holds_back_the_slots_later_forks_take(model):
    # A request whose deadline passes in the step that admits two new groups keeps its slots for that step, so
    # 4 of 8 are free: each group of 3 fits them alone, but their forks (2 + 2) need more than the 3 left once
    # both are admitted. Admitting both ended the engine's thread with "fork needs 2 slots, 0 free".
    engine = Engine(model, max_slots=8, max_len=64)
    engine.add(group("a", [1, 2, 3], 4, deadline_at=time.monotonic() + 0.05))
    engine.step()
    time.sleep(0.06)
    b, c = group("b", [4, 5, 6], 3), group("c", [7, 8, 9], 3)
    engine.add(b)
    engine.add(c)
    drain(engine)
    assert [s.finish_reason for s in b + c] == ["length"] * 6
    assert [s.generated for s in b] == solo(model, [4, 5, 6], 3)
    assert [s.generated for s in c] == solo(model, [7, 8, 9], 3)
    assert free_after(engine, b, c) == 8


def failing_on(model, monkeypatch, method, bad_token):
    """Make ``model.method`` raise for any call whose input ids hold ``bad_token`` (one request's prompt)."""
    real = getattr(model, method)

    def call(ids, *args, **kwargs):
        if (ids == bad_token).any():
            raise RuntimeError("injected model failure")
        return real(ids, *args, **kwargs)

    monkeypatch.setattr(model, method, call)


def test_a_failing_prefill_ends_only_its_batch_and_the_engine_goes_on(model, monkeypatch):
    engine = Engine(model, max_slots=8, max_len=64)
    good = group("good", [10, 11, 12], 2)
    engine.add(good)
    engine.step()  # good is decoding before the bad prompt arrives (it would otherwise share its prefill call)
    failing_on(model, monkeypatch, "prefill", bad_token=63)
    bad = group("bad", [63, 62, 61], 3)
    engine.add(bad)
    out = engine.step()
    assert [s.finish_reason for s in bad] == ["error"] * 3 and set(out.finished) >= set(bad)
    assert bad[0].error == "RuntimeError: injected model failure"
    later = group("later", [20, 21], 2)
    engine.add(later)
    drain(engine)
    assert [s.generated for s in good] == solo(model, [10, 11, 12], 2)
    assert [s.generated for s in later] == solo(model, [20, 21], 2)
    assert free_after(engine, good, later) == 8 and not engine.scheduler.running


def test_a_failing_decode_ends_its_batch_and_later_requests_are_served(model, monkeypatch):
    engine = Engine(model, max_slots=8, max_len=64)
    first = group("first", [30, 31], 2)
    engine.add(first)
    engine.step()  # prefilled: the next step decodes
    real, calls = model.step, []

    def fail_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("injected decode failure")
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "step", fail_once)
    engine.step()
    assert [s.finish_reason for s in first] == ["error", "error"]
    assert first[0].error == "ValueError: injected decode failure"
    later = group("later", [40, 41, 42], 3)
    engine.add(later)
    drain(engine)
    assert [s.generated for s in later] == solo(model, [40, 41, 42], 3)
    assert free_after(engine, later) == 8
