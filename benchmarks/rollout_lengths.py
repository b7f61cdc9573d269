"""How GRPO's rollout length limit shapes its reward: a model's samples on the problems GRPO draws, at each limit
and temperature.

GRPO's reward is 1 for a rollout whose final answer is right. A rollout cut off by the length limit has no final
answer, so where the limit sits below the model's usual solution length the reward mostly says which samples
were short, not which were right. This samples ``--count`` problems of the kinds GRPO trains on (its
``kind_weights``, drawn as a training step draws them: never held-out problems), ``--samples`` each, at every
limit and temperature given, with the same seeds, and prints the reward (mean correctness), the share of
samples that reached the limit, and the samples' lengths.

    python -m benchmarks.rollout_lengths --model runs/gpu5/sft [--kinds percent=1,fraction=1] [--count 48]
                                         [--samples 8] [--limits 48 96] [--temperatures 1.0 0.7]
                                         [--json FILE] [--section NAME] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path


def measure(generator, problems, *, limits: list[int], temperatures: list[float], samples: int) -> list[dict]:
    """One record per (limit, temperature): reward, share at the limit, mean and 90th-percentile length."""
    from m1reason.train.evaluate import sample_answers

    records = []
    for limit in limits:
        for temperature in temperatures:
            rows = sample_answers(generator, problems, n=samples, temperature=temperature, max_new_tokens=limit,
                                  seed=1)
            lengths = sorted(t for r in rows for t in r["tokens"])
            records.append({"limit": limit, "temperature": temperature,
                            "reward": statistics.mean(c for r in rows for c in r["correct"]),
                            "at_limit": statistics.mean(t >= limit for t in lengths),
                            "mean_length": statistics.mean(lengths),
                            "p90_length": lengths[int(0.9 * (len(lengths) - 1))]})
    return records


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a model folder (M1 layout), e.g. a recipe stage")
    parser.add_argument("--kinds", default="percent=1,fraction=1", help="GRPO's kind_weights")
    parser.add_argument("--count", type=int, default=48, help="problems")
    parser.add_argument("--samples", type=int, default=8, help="samples per problem")
    parser.add_argument("--limits", type=int, nargs="+", default=[48, 96])
    parser.add_argument("--temperatures", type=float, nargs="+", default=[1.0, 0.7])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--section", default="rollout_lengths")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args(argv)

    from benchmarks.report import environment, markdown_table, write_section
    from m1reason import M1Generator
    from m1reason.train.examples import step_problems
    from m1reason.train.grpo import GRPOSettings

    weights = GRPOSettings(steps=1, kind_weights=args.kinds).kind_weights
    problems = step_problems(99, 0, args.count, weights=weights)  # a seed no recipe stage trains with
    generator = M1Generator.from_pretrained(args.model, device=args.device)
    records = measure(generator, problems, limits=args.limits, temperatures=args.temperatures, samples=args.samples)
    table = markdown_table([{"limit": r["limit"], "temperature": r["temperature"], "reward": r["reward"],
                             "share at the limit": r["at_limit"], "mean length": r["mean_length"],
                             "p90 length": r["p90_length"]} for r in records],
                           ["limit", "temperature", "reward", "share at the limit", "mean length", "p90 length"])
    body = (f"`{args.model}` on {args.count} problems drawn as a GRPO step draws them (kind weights "
            f"{weights}), {args.samples} samples each, the same seeds at every limit and temperature. Reward: the "
            "share of samples whose final answer is right (GRPO's reward); share at the limit: samples cut off "
            "there (no final answer, reward 0).\n\n" + table)
    print(body)
    env = environment(("torch",))
    if args.json:
        args.json.write_text(json.dumps({"env": env, "records": records}, indent=1))
    if not args.no_write:
        write_section(args.section, "GRPO's rollout length limit against the model's solution lengths", body, env)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
