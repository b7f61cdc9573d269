"""M1Generator.warm_up: a scratch request at every graph bucket with the caller's sampling, a fork and an append,
then the heap frozen (unless the generator was made with freeze_gc=False); the generator serves as before."""

import gc

import pytest

from m1reason.generator import GenerationRequest, M1Generator, SamplingParams, warm
from m1reason.model import HybridLM, ModelConfig


@pytest.fixture
def generator():
    return M1Generator(HybridLM(ModelConfig.tiny()), max_slots=8, max_len=64)


def spy(monkeypatch, generator, name):
    calls, original = [], getattr(generator, name)

    def call(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(generator, name, call)
    return calls


def test_every_bucket_is_served_with_the_callers_sampling_then_forked_and_appended(monkeypatch, generator):
    monkeypatch.setattr(warm, "scratch_batch_sizes", lambda engine: [1, 2, 4, 8])
    generated, forks, appends = (spy(monkeypatch, generator, name) for name in ("generate", "fork", "append"))
    served = generator.warm_up(SamplingParams(temperature=0.9, top_p=0.8))
    # (the calibration's own scratch requests sample at temperature 1.0: not the warm-up's)
    calls = [args[0] for args, _ in generated if args[0][0].sampling.temperature == 0.9]
    assert [[r.sampling.n for r in call] for call in calls] == [[1], [2], [4], [8], [1, 1]] and served == 6
    assert all(r.sampling.top_p == 0.8 for call in calls for r in call)
    ragged = calls[-1]  # two prompts of different lengths in one call: prefilled together, padded
    assert len({len(r.prompt_token_ids) for r in ragged}) == 2
    assert len(forks) == 2 and [len(args[1]) for args, _ in appends] == [3, 5]  # both samples, texts of two lengths
    assert generator.occupancy() == 0  # nothing of the scratch requests is left running


def test_a_prompt_alone_meets_every_prefill_graph_bucket(monkeypatch):
    generator = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=8, max_len=128, prefill_graph_tokens=100)
    graphs = generator.engine.runner.prefill_graphs
    assert graphs.buckets == [32, 64, 100]
    monkeypatch.setattr(warm, "scratch_batch_sizes", lambda engine: [1])
    padded = []
    real = graphs._prefill
    monkeypatch.setattr(graphs, "_prefill", lambda bucket: (padded.append(bucket), real(bucket))[1])
    assert generator.warm_up() == 1 + 3 + 2
    assert set(padded) == {32, 64, 100}


def test_a_bucket_too_large_for_the_pool_ends_the_warm_up_quietly(monkeypatch, generator):
    monkeypatch.setattr(warm, "scratch_batch_sizes", lambda engine: [1, 2, 4096])
    assert generator.warm_up() == 4  # 1 and 2 served, 4096 refused, then the ragged pair and the forks


def test_objects_alive_before_the_warm_up_are_frozen_unless_the_generator_may_not():
    thawed = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=64, freeze_gc=False)
    kept = [[]]  # a container: tracked by the collector until frozen
    thawed.warm_up()
    assert any(o is kept for o in gc.get_objects())
    frozen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=64)
    later = [[]]
    frozen.warm_up()
    assert not any(o is later for o in gc.get_objects())


def test_the_generator_serves_the_same_tokens_after_its_warm_up(generator):
    params = SamplingParams(n=2, temperature=0.8, seed=3, max_new_tokens=6, ignore_eos=True)
    request = lambda: GenerationRequest(prompt_token_ids=[1, 5, 9], sampling=params)  # noqa: E731
    [before] = generator.generate([request()])
    generator.warm_up()
    [after] = generator.generate([request()])
    assert [s.token_ids for s in after.samples] == [s.token_ids for s in before.samples]
