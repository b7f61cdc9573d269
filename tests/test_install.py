"""The README's install line covers every import: each third-party module that the library, the tests, the doctests,
the benchmarks or the examples import comes from a distribution that m1reason declares (its dependencies or the
`dev` extra the README installs, extras expanded), and is importable here. GPU-only modules come from the `cuda`
extra instead; triton comes from both (the `dev` extra brings it on Linux for its CPU interpreter, which runs the
kernels' tests). A module that only arrives as some other package's dependency would vanish the day that package
drops it, so it must be declared too."""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ["m1reason", "strategies", "benchmarks", "examples", "tests", "conftest.py"]
OWN = {"m1reason", "strategies", "benchmarks", "examples", "tests", "conftest"}
# Modules only a CUDA machine has, and the distribution of the `cuda` extra that brings each.
GPU_ONLY = {"mamba_ssm": "mamba-ssm", "selective_scan_cuda": "mamba-ssm"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(extra: str | None, seen: set[str] | None = None) -> set[str]:
    """Distributions m1reason's installed metadata requires with ``extra`` (None: the plain dependencies),
    following m1reason's references to its own extras (``m1reason[serve,train]``)."""
    seen = set() if seen is None else seen
    names = set()
    for requirement in importlib.metadata.requires("m1reason") or []:
        spec, _, marker = requirement.partition(";")
        wanted = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        if (wanted.group(1) if wanted else None) != extra:
            continue
        name, extras = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[([^\]]*)\])?", spec).groups()
        if _normalize(name) != "m1reason":
            names.add(_normalize(name))
            continue
        for sub in (e.strip() for e in (extras or "").split(",") if e.strip()):
            if sub not in seen:
                seen.add(sub)
                names |= _declared(sub, seen)
    return names


def _imported_modules() -> dict[str, set[str]]:
    """Top-level module -> the files (and docs) that import it, for every import outside the standard library."""
    found: dict[str, set[str]] = {}

    def note(tree: ast.AST, where: str) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for top in {name.split(".")[0] for name in names} - OWN - set(sys.stdlib_module_names):
                found.setdefault(top, set()).add(where)

    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            note(ast.parse(file.read_text(), str(file)), str(file.relative_to(ROOT)))
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for line in doc.read_text().splitlines():
            code = line.strip().removeprefix(">>> ")
            if line.strip().startswith(">>> ") and code.startswith(("import ", "from ")):
                note(ast.parse(code), str(doc.relative_to(ROOT)))
    return found


def test_the_dev_extra_brings_the_serving_training_and_ray_extras():
    assert {"starlette", "uvicorn", "httpx", "matplotlib", "tqdm", "ray", "pytest", "ruff",
            "triton"} <= _declared("dev")
    assert {"triton", "mamba-ssm"} <= _declared("cuda")


def test_every_third_party_import_is_declared_and_installed():
    providers = {module: {_normalize(d) for d in dists}
                 for module, dists in importlib.metadata.packages_distributions().items()}
    runtime = _declared(None) | _declared("dev")
    gpu = _declared("cuda")
    problems = []
    for module, users in sorted(_imported_modules().items()):
        where = ", ".join(sorted(users)[:3])
        if module in GPU_ONLY:
            if GPU_ONLY[module] not in gpu:
                problems.append(f"{module} (imported by {where}) is not brought by the cuda extra")
            continue
        dists = providers.get(module, set())
        if not dists:
            problems.append(f"{module} (imported by {where}) is not installed by the README's line")
        elif not dists & runtime:
            problems.append(f"{module} (imported by {where}) comes from {sorted(dists)}, which m1reason does not "
                            f"declare in its dependencies or the dev extra")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", sorted(GPU_ONLY))
def test_gpu_only_modules_are_imported_only_where_a_cpu_machine_never_needs_them(module):
    users = _imported_modules().get(module, set())
    allowed = re.compile(r"m1reason/kernels/(triton_\w+|mamba_ssm_scan)\.py|tests/.*gpu.*\.py")
    assert all(allowed.fullmatch(user) for user in users), sorted(users)


def test_only_the_triton_kernel_modules_import_triton():
    """triton is in the dev extra, but a user's CPU install has none: only the kernel modules import it, and
    conftest.py keeps pytest from collecting them where it is missing."""
    users = _imported_modules().get("triton", set())
    assert users and all(re.fullmatch(r"m1reason/kernels/triton_\w+\.py", user) for user in users), sorted(users)
    assert "m1reason/kernels/triton_*.py" in (ROOT / "conftest.py").read_text()
