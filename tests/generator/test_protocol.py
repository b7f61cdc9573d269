"""The Generator protocol's optional members: a generator that defines only the required ones still works
everywhere (strategies, solve, AsyncSolver), through GeneratorBase's defaults, and so does one that inherits
nothing (through ``as_generator``)."""

import asyncio

import pytest

import strategies
from m1reason.generator.fake import FakeGenerator
from m1reason.generator.protocol import (
    Generator,
    GeneratorBase,
    ThroughputModel,
    as_generator,
    as_throughput_model,
)
from m1reason.serving import AsyncSolver, SharedGenerator
from m1reason.solving import make_strategy, solve

BOXED = "thinking </think> so $\\boxed{4}$"


class BareSpeed:
    """A throughput model with only the three members it always had to have."""

    def decode_step_s(self, batch, context):
        return 0.001

    def prefill_s(self, tokens):
        return 0.0001 * tokens

    def occupancy(self):
        return 0


class Required:
    """The required members only, each handed to a FakeGenerator."""

    def __init__(self):
        self.fake = FakeGenerator(lambda request, i: BOXED)
        self.capabilities = self.fake.capabilities

    def generate(self, requests):
        return self.fake.generate(requests)

    def stream(self, requests):
        return self.fake.stream(requests)

    def cancel(self, id):
        return self.fake.cancel(id)

    def append(self, sample_id, text_or_token_ids, *, sampling=None):
        return self.fake.append(sample_id, text_or_token_ids, sampling=sampling)

    def fork(self, sample_id, n=1, sampling=None):
        return self.fake.fork(sample_id, n, sampling)

    def throughput_model(self):
        return BareSpeed()


class Minimal(Required, GeneratorBase):
    """The same, inheriting GeneratorBase for everything optional."""


def test_base_defaults_are_neutral():
    gen = Minimal()
    assert isinstance(gen, Generator) and isinstance(gen, GeneratorBase)
    assert (gen.tokenizer, gen.scope, gen.confidence_map, gen.strategy_defaults, gen.failure) == (None,) * 5
    assert gen.encode_prompt("2 + 2?") is None and gen.occupancy() == 0 and gen.warm_up() == 0
    with gen.exclusive():
        assert gen.reserve("r", lambda: "plan") == "plan"
    assert gen.unreserve("r") is None


def test_as_generator_keeps_what_an_object_has_and_fills_in_the_rest():
    fake = FakeGenerator(lambda request, i: BOXED)
    assert as_generator(fake) is fake
    bare = Required()
    bare.scope = "a scope of its own"
    filled = as_generator(bare)
    assert isinstance(filled, Generator)
    assert filled.scope == "a scope of its own" and filled.capabilities == fake.capabilities
    assert filled.tokenizer is None and filled.encode_prompt("x") is None and filled.occupancy() == 0
    with pytest.raises(AttributeError):
        as_generator(object()).stream([])  # a required member is never made up


def test_as_throughput_model_fills_in_append_peers_and_capacity():
    speed = as_throughput_model(BareSpeed())
    assert isinstance(speed, ThroughputModel)
    assert (speed.append_s(10, 2, 100), speed.peers(), speed.capacity(), speed.occupancy()) == (0.001, 0, None, 0)


@pytest.mark.parametrize("make", [Minimal, Required], ids=["inherits the base", "inherits nothing"])
def test_a_generator_with_only_the_required_members_runs_every_strategy(make):
    for strategy in (strategies.LongCoT(max_new_tokens=64), strategies.SelfConsistency(n=3),
                     strategies.BudgetAware(n=4, needed_tokens=16, max_new_tokens=64)):
        sol = strategy.run("2 + 2?", make(), budget_s=5.0)
        assert sol.answer == "4", type(strategy).__name__
    assert make_strategy("sc", None, make()).n == strategies.SelfConsistency().n  # no strategy_defaults
    assert solve("2 + 2?", budget_s=5.0, generator=make()).plan.strategy == "BudgetAware"


@pytest.mark.parametrize("make", [Minimal, Required], ids=["inherits the base", "inherits nothing"])
def test_a_generator_with_only_the_required_members_serves(make):
    shared = SharedGenerator(make())
    assert shared.failure is None and shared.encode_prompt("x") is None and shared.occupancy() == 0

    async def served():
        async with AsyncSolver(make()) as solver:
            sol = await solver.solve("2 + 2?", budget_s=5.0)
            return sol, solver.stats()

    sol, stats = asyncio.run(served())
    assert sol.answer == "4" and stats["ok"] and stats["occupancy"] == 0
