"""Which words of hand-written problems the training curriculum never writes: a model trained on it meets them for
the first time when a user types them ("He gives 5 away", "Convert 3 feet to inches").

Draws ``--draws`` problems from the default training mix, collects every word of their text, and reports for the
hand-written development problems (benchmarks/data/natural_dev.jsonl, never the test set) the share of problems of
each kind with at least one word the curriculum never used, and the unseen words by how many problems use them.
What it cannot see: phrasings made of known words in an order the curriculum never uses. Prints a table and JSON;
writes the BENCHMARKS.md section "curriculum_coverage" unless ``--no-write``.

    python -m benchmarks.curriculum_coverage                  # ~20 s on 2 cores
    python -m benchmarks.curriculum_coverage --draws 20000 --no-write
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections import Counter

from benchmarks.natural_math import load_problems
from benchmarks.report import environment, markdown_table, write_section
from m1reason.train.data import make_problem


def words(text: str) -> set[str]:
    """The lower-case words of ``text`` (numbers and symbols are no words).

    >>> sorted(words("Sam has 12 apples. He gives 5 to Mia's brother."))
    ['apples', 'brother', 'gives', 'has', 'he', 'mia', 's', 'sam', 'to']
    """
    return set(re.findall(r"[a-z]+", text.lower()))


def curriculum_words(draws: int, seed: int = 0) -> Counter:
    """How many of ``draws`` problems of the default training mix use each word.

    >>> curriculum_words(200)["what"] > 0
    True
    """
    rng, seen = random.Random(seed), Counter()
    for _ in range(draws):
        seen.update(words(make_problem(rng).problem))
    return seen


def coverage(problems: list, known: Counter) -> tuple[list[dict], Counter]:
    """Per kind (and all): problems, and how many hold a word ``known`` never counted; the unseen words by the
    number of problems that use them.

    >>> from m1reason.train.data import Problem
    >>> rows, unseen = coverage([Problem(kind="word", problem="He has 3 pens.", steps=(), answer="3")],
    ...                         Counter({"has": 5, "pens": 2}))
    >>> rows[-1]["with unseen words"], unseen
    (1, Counter({'he': 1}))
    """
    by_kind: dict[str, list[int]] = {}
    unseen: Counter = Counter()
    for p in problems:
        new = {w for w in words(p.problem) if not known[w]}
        unseen.update(new)
        by_kind.setdefault(p.kind, []).append(bool(new))
    rows = [{"kind": kind, "problems": len(flags), "with unseen words": sum(flags)}
            for kind, flags in sorted(by_kind.items())]
    rows.append({"kind": "all", "problems": len(problems), "with unseen words": sum(r["with unseen words"]
                                                                                   for r in rows)})
    for row in rows:
        row["%"] = round(100 * row["with unseen words"] / row["problems"], 1)
    return rows, unseen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=200_000, help="training problems drawn")
    parser.add_argument("--set", default="natural_dev.jsonl", help="hand-written problems (benchmarks/data)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    args = parser.parse_args()
    known = curriculum_words(args.draws)
    rows, unseen = coverage(load_problems(args.set), known)
    table = markdown_table(rows, ["kind", "problems", "with unseen words", "%"])
    top = ", ".join(f"{w} ({n})" for w, n in unseen.most_common(60))
    print(table)
    print(json.dumps({"vocabulary": len(known), "rows": rows, "unseen": unseen.most_common()}))
    if not args.no_write:
        body = (f"{args.draws:,} problems of the default training mix (`m1reason.train.data.make_problem`) use "
                f"{len(known):,} distinct words. Hand-written development problems ({args.set}) with a word none "
                f"of them uses, by kind:\n\n{table}\n\nUnseen words (problems using each): {top}.")
        write_section("curriculum_coverage", "Words of hand-written problems the curriculum never writes", body,
                      environment(()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
