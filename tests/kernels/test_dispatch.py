"""Which implementation a kernel runs (m1reason.kernels.dispatch): the rule, checked without a GPU."""

from types import SimpleNamespace

import torch

from m1reason.kernels import dispatch


def test_triton_runs_for_cuda_tensors_only_where_no_gradient_is_recorded(monkeypatch):
    """The Triton kernels have no backward: under autograd (training's forward passes) the torch references run,
    under no_grad (the engine's steps, GRPO's rollouts) the kernels do; CPU tensors and M1REASON_KERNELS=torch
    always get the references."""
    monkeypatch.setattr(dispatch, "_triton_installed", lambda: True)
    cuda, cpu = SimpleNamespace(is_cuda=True), SimpleNamespace(is_cuda=False)
    with torch.no_grad():
        assert dispatch.use_triton(cuda) and not dispatch.use_triton(cpu)
    with torch.inference_mode():
        assert dispatch.use_triton(cuda)
    with torch.enable_grad():
        assert not dispatch.use_triton(cuda)
    monkeypatch.setenv("M1REASON_KERNELS", "torch")
    with torch.no_grad():
        assert not dispatch.use_triton(cuda)
