"""What the first attention call at a sequence length not seen before costs, per SDPA backend choice.

Prompts and appended text come in every length. torch's default scaled_dot_product_attention may pick cuDNN's
backend on Hopper GPUs, which plans each new shape on first sight; ``m1reason.model.cache.sdpa`` leaves it out.
This times single calls (the device synchronised around each) at lengths the process has not used yet, then
again at the same lengths: causal attention of a prompt, and masked attention of a few appended tokens over a
cached context, with torch's default backends and with ``sdpa``.

    python -m benchmarks.attention_first_call [--device cuda] [--heads 8] [--head-dim 32] [--lengths 40 52]
                                              [--json FILE] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial

from benchmarks.report import environment, markdown_table, write_section


def time_call(call, device) -> float:
    """Milliseconds of one call, the device's queued work finished before and after."""
    import torch

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    started = time.perf_counter()
    call()
    sync()
    return 1e3 * (time.perf_counter() - started)


def measure(device: str, heads: int, head_dim: int, lengths: range, context: int = 100,
            appended: int = 8) -> list[dict]:
    """One row per (shape kind, attention): median and max ms of the first call at each new length, and the
    median of a second call at the same lengths."""
    import torch
    import torch.nn.functional as F

    from m1reason.model.cache import sdpa

    device = torch.device(device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    ways = {"torch default": F.scaled_dot_product_attention, "m1reason sdpa": sdpa}
    rows = []
    for offset, (way, attend) in enumerate(ways.items()):
        # each way gets lengths of its own, so neither meets a shape the other has already planned
        shift = offset * (len(lengths) + 1)
        for kind in ("causal prompt", "masked append"):
            first, again = [], []
            for length in (n + shift for n in lengths):
                if kind == "causal prompt":
                    q = torch.randn(1, heads, length, head_dim, device=device, dtype=dtype)
                    call = partial(attend, q, q, q, is_causal=True)
                else:  # ``appended`` tokens over a cached context of a length not seen before
                    q = torch.randn(1, heads, appended, head_dim, device=device, dtype=dtype)
                    k = torch.randn(1, heads, context + length, head_dim, device=device, dtype=dtype)
                    mask = torch.ones(1, 1, appended, context + length, device=device, dtype=torch.bool)
                    call = partial(attend, q, k, k, attn_mask=mask)
                first.append(time_call(call, device))
                again.append(time_call(call, device))
            rows.append({"attention": way, "shape": kind, "lengths": len(first),
                         "first call ms (median)": statistics.median(first), "first call ms (max)": max(first),
                         "again ms (median)": statistics.median(again), "first": first})
    return rows


def table(rows: list[dict]) -> str:
    shown = [{**r, **{k: f"{r[k]:.2f}" for k in ("first call ms (median)", "first call ms (max)",
                                                   "again ms (median)")}} for r in rows]
    return markdown_table(shown, ["attention", "shape", "lengths", "first call ms (median)", "first call ms (max)",
                                  "again ms (median)"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--heads", type=int, default=8, help="the embedded model's attention heads")
    parser.add_argument("--head-dim", type=int, default=32)
    parser.add_argument("--lengths", type=int, nargs=2, default=[40, 52], metavar=("FROM", "TO"),
                        help="sequence lengths FROM..TO-1, each first met here")
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    rows = measure(args.device, args.heads, args.head_dim, range(*args.lengths))
    text = table(rows)
    print(text)
    env = environment()
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"env": env, "rows": rows}, out, indent=1)
    if not args.no_write:
        body = (f"Single attention calls ({args.heads} heads of {args.head_dim}, one sequence) at "
                f"{len(range(*args.lengths))} lengths not used before in the process, timed with the device "
                "synchronised around each, then once more at the same lengths: a causal prompt, and a few "
                "appended tokens attending over a cached context through a mask. `m1reason sdpa` is "
                "`m1reason.model.cache.sdpa` (no cuDNN backend on a GPU).\n\n" + text)
        write_section("attention_first_call", "Attention at a sequence length not seen before", body, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
