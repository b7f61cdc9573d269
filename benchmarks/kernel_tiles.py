"""Tile sizes of M1-3B's Triton kernels, each timed alone on the GPU against the memory it must move: paged
attention's keys per iteration, the Mamba step's channels per program, the fused Mamba prefill's channels per
program and pipelined steps, each with its warps.

    python -m benchmarks.kernel_tiles [--batches 1 512] [--contexts 1024 4096] [--rows 1 2 4] [--json FILE]
                                      [--prefill 256x256 [--stages 1 2 3]] [--no-write]

Attention reads each sequence's live keys and values (batch x context x 8 kv heads x 128 x 2 tensors x 2 bytes,
bf16); the Mamba step reads and writes its ssm state (d_inner x d_state) and conv state (d_inner x d_conv), bf16.
GB/s is that traffic over the kernel's median time (ten calls in a CUDA graph, timed with CUDA events), beside
the device-to-device copy bandwidth measured in the same run. One layer; a step of M1-3B runs 6 attention and 22
Mamba layers.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
from pathlib import Path

from benchmarks.report import environment, markdown_table, write_section

HEADS, KV_HEADS, HEAD_DIM, BLOCK_SIZE = 24, 8, 128, 16  # M1-3B's attention layers, the engine's cache blocks
D_INNER, D_XB, D_STATE, D_CONV = 3072, 1024, 16, 4  # M1-3B's Mamba layers


def median_ms(fn, repeats: int = 30, calls: int = 10) -> float:
    """Median GPU time of one ``fn()`` in ms: ``calls`` calls captured in a CUDA graph (as the engine runs them,
    so host launch time does not count), the graph replayed ``repeats`` times after untimed calls (compile; on a
    side stream, as torch asks before a capture, so that libraries such as cuBLAS set up outside it)."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(calls):
            fn()
    graph.replay()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / calls)
    return statistics.median(times)


