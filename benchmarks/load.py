"""Load test of the async front: N concurrent simulated students through one AsyncSolver, against the same
requests sent one after another.

Every student asks a different problem with its own seed, so each Solution is checked against the one the same
request gives alone (on CPU in fp32 samples do not depend on batch composition, so the texts must match exactly;
on GPU in bf16 they may not, so there the check is that every Solution belongs to its own problem and request).
Reports latency p50/p95/p99 (submission to Solution), requests/s and generated tokens/s both ways, the largest
and mean decode batch, as a table and one JSON record; writes the "load" section of BENCHMARKS.md ("load-gpu"
with --gpu: the M1-3B architecture with random weights, bf16, CUDA graphs).

    python -m benchmarks.load                      # 200 students, tiny random model, CPU
    python -m benchmarks.load --gpu --out DIR      # the M1-3B architecture on the GPU (< 3 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

import torch

from benchmarks.report import BENCHMARKS_MD, environment, markdown_table, write_section


def build_generator(gpu: bool, slots: int, max_len: int):
    from m1reason.defaults import ByteTokenizer, default_generator

    if not gpu:
        return default_generator(max_slots=slots, max_len=max_len)
    from benchmarks.checkpoint_load import m1_3b_config
    from m1reason.generator import M1Generator
    from m1reason.model import HybridLM

    torch.manual_seed(0)
    with torch.device("cuda"):
        model = HybridLM(m1_3b_config()).to(torch.bfloat16).eval()
    model.source = {"model_id": "M1-3B architecture, random weights", "revision": None}
    return M1Generator(model, ByteTokenizer(), max_slots=slots, max_len=max_len)


def problem(i: int) -> str:
    return f"Student {i}: what is {i} * {i + 7} - {3 * i}?"


def strategy(i: int, args):
    import strategies

    # no early stop and no budget forcing: every sample runs its full length, so the work is the same both ways
    return strategies.SelfConsistency(n=args.samples, max_new_tokens=args.new_tokens, seed=1000 + i,
                                      early_stop="none", force_answers=False)


async def concurrent(generator, args) -> tuple[list, list[float], float]:
    from m1reason.serving import AsyncSolver

    latencies = [0.0] * args.students
    async with AsyncSolver(generator, max_active=args.students, max_queue=args.students) as solver:
        await solver.start()

        async def student(i: int):
            started = time.perf_counter()
            solution = await solver.solve(problem(i), budget_s=None, strategy=strategy(i, args), tenant=f"s{i}")
            latencies[i] = time.perf_counter() - started
            return solution

        started = time.perf_counter()
        solutions = await asyncio.gather(*(student(i) for i in range(args.students)))
        wall = time.perf_counter() - started
    return solutions, latencies, wall


def sequential(generator, args, count: int) -> tuple[list, list[float], float]:
    solutions, latencies = [], []
    started = time.perf_counter()
    for i in range(count):
        t = time.perf_counter()
        solutions.append(strategy(i, args).run(problem(i), generator))
        latencies.append(time.perf_counter() - t)
    return solutions, latencies, time.perf_counter() - started


def check(concurrent_solutions, sequential_solutions, exact: bool) -> dict:
    """Each Solution is its own: right problem, samples of one request not shared with any other Solution,
    and (``exact``) the same sample texts as the request run alone."""
    owners: dict[str, int] = {}
    wrong = []
    for i, solution in enumerate(concurrent_solutions):
        requests = {s.sample_id.rsplit("/", 1)[0] for s in solution.samples}
        if solution.problem != problem(i) or len(requests) != 1 or any(r in owners for r in requests):
            wrong.append(i)
        owners.update(dict.fromkeys(requests, i))
    same = sum([s.text for s in a.samples] == [s.text for s in b.samples] and a.answer == b.answer
               for a, b in zip(concurrent_solutions, sequential_solutions))
    ok = not wrong and (not exact or same == len(sequential_solutions))
    return {"own_answers_ok": ok, "misrouted": wrong, "identical_to_alone": same,
            "compared": len(sequential_solutions)}


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q / 100 * len(values) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200)
    parser.add_argument("--samples", type=int, default=None, help="samples per problem (CPU 2, GPU 2)")
    parser.add_argument("--new-tokens", type=int, default=None, help="tokens per sample (CPU 48, GPU 256)")
    parser.add_argument("--sequential", type=int, default=None,
                        help="requests in the one-after-another baseline (CPU: all; GPU: 12, rate extrapolated)")
    parser.add_argument("--slots", type=int, default=None, help="engine max_slots (CPU 256, GPU 512)")
    parser.add_argument("--gpu", action="store_true", help="M1-3B architecture, random bf16 weights, on CUDA")
    parser.add_argument("--out", type=Path, default=None, help="also write load.json and BENCHMARKS.md here")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    args = parser.parse_args()
    if args.gpu and not torch.cuda.is_available():
        parser.error("--gpu needs a CUDA device")
    if not args.gpu:
        torch.set_num_threads(1)  # a tiny model gains nothing from intra-op threads on a small machine
    args.samples = args.samples or 2
    args.new_tokens = args.new_tokens or (256 if args.gpu else 48)
    count = min(args.students, args.sequential or (12 if args.gpu else args.students))
    slots = args.slots or (512 if args.gpu else 256)

    generator = build_generator(args.gpu, slots, max_len=1024)
    strategy(0, args).run(problem(0), generator)  # warm-up: first-call costs (graphs, allocator) out of the numbers
    mark = generator.engine.timings.decode.mark()
    conc, conc_lat, conc_wall = asyncio.run(concurrent(generator, args))
    batches = [b for b, _, _ in generator.engine.timings.decode.since(mark)]
    seq, seq_lat, seq_wall = sequential(generator, args, count)
    verdict = check(conc, seq, exact=not args.gpu)

    tokens = sum(s.num_tokens for s in conc)
    seq_tokens = sum(s.num_tokens for s in seq)
    rows = [
        {"mode": f"concurrent ({args.students} at once)", "requests": args.students, "wall_s": conc_wall,
         "req_per_s": args.students / conc_wall, "tokens_per_s": tokens / conc_wall,
         "p50_s": percentile(conc_lat, 50), "p95_s": percentile(conc_lat, 95), "p99_s": percentile(conc_lat, 99),
         "max_batch": max(batches), "mean_batch": statistics.fmean(batches)},
        {"mode": "one after another", "requests": count, "wall_s": seq_wall, "req_per_s": count / seq_wall,
         "tokens_per_s": seq_tokens / seq_wall, "p50_s": percentile(seq_lat, 50), "p95_s": percentile(seq_lat, 95),
         "p99_s": percentile(seq_lat, 99), "max_batch": args.samples, "mean_batch": args.samples},
    ]
    speedup = rows[0]["req_per_s"] / rows[1]["req_per_s"]
    env = environment(("torch", "asyncio-throttle"))
    record = {"bench": "load", "gpu": args.gpu, "students": args.students, "samples": args.samples,
              "new_tokens": args.new_tokens, "slots": slots, "speedup": speedup, **verdict, "rows": rows,
              "device": env["device"], "versions": env["versions"], "date": env["date"]}
    columns = ["mode", "requests", "wall_s", "req_per_s", "tokens_per_s", "p50_s", "p95_s", "p99_s", "max_batch",
               "mean_batch"]
    table = markdown_table(rows, columns)
    print(table)
    print(json.dumps(record))
    model = "M1-3B architecture (random weights, bf16)" if args.gpu else "tiny random model (fp32)"
    body = (f"{args.students} simulated students, each a SelfConsistency of {args.samples} samples x "
            f"{args.new_tokens} tokens (no early stop, no forcing) on the {model}, engine max_slots={slots}; "
            f"latency is submission to Solution.\n\n{table}\n\nConcurrent throughput is {speedup:.1f}x sequential. "
            f"Own answers: {'ok' if verdict['own_answers_ok'] else 'FAILED'} ({verdict['identical_to_alone']}/"
            f"{verdict['compared']} identical to the request run alone"
            f"{'; bf16 rounding depends on batch composition' if args.gpu else ''}).\n")
    if not args.no_write:
        write_section("load-gpu" if args.gpu else "load", f"Serving load test ({'GPU' if args.gpu else 'CPU'})",
                      body, env)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "load.json").write_text(json.dumps(record, indent=1))
        if BENCHMARKS_MD.exists():
            shutil.copy(BENCHMARKS_MD, args.out / "BENCHMARKS.md")
    return 0 if verdict["own_answers_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
