"""Time to first token through a warm M1Generator: what one student waits before anything appears.

For each case (a prompt of T tokens, n samples of it), ``--repeats`` requests run one after another on a warm
generator, each asking for one token per sample (the first ``--warmup`` compile kernels and capture graphs, and
are dropped). Each is timed from the ``stream()`` call to its first TokensAppended event and to the last sample's
first token (n samples share one prefill, then fork). The engine's prefill records say how much of that the
prefill call took (on a GPU, from CUDA events: from when the device reached the call to when it finished it); the
rest is the host's part, or its work the device did not overlap: submission, admission, scheduling, forking,
sampling, delivering the event.

    python -m benchmarks.first_token                                   # M1-3B shapes, random bf16, one GPU
    python -m benchmarks.first_token --tiny --device cpu --no-write    # the same path on a tiny model: a check
    python -m benchmarks.first_token --compare off.json on.json --labels "chunks off" "chunks on" --section S
                                                                       # an A/B section from two runs' records
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from benchmarks.report import markdown_table

CASES = ((256, 1), (1024, 16))  # issue 32's: one 256-token prompt; 16 samples of one 1,024-token prompt


def time_first_tokens(generator, prompt_len: int, n: int, *, repeats: int, warmup: int, seed: int = 0) -> list[dict]:
    """Per timed request: ms to its first token, ms to every sample's first token, and the engine's prefill
    calls and ms in between. Prompts are random token ids (each request its own, so no prefix is reused).

    >>> from m1reason.generator import M1Generator
    >>> from m1reason.model import HybridLM, ModelConfig
    >>> gen = M1Generator(HybridLM(ModelConfig.tiny()), max_slots=4, max_len=64)
    >>> rows = time_first_tokens(gen, 16, 4, repeats=2, warmup=1)
    >>> len(rows), rows[0]["prefill_calls"], rows[0]["first_ms"] <= rows[0]["all_first_ms"]
    (2, 1, True)
    """
    import torch

    from m1reason.generator import GenerationRequest, SamplingParams, TokensAppended

    vocab = generator.model.config.vocab_size
    ids = torch.Generator().manual_seed(seed)
    params = SamplingParams(n=n, temperature=1.0, max_new_tokens=1, ignore_eos=True, seed=seed)
    rows = []
    for i in range(warmup + repeats):
        prompt = torch.randint(0, vocab, (prompt_len,), generator=ids).tolist()
        mark = generator.engine.timings.prefill.mark()
        started = time.perf_counter()
        first, seen = None, set()
        for event in generator.stream([GenerationRequest(prompt_token_ids=prompt, sampling=params)]):
            if isinstance(event, TokensAppended) and event.token_ids:
                first = first or time.perf_counter()
                seen.add(event.sample_id)
                if len(seen) == n:
                    break
        every = time.perf_counter()
        if len(seen) < n:
            raise RuntimeError(f"only {len(seen)} of {n} samples produced a token")
        prefill = generator.engine.timings.prefill.since(mark)
        if i >= warmup:
            rows.append({"first_ms": (first - started) * 1e3, "all_first_ms": (every - started) * 1e3,
                         "prefill_calls": len(prefill), "prefill_ms": sum(s for _, s in prefill) * 1e3})
    return rows


def summarize(prompt_len: int, n: int, rows: list[dict]) -> dict:
    """Medians (and the 90th percentile of the first token) over a case's timed requests.

    >>> summarize(8, 1, [{"first_ms": 2.0, "all_first_ms": 2.0, "prefill_calls": 1, "prefill_ms": 1.5}])["host_ms"]
    0.5
    """
    first = sorted(r["first_ms"] for r in rows)
    median = statistics.median(first)
    prefill = statistics.median(r["prefill_ms"] for r in rows)
    return {"prompt": prompt_len, "samples": n, "requests": len(rows), "first_ms": round(median, 3),
            "p90_first_ms": round(first[min(len(first) - 1, int(0.9 * len(first)))], 3),
            "all_first_ms": round(statistics.median(r["all_first_ms"] for r in rows), 3),
            "prefill_ms": round(prefill, 3), "host_ms": round(median - prefill, 3),
            "prefill_calls": statistics.median(r["prefill_calls"] for r in rows)}


COLUMNS = ["prompt", "samples", "requests", "first_ms", "p90_first_ms", "all_first_ms", "prefill_ms", "host_ms",
           "prefill_calls"]


def compare_table(records: list[dict], labels: list[str]) -> str:
    """One row per case, one column group per record (an A/B of runs with ``--out``): the first token's median
    with its prefill and host parts, every sample's first token, and the 90th percentile of the first.

    >>> case = {"prompt": 256, "samples": 1, "first_ms": 9.0, "prefill_ms": 7.0, "host_ms": 2.0,
    ...         "all_first_ms": 9.5, "p90_first_ms": 10.0}
    >>> print(compare_table([{"cases": [case]}, {"cases": [case | {"first_ms": 7.0, "prefill_ms": 5.0}]}],
    ...                     ["off", "on"]).splitlines()[2])
    | 256 x 1 | 9.00 (7.00 + 2.00) | 7.00 (5.00 + 2.00) | 9.50 / 9.50 | 10.00 / 10.00 |
    """
    if len(records) != len(labels):
        raise ValueError(f"{len(records)} records but {len(labels)} labels")
    by_case = [{(c["prompt"], c["samples"]): c for c in r["cases"]} for r in records]
    cases = [key for key in by_case[0] if all(key in other for other in by_case[1:])]
    if not cases:
        raise ValueError("the records share no prompt x samples case")
    slash = " / ".join(labels)
    lines = ["| prompt x samples | " + " | ".join(f"{label}: first token ms (prefill + host)" for label in labels)
             + f" | every sample's first, {slash} | p90 first, {slash} |", "|---" * (len(labels) + 3) + "|"]
    for key in cases:
        runs = [cases_of[key] for cases_of in by_case]
        first = [f"{c['first_ms']:.2f} ({c['prefill_ms']:.2f} + {c['first_ms'] - c['prefill_ms']:.2f})" for c in runs]
        every = " / ".join(f"{c['all_first_ms']:.2f}" for c in runs)
        p90 = " / ".join(f"{c['p90_first_ms']:.2f}" for c in runs)
        lines.append(f"| {key[0]} x {key[1]} | " + " | ".join(first) + f" | {every} | {p90} |")
    return "\n".join(lines)


def write_comparison(paths: list[Path], labels: list[str], section: str, note: str = "") -> str:
    """Write BENCHMARKS.md's ``section`` from records of earlier runs (``--out``), with the first record's
    environment and every record's device, date and commit named; returns the table."""
    from benchmarks.report import write_section

    records = [json.loads(Path(p).read_text()) for p in paths]
    table = compare_table(records, labels)
    env = dict(records[0]["env"])
    env["command"] = " ; ".join(r["env"]["command"] for r in records)
    runs = "; ".join(f"{label}: {r['env']['device']}, {r['env']['date']}, commit {r['env']['commit']} ({p})"
                     for label, r, p in zip(labels, records, paths))
    body = (f"{records[0]['model']} through a warm M1Generator, one request at a time asking one token per sample; "
            "ms from `stream()` to the first token (median of the timed requests; the engine's prefill calls' device "
            "time + the host's rest), to every sample's first token, and the 90th percentile of the first. "
            f"Runs: {runs}.\n\n{table}\n\n{note}")
    write_section(section, f"Time to first token, warm: {' against '.join(labels)}", body, env)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--tiny", action="store_true", help="a tiny random model instead of M1-3B's shapes")
    parser.add_argument("--cases", nargs="+", default=[f"{t}x{n}" for t, n in CASES], metavar="TxN",
                        help="prompt tokens x samples (default: 256x1 1024x16)")
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--driver", choices=["background", "caller"], default="background",
                        help="the generator's own thread steps the engine (as a server runs it), or the caller's")
    parser.add_argument("--prefill-graph-tokens", type=int, default=None,
                        help="the engine option (None: its default; 0: no prefill graphs), for an A/B")
    parser.add_argument("--prefill-chunks", choices=["on", "off"], default=None,
                        help="whether the Mamba prefill walks long prompts in parallel chunks (default: the "
                             "library's choice, triton_mamba_prefill.CHUNKED_PREFILL), for an A/B")
    parser.add_argument("--section", default="first_token", help="the BENCHMARKS.md section written")
    parser.add_argument("--out", type=Path, default=None, help="write first_token.json here")
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--compare", nargs="+", type=Path, default=None, metavar="RECORD",
                        help="write --section from these runs' first_token.json records (an A/B), measure nothing")
    parser.add_argument("--labels", nargs="+", default=None, help="with --compare: one name per record")
    parser.add_argument("--note", default="", help="with --compare: a paragraph after the table")
    args = parser.parse_args()
    if args.compare:
        labels = args.labels or [p.stem for p in args.compare]
        print(write_comparison(args.compare, labels, args.section, args.note))
        return 0
    cases = [tuple(int(v) for v in case.lower().split("x")) for case in args.cases]

    import torch

    from benchmarks.checkpoint_load import m1_3b_config
    from benchmarks.report import environment, write_section
    from m1reason.generator import M1Generator
    from m1reason.model import HybridLM, ModelConfig

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA GPU: pass --device cpu (with --tiny)", file=sys.stderr)
        return 2
    env = environment(("torch", "triton"))
    chunks = None
    if args.device.startswith("cuda"):
        from m1reason.kernels import triton_mamba_prefill

        if args.prefill_chunks is not None:
            triton_mamba_prefill.CHUNKED_PREFILL = args.prefill_chunks == "on"
        chunks = triton_mamba_prefill.CHUNKED_PREFILL
    config = ModelConfig.tiny() if args.tiny else m1_3b_config()
    dtype = torch.float32 if args.device == "cpu" else torch.bfloat16
    with torch.device(args.device):
        model = HybridLM(config).to(dtype).eval()
    longest = max(t for t, _ in cases) + 16
    slots = max(n for _, n in cases)
    generator = M1Generator(model, max_slots=slots, max_len=longest, kv_tokens=slots * longest,
                            prefill_graph_tokens=args.prefill_graph_tokens)
    graphed = generator.engine.config.prefill_graph_tokens
    if args.driver == "background":
        generator.run_in_background()
    rows = []
    for prompt_len, n in cases:
        timed = time_first_tokens(generator, prompt_len, n, repeats=args.repeats, warmup=args.warmup)
        rows.append(summarize(prompt_len, n, timed) | {"timed": timed})
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "timed"}), flush=True)
    generator.close()
    shapes = "a tiny random model" if args.tiny else "M1-3B shapes (random bf16 weights)"
    table = markdown_table(rows, COLUMNS)
    print(table)
    record = {"env": env, "model": shapes, "driver": args.driver, "prefill_graph_tokens": graphed,
              "prefill_chunks": chunks, "cases": rows}
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "first_token.json").write_text(json.dumps(record, indent=1))
    if not args.no_write:
        graphs = f"prefill graphs up to {graphed} tokens" if graphed else "no prefill graphs"
        graphs += ", Mamba prefill in parallel chunks" if chunks else ", no prefill chunks"
        body = (f"{shapes} through a warm M1Generator ({args.driver} driver, {graphs}), one request at a time "
                "asking one token per sample; ms from `stream()` to the first token (median, 90th percentile) and "
                "to every sample's first token; prefill: the engine's prefill calls in between (their device time, "
                "from CUDA events); host: the first token's median minus the prefill's. Issue 32's targets: "
                f"256 x 1 <= 8 ms, 1024 x 16 <= 25 ms.\n\n{table}")
        write_section(args.section, "Time to first token, warm (one request at a time)", body, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
