"""benchmarks.vote_pays on the embedded model, a few held-out problems: one run per seed, each vote size scored
plain and checked against one sample, and nothing written with --no-write."""

import json

from benchmarks.report import BENCHMARKS_MD
from benchmarks.vote_pays import main, vote_scores


def test_a_small_run_prints_one_table_per_seed_and_writes_nothing(capsys):
    before = BENCHMARKS_MD.read_bytes()
    assert main(["--sets", "heldout", "--heldout", "3", "--seeds", "0", "5", "--samples", "2", "--no-write"]) == 0
    out = capsys.readouterr().out
    record = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    assert [(run["set"], run["seed"], run["problems"]) for run in record["runs"]] == [("heldout", 0, 3),
                                                                                      ("heldout", 5, 3)]
    for run in record["runs"]:
        assert [row["k"] for row in run["rows"]] == [1, 2]
        one = run["rows"][0]
        assert one["plain - pass@1"] == one["checked - pass@1"] == "+0.0 ± 0.0"  # a vote of one is one sample
        assert 0.0 <= run["false_step_samples"] <= 1.0
    assert BENCHMARKS_MD.read_bytes() == before


def test_a_lone_sample_with_a_false_step_still_answers_and_a_checked_block_outvotes_it():
    record = {"answers": ["128", "108", "128", "108"], "correct": [False, True, False, True],
              "steps_ok": [False, True, False, True]}
    assert vote_scores(record, 1) == (0.5, 0.5)  # alone, the false-step sample still votes
    assert vote_scores(record, 2) == (0.0, 1.0)  # plain: a tie, to the first seen (128); checked: 108 alone
