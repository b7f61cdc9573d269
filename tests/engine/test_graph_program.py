"""The decode graphs' program, run eagerly (``DecodeGraphs(capture=False)``): sampling, finish checks and the move
to the next step on static buffers give exactly the tokens of the engine's eager path. On a GPU the same program
is captured and replayed (tests/engine/test_gpu_engine.py)."""

import pytest
import torch

from m1reason.engine import Engine
from m1reason.engine.graphs import DecodeGraphs
from m1reason.engine.prefill_graphs import PrefillGraphs
from m1reason.types import SamplingParams
from tests.conftest import flat_tiny_model
from tests.engine.test_decode_steps import Workload, same_results
from tests.engine.test_engine import seqs_for


@pytest.fixture(scope="module")
def model():
    return flat_tiny_model(64)  # test_decode_steps' model: a flat next-token distribution, so sampling varies


def with_graph_program(workload: Workload) -> Workload:
    engine = workload.engine
    engine.graphs = DecodeGraphs(engine.model, engine.cache, engine.cache.num_slots, max_steps=engine.decode_steps,
                                 capture=False)
    return workload


@pytest.mark.parametrize("decode_steps", [1, 4])
@pytest.mark.parametrize("feed_appends", [0, 16])
@pytest.mark.parametrize("overlap", [False, True])
def test_graph_program_gives_the_eager_tokens(model, decode_steps, feed_appends, overlap):
    """Requests joining and leaving, forks, cancels, appends (fed or prefilled), stop tokens, top-k, min_new_tokens
    (its rows take the logits-only program), log-probabilities and confidence: the same as without graphs; with
    the next group launched before the last is read back (``overlap``, as on a GPU) too."""
    graphed = with_graph_program(Workload(model, decode_steps, feed_appends=feed_appends, overlap=overlap))
    sampled_inside = []
    real = graphed.engine.graphs.step_and_sample
    graphed.engine.graphs.step_and_sample = lambda rows: (sampled_inside.append(len(rows.seqs)), real(rows))[1]
    results, _ = graphed.run()
    assert set(graphed.fired) == set(graphed.actions), "every action of the script should have happened"
    assert sampled_inside, "the sampling program should have run"
    # one step at a time: every count at which an action fired is a step boundary there
    reference, _ = Workload(model, 1, fire_at=graphed.fired, feed_appends=feed_appends).run()
    same_results(results, reference)


def test_a_steady_batch_is_copied_into_the_buffers_once(model, monkeypatch):
    """While the batch stays the same, each step starts from what the last one left in the buffers."""
    engine = Engine(model, max_slots=4, max_len=64, decode_steps=4)
    graphs = engine.graphs = DecodeGraphs(model, engine.cache, 4, max_steps=4, capture=False)
    engine.add(seqs_for([1, 2, 3], SamplingParams(temperature=1.0, seed=3, max_new_tokens=30, ignore_eos=True), n=3))
    engine.step()  # prefill
    copies = []
    real_copy = torch.Tensor.copy_
    monkeypatch.setattr(torch.Tensor, "copy_", lambda self, src, *a: (copies.append(self.shape), real_copy(self, src,
                                                                                                            *a))[1])
    for _ in range(5):
        engine.step()
    monkeypatch.undo()
    # the rows' copy-in writes [:3] of each of its 10 per-row buffers (the program itself writes whole buckets of 4)
    binds = [shape for shape in copies if shape == (3,)]
    assert len(binds) == 10, f"{len(binds)} copies of the rows for 5 engine steps of 4 decode steps: one bind"
    assert graphs._bound is not None and graphs._bound[0] is engine._decode_rows


