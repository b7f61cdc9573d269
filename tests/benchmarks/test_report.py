"""benchmarks/report.py: every section names the code that produced it (the commit, and whether tracked code had
changed from it), beside its command, device, versions and date."""

import re
import subprocess

import benchmarks.report as report
from benchmarks.report import environment, source_commit


def test_the_environment_names_this_checkouts_commit():
    commit = environment(())["commit"]
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                          cwd=report.BENCHMARKS_MD.parent).stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{7,}(\+changes)?", commit) and commit.startswith(head)


def test_a_changed_tracked_file_is_told_and_a_folder_outside_git_is_unknown(tmp_path):
    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "BENCHMARKS.md").write_text("# Benchmarks\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    clean = source_commit(tmp_path)
    (tmp_path / "BENCHMARKS.md").write_text("# Benchmarks\n\nA run wrote this.\n")
    assert source_commit(tmp_path) == clean and "+" not in clean  # what runs write is not a change of code
    (tmp_path / "code.py").write_text("x = 2\n")
    assert source_commit(tmp_path) == clean + "+changes"
    (tmp_path / "installed").mkdir()  # a copy of benchmarks/ inside someone else's repository names no commit
    assert source_commit(tmp_path / "installed") == "unknown"


def test_the_section_header_carries_the_commit(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "BENCHMARKS_MD", tmp_path / "BENCHMARKS.md")
    env = {"command": "python -m benchmarks.x", "commit": "abc1234", "device": "CPU", "cpu_threads": 2,
           "versions": {"python": "3"}, "date": "2026-12-07 14:00 UTC"}
    report.write_section("x", "A title", "body", env)
    assert "- date: 2026-12-07 14:00 UTC, commit abc1234\n" in (tmp_path / "BENCHMARKS.md").read_text()
