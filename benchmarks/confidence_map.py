"""Fit a model's confidence map on the hand-written development set, and save it beside the weights.

Each problem of benchmarks/data/natural_dev.jsonl (written by hand, apart from the generator and from the test set
natural_math.jsonl) goes through what ``solve`` runs (``natural_math.solutions``: SelfConsistency of ``--samples``,
the scope check, the step checker); every answered solution of a problem whose answers are not checked against its
own value (``m1reason.answers.stated_value``: those get ``CHECKED_CONFIDENCE``) gives its winner's vote share
and whether it was right, and ``m1reason.confidence_map.ConfidenceMap.fit`` turns them into the map (isotonic in
the share, each step the lower 95% bound of its accuracy). It is written to ``<model>/confidence.json`` (for the
embedded model, the package's copy: ``m1reason/embedded/confidence.json``), where ``m1reason.defaults`` reads it.
Prints the map and its reliability on the development set; the test set's reliability is
``benchmarks.natural_math``'s to report.

    python -m benchmarks.confidence_map                             # the embedded model, CPU, ~5 minutes
    python -m benchmarks.confidence_map --model runs/x/grpo --device cuda
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks.natural_math import load_problems, reliability, solutions
from benchmarks.report import markdown_table
from m1reason.answers import is_equivalent, stated_value
from m1reason.confidence_map import ConfidenceMap, weights_digest
from m1reason.train.limits import REPLY_TOKENS

DEV = "natural_dev.jsonl"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="a model folder (default: the embedded model)")
    parser.add_argument("--device", default=None)
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=0.7)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true", help="print the map, write nothing")
    args = parser.parse_args(argv)
    from m1reason.defaults import EMBEDDED_MODEL, default_generator

    folder = Path(args.model) if args.model else EMBEDDED_MODEL
    generator = default_generator(args.model, device=args.device, max_slots=256, max_len=512)
    generator.confidence_map = None  # fit on raw shares, whatever map the folder has now
    problems = load_problems(DEV)
    solved = solutions(generator, problems, samples=args.samples, temperature=args.temperature,
                       max_new_tokens=REPLY_TOKENS, seed=args.seed)
    # A winner checked against the problem's own value gets CHECKED_CONFIDENCE, not the map: the map is fit on the
    # answers it will be asked about, those of problems that state no value to check against.
    unchecked = [(s, p) for s, p in zip(solved, problems) if stated_value(p.problem) is None]
    answered = [(s.vote_share, is_equivalent(s.answer, p.answer)) for s, p in unchecked
                if s.status == "answered" and s.vote_share is not None]
    source = (f"{DEV} ({len(unchecked)} hand-written problems that state no value to check answers against, "
              f"{len(answered)} answered, {args.samples} samples)")
    fitted = ConfidenceMap.fit([share for share, _ in answered], [right for _, right in answered], source=source,
                               weights_sha256=weights_digest(folder))
    mapped = [fitted(share) for share, _ in answered]
    table = markdown_table(reliability(mapped, [right for _, right in answered]), ["confidence", "answers", "right"])
    print(markdown_table([{"share from": s, "chance": f"{c:.3f}", "answers": n} for s, c, n in fitted.steps],
                         ["share from", "chance", "answers"]))
    print(table)
    print(json.dumps({"bench": "confidence_map", "model": str(args.model or "m1reason/embedded"),
                      "map": fitted.model_dump(), "answered": len(answered), "problems": len(problems)}))
    if not args.dry_run:
        print(f"wrote {fitted.save(folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
