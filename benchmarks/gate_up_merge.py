"""The MLP with its gate and up projections as two GEMMs against one merged GEMM, per batch size.

``GatedMLP.merge_gate_up`` keeps the two weights in one [2I, H] tensor, and batches of at most
``GatedMLP.merged_gemm_max_rows`` rows run them as one GEMM. This times whole MLP forwards (gate and up, the
silu product, down) at M1-3B shapes both ways: on a GPU, ``--layers`` distinct bf16 MLPs one after another in a
CUDA graph (distinct weights, so nothing is served from L2; the graph leaves launch costs out, as the engine's
decode graphs do), the median of several replays; on a CPU, plain timed loops in fp32.

    python -m benchmarks.gate_up_merge [--device cuda] [--rows 1 8 64 512] [--hidden 3072] [--intermediate 8192]
                                       [--layers 28] [--json FILE] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from functools import partial


def median_ms(run, device, repeats: int) -> float:
    """Median milliseconds of ``run()``: a CUDA graph of it replayed on a GPU (``kernel_tiles.median_ms``), plain
    calls on a CPU."""
    if device.type == "cuda":
        from benchmarks.kernel_tiles import median_ms as graphed_median_ms

        return graphed_median_ms(run, repeats=repeats, calls=1)
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(1e3 * (time.perf_counter() - started))
    return statistics.median(times)


def forwards(mlps, x) -> None:
    for mlp in mlps:
        mlp(x)


def measure(device: str, rows: list[int], hidden: int, intermediate: int, layers: int,
            repeats: int = 20) -> list[dict]:
    """One row per batch size: ms for ``layers`` MLP forwards with gate and up separate, then merged."""
    import torch

    from m1reason.model.layers import GatedMLP

    device = torch.device(device)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    torch.manual_seed(0)
    with torch.device(device):
        mlps = [GatedMLP(hidden, intermediate).to(dtype) for _ in range(layers)]
    for mlp in mlps:
        mlp.merge_gate_up()
    limit = GatedMLP.merged_gemm_max_rows
    results = []
    try:
        for n in rows:
            x = torch.randn(n, hidden, device=device, dtype=dtype)
            times = {}
            for way, max_rows in (("separate", 0), ("merged", n)):
                GatedMLP.merged_gemm_max_rows = max_rows
                with torch.no_grad():
                    times[way] = median_ms(partial(forwards, mlps, x), device,
                                           repeats if n <= 4096 else max(3, repeats // 4))
            results.append({"rows": n, "separate ms": times["separate"], "merged ms": times["merged"],
                             "merged / separate": times["merged"] / times["separate"],
                             "merged by default": n <= limit})
    finally:
        GatedMLP.merged_gemm_max_rows = limit
    return results


def table(rows: list[dict]) -> str:
    from benchmarks.report import markdown_table

    shown = [{**r, "separate ms": f"{r['separate ms']:.3f}", "merged ms": f"{r['merged ms']:.3f}",
              "merged / separate": f"{r['merged / separate']:.3f}",
              "merged by default": "yes" if r["merged by default"] else "no"} for r in rows]
    return markdown_table(shown, ["rows", "separate ms", "merged ms", "merged / separate", "merged by default"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 64, 128, 192, 256, 384, 512,
                                                                 8192])
    parser.add_argument("--hidden", type=int, default=3072, help="M1-3B's")
    parser.add_argument("--intermediate", type=int, default=8192, help="M1-3B's")
    parser.add_argument("--layers", type=int, default=28, help="MLPs run one after another, as in M1-3B's step")
    parser.add_argument("--json", default=None, help="also write the rows here")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    from benchmarks.report import environment, write_section

    rows = measure(args.device, args.rows, args.hidden, args.intermediate, args.layers)
    text = table(rows)
    print(text)
    env = environment(("torch", "triton"))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"env": env, "rows": rows}, out, indent=1)
    if not args.no_write:
        body = (f"{args.layers} MLPs (hidden {args.hidden}, intermediate {args.intermediate}) run one after another "
                "on the same input, whole forwards (gate and up, the silu product, down): with gate and up as two "
                "GEMMs, and as one GEMM over the merged weight (`GatedMLP.merge_gate_up`). On a GPU, bf16 in a "
                "CUDA graph, the median of its replays; on a CPU, fp32 in plain timed loops. `merged by default`: "
                "the engine's setting (`GatedMLP.merged_gemm_max_rows`) runs that batch merged.\n\n" + text)
        write_section("gate_up_merge", "The MLP's gate and up: two GEMMs or one merged", body, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