def attention_records(batch: int, context: int, tiles: list[int], warps: list[int]) -> list[dict]:
    import torch

    from m1reason.kernels.triton_paged_attention import paged_attention_decode_triton

    per_seq = -(-(context + 1) // BLOCK_SIZE)
    blocks = batch * per_seq
    k_pool, v_pool = (torch.randn(blocks, BLOCK_SIZE, KV_HEADS, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
                      for _ in range(2))
    table = torch.randperm(blocks, device="cuda", dtype=torch.int32).view(batch, per_seq)
    slots = torch.arange(batch, device="cuda")
    positions = torch.full((batch,), context, device="cuda")
    q = torch.randn(batch, HEADS, HEAD_DIM, device="cuda", dtype=torch.bfloat16)
    moved = batch * (context + 1) * KV_HEADS * HEAD_DIM * 2 * 2
    records = []
    for tile in tiles:
        for w in warps:
            ms = median_ms(lambda tile=tile, w=w: paged_attention_decode_triton(
                q, k_pool, v_pool, table, slots, positions, tile_tokens=tile, num_warps=w))
            records.append({"kernel": "paged attention", "batch": batch, "context": context,
                            "config": f"{tile} keys/iter, {w} warps", "ms": ms, "gb_s": moved / ms / 1e6})
    return records


def mamba_records(batch: int, blocks: list[int], warps: list[int], rows: list[int]) -> list[dict]:
    import torch

    from m1reason.kernels.triton_mamba_step import mamba_step_triton

    dev, bf16 = "cuda", torch.bfloat16
    x, B = torch.randn(batch, D_XB, device=dev, dtype=bf16), torch.randn(batch, D_XB, device=dev, dtype=bf16)
    z, C, dt = (torch.randn(batch, D_INNER, device=dev, dtype=bf16) for _ in range(3))
    conv = torch.randn(batch, D_INNER, D_CONV, device=dev, dtype=bf16)
    ssm = torch.randn(batch, D_INNER, D_STATE, device=dev, dtype=bf16)
    w, bias = torch.randn(D_INNER, D_CONV, device=dev, dtype=bf16), torch.randn(D_INNER, device=dev, dtype=bf16)
    A_log, D = torch.log(torch.rand(D_INNER, D_STATE, device=dev)), torch.ones(D_INNER, device=dev)
    dt_bias = torch.randn(D_INNER, device=dev, dtype=bf16)
    moved = batch * D_INNER * (D_STATE + D_CONV) * 2 * 2
    records = []
    for block, nw, per in itertools.product(blocks, warps, rows if batch > 1 else [1]):
        ms = median_ms(lambda block=block, nw=nw, per=per: mamba_step_triton(
            x, z, B, C, dt, conv, ssm, w, bias, A_log, D, dt_bias, block_d=block, num_warps=nw, rows=per))
        records.append({"kernel": "mamba step", "batch": batch, "context": "",
                        "config": f"{block} channels x {per} sequences/program, {nw} warps", "ms": ms,
                        "gb_s": moved / ms / 1e6})
    return records


def prefill_records(batch: int, length: int, blocks: list[int], warps: list[int], stages: list[int],
                    chunks: list[int] = (0,)) -> list[dict]:
    """The fused Mamba prefill (conv + scan) on one prefill call's [batch, length] tokens, states at their slots;
    ``chunks``: time steps per chunk (0: one walk over each sequence). GB/s counts its inputs and output once (x and
    B narrow; z, C, dt, y wide; bf16): a lower bound on its traffic."""
    import torch

    from m1reason.kernels.triton_mamba_prefill import mamba_prefill_triton

    dev, bf16 = "cuda", torch.bfloat16
    z, x, B, C = torch.randn(batch, length, 2 * D_INNER + 2 * D_XB, device=dev, dtype=bf16).split(
        [D_INNER, D_XB, D_XB, D_INNER], -1)  # strided views of one in_proj output, as the model passes them
    dt = torch.randn(batch, length, D_INNER, device=dev, dtype=bf16)
    conv = torch.randn(batch, D_INNER, D_CONV, device=dev, dtype=bf16)
    ssm = torch.randn(batch, D_INNER, D_STATE, device=dev, dtype=bf16)
    w, bias = torch.randn(D_INNER, D_CONV, device=dev, dtype=bf16), torch.randn(D_INNER, device=dev, dtype=bf16)
    A_log, D = torch.log(torch.rand(D_INNER, D_STATE, device=dev)), torch.ones(D_INNER, device=dev)
    dt_bias = torch.randn(D_INNER, device=dev, dtype=bf16)
    slots = torch.arange(batch, device=dev)
    moved = batch * length * (2 * D_XB + 4 * D_INNER) * 2
    records = []
    for block, nw, st, chunk in itertools.product(blocks, warps, stages, chunks):
        ms = median_ms(lambda block=block, nw=nw, st=st, chunk=chunk: mamba_prefill_triton(
            x, z, B, C, dt, w, bias, A_log, D, dt_bias, conv, ssm, slots, block_d=block, num_warps=nw, stages=st,
            chunk_len=chunk), repeats=5, calls=2)
        walk = f", chunks of {chunk}" if chunk and chunk < length else ""
        records.append({"kernel": "mamba prefill", "batch": batch, "context": length,
                        "config": f"{block} channels, {nw} warps, {st} stage(s){walk}", "ms": ms,
                        "gb_s": moved / ms / 1e6})
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 512])
    parser.add_argument("--contexts", type=int, nargs="+", default=[1024, 4096])
    parser.add_argument("--tiles", type=int, nargs="+", default=[16, 32, 64, 128])
    parser.add_argument("--blocks", type=int, nargs="+", default=[32, 64, 128, 256])
    parser.add_argument("--warps", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--rows", type=int, nargs="+", default=[1, 2, 4], help="Mamba step: sequences per program")
    parser.add_argument("--prefill", metavar="BxT", help="also the fused Mamba prefill on B sequences of T tokens "
                        "(the engine's prefill calls at 512 x 256 are 256x256)")
    parser.add_argument("--prefill-blocks", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--prefill-warps", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2, 3], help="prefill: steps' loads in flight")
    parser.add_argument("--prefill-chunks", type=int, nargs="+", default=[0],
                        help="prefill: time steps per chunk walked in parallel (0: none)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)
    import torch

    from benchmarks.throughput import copy_bandwidth

    if not torch.cuda.is_available():
        parser.error("needs a CUDA GPU")
    copy_gb_s = copy_bandwidth() / 1e9
    records = []
    for batch in args.batches:
        for context in args.contexts:
            records += attention_records(batch, context, args.tiles, args.warps)
        records += mamba_records(batch, args.blocks, args.warps, args.rows)
    if args.prefill:
        batch, length = map(int, args.prefill.lower().split("x"))
        records += prefill_records(batch, length, args.prefill_blocks, args.prefill_warps, args.stages,
                                   args.prefill_chunks)
    for r in records:
        r["% of copy"] = 100 * r["gb_s"] / copy_gb_s
        print(json.dumps(r))
    body = (f"Device-to-device copy: {copy_gb_s:.0f} GB/s (this run). One kernel call (with its torch epilogue), "
            "median over 30 replays of a CUDA graph of ten calls; "
            "GB/s: the state or live KV it must move (module docstring of benchmarks/kernel_tiles.py).\n\n"
            + markdown_table(records, ["kernel", "batch", "context", "config", "ms", "gb_s", "% of copy"]))
    print(body)
    env = environment(("torch", "triton"))
    if args.json:
        args.json.write_text(json.dumps({"env": env, "copy_gb_s": copy_gb_s, "records": records}))
    if not args.no_write:
        write_section("kernel_tiles", "Decode kernel tiles at M1-3B shapes", body, env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
