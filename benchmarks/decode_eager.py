"""Decode speed of the engine without its fast path (torch reference kernels, no CUDA graphs) on full-size M1-3B.

Random bf16 weights in M1-3B's shapes (speed does not depend on the values); one request of n samples per
batch size, a shared random prompt, exactly ``--new`` tokens per sample (ignore_eos). Reports generated
tokens/s, ms per decode step (from the engine's own step timings) and the prefill time. This is the
baseline the GPU fast path (kernels, CUDA graphs) is measured against.

    python -m benchmarks.decode_eager [--batches 1 16 64 256] [--prompt 256] [--new 256] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path


def run(batch: int, prompt: int, new: int, model) -> dict:
    import torch

    from m1reason import GenerationRequest, M1Generator, SamplingParams

    gen = M1Generator(model, max_slots=batch, max_len=prompt + new + 1, kv_tokens=batch * (prompt + new + 16),
                      cuda_graphs=False)
    ids = torch.randint(0, model.config.vocab_size, (prompt,), generator=torch.Generator().manual_seed(0)).tolist()
    params = SamplingParams(n=batch, temperature=1.0, seed=0, max_new_tokens=new, ignore_eos=True)
    torch.cuda.synchronize() if torch.cuda.is_available() else None
    started = time.perf_counter()
    [result] = gen.generate([GenerationRequest(prompt_token_ids=ids, sampling=params)])
    wall = time.perf_counter() - started
    steps = [s for b, _, s in gen.engine.timings.decode.recent() if b == batch]
    assert all(s.num_tokens == new for s in result.samples)
    return {"batch": batch, "prompt": prompt, "new": new, "wall_s": wall,
            "tokens_per_s": batch * new / wall, "step_ms_median": 1e3 * statistics.median(steps),
            "decode_tokens_per_s": batch / statistics.median(steps),
            "prefill_s": sum(s for _, s in gen.engine.timings.prefill.recent())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16, 64, 256])
    parser.add_argument("--prompt", type=int, default=256)
    parser.add_argument("--new", type=int, default=256)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import torch

    from benchmarks.checkpoint_load import m1_3b_config
    from benchmarks.report import BENCHMARKS_MD, environment, markdown_table, write_section
    from m1reason.model import HybridLM

    os.environ["M1REASON_KERNELS"] = "torch"  # the baseline: torch reference kernels, eager decode step
    if not torch.cuda.is_available():
        print("needs a CUDA GPU", file=sys.stderr)
        return 2
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = HybridLM(m1_3b_config()).to(torch.bfloat16).eval()
    rows = [run(b, args.prompt, args.new, model) for b in args.batches]
    columns = ["batch", "prompt", "new", "tokens_per_s", "decode_tokens_per_s", "step_ms_median", "prefill_s",
               "wall_s"]
    table = markdown_table(rows, columns)
    env = environment(("torch", "triton"))
    write_section("decode_eager", "Eager engine decode, M1-3B shapes (random bf16), one request of n samples",
                  "M1Generator with the torch reference kernels, no CUDA graphs: the baseline for the fast path. "
                  "tokens_per_s = batch x new / wall (prefill included); decode_tokens_per_s = batch / median "
                  "step.\n\n" + table + "\n\n```json\n" + json.dumps(rows) + "\n```", env)
    print(table)
    print(json.dumps(rows))
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "decode_eager.json").write_text(json.dumps({"env": env, "rows": rows}, indent=2))
        (args.out / "BENCHMARKS.md").write_text(BENCHMARKS_MD.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
