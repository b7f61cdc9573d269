"""Host (Python) cost of a decode step, with the model's compute taken out: a tiny model on the CPU.

On a GPU the decode step replays a CUDA graph in ~10 ms at batch 512; everything else the engine and the
generator do per step runs on the host and, unless it is small, is what the GPU waits for. This measures it
without a GPU: one request with n=B samples (prompt of 16 tokens, ignore_eos), a few warm-up steps, then
``--steps`` steady-state steps of ``M1Generator.step``. The device work, the model's forward (``model.step``)
and the sampling kernel (``sample``; one Triton kernel on a GPU, tensor ops on the CPU), is timed on its own
and subtracted, so "host ms" is what the engine, scheduler, sampling bookkeeping and generator cost.
The events each step posts are drained as a streaming consumer would (``collect ms``, host work too).

    python -m benchmarks.host_overhead [--batches 1 64 512] [--steps 50] [--decode-steps 1 4]
                                       [--tokenizer none byte embedded embedded-window] [--profile] [--out DIR]
                                       [--section NAME]

``--decode-steps K`` runs the engine with ``decode_steps=K``: each engine step is then up to K decode steps with one
device-to-host copy, so the host cost to compare is per generated token (``host us/tok``: host ms per step divided
by the tokens each sequence gained per step), not per step.

``--tokenizer`` (one or several, each measured in turn): ``none`` (the default, as benchmarks/profile_step.py) has
no text at all; ``byte`` a one-character-per-token toy, detokenized through IncrementalText's window (two Python
``decode`` calls per token); ``embedded`` the embedded model's byte-level BPE, a real ``tokenizers`` tokenizer,
decoded by its byte table; ``embedded-window`` the same tokenizer forced through the window, as every tokenizer
was before the byte table (m1reason/generator/text.py). ``--section NAME`` writes the table to BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import statistics
import sys
import time
from pathlib import Path

PROMPT_LEN = 16
WARMUP_STEPS = 5


class ByteTokenizer:
    """Token i is character i (Latin-1): detokenizing costs what a cheap real tokenizer's decode costs."""

    bos_token, bos_token_id, eos_token_id = None, None, None

    def __call__(self, text, add_special_tokens=True):
        return {"input_ids": list(text.encode("latin-1"))}

    def decode(self, ids, skip_special_tokens=False):
        return bytes(ids).decode("latin-1")


class Stopwatch:
    """Wraps a callable and adds the seconds spent in it to ``total``."""

    def __init__(self, fn):
        self.fn, self.total = fn, 0.0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.total += time.perf_counter() - started


class WindowedOnly:
    """A tokenizer seen without its ``tokenizers`` backend: IncrementalText then decodes through its window."""

    def __init__(self, tokenizer):
        self._tokenizer = tokenizer

    def __getattr__(self, name):
        if name == "backend_tokenizer":
            raise AttributeError(name)
        return getattr(self._tokenizer, name)

    def __call__(self, *args, **kwargs):
        return self._tokenizer(*args, **kwargs)


def _embedded_tokenizer():
    """The embedded model's tokenizer (a fast tokenizers BPE whose first 256 ids are bytes, so the tiny random
    model's ids all decode)."""
    from m1reason.defaults import EMBEDDED_MODEL
    from m1reason.tokenizer import load_tokenizer

    return load_tokenizer(str(EMBEDDED_MODEL))


TOKENIZERS = ("none", "byte", "embedded", "embedded-window")


def make_tokenizer(name: str):
    """The tokenizer behind a ``--tokenizer`` name (None for "none")."""
    return {"none": lambda: None, "byte": ByteTokenizer, "embedded": _embedded_tokenizer,
            "embedded-window": lambda: WindowedOnly(_embedded_tokenizer())}[name]()


