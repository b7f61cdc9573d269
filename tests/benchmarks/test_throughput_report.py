"""The throughput table's M1 / Llama ratio says when its two points were not measured on the same code."""

from benchmarks.throughput import device_report


def record(engine, tps, **extra):
    return {"engine": engine, "batch": 512, "new": 4096, "decode_steps": 4, "tokens_per_s": tps,
            "copy_GBps": 4200.0, **extra}


def test_ratio_of_one_commit_has_no_caveat():
    report = device_report("GPU", [record("m1", 30000.0, commit="abc"), record("llama", 10000.0, commit="abc")])
    assert report.splitlines()[-1].endswith("= 3.00x")
    assert "at abc" in report  # the commit is in each row's note


def test_ratio_across_commits_names_both():
    report = device_report("GPU", [record("m1", 32000.0, commit="new"), record("llama", 10000.0, commit="old")])
    assert report.splitlines()[-1].endswith("= 3.20x (M1 at new, Llama at old: not the same code)")


def test_ratio_across_runs_points_to_the_notes():
    report = device_report("GPU", [record("m1", 30000.0, note="separate run"), record("llama", 10000.0)])
    assert report.splitlines()[-1].endswith("(not measured in one run: see the notes)")
    assert "separate run" in report


def test_overlapped_and_serial_points_are_labelled_and_compared_with_their_own_kind():
    report = device_report("GPU", [record("m1", 30000.0, overlap=False), record("llama", 7500.0),  # no key: serial
                                   record("m1", 33000.0, overlap=True), record("llama", 11000.0, overlap=True)])
    assert "| m1reason M1-3B, 4 steps/sync, overlapped | 512 |" in report
    assert report.splitlines()[-2:] == [
        "- batch 512, decode 4096, 4 step(s)/sync: M1 / Llama in the same engine = 4.00x",
        "- batch 512, decode 4096, 4 step(s)/sync, overlapped: M1 / Llama in the same engine = 3.00x"]
