"""End-to-end generation throughput on one GPU: M1-3B and Llama-3.2-3B in m1reason's engine, and HF generate.

Random bf16 weights (speed does not depend on the values). Each point: ``batch`` requests with distinct random
256-token prompts, exactly ``new`` generated tokens each (ignore_eos, temperature 1, no top-k/p), end-to-end
wall time including prefill, as in the paper's Figure 1. An engine runs as many requests at once as its memory
holds (a transformer's KV cache runs 512 x 4352 tokens in waves). Per point: tok/s, median ms per decode step,
achieved GB/s (weights + Mamba state + live KV read per step) against the device-to-device copy bandwidth measured
at the start of the same run (3.0 TB/s on the H100, ~4.3 on the H200), peak GPU memory. Each point is appended to a
JSONL file as it finishes; a rerun skips points already there. BENCHMARKS.md gets one table per GPU model.

    python -m benchmarks.throughput --quick            # B = 1, 64, 512 at decode 1024 (< 5 min)
    python -m benchmarks.throughput --batches 1 8 64 128 256 512 --new 4096 --engines m1 llama
    python -m benchmarks.throughput --quick --engines m1 --decode-steps 1   # one decode step per host sync
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks.report import markdown_table, true_or_false

PROMPT = 256


def copy_bandwidth(gib: float = 4.0, repeats: int = 10) -> float:
    """Device-to-device copy bandwidth in bytes/s (bytes read + written), the median of ``repeats`` copies of a
    ``gib``-GiB buffer: the memory roofline every point's % is taken against, measured on the GPU that runs it."""
    import torch

    src = torch.empty(int(gib * 2**30), dtype=torch.uint8, device="cuda").random_()
    dst = torch.empty_like(src)
    times = []
    for i in range(repeats + 2):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        dst.copy_(src)
        end.record()
        end.synchronize()
        if i >= 2:  # the first copies warm up the allocator and clocks
            times.append(start.elapsed_time(end) / 1e3)
    del src, dst
    torch.cuda.empty_cache()
    return 2 * gib * 2**30 / statistics.median(times)


def llama_3b_config():
    from m1reason.model import ModelConfig, RopeConfig

    return ModelConfig(model_type="llama", vocab_size=128256, hidden_size=3072, intermediate_size=8192,
                       num_layers=28, num_heads=24, num_kv_heads=8, head_dim=128, rms_norm_eps=1e-5,
                       rope=RopeConfig(theta=500000.0), attn_layers=tuple(range(28)),
                       bos_token_id=128000, eos_token_ids=(128001,), pad_token_id=128004)


def bytes_per_step(config, params: int, batch: int, context: float) -> float:
    """Bytes one decode step must move: weights once, each sequence's Mamba state (read + write), its live KV."""
    state = len(config.mamba_layers) * config.d_inner * (config.d_state + config.d_conv) * 2 * 2
    kv = len(config.attn_layers) * config.num_kv_heads * config.head_dim * 2 * 2
    return params * 2 + batch * (state + kv * context)


def decode_steps_of(record: dict) -> int:
    """A record's engine decode_steps (records older than the option ran one step per sync)."""
    return record.get("decode_steps", 1)


