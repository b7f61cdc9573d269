"""Where a decode step's time goes: torch.profiler over steady-state steps of M1-3B shapes (random bf16).

Prints, per batch size, the wall time per engine step, the GPU time per step by kernel family, and the host
time the GPU spent waiting (wall minus GPU busy), so claims about what limits throughput are measured.

    python -m benchmarks.profile_step [--batches 1 512] [--context 1024] [--decode-steps K] [--out DIR]

With ``--decode-steps K`` every engine step runs K decode steps per host sync; times are then also given per
token (wall per engine step / K).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path


def family(name: str) -> str:
    n = name.lower()
    for key, label in (("mamba_step", "mamba step (triton)"), ("paged_decode", "attention decode (triton)"),
                       ("gumbel", "sampling (triton)"), ("gemm", "GEMM"), ("cutlass", "GEMM"), ("cublas", "GEMM"),
                       ("nvjet", "GEMM"), ("memcpy", "memcpy"), ("reduce", "reductions"),
                       ("elementwise", "elementwise"),
                       ("index", "index/scatter"), ("scatter", "index/scatter"), ("gather", "index/scatter")):
        if key in n:
            return label
    return "other"


def profile(model, batch: int, context: int, steps: int = 20, decode_steps: int = 1) -> dict:
    """Wall ms per step with CUDA graphs, and a kernel breakdown from an eager run (graph replays hide kernels)."""
    graphed = _run(model, batch, context, steps, cuda_graphs=True, with_profiler=False, decode_steps=decode_steps)
    eager = _run(model, batch, context, steps, cuda_graphs=False, with_profiler=True, decode_steps=decode_steps)
    return {"batch": batch, "context": context, "decode_steps": decode_steps,
            "graph_wall_ms_per_step": graphed["wall_ms_per_step"],
            "graph_wall_ms_per_token": graphed["wall_ms_per_step"] / decode_steps,
            **{f"eager_{k}": v for k, v in eager.items()}}


def _run(model, batch: int, context: int, steps: int, *, cuda_graphs: bool, with_profiler: bool,
         decode_steps: int = 1) -> dict:
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from m1reason import GenerationRequest, M1Generator, SamplingParams

    new_tokens = 3 * steps * decode_steps + 8  # warm-up + timed + profiled steps all run at the full batch
    room = context + new_tokens + 64
    gen = M1Generator(model, max_slots=batch, max_len=room, kv_tokens=batch * room, cuda_graphs=cuda_graphs,
                      decode_steps=decode_steps)
    prompt = torch.randint(0, model.config.vocab_size, (context,), generator=torch.Generator().manual_seed(0)).tolist()
    params = SamplingParams(n=batch, temperature=1.0, seed=0, max_new_tokens=new_tokens, ignore_eos=True)
    gen.submit([GenerationRequest(prompt_token_ids=prompt, sampling=params)])
    for _ in range(steps // 2):  # prefill, graph capture, steady state
        gen.step()
    torch.cuda.synchronize()
    started = time.perf_counter()
    for _ in range(steps):
        gen.step()
    torch.cuda.synchronize()
    wall = (time.perf_counter() - started) / steps
    gpu = collections.Counter()
    if with_profiler:
        with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(steps):
                gen.step()
            torch.cuda.synchronize()
    kernels = collections.Counter()
    for event in prof.key_averages() if with_profiler else ():
        # Only kernel events: a CPU op (aten::mm) also reports the device time of the kernels it launched, and
        # counting both is how an earlier version of this script found 7 ms of "unattributed" time.
        if event.device_type.name == "CUDA":
            t = getattr(event, "self_device_time_total", 0) or getattr(event, "self_cuda_time_total", 0)
            kernels[event.key] += t / steps / 1e3  # ms per step
    for name, ms in kernels.items():
        gpu[family(name)] += ms
    for seq in list(gen.engine.scheduler.running):
        gen.engine.cancel(seq)
    busy = sum(gpu.values())
    return {"wall_ms_per_step": wall * 1e3, "gpu_busy_ms_per_step": busy, "gpu_ms_by_kernel": dict(gpu.most_common()),
            "top_kernels_ms": {name[:120]: ms for name, ms in kernels.most_common(15)}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 512])
    parser.add_argument("--context", type=int, default=1024)
    parser.add_argument("--decode-steps", type=int, default=1, help="decode steps per host sync (engine option)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import torch

    from benchmarks.checkpoint_load import m1_3b_config
    from benchmarks.report import environment
    from m1reason.model import HybridLM

    if not torch.cuda.is_available():
        print("needs a CUDA GPU", file=sys.stderr)
        return 2
    with torch.device("cuda"):
        model = HybridLM(m1_3b_config()).to(torch.bfloat16).eval()
    records = [profile(model, b, args.context, decode_steps=args.decode_steps) for b in args.batches]
    for r in records:
        print(f"batch {r['batch']}, context {r['context']}, {r['decode_steps']} decode step(s) per sync: "
              f"{r['graph_wall_ms_per_step']:.2f} ms/step ({r['graph_wall_ms_per_token']:.2f} per token) with CUDA "
              f"graphs; eager {r['eager_wall_ms_per_step']:.2f} ms/step, "
              f"GPU busy {r['eager_gpu_busy_ms_per_step']:.2f}")
        for name, ms in r["eager_gpu_ms_by_kernel"].items():
            print(f"    {name:28s} {ms:7.3f} ms")
        print("  top kernels:")
        for name, ms in r["eager_top_kernels_ms"].items():
            print(f"    {ms:7.3f} ms  {name[:100]}")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "profile_step.json").write_text(json.dumps({"env": environment(("torch", "triton")),
                                                                "records": records}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
