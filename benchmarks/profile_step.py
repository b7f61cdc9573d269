"""Where a decode step's time goes: torch.profiler over steady-state steps of M1-3B shapes (random bf16).

Prints, per batch size, the wall time per engine step, the GPU time per step by kernel family, and the host
time the GPU spent waiting (wall minus GPU busy), so claims about what limits throughput are measured.

    python -m benchmarks.profile_step [--batches 1 512] [--context 1024] [--decode-steps K] [--out DIR]
                                      [--prefill 512x256 [--unfused-prefill]] [--separate-gate-up]

With ``--decode-steps K`` every engine step runs K decode steps per host sync; times are then also given per
token (wall per engine step / K).

``--prefill BxT`` profiles instead the engine step that prefills B prompts of T tokens (the throughput
benchmark's ``prefill_s``): wall seconds, then GPU time by kernel family from a second, profiled prefill, and
where the GPU idles in a third, traced with CPU activity. ``--unfused-prefill`` runs the Mamba layers through
``mamba_prefill_ref`` (the torch path around the Triton scan) instead of the fused kernel, for an A/B.
``--separate-gate-up`` runs the MLP's gate and up projections as two GEMMs at every batch size (the engine merges
them into one at small batches: ``GatedMLP.merge_gate_up``), for another.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path


def family(name: str) -> str:
    n = name.lower()
    for key, label in (("mamba_step", "mamba step (triton)"), ("_scan_kernel", "selective scan (triton)"),
                       ("mamba_prefill", "mamba prefill: conv + scan (triton)"),
                       ("flash", "attention prefill (sdpa)"), ("fmha", "attention prefill (sdpa)"),
                       ("conv", "conv1d"), ("paged_decode", "attention decode (triton)"),
                       ("gumbel", "sampling (triton)"), ("first_best", "sampling (triton)"),
                       ("rope_qk", "rope (triton)"), ("gemm", "GEMM"),
                       ("cutlass", "GEMM"), ("cublas", "GEMM"),
                       ("nvjet", "GEMM"), ("memcpy", "memcpy"), ("reduce", "reductions"),
                       ("elementwise", "elementwise"),
                       ("index", "index/scatter"), ("scatter", "index/scatter"), ("gather", "index/scatter")):
        if key in n:
            return label
    return "other"


def kernel_ms(prof, per: int = 1) -> tuple[collections.Counter, collections.Counter]:
    """GPU milliseconds by kernel name and by kernel family (``family``) from a torch.profiler run, divided by
    ``per`` (e.g. the steps profiled). Only kernel events count: a CPU op (aten::mm) also reports the device time
    of the kernels it launched, and counting both is how an earlier version of this script found 7 ms of
    "unattributed" time.

    >>> from types import SimpleNamespace as N
    >>> kernel = lambda name, us: N(key=name, device_type=N(name="CUDA"), self_device_time_total=us)
    >>> prof = N(key_averages=lambda: [kernel("nvjet_gemm", 4000), kernel("_scan_kernel", 2000),
    ...                                N(key="aten::mm", device_type=N(name="CPU"), self_device_time_total=4000)])
    >>> kernel_ms(prof, per=2)[1]
    Counter({'GEMM': 2.0, 'selective scan (triton)': 1.0})
    """
    kernels = collections.Counter()
    for event in prof.key_averages():
        if event.device_type.name == "CUDA":
            us = getattr(event, "self_device_time_total", 0) or getattr(event, "self_cuda_time_total", 0)
            kernels[event.key] += us / per / 1e3
    families = collections.Counter()
    for name, ms in kernels.items():
        families[family(name)] += ms
    return kernels, families


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
    kernels, gpu = collections.Counter(), collections.Counter()  # GPU ms per step by kernel, and by family
    if with_profiler:
        with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(steps):
                gen.step()
            torch.cuda.synchronize()
        kernels, gpu = kernel_ms(prof, per=steps)
    for seq in list(gen.engine.scheduler.running):
        gen.engine.cancel(seq)
    busy = sum(gpu.values())
    return {"wall_ms_per_step": wall * 1e3, "gpu_busy_ms_per_step": busy, "gpu_ms_by_kernel": dict(gpu.most_common()),
            "top_kernels_ms": {name[:120]: ms for name, ms in kernels.most_common(15)}}


def profile_prefill(model, batch: int, length: int) -> dict:
    """Wall seconds to generate one token for each of ``batch`` prompts of ``length`` tokens (the prefill, eager,
    and one sampling), twice untimed for warm-up and autotuning, then timed, then once under the profiler."""
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from m1reason import GenerationRequest, M1Generator, SamplingParams

    room = length + 16
    gen = M1Generator(model, max_slots=batch, max_len=room, kv_tokens=batch * room)
    rng = torch.Generator().manual_seed(0)

    def prefill_once() -> float:
        prompts = torch.randint(0, model.config.vocab_size, (batch, length), generator=rng).tolist()
        params = SamplingParams(temperature=1.0, seed=0, max_new_tokens=1, ignore_eos=True)
        torch.cuda.synchronize()
        started = time.perf_counter()
        gen.generate([GenerationRequest(prompt_token_ids=p, sampling=params) for p in prompts])
        torch.cuda.synchronize()
        return time.perf_counter() - started

    prefill_once(), prefill_once()
    wall = prefill_once()
    with torch_profile(activities=[ProfilerActivity.CUDA]) as prof:
        prefill_once()
    kernels, gpu = kernel_ms(prof)
    with torch_profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as traced:
        prefill_once()
    with tempfile.TemporaryDirectory() as scratch:
        trace = Path(scratch) / "trace.json"
        traced.export_chrome_trace(str(trace))
        idle = gpu_idle(json.loads(trace.read_text())["traceEvents"])
    return {"prefill_batch": batch, "prefill_length": length, "wall_s": wall,
            "gpu_busy_ms": sum(gpu.values()), "gpu_ms_by_kernel": dict(gpu.most_common()),
            "top_kernels_ms": {name[:120]: ms for name, ms in kernels.most_common(15)}, "gpu_idle": idle}


def gpu_idle(events: list[dict], min_gap_ms: float = 0.1) -> dict:
    """Where the GPU waits, from a chrome trace with CPU and CUDA activity: idle stretches between GPU events (and
    before the first, after the last, within the traced CPU span) of at least ``min_gap_ms``, and the CPU ops and
    CUDA runtime calls that ran during them (ms of overlap by name; nested ops each count).

    >>> trace = [{"cat": "kernel", "ts": 100, "dur": 50}, {"cat": "kernel", "ts": 1150, "dur": 50},
    ...          {"cat": "cuda_runtime", "name": "cudaMalloc", "ts": 150, "dur": 1000},
    ...          {"cat": "cpu_op", "name": "aten::empty", "ts": 0, "dur": 1300}]
    >>> idle = gpu_idle(trace)
    >>> idle["idle_ms"], idle["gaps"], idle["during_idle_ms"]["cudaMalloc"]
    (1.2, 3, 1.0)
    """
    gpu = sorted((e["ts"], e["ts"] + e["dur"]) for e in events if e.get("cat") in GPU_EVENTS and "dur" in e)
    cpu = [e for e in events if e.get("cat") in ("cpu_op", "cuda_runtime", "python_function") and "dur" in e]
    if not gpu or not cpu:
        return {"idle_ms": 0.0, "gaps": 0, "during_idle_ms": {}}
    span = (min(e["ts"] for e in cpu), max(e["ts"] + e["dur"] for e in cpu))
    gaps, busy_until = [], span[0]
    for start, end in gpu + [(span[1], span[1])]:
        if start - busy_until >= min_gap_ms * 1e3:
            gaps.append((busy_until, start))
        busy_until = max(busy_until, end)
    during = collections.Counter()
    for e in cpu:
        for lo, hi in gaps:
            overlap = min(hi, e["ts"] + e["dur"]) - max(lo, e["ts"])
            if overlap > 0:
                during[e["name"][:80]] += overlap / 1e3
    return {"idle_ms": round(sum(hi - lo for lo, hi in gaps) / 1e3, 3), "gaps": len(gaps),
            "longest_gaps_ms": sorted((round((hi - lo) / 1e3, 3) for lo, hi in gaps), reverse=True)[:10],
            "during_idle_ms": {name: round(ms, 3) for name, ms in during.most_common(25)}}


GPU_EVENTS = ("kernel", "gpu_memcpy", "gpu_memset")


def markdown(decode: list[dict], prefill: list[dict]) -> str:
    """Tables for BENCHMARKS.md: GPU ms per generated token by kernel family (eager run, per-step totals / K) beside
    the graphed wall time; and a prefill's GPU ms by kernel family beside its wall seconds."""
    from benchmarks.report import markdown_table

    text = ""
    if decode:
        families = list(dict.fromkeys(f for r in decode for f in r["eager_gpu_ms_by_kernel"]))
        rows = [{"": "graphed wall", **{f"batch {r['batch']}": f"{r['graph_wall_ms_per_token']:.2f}" for r in decode}},
                {"": "GPU busy (eager)", **{f"batch {r['batch']}":
                                            f"{r['eager_gpu_busy_ms_per_step'] / r['decode_steps']:.2f}"
                                            for r in decode}}]
        rows += [{"": f, **{f"batch {r['batch']}": f"{r['eager_gpu_ms_by_kernel'].get(f, 0) / r['decode_steps']:.3f}"
                            for r in decode}} for f in families]
        context, k = decode[0]["context"], decode[0]["decode_steps"]
        text += (f"Decode, M1-3B shapes (random bf16), context {context}, {k} decode steps per host sync: ms per "
                 "generated token.\n\n" + markdown_table(rows, ["", *[f"batch {r['batch']}" for r in decode]]))
    for r in prefill:
        rows = [{"kernel family": f, "GPU ms": f"{ms:.1f}"} for f, ms in r["gpu_ms_by_kernel"].items()]
        text += (f"\n\nPrefill of {r['prefill_batch']} prompts x {r['prefill_length']} tokens (one generated token "
                 f"each): {r['wall_s']:.3f} s wall, {r['gpu_busy_ms']:.0f} ms GPU busy.\n\n"
                 + markdown_table(rows, ["kernel family", "GPU ms"]))
    return text.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 512])
    parser.add_argument("--context", type=int, default=1024)
    parser.add_argument("--decode-steps", type=int, default=1, help="decode steps per host sync (engine option)")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--prefill", default=None, metavar="BxT", help="profile a prefill of B prompts x T tokens")
    parser.add_argument("--unfused-prefill", action="store_true",
                        help="Mamba prefill through mamba_prefill_ref (repeat, cat, conv1d, Triton scan), for an A/B "
                             "against the fused kernel")
    parser.add_argument("--separate-gate-up", action="store_true",
                        help="the MLP's gate and up as two GEMMs at every batch (GatedMLP.merge_gate_up off), "
                             "for an A/B")
    args = parser.parse_args()
    import torch

    from benchmarks.checkpoint_load import m1_3b_config
    from benchmarks.report import environment
    from m1reason.model import HybridLM

    if not torch.cuda.is_available():
        print("needs a CUDA GPU", file=sys.stderr)
        return 2
    from m1reason.model.layers import GatedMLP

    with torch.device("cuda"):
        model = HybridLM(m1_3b_config()).to(torch.bfloat16).eval()
    if args.separate_gate_up:
        GatedMLP.merged_gemm_max_rows = 0
    gate_up = "separate" if args.separate_gate_up else f"merged at <= {GatedMLP.merged_gemm_max_rows} rows"
    if args.prefill:
        batch, length = (int(v) for v in args.prefill.lower().split("x"))
        if args.unfused_prefill:
            import m1reason.model.mamba as mixer
            from m1reason.kernels import mamba_prefill_ref

            mixer.mamba_prefill = mamba_prefill_ref
        record = profile_prefill(model, batch, length)
        record["mamba_prefill"] = "unfused (mamba_prefill_ref)" if args.unfused_prefill else "fused (default)"
        record["gate_up"] = gate_up
        print(f"prefill {batch} x {length}: {record['wall_s']:.3f} s wall, GPU busy {record['gpu_busy_ms']:.1f} ms")
        for name, ms in record["gpu_ms_by_kernel"].items():
            print(f"    {name:28s} {ms:9.2f} ms")
        for name, ms in record["top_kernels_ms"].items():
            print(f"    {ms:9.2f} ms  {name[:100]}")
        idle = record["gpu_idle"]
        print(f"GPU idle {idle['idle_ms']:.1f} ms in {idle['gaps']} gaps; during them:")
        for name, ms in idle["during_idle_ms"].items():
            print(f"    {ms:9.2f} ms  {name}")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "profile_prefill.json").write_text(json.dumps(
                {"env": environment(("torch", "triton")), "records": [record]}, indent=2))
        return 0
    records = [{**profile(model, b, args.context, decode_steps=args.decode_steps), "gate_up": gate_up}
               for b in args.batches]
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