def run_m1reason(model, batch: int, new: int, decode_steps: int, bandwidth: float, overlap: bool | None = None) -> dict:
    import torch

    from m1reason import GenerationRequest, M1Generator, SamplingParams

    config = model.config
    per_token_kv = len(config.attn_layers) * config.num_kv_heads * config.head_dim * 2 * 2
    # the previous point's cache must be gone before this one is sized: on the H200 (2026-12-02) it was not, and
    # Llama at 512 x 4096 ran 87 requests at once instead of the ~200 that fit
    gc.collect()
    torch.cuda.empty_cache()
    free = torch.cuda.mem_get_info()[0] - 12 * 2**30  # room for activations, logits, graphs
    length = PROMPT + new + 16
    fits = batch if not per_token_kv else max(1, min(batch, int(free // (per_token_kv * length))))
    gen = M1Generator(model, max_slots=fits, max_len=length, kv_tokens=fits * length, decode_steps=decode_steps,
                      overlap=overlap)
    params = SamplingParams(temperature=1.0, max_new_tokens=new, ignore_eos=True, seed=0)
    prompts = torch.randint(0, config.vocab_size, (batch, PROMPT), generator=torch.Generator().manual_seed(1))

    def requests(max_new):
        return [GenerationRequest(prompt_token_ids=p.tolist(), sampling=params.model_copy(
            update={"max_new_tokens": max_new})) for p in prompts[:fits]]

    gen.generate(requests(4))  # warm up: compile kernels, capture the graph of this batch size
    # every step of this run is summed below, beyond the 4096 the engine keeps for its throughput model
    marks = gen.engine.timings.decode.mark(), gen.engine.timings.prefill.mark()
    torch.cuda.reset_peak_memory_stats()
    torch.cuda.synchronize()
    started = time.perf_counter()
    results = gen.generate([GenerationRequest(prompt_token_ids=p.tolist(), sampling=params) for p in prompts])
    torch.cuda.synchronize()
    wall = time.perf_counter() - started
    assert all(s.num_tokens == new for r in results for s in r.samples)
    decode, prefill = gen.engine.timings.decode.since(marks[0]), gen.engine.timings.prefill.since(marks[1])
    full = [(ctx, s) for b, ctx, s in decode if b == fits]
    step = statistics.median(s for _, s in full)
    context = statistics.mean(ctx for ctx, _ in full)
    moved = bytes_per_step(config, sum(p.numel() for p in model.parameters()), fits, context)
    prefill_s = sum(s for _, s in prefill)
    decode_s = sum(s for _, _, s in decode)
    return {"tokens_per_s": batch * new / wall, "wall_s": wall, "concurrent": fits, "step_ms": step * 1e3,
            "achieved_GBps": moved / step / 1e9, "roofline_pct": 100 * moved / step / bandwidth,
            "copy_GBps": bandwidth / 1e9, "prefill_s": prefill_s, "decode_s": decode_s,
            # the wall time outside the engine's timed prefill and decode calls (admission, streaming, Python).
            # With overlapped decode a group's time runs from the read-back of the group before it, so the host's
            # work between groups, which the GPU no longer waits for, is inside decode_s.
            "other_s": wall - prefill_s - decode_s,
            "overlap": gen.engine.overlap,  # the next group of decode steps launched before the last is read
            "peak_GiB": torch.cuda.max_memory_allocated() / 2**30}


def run_hf(model, batch: int, new: int, cap_s: float) -> dict:
    import torch

    prompts = torch.randint(0, model.config.vocab_size, (batch, PROMPT), device="cuda",
                            generator=torch.Generator("cuda").manual_seed(1))
    kwargs = {"do_sample": True, "temperature": 1.0, "top_k": 0, "top_p": 1.0, "pad_token_id": 0}
    try:
        torch.cuda.synchronize()
        t = time.perf_counter()
        model.generate(prompts, max_new_tokens=9, min_new_tokens=9, **kwargs)
        torch.cuda.synchronize()
        t1 = time.perf_counter()
        model.generate(prompts, max_new_tokens=1, min_new_tokens=1, **kwargs)
        torch.cuda.synchronize()
        per_step = ((t1 - t) - (time.perf_counter() - t1)) / 8
        projected = new * per_step
        if projected > cap_s:
            return {"skipped": f"projected {projected:.0f} s ({per_step * 1e3:.0f} ms/step) exceeds the "
                               f"{cap_s:.0f} s cap", "step_ms": per_step * 1e3}
        torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        out = model.generate(prompts, max_new_tokens=new, min_new_tokens=new, **kwargs)
        torch.cuda.synchronize()
        wall = time.perf_counter() - started
    except torch.OutOfMemoryError as err:
        torch.cuda.empty_cache()
        return {"skipped": f"out of memory: {str(err).splitlines()[0][:120]}"}
    assert out.shape[1] == PROMPT + new
    return {"tokens_per_s": batch * new / wall, "wall_s": wall, "concurrent": batch, "step_ms": wall / new * 1e3,
            "peak_GiB": torch.cuda.max_memory_allocated() / 2**30}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B = 1, 64, 512 at decode 1024")
    parser.add_argument("--engines", nargs="+", default=["m1", "llama", "hf"], choices=["m1", "llama", "hf"])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 64, 128, 256, 512])
    parser.add_argument("--new", type=int, nargs="+", default=[4096, 1024])
    parser.add_argument("--hf-cap-s", type=float, default=90.0, help="skip HF points projected to take longer")
    parser.add_argument("--results", type=Path, default=Path("benchmarks/results/throughput.jsonl"))
    parser.add_argument("--out", type=Path, default=None, help="also copy JSONL, PNG and BENCHMARKS.md here")
    parser.add_argument("--no-write", action="store_true", help="print the tables; leave BENCHMARKS.md alone")
    parser.add_argument("--decode-steps", type=int, default=None,
                        help="m1reason engines: decode steps run on the device per host sync (default: the "
                             "generator's CUDA default, m1reason.engine.config.CUDA_DECODE_STEPS)")
    parser.add_argument("--overlap", type=true_or_false, default=True,
                        help="m1reason engines: launch each group of decode steps before reading the last one back "
                             "(M1Generator's overlap; default true, as on a GPU)")
    args = parser.parse_args()
    if args.decode_steps is not None and args.decode_steps < 1:
        parser.error("--decode-steps must be >= 1")
    if args.quick:
        args.batches, args.new = [1, 64, 512], [1024]
    import torch

    from benchmarks.checkpoint_load import m1_3b_config
    from benchmarks.report import BENCHMARKS_MD, environment, write_section
    from m1reason.engine.config import CUDA_DECODE_STEPS
    from m1reason.kernels import backends
    from m1reason.model import HybridLM

    if not torch.cuda.is_available():
        print("needs a CUDA GPU", file=sys.stderr)
        return 2
    env = environment(("torch", "triton", "transformers"))
    device = env["device"]
    decode_steps = args.decode_steps or CUDA_DECODE_STEPS
    bandwidth = None  # measured before the first point that needs it
    args.results.parent.mkdir(parents=True, exist_ok=True)
    done = [json.loads(line) for line in args.results.read_text().splitlines()] if args.results.exists() else []
    have = {(r["engine"], r["batch"], r["new"], r["device"], decode_steps_of(r), _mode(r)) for r in done}
    for engine in args.engines:
        model = None
        for new in args.new:
            for batch in args.batches:
                k = 1 if engine == "hf" else decode_steps
                if (engine, batch, new, device, k, engine != "hf" and args.overlap) in have:
                    continue
                if bandwidth is None:
                    bandwidth = copy_bandwidth()
                    print(f"device-to-device copy: {bandwidth / 1e12:.2f} TB/s", flush=True)
                if model is None:
                    torch.manual_seed(0)
                    if engine == "hf":
                        from transformers import LlamaConfig, LlamaForCausalLM
                        c = llama_3b_config()
                        hf_config = LlamaConfig(vocab_size=c.vocab_size, hidden_size=c.hidden_size,
                                                intermediate_size=c.intermediate_size, num_hidden_layers=c.num_layers,
                                                num_attention_heads=c.num_heads, num_key_value_heads=c.num_kv_heads,
                                                head_dim=c.head_dim, rope_theta=c.rope.theta, tie_word_embeddings=True)
                        with torch.device("cuda"):
                            model = LlamaForCausalLM(hf_config).to(torch.bfloat16).eval()
                    else:
                        config = m1_3b_config() if engine == "m1" else llama_3b_config()
                        with torch.device("cuda"):
                            model = HybridLM(config).to(torch.bfloat16).eval()
                started = time.perf_counter()
                with torch.no_grad():
                    point = (run_hf(model, batch, new, args.hf_cap_s) if engine == "hf"
                             else run_m1reason(model, batch, new, k, bandwidth, args.overlap))
                record = {"engine": engine, "batch": batch, "prompt": PROMPT, "new": new, "device": device,
                          "decode_steps": k,
                          "date": env["date"], "versions": env["versions"], "kernels": backends(),
                          "point_s": time.perf_counter() - started, **point}
                print(json.dumps(record), flush=True)
                with args.results.open("a") as f:
                    f.write(json.dumps(record) + "\n")
                done.append(record)
        del model
        torch.cuda.empty_cache()

    body = ("Prompt 256 tokens, random bf16 weights, temperature 1 without top-k/p, ignore_eos; end-to-end wall "
            "time including prefill. Token ids only, no text: no engine detokenizes here (a server's host cost "
            "per token; BENCHMARKS.md \"host_overhead\"). GB/s counts weights + Mamba state (read + write) + live "
            "KV per decode step; "
            "% roofline is against the device-to-device copy bandwidth measured at the start of the run that made "
            "the point (records without one: the H100's 3.0 TB/s of docs/gpu.md). Points come from the JSONL "
            f"`{args.results}`; each was measured in the run that wrote it (dates in the JSONL). One table per GPU "
            "model, this run's first.")
    devices = sorted({r["device"] for r in done}, key=lambda d: d != device)
    tables = [device_report(d, [r for r in done if r["device"] == d]) for d in devices]
    if not args.no_write:
        write_section("throughput", "Generation throughput: M1-3B vs Llama-3.2-3B (same engine) vs HF generate",
                      body + "\n\n" + "\n\n".join(tables), env)
    print("\n\n".join(tables))
    plot = _plot([r for r in done if r["device"] == device], args.out or args.results.parent)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "throughput.jsonl").write_text(args.results.read_text())
        (args.out / "BENCHMARKS.md").write_text(BENCHMARKS_MD.read_text())
    print("plot:", plot)
    return 0


