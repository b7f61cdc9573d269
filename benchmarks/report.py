"""Shared plumbing for benchmark scripts: the run's environment, and its section of BENCHMARKS.md.

Each script owns one section of BENCHMARKS.md, delimited by HTML comments, and rewrites only that
section, so numbers from different scripts (and different devices) sit side by side, each with the
command, commit, device, versions and date that produced it.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import re
import shlex
import sys
from importlib import metadata
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"


def environment(packages: tuple[str, ...] = ("torch", "transformers")) -> dict:
    """What a number depends on: device, versions, date, and the exact command."""
    import torch

    cpu = f"CPU ({platform.processor() or platform.machine()})"
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else cpu
    versions = {"python": platform.python_version()}
    for name in ("m1reason", *packages):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "command": _command(),
        "commit": source_commit(),
        "device": device,
        "cpu_threads": torch.get_num_threads(),
        "versions": versions,
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def true_or_false(text: str) -> bool:
    """An on/off command-line value (``--overlap false``), as the training CLI reads its flags.

    >>> true_or_false("False"), true_or_false("on")
    (False, True)
    """
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def source_commit(root: Path = BENCHMARKS_MD.parent) -> str:
    """The checkout's commit (short), ``+changes`` when tracked code differs from it (BENCHMARKS.md and
    benchmarks/results, which runs write, aside), or "unknown" outside a git checkout.

    >>> import tempfile
    >>> source_commit(Path(tempfile.mkdtemp()))
    'unknown'
    """
    import subprocess

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)

    try:
        head = git("rev-parse", "--short", "HEAD")
        if head.returncode != 0 or git("rev-parse", "--show-toplevel").stdout.strip() != str(root):
            return "unknown"
        changed = git("diff", "--quiet", "HEAD", "--", ".", ":!BENCHMARKS.md", ":!benchmarks/results").returncode
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() + ("+changes" if changed else "")


def _command() -> str:
    """The command as typed: ``python -m benchmarks.x ...`` when run as a module (sys.argv[0] is then a path),
    with the paths of the machine it ran on made portable (``portable_paths``)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    head = ["-m", spec.name] if spec is not None and spec.name else sys.argv[:1]
    return portable_paths(" ".join(shlex.quote(a) for a in [Path(sys.executable).name, *head, *sys.argv[1:]]))


def portable_paths(text: str) -> str:
    """``text`` with this checkout's absolute path made relative and scratch folders (a home, /tmp) named by
    placeholders: a recorded command reruns anywhere and names no path of the machine that ran it.

    >>> portable_paths("python3 /work/main/benchmarks/x.py --out /root/out/ckpt --json /tmp/c3/k.json")
    'python3 benchmarks/x.py --out $OUT/ckpt --json $TMP/c3/k.json'
    """
    text = text.replace(str(BENCHMARKS_MD.parent) + "/", "")
    text = re.sub(r"/work/[\w.-]+/", "", text)  # a checkout elsewhere on a machine of this project
    text = re.sub(r"(?:/root|/home/[\w.-]+)/out\b", "$OUT", text)
    text = re.sub(r"/(?:root|home/[\w.-]+)/", "~/", text)
    return re.sub(r"/tmp/", "$TMP/", text)


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """A GitHub markdown table of ``rows`` restricted to ``columns``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e3 else f"{value:,.0f}"
    return str(value)


def write_section(name: str, title: str, body: str, env: dict) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body`` and its environment."""
    header = (
        f"## {title}\n\n"
        f"- command: `{env['command']}`\n- device: {env['device']} ({env['cpu_threads']} CPU threads)\n"
        f"- versions: {json.dumps(env['versions'])}\n- date: {env['date']}"
        + (f", commit {env['commit']}" if env.get("commit") else "") + "\n\n"
    )
    block = f"<!-- BEGIN {name} -->\n{header}{body.strip()}\n<!-- END {name} -->"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else (
        "# Benchmarks\n\nEvery number here is written by the script named in its section; rerun that command to "
        "reproduce it.\n"
    )
    pattern = re.compile(rf"<!-- BEGIN {re.escape(name)} -->.*?<!-- END {re.escape(name)} -->", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS_MD.write_text(text)
