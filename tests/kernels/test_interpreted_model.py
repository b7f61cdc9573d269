"""The model's and the engine's whole Triton path, on the CPU through Triton's interpreter, against the torch path.

Every place that dispatches a Triton kernel (the public functions of m1reason.kernels, and whatever else imports
``use_triton``) is made to take it for CPU tensors, the kernels actually called are counted, and the results must
be the torch path's: a prefill of three right-padded prompts plus ten decode steps of the tiny model (fp32) give
its logits; the engine as it runs on a GPU, less the capture (the decode graphs' programs with ``capture=False``,
sampling by the Triton Gumbel kernel inside them, four decode steps a group, groups overlapped) gives the tokens of
the torch path one step at a time. The kernel-by-kernel checks are tests/kernels/test_triton_kernels.py.
"""

import sys

import pytest
import torch

from tests.kernels.test_triton_kernels import INTERPRETED

pytestmark = pytest.mark.skipif(not INTERPRETED, reason="needs triton and TRITON_INTERPRET=1 (set by the root "
                                                        "conftest where no GPU is)")

KERNELS = (("triton_rope", "rope_qk_triton"), ("triton_mamba_prefill", "mamba_prefill_triton"),
           ("triton_mamba_step", "mamba_step_triton"), ("triton_paged_attention", "paged_attention_decode_triton"),
           ("triton_elementwise", "add_rms_norm_triton"), ("triton_elementwise", "rms_norm_triton"),
           ("triton_elementwise", "silu_mul_triton"), ("triton_sampling", "gumbel_argmax_triton"))


def route_kernels(monkeypatch, triton_on: bool) -> None:
    """Patch ``use_triton`` in every loaded m1reason module that imported it: Triton for any tensor where no
    gradient is recorded (``triton_on``), else never."""
    import m1reason.engine  # noqa: F401  (the engine, the model and the kernels loaded before they are patched)

    choose = (lambda t: not torch.is_grad_enabled()) if triton_on else (lambda t: False)
    for name, module in list(sys.modules.items()):
        if name.startswith("m1reason.") and name != "m1reason.kernels.dispatch" and hasattr(module, "use_triton"):
            monkeypatch.setattr(module, "use_triton", choose)


def count_calls(monkeypatch) -> dict[str, int]:
    """Wrap each Triton entry point, so that a run says which kernels it really took."""
    import importlib

    counts: dict[str, int] = {}

    def counting(name, kernel):
        def counted(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return kernel(*args, **kwargs)
        return counted

    for module_name, name in KERNELS:
        module = importlib.import_module(f"m1reason.kernels.{module_name}")
        monkeypatch.setattr(module, name, counting(name, getattr(module, name)))
    return counts


def model_logits() -> torch.Tensor:
    from m1reason.engine import PagedCache
    from m1reason.model import HybridLM, ModelConfig

    torch.manual_seed(0)
    config = ModelConfig.tiny()
    model = HybridLM(config).eval()
    cache = PagedCache(config, slots=3, max_len=64, kv_tokens=3 * 64, block_size=16)
    slots = [cache.allocate_slot() for _ in range(3)]
    for slot in slots:
        cache.reserve(slot, 40)
    slots = torch.tensor(slots)
    ids = torch.randint(0, config.vocab_size, (3, 40), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        logits = [model.prefill(ids[:, :20], cache, slots, lengths=torch.tensor([20, 13, 7]), fresh=True)]
        logits += [model.step(ids[:, t], cache, slots) for t in range(20, 30)]
    return torch.stack(logits)


def engine_tokens(gpu_like: bool) -> list[list[int]]:
    """Seeded samples of the tiny model through the engine: with ``gpu_like``, the decode graphs' programs,
    4 steps a group, overlapped; else one step at a time."""
    from m1reason.engine import Engine
    from m1reason.engine.graphs import DecodeGraphs
    from m1reason.model import HybridLM, ModelConfig
    from m1reason.types import SamplingParams
    from tests.engine.test_engine import run, seqs_for

    torch.manual_seed(0)
    model = HybridLM(ModelConfig.tiny()).eval()
    engine = Engine(model, max_slots=6, max_len=48, decode_steps=4 if gpu_like else 1, overlap=gpu_like)
    if gpu_like:
        engine.graphs = DecodeGraphs(model, engine.cache, 6, max_steps=4, capture=False)
    plain = SamplingParams(temperature=1.0, seed=5, max_new_tokens=14, ignore_eos=True)
    stopping = SamplingParams(temperature=0.8, seed=6, max_new_tokens=14, stop_token_ids=(3, 30, 99))
    groups = [seqs_for([1, 2, 3, 4], plain, n=3, request="a"), seqs_for([9, 8], stopping, n=3, request="b")]
    return [tokens for group in run(engine, groups) for tokens in group]


@pytest.mark.parametrize("chunked", [False, True])
def test_the_models_triton_path_gives_the_torch_paths_logits(monkeypatch, chunked):
    """Chunked: the Mamba layers walk the padded prompts in chunks of 4 steps, as on a GPU one long prompt is
    (the choice forced: at these sizes ``prefill_chunk`` walks them whole)."""
    from m1reason.kernels import triton_mamba_prefill
    from m1reason.model import ModelConfig

    route_kernels(monkeypatch, triton_on=False)
    reference = model_logits()
    counts = count_calls(monkeypatch)
    route_kernels(monkeypatch, triton_on=True)
    lengths = []
    if chunked:
        monkeypatch.setattr(triton_mamba_prefill, "prefill_chunk",
                            lambda sequences, length, *_: lengths.append(length) or 4)
    got = model_logits()
    assert lengths == ([20] * len(ModelConfig.tiny().mamba_layers) if chunked else [])  # the padded prompts, a layer
    assert ((got - reference).abs().max() / reference.abs().max()).item() < 1e-5
    assert torch.equal(got.argmax(-1), reference.argmax(-1))
    assert set(counts) == {name for _, name in KERNELS} - {"gumbel_argmax_triton"}, counts  # no sampling here


def test_the_engine_as_on_a_gpu_gives_the_torch_paths_tokens(monkeypatch):
    route_kernels(monkeypatch, triton_on=False)
    expected = engine_tokens(gpu_like=False)
    counts = count_calls(monkeypatch)
    route_kernels(monkeypatch, triton_on=True)
    tokens = engine_tokens(gpu_like=True)
    assert tokens == expected
    assert counts.get("gumbel_argmax_triton", 0) > 0 and counts.get("mamba_step_triton", 0) > 0, counts
    assert sum(map(len, tokens)) > 60  # most samples ran their 14 tokens; some stopped early