_NAMES = {"m1": "m1reason M1-3B", "llama": "m1reason Llama-3.2-3B", "hf": "HF generate Llama-3.2-3B"}
_COLUMNS = ["engine", "batch", "decode", "tok/s", "ms/step", "concurrent", "GB/s", "% roofline", "peak GiB", "note"]


def device_report(device: str, records: list[dict]) -> str:
    """One GPU model's table (markdown) and its M1 / Llama speedups, from that device's records.

    >>> rec = lambda engine, tps: {"engine": engine, "batch": 512, "new": 4096, "decode_steps": 4,
    ...                            "tokens_per_s": tps, "copy_GBps": 4300.0}
    >>> print(device_report("GPU X", [rec("m1", 30000.0), rec("llama", 7500.0)]).splitlines()[-1])
    - batch 512, decode 4096, 4 step(s)/sync: M1 / Llama in the same engine = 4.00x
    """
    rows = sorted(records, key=lambda r: (r["new"], r["batch"], r["engine"], decode_steps_of(r), _mode(r)))

    def label(r):
        k = decode_steps_of(r)
        if r["engine"] == "hf":
            return _NAMES["hf"]
        return _NAMES[r["engine"]] + f", {k} step{'s' if k > 1 else ''}/sync" + (", overlapped" if _mode(r) else "")

    table = markdown_table([{"engine": label(r), "batch": r["batch"], "decode": r["new"],
                             "tok/s": r.get("tokens_per_s", "skipped"), "ms/step": r.get("step_ms", ""),
                             "concurrent": r.get("concurrent", ""), "GB/s": r.get("achieved_GBps", ""),
                             "% roofline": r.get("roofline_pct", ""), "peak GiB": r.get("peak_GiB", ""),
                             "note": r.get("skipped") or _note(r)} for r in rows], _COLUMNS)
    speedups = []
    for r in rows:
        same = (r["batch"], r["new"], decode_steps_of(r), _mode(r))
        peer = next((p for p in rows if p["engine"] == "llama"
                     and (p["batch"], p["new"], decode_steps_of(p), _mode(p)) == same), None)
        if r["engine"] == "m1" and peer and "tokens_per_s" in peer and "tokens_per_s" in r:
            caveat = ""
            if r.get("commit") != peer.get("commit"):
                caveat = f" (M1 at {r.get('commit', '?')}, Llama at {peer.get('commit', '?')}: not the same code)"
            elif r.get("note") or peer.get("note"):
                caveat = " (not measured in one run: see the notes)"
            overlapped = ", overlapped" if _mode(r) else ""
            speedups.append(f"- batch {r['batch']}, decode {r['new']}, {decode_steps_of(r)} step(s)/sync{overlapped}: "
                            f"M1 / Llama in the same engine = {r['tokens_per_s'] / peer['tokens_per_s']:.2f}x{caveat}")
    copies = sorted({round(r["copy_GBps"]) for r in rows if "copy_GBps" in r})
    measured = f" (measured copy bandwidth: {', '.join(f'{c:,} GB/s' for c in copies)})" if copies else ""
    return f"### {device}{measured}\n\n" + table + ("\n\n" + "\n".join(speedups) if speedups else "")