def test_padding_rows_never_finish_and_never_touch_live_slots(model):
    """A batch of 3 runs in the bucket of 4: the padding row points at the pad slot and has no length limit."""
    engine = Engine(model, max_slots=8, max_len=64, decode_steps=2)
    graphs = engine.graphs = DecodeGraphs(model, engine.cache, 8, max_steps=2, capture=False)
    params = SamplingParams(temperature=0.0, max_new_tokens=5, ignore_eos=True)
    seqs = seqs_for([1, 2, 3], params, n=3)
    engine.add(seqs)
    while engine.has_work():
        engine.step()
    assert [s.finish_reason for s in seqs] == ["length"] * 3 and all(len(s.generated) == 5 for s in seqs)
    assert graphs._slots[3].item() == engine.cache.pad_slot
    assert graphs.ring_codes[:, 3].eq(0).all()  # the padding row: never a stop, never a length end


def with_prefill_graphs(workload: Workload) -> Workload:
    engine = workload.engine
    engine.runner.prefill_graphs = PrefillGraphs(engine.model, engine.cache, engine.config.max_len - 1,
                                                 capture=False)
    return workload


@pytest.mark.parametrize("decode_steps", [1, 4])
def test_prefill_graph_program_gives_the_eager_tokens(model, decode_steps):
    """A prompt admitted alone (and a sample recomputed alone from its tokens) prefilled right-padded to its length
    bucket, as the prefill graphs replay it: the same tokens, finish reasons, log-probabilities and confidence as
    the eager prefill of exactly its tokens."""
    graphed = with_prefill_graphs(Workload(model, decode_steps))
    padded = []
    real = graphed.engine.runner.prefill_graphs.run
    graphed.engine.runner.prefill_graphs.run = lambda tokens, slot: (padded.append(len(tokens)), real(tokens, slot))[1]
    results, _ = graphed.run()
    assert set(graphed.fired) == set(graphed.actions)
    assert 20 in padded, "request c (20 tokens) is admitted alone: its prefill should take the graph program"
    reference, _ = Workload(model, 1, fire_at=graphed.fired).run()
    same_results(results, reference)


def test_the_prefill_graph_program_touches_no_other_slot(model):
    """Prompts prefilled alone, padded to 32 tokens (the second while the first decodes): every live slot's state
    and KV blocks end as an engine without prefill graphs leaves them (to float rounding: a padded GEMM may sum in
    another order), and the prompt's slot at its real length."""
    engines = [Engine(model, max_slots=4, max_len=64, block_size=4, prefill_graph_tokens=tokens) for tokens in (0, 63)]
    assert engines[1].runner.prefill_graphs.buckets == [32, 63] and engines[0].runner.prefill_graphs is None
    for engine in engines:
        engine.add(seqs_for([1, 2, 3], SamplingParams(temperature=0.0, max_new_tokens=8, ignore_eos=True)))
        engine.step()
        engine.add(seqs_for(list(range(5, 15)), SamplingParams(temperature=0.0, max_new_tokens=4, ignore_eos=True),
                            request="s"))
        engine.step()
    plain, graphed = (engine.cache for engine in engines)
    live = [seq.slot for seq in engines[1].scheduler.running]
    assert len(live) == 2 and int(graphed.lengths[live[1]]) == 10
    for slot in live:
        states = [(*cache._conv.values(), *cache._ssm.values()) for cache in (plain, graphed)]
        for a, b in zip(*states):
            torch.testing.assert_close(a[slot], b[slot], rtol=0, atol=1e-5)
        assert plain._owned[slot] == graphed._owned[slot]
        for a, b in zip((*plain._k.values(), *plain._v.values()), (*graphed._k.values(), *graphed._v.values())):
            for block in graphed._owned[slot]:
                written = slice(None) if block != graphed._owned[slot][-1] else slice(0, int(graphed.lengths[slot]) % 4
                                                                                      or 4)
                torch.testing.assert_close(a[block][written], b[block][written], rtol=0, atol=1e-5)


def test_prefill_graph_tokens_resolves_per_device_and_is_checked():
    from m1reason.engine.config import EngineConfig

    assert EngineConfig(max_len=64).resolve("cpu").prefill_graph_tokens == 0
    assert EngineConfig(max_len=64, prefill_graph_tokens=256).resolve("cpu").prefill_graph_tokens == 63
    with pytest.raises(ValueError, match="prefill_graph_tokens must be >= 0"):
        EngineConfig(prefill_graph_tokens=-1)