def measure(model, batch: int, steps: int, tokenizer=None, profiler: cProfile.Profile | None = None,
            decode_steps: int = 1) -> dict:
    """Per-step milliseconds of one request with n=batch samples, after warm-up."""
    from m1reason import GenerationRequest, M1Generator, SamplingParams
    from m1reason.engine import engine as engine_module

    max_len = PROMPT_LEN + (WARMUP_STEPS + steps) * decode_steps + 8
    gen = M1Generator(model, tokenizer, max_slots=batch, max_len=max_len, kv_tokens=batch * max_len,
                      cuda_graphs=False, decode_steps=decode_steps)
    params = SamplingParams(n=batch, temperature=1.0, seed=0, max_new_tokens=max_len - PROMPT_LEN - 1,
                            ignore_eos=True)
    prompt = [(7 * i) % model.config.vocab_size for i in range(PROMPT_LEN)]
    [request_id] = gen.submit([GenerationRequest(prompt_token_ids=prompt, sampling=params)])
    gc.collect()  # start each batch size from a clean heap: garbage of the last one would be collected in ours
    for _ in range(WARMUP_STEPS):  # prefill, fork, first decode steps
        gen.step()
        gen._collect([request_id])
    model_step, engine_step = Stopwatch(model.step), Stopwatch(gen.engine.step)
    sample = Stopwatch(engine_module.sample)
    model.step, gen.engine.step = model_step, engine_step  # instance attributes shadow the methods
    engine_module.sample = sample
    first = gen.engine.scheduler.running[0]
    generated_before = first.num_generated
    step_s = collect_s = 0.0
    host_s = []  # per step: wall minus device work, whose median is robust to a slow step (GC, a busy core)
    try:
        if profiler is not None:
            profiler.enable()
        for _ in range(steps):
            device_before = model_step.total + sample.total
            started = time.perf_counter()
            gen.step()
            stepped = time.perf_counter()
            gen._collect([request_id])  # what a stream() consumer pays to receive this step's events
            collect_s += time.perf_counter() - stepped
            step_s += stepped - started
            host_s.append(stepped - started - (model_step.total + sample.total - device_before))
        if profiler is not None:
            profiler.disable()
    finally:
        del model.step  # back to the class's method
        engine_module.sample = sample.fn
    tokens_per_step = (first.num_generated - generated_before) / steps  # per sequence
    live = len(gen.engine.scheduler.running)
    if live != batch:
        raise RuntimeError(f"expected {batch} sequences running through the measurement, found {live}")
    gen.cancel(request_id)
    ms = lambda seconds: seconds / steps * 1e3  # noqa: E731
    host = statistics.median(host_s) * 1e3
    return {"batch": batch, "steps": steps, "step_ms": ms(step_s), "engine_ms": ms(engine_step.total),
            "model_ms": ms(model_step.total), "sample_ms": ms(sample.total), "host_ms": host,
            "collect_ms": ms(collect_s), "host_us_per_seq": host * 1e3 / batch, "tokenizer": tokenizer is not None,
            "decode_steps": decode_steps, "tokens_per_step": tokens_per_step,
            "host_us_per_token": host * 1e3 / tokens_per_step}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 64, 512])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--decode-steps", type=int, nargs="+", default=[1],
                        help="engine decode_steps to compare (e.g. 1 4): decode steps per engine step")
    parser.add_argument("--tokenizer", choices=TOKENIZERS, nargs="+", default=["none"],
                        help="detokenizers to measure in turn (see the module docstring)")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest batch: top 25 by cumulative")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--section", default=None, help="write the table to this BENCHMARKS.md section")
    args = parser.parse_args()
    import torch

    from benchmarks.report import environment
    from m1reason.model import HybridLM, ModelConfig

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = HybridLM(ModelConfig.tiny()).eval()
    records = []
    for name in args.tokenizer:
        tokenizer = make_tokenizer(name)
        for b in args.batches:
            for k in args.decode_steps:
                records.append({"tokenizer_name": name, **measure(model, b, args.steps, tokenizer, decode_steps=k)})
    print("ms per engine step (host = median of step - model - sample; collect = draining the events; host us/tok = "
          "host per token each sequence gained)")
    print(f"{'tokenizer':>16} {'batch':>6} {'K':>3} {'tok/step':>8} {'step ms':>9} {'engine ms':>10} {'model ms':>9} "
          f"{'sample ms':>10} {'host ms':>9} {'collect ms':>11} {'host us/seq':>12} {'host us/tok':>12}")
    for r in records:
        print(f"{r['tokenizer_name']:>16} {r['batch']:>6} {r['decode_steps']:>3} {r['tokens_per_step']:>8.2f} "
              f"{r['step_ms']:>9.2f} {r['engine_ms']:>10.2f} {r['model_ms']:>9.2f} {r['sample_ms']:>10.2f} "
              f"{r['host_ms']:>9.2f} {r['collect_ms']:>11.2f} {r['host_us_per_seq']:>12.2f} "
              f"{r['host_us_per_token']:>12.1f}")
    if args.section:
        from benchmarks.report import markdown_table, write_section

        rows = [{"detokenizer": r["tokenizer_name"], "batch": r["batch"], "decode steps": r["decode_steps"],
                 "host ms per engine step": r["host_ms"], "host us per sequence": r["host_us_per_seq"],
                 "collect ms": r["collect_ms"]} for r in records]
        body = ("Host (Python) time of one engine step of M1Generator, the model's and the sampler's device work "
                "taken out: one request of n=batch samples of a tiny random model, torch on one thread; the median "
                f"over {args.steps} steps. Detokenizers: see benchmarks/host_overhead.py. On a GPU this is the "
                "time the device waits for the host between two multi-step decodes.\n\n"
                + markdown_table(rows, ["detokenizer", "batch", "decode steps", "host ms per engine step",
                                        "host us per sequence", "collect ms"]))
        write_section(args.section, "Host time of a decode step, by detokenizer", body, environment(("torch",)))
    if args.profile:
        profiler = cProfile.Profile()
        measure(model, max(args.batches), args.steps, make_tokenizer(args.tokenizer[-1]), profiler,
                decode_steps=max(args.decode_steps))
        print(f"\ncProfile, batch {max(args.batches)}, {args.steps} steps: top 25 by cumulative time")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        print("and the host code alone (engine, generator, pydantic): top 25 by own time")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(r"m1reason/(engine|generator)|pydantic", 25)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "host_overhead.json").write_text(json.dumps({"env": environment(("torch",)),
                                                                 "records": records}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
