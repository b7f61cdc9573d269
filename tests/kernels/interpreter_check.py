"""The model's whole Triton path, run on the CPU through Triton's interpreter, against the torch path.

For machines without a GPU (CI, the developers' own): every place that dispatches a Triton kernel (the public
functions of m1reason.kernels, and whatever else imports ``use_triton``) is made to take it for CPU tensors
(``use_triton`` patched where it is imported), and a prefill of three right-padded
prompts (fresh) plus ten decode steps of the tiny model (fp32) must give the torch path's logits; the kernels
actually called are counted and printed. Then the engine as it runs on a GPU, less the capture: the decode
graphs' programs (``DecodeGraphs(capture=False)``: sampling, with the Triton Gumbel kernel, inside them), four
decode steps per group and groups overlapped, must give the tokens of the torch path one step at a time.
Not part of the test suite (it needs triton installed and ``TRITON_INTERPRET=1`` set before triton is imported,
and takes a minute or two):

    TRITON_INTERPRET=1 python -m tests.kernels.interpreter_check
"""

from __future__ import annotations

import os
import sys

import torch


def route_kernels(triton_on: bool) -> None:
    """Patch ``use_triton`` in every loaded m1reason module that imported it: Triton for any tensor where no
    gradient is recorded (``triton_on``), else never."""
    choose = (lambda t: not torch.is_grad_enabled()) if triton_on else (lambda t: False)
    for name, module in list(sys.modules.items()):
        if name.startswith("m1reason.") and name != "m1reason.kernels.dispatch" and hasattr(module, "use_triton"):
            module.use_triton = choose


def run(triton_on: bool) -> torch.Tensor:
    import m1reason.engine.sampling  # noqa: F401  (loaded before its use_triton is patched)
    from m1reason.engine import PagedCache
    from m1reason.model import HybridLM, ModelConfig

    route_kernels(triton_on)
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
    """Seeded samples of the tiny model through the engine: with ``gpu_like``, Triton kernels, the decode graphs'
    programs, 4 steps per group, overlapped; else the torch path one step at a time."""
    import m1reason.engine.sampling  # noqa: F401  (loaded before its use_triton is patched)
    from m1reason.engine import Engine
    from m1reason.engine.graphs import DecodeGraphs
    from m1reason.model import HybridLM, ModelConfig
    from m1reason.types import SamplingParams
    from tests.engine.test_engine import run as run_engine
    from tests.engine.test_engine import seqs_for

    route_kernels(gpu_like)
    torch.manual_seed(0)
    model = HybridLM(ModelConfig.tiny()).eval()
    engine = Engine(model, max_slots=6, max_len=48, decode_steps=4 if gpu_like else 1, overlap=gpu_like)
    if gpu_like:
        engine.graphs = DecodeGraphs(model, engine.cache, 6, max_steps=4, capture=False)
    plain = SamplingParams(temperature=1.0, seed=5, max_new_tokens=14, ignore_eos=True)
    stopping = SamplingParams(temperature=0.8, seed=6, max_new_tokens=14, stop_token_ids=(3, 30, 99))
    groups = [seqs_for([1, 2, 3, 4], plain, n=3, request="a"), seqs_for([9, 8], stopping, n=3, request="b")]
    return [tokens for group in run_engine(engine, groups) for tokens in group]


def count_calls() -> dict[str, int]:
    """Wrap each Triton entry point so that the run says which kernels it really took."""
    import m1reason.kernels.triton_elementwise as elementwise
    import m1reason.kernels.triton_mamba_prefill as prefill
    import m1reason.kernels.triton_mamba_step as step
    import m1reason.kernels.triton_paged_attention as attention
    import m1reason.kernels.triton_rope as rope
    import m1reason.kernels.triton_sampling as sampling

    counts: dict[str, int] = {}

    def counting(name, fn):
        def counted(*args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return fn(*args, **kwargs)
        return counted

    for module, name in ((rope, "rope_qk_triton"), (prefill, "mamba_prefill_triton"), (step, "mamba_step_triton"),
                         (attention, "paged_attention_decode_triton"), (elementwise, "add_rms_norm_triton"),
                         (elementwise, "rms_norm_triton"), (elementwise, "silu_mul_triton"),
                         (sampling, "gumbel_argmax_triton")):
        setattr(module, name, counting(name, getattr(module, name)))
    return counts


def main() -> int:
    if os.environ.get("TRITON_INTERPRET") != "1":
        print("set TRITON_INTERPRET=1 (before triton is imported)", file=sys.stderr)
        return 2
    reference = run(triton_on=False)
    expected_tokens = engine_tokens(gpu_like=False)
    counts = count_calls()
    got = run(triton_on=True)
    error = ((got - reference).abs().max() / reference.abs().max()).item()
    agree = (got.argmax(-1) == reference.argmax(-1)).float().mean().item()
    print(f"model: max relative error {error:.2e}, top-1 agreement {agree:.3f}; Triton calls: {counts}")
    sampled_before = counts.get("gumbel_argmax_triton", 0)
    tokens = engine_tokens(gpu_like=True)
    same = tokens == expected_tokens
    print(f"engine (graph programs, 4 steps a group, overlapped): {'the same' if same else 'DIFFERENT'} tokens as "
          f"the torch path one step at a time ({sum(map(len, tokens))} tokens; Gumbel kernel calls: "
          f"{counts.get('gumbel_argmax_triton', 0) - sampled_before})")
    model_ok = error < 1e-5 and agree == 1.0 and len(counts) >= 7
    return 0 if model_ok and same and counts.get("gumbel_argmax_triton", 0) > sampled_before else 1


if __name__ == "__main__":
    raise SystemExit(main())
