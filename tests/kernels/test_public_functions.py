"""The kernels' public functions: each beside its torch reference, chosen per call, and the layering around them
(the model calls public functions only; kernels import neither the model nor the engine, and no cycles)."""

import ast
import importlib
import sys
import types
from pathlib import Path

import pytest
import torch

import m1reason.kernels as kernels

ROOT = Path(__file__).resolve().parents[2]
KERNELS = ROOT / "m1reason" / "kernels"

RNG = torch.Generator().manual_seed(0)


def _randn(*shape):
    return torch.randn(*shape, generator=RNG)


# public function (its reference: the same name + "_ref") -> arguments on the CPU
CASES = {
    "rms_norm": lambda: (_randn(3, 8), _randn(8), 1e-5),
    "add_rms_norm": lambda: (_randn(3, 8), _randn(3, 8), _randn(8), 1e-5),
    "silu_mul": lambda: (_randn(3, 8), _randn(3, 8)),
    "rope_qk": lambda: (_randn(2, 5, (4 + 2 * 2) * 8), torch.arange(5).expand(2, 5), _randn(4).abs(), 4, 2, 8),
    "gumbel_argmax": lambda: (_randn(4, 50), torch.tensor([0.0, 0.7, 1.0, 2.0]), torch.arange(4) * 7,
                              torch.arange(4), torch.tensor([0, 3, 9, 1])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_on_the_cpu_the_public_function_is_its_reference(name):
    args = CASES[name]()
    got, want = getattr(kernels, name)(*args), getattr(kernels, f"{name}_ref")(*args)
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert torch.equal(g, w)


# public function -> (its module, the Triton module it runs on a GPU, that module's entry point)
TRITON = {"rms_norm": ("rms_norm", "triton_elementwise", "rms_norm_triton"),
          "add_rms_norm": ("rms_norm", "triton_elementwise", "add_rms_norm_triton"),
          "silu_mul": ("silu_mul", "triton_elementwise", "silu_mul_triton"),
          "rope_qk": ("rope", "triton_rope", "rope_qk_triton"),
          "gumbel_argmax": ("gumbel_argmax", "triton_sampling", "gumbel_argmax_triton")}


@pytest.mark.parametrize("name", sorted(TRITON))
def test_where_the_dispatch_says_gpu_the_triton_entry_point_runs(name, monkeypatch):
    """With ``use_triton`` saying yes (stood in for here, as the Triton module is, by a fake that answers with
    the reference), the public function calls its Triton module's entry point, and gives the reference's result."""
    module_name, triton_module, entry = TRITON[name]
    calls = []

    def fake_entry(*args):
        calls.append(entry)
        return getattr(kernels, f"{name}_ref")(*args)

    fake = types.ModuleType(f"m1reason.kernels.{triton_module}")
    setattr(fake, entry, fake_entry)
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    monkeypatch.setattr(importlib.import_module(f"m1reason.kernels.{module_name}"), "use_triton", lambda t: True)
    args = CASES[name]()
    got, want = getattr(kernels, name)(*args), getattr(kernels, f"{name}_ref")(*args)
    assert calls == [entry]
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert torch.equal(g, w)


def test_the_reference_sampler_draws_the_engines_tokens():
    """``gumbel_argmax_ref`` is the engine's unfiltered sampling path: the same noise, the same tokens."""
    from m1reason.engine.sampling import SamplingBatch, sample

    logits, temperature, seeds, index, steps = CASES["gumbel_argmax"]()
    batch = SamplingBatch(temperature=temperature, top_k=torch.full((4,), -1), top_p=torch.ones(4),
                          min_p=torch.zeros(4), seeds=seeds, sample_index=index, steps=steps)
    assert torch.equal(kernels.gumbel_argmax_ref(logits, temperature, seeds, index, steps),
                       sample(logits, batch, with_logprobs=False)[0])


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(modules imported at the top of ``path``, modules imported inside its functions)."""
    tree = ast.parse(path.read_text())
    top = {node.module for node in tree.body if isinstance(node, ast.ImportFrom) and node.module}
    top |= {alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names}
    inner = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for sub in ast.walk(node):
                if isinstance(sub, ast.ImportFrom) and sub.module:
                    inner.add(sub.module)
                elif isinstance(sub, ast.Import):
                    inner |= {alias.name for alias in sub.names}
    return top, inner


@pytest.mark.parametrize("path", sorted(KERNELS.glob("*.py")), ids=lambda p: p.name)
def test_kernels_import_neither_model_nor_engine_and_defer_only_optional_backends(path):
    top, inner = _imports(path)
    ours = {m for m in top | inner if m.startswith("m1reason")}
    assert all(m.startswith("m1reason.kernels") for m in ours), sorted(ours)
    # inside functions: only the optional backends (triton modules, mamba-ssm), never to dodge a cycle
    assert all(m.startswith(("m1reason.kernels.triton_", "mamba_ssm", "selective_scan_cuda")) for m in inner), inner


def test_kernel_modules_import_each_other_one_way():
    graph = {path.stem: {m.rsplit(".", 1)[-1] for m in _imports(path)[0] if m.startswith("m1reason.kernels.")}
             for path in KERNELS.glob("*.py") if path.stem != "__init__"}

    def reaches(start, goal, seen=()):
        return any(n == goal or (n not in seen and reaches(n, goal, (*seen, n))) for n in graph.get(start, ()))

    assert not [name for name in graph if reaches(name, name)]
    assert graph["mamba_ssm_scan"] == set()  # the adapter knows nothing of the reference it is checked against


def test_the_model_calls_public_kernel_functions_never_a_triton_module():
    for path in (ROOT / "m1reason" / "model").glob("*.py"):
        top, inner = _imports(path)
        assert not [m for m in top | inner if "triton" in m], path.name