def _mode(record: dict) -> bool:
    """Whether the record's decode groups were overlapped (records from before the option: no)."""
    return bool(record.get("overlap", False))


def _note(record: dict) -> str:
    """A record's note, after the commit it was measured at where the record names one."""
    commit = f"at {record['commit']}" if record.get("commit") else ""
    return "; ".join(part for part in (commit, record.get("note", "")) if part)


_ORDER = ("m1", "llama", "hf")
_LABELS = {"m1": "M1-3B (m1reason)", "llama": "Llama-3.2-3B (m1reason)", "hf": "Llama-3.2-3B (HF generate)"}


def _plot(rows: list[dict], folder: Path) -> Path | None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, new in zip(axes, (1024, 4096)):
        series = sorted({(r["engine"], decode_steps_of(r), _mode(r)) for r in rows},
                        key=lambda s: (_ORDER.index(s[0]), s[1], s[2]))
        for engine, k, overlapped in series:
            pts = [(r["batch"], r["tokens_per_s"]) for r in rows
                   if (r["engine"], decode_steps_of(r), _mode(r)) == (engine, k, overlapped)
                   and r["new"] == new and "tokens_per_s" in r]
            if pts:
                label = _LABELS[engine] + (f", {k} steps/sync" if k > 1 else "")
                label += ", overlapped" if overlapped else ""
                ax.plot(*zip(*sorted(pts)), marker="o", label=label)
        ax.set(xscale="log", xlabel="batch (requests)", ylabel="tokens/s", title=f"prompt 256, decode {new}")
        ax.grid(True, alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small", loc="upper left")
    path = folder / "throughput.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    sys.exit(main())
