"""GatedMLP.merge_gate_up: one GEMM for gate and up at small batches, with nothing else about the model changed:
same outputs, same parameters and checkpoint, gradients still reaching both weights, and a merge that anything
re-allocating the weights undoes instead of leaving stale."""

import pytest
import torch

from m1reason.model import ModelConfig, load_model, save_model
from m1reason.model.hybrid import HybridLM
from m1reason.model.layers import GatedMLP


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return GatedMLP(16, 40)


def merged_runs(mlp: GatedMLP, x: torch.Tensor) -> bool:
    return mlp._merged_weight(x) is not None


def test_small_batches_run_merged_and_give_the_separate_result(mlp):
    x = torch.randn(2, 3, 16)
    with torch.no_grad():
        separate = mlp(x)
        mlp.merge_gate_up()
        assert merged_runs(mlp, x)
        torch.testing.assert_close(mlp(x), separate, rtol=1e-6, atol=1e-6)


def test_batches_above_the_limit_run_the_two_gemms(mlp, monkeypatch):
    mlp.merge_gate_up()
    monkeypatch.setattr(GatedMLP, "merged_gemm_max_rows", 4)
    with torch.no_grad():
        assert merged_runs(mlp, torch.randn(4, 16))
        assert not merged_runs(mlp, torch.randn(5, 16))


def test_the_merge_keeps_parameters_and_costs_no_memory(mlp):
    before = {name: p.detach().clone() for name, p in mlp.named_parameters()}
    params = dict(mlp.named_parameters())
    mlp.merge_gate_up()
    assert dict(mlp.named_parameters()) == params  # the same Parameter objects, so optimizers keep theirs
    for name, p in mlp.named_parameters():
        assert torch.equal(p, before[name]), name
    merged = mlp._gate_up
    assert mlp.gate_proj.weight.untyped_storage().data_ptr() == merged.untyped_storage().data_ptr()
    assert mlp.up_proj.weight.untyped_storage().data_ptr() == merged.untyped_storage().data_ptr()
    mlp.merge_gate_up()  # a second merge keeps the first
    assert mlp._gate_up is merged


def test_training_still_reaches_both_weights_and_updates_the_merged_tensor(mlp):
    mlp.merge_gate_up()
    x = torch.randn(3, 16)
    assert not merged_runs(mlp, x)  # gradients wanted: the merged tensor is no parameter
    mlp(x).square().sum().backward()
    assert mlp.gate_proj.weight.grad.abs().sum() > 0 and mlp.up_proj.weight.grad.abs().sum() > 0
    torch.optim.SGD(mlp.parameters(), lr=0.5).step()  # updates in place: the merged tensor sees them
    with torch.no_grad():
        assert merged_runs(mlp, x)
        want = mlp.down_proj(torch.nn.functional.silu(x @ mlp.gate_proj.weight.T) * (x @ mlp.up_proj.weight.T))
        torch.testing.assert_close(mlp(x), want, rtol=1e-5, atol=1e-6)


def test_new_storage_for_the_weights_undoes_the_merge(mlp):
    mlp.merge_gate_up()
    mlp.to(torch.float64)
    assert mlp._gate_up is None  # the stale float32 copy is let go at once, not at the next forward
    x = torch.randn(3, 16, dtype=torch.float64)
    with torch.no_grad():
        assert not merged_runs(mlp, x)
        want = mlp.down_proj(torch.nn.functional.silu(mlp.gate_proj(x)) * mlp.up_proj(x))
        torch.testing.assert_close(mlp(x), want)


def test_a_move_that_keeps_the_storage_keeps_the_merge(mlp):
    mlp.merge_gate_up()
    mlp.to(torch.float32)  # already float32: the same tensors
    assert mlp._gate_up is not None
    with torch.no_grad():
        assert merged_runs(mlp, torch.randn(3, 16))


def test_a_merged_model_saves_and_loads_the_same_checkpoint(tmp_path):
    torch.manual_seed(1)
    model = HybridLM(ModelConfig.tiny())
    model.merge_gate_up()
    save_model(model, tmp_path)
    loaded = load_model(tmp_path)
    for (name, want), (_, got) in zip(model.state_dict().items(), loaded.state_dict().items(), strict=True):
        assert torch.equal(got, want), name
    ids = torch.tensor([[3, 1, 4, 1, 5]])
    with torch.no_grad():
        torch.testing.assert_close(model(ids), loaded(ids))
