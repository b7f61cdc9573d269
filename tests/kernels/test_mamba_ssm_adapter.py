"""mamba-ssm's CUDA scan behind selective_scan's contract: the layout adapter, checked against a stand-in written
from mamba-ssm's documented interface (channels first, grouped B/C as [b, G, N, L], softplus of delta + bias
inside, no initial state), and the routing of fresh prefills to it."""

import importlib

import pytest
import torch
import torch.nn.functional as F

from m1reason.kernels.mamba_prefill import mamba_prefill, mamba_prefill_ref
from m1reason.kernels.mamba_ssm_scan import selective_scan_mamba_ssm
from m1reason.kernels.selective_scan import checked_mamba_ssm_scan, selective_scan_ref

# the modules, not the package's functions of the same names
mamba_ssm_scan_module = importlib.import_module("m1reason.kernels.mamba_ssm_scan")
selective_scan_module = importlib.import_module("m1reason.kernels.selective_scan")
mamba_prefill_module = importlib.import_module("m1reason.kernels.mamba_prefill")


@pytest.fixture(autouse=True)
def fresh_self_check():
    """Each test sees (and leaves) the installed scan unchecked: the check's verdict is cached per process."""
    selective_scan_module._checked.cache_clear()
    yield
    selective_scan_module._checked.cache_clear()


def stand_in_scan(u, delta, A, B, C, D=None, z=None, delta_bias=None, delta_softplus=False,
                  return_last_state=False):
    """mamba-ssm's selective_scan_fn as documented: u, delta, z [b, d, L]; B, C [b, G, N, L]; channel c reads
    group c // (d / G); returns out [b, d, L] (gated by silu(z)) and the last state [b, d, N]."""
    b, d, L = u.shape
    delta = delta.float() + (0 if delta_bias is None else delta_bias[None, :, None])
    delta = F.softplus(delta) if delta_softplus else delta
    Bc = B.float().repeat_interleave(d // B.shape[1], dim=1)  # [b, d, N, L]
    Cc = C.float().repeat_interleave(d // C.shape[1], dim=1)
    h = torch.zeros(b, d, A.shape[1])
    out = []
    for t in range(L):
        h = torch.exp(delta[:, :, t, None] * A) * h + (delta[:, :, t] * u[:, :, t].float())[..., None] * Bc[..., t]
        out.append((h * Cc[..., t]).sum(-1))
    y = (torch.stack(out, -1) + D[None, :, None] * u.float()) * F.silu(z.float())
    return (y.to(u.dtype), h) if return_last_state else y.to(u.dtype)


def scan_inputs(b=2, T=9, d=8, N=4, G_B=2, G_C=4):
    torch.manual_seed(0)
    return (torch.randn(b, T, d), torch.randn(b, T, d), -torch.rand(d, N) - 0.1, torch.randn(b, T, G_B, N),
            torch.randn(b, T, G_C, N), torch.randn(d), torch.randn(b, T, d), torch.randn(d))


def test_adapter_gives_the_reference_scan_from_zero_state():
    x, dt, A, B, C, D, z, dt_bias = scan_inputs()
    y, h = selective_scan_mamba_ssm(x, dt, A, B, C, D, z, dt_bias, scan_fn=stand_in_scan)
    want_y, want_h = selective_scan_ref(x, dt, A, B, C, D, z, dt_bias)
    assert torch.allclose(y, want_y, atol=1e-5) and torch.allclose(h, want_h, atol=1e-5)


def test_adapter_carries_the_state_through_padding():
    """mamba_prefill_ref sets dt to -inf at padding: softplus gives a zero step, so the last state is the one at
    the row's last real token."""
    x, dt, A, B, C, D, z, dt_bias = scan_inputs()
    padded = dt.clone()
    padded[0, 5:] = float("-inf")
    _, h = selective_scan_mamba_ssm(x, padded, A, B, C, D, z, dt_bias, scan_fn=stand_in_scan)
    _, want = selective_scan_ref(x[:1, :5], dt[:1, :5], A, B[:1, :5], C[:1, :5], D, z[:1, :5], dt_bias)
    assert torch.allclose(h[0], want[0], atol=1e-5)


def test_without_mamba_ssm_the_adapter_says_so(monkeypatch):
    monkeypatch.setattr(mamba_ssm_scan_module, "_installed_scan", lambda: None)
    with pytest.raises(RuntimeError, match="mamba-ssm"):
        selective_scan_mamba_ssm(*scan_inputs())


def test_an_installed_scan_is_used_only_after_it_passes_its_self_check(monkeypatch, caplog):
    def broken(*args, **kwargs):  # as a build with another layout would behave
        y, h = stand_in_scan(*args, **kwargs)
        return y.flip(-1), h

    def raising(*args, **kwargs):
        raise TypeError("selective_scan_fn() got an unexpected keyword argument 'return_last_state'")

    for scan, usable in ((stand_in_scan, True), (broken, False), (raising, False)):
        monkeypatch.setattr(mamba_ssm_scan_module, "_installed_scan", lambda scan=scan: scan)
        selective_scan_module._checked.cache_clear()
        assert (checked_mamba_ssm_scan() is scan) == usable, scan.__name__
    assert "disagrees with the reference" in caplog.text and "failed its self-check" in caplog.text


def test_switched_off_by_environment(monkeypatch):
    monkeypatch.setattr(mamba_ssm_scan_module, "_installed_scan", lambda: stand_in_scan)
    monkeypatch.setenv("M1REASON_MAMBA_SSM", "0")
    assert checked_mamba_ssm_scan() is None
    monkeypatch.delenv("M1REASON_MAMBA_SSM")
    assert checked_mamba_ssm_scan() is stand_in_scan


def prefill_inputs(b=2, T=7, d=8, dxb=4, N=2, K=4, S=3):
    torch.manual_seed(1)
    x, B = torch.randn(b, T, dxb), torch.randn(b, T, dxb)
    z, C, dt = torch.randn(b, T, d), torch.randn(b, T, d), torch.randn(b, T, d)
    params = (torch.randn(d, K), torch.randn(d), torch.log(torch.rand(d, N) + 0.5), torch.randn(d), torch.randn(d))
    states = (torch.randn(S, d, K), torch.randn(S, d, N))
    return (x, z, B, C, dt, *params), states, torch.tensor([2, 0]), torch.tensor([7, 4])


def test_fresh_prefill_ignores_the_slots_states_and_writes_them():
    args, (conv, ssm), slots, lengths = prefill_inputs()
    conv_zero, ssm_zero = torch.zeros_like(conv), torch.zeros_like(ssm)
    want = mamba_prefill_ref(*args, conv_zero, ssm_zero, slots, lengths)
    got = mamba_prefill_ref(*args, conv, ssm, slots, lengths, fresh=True)
    real = torch.arange(7)[None, :] < lengths[:, None]
    assert torch.allclose(got[real], want[real], atol=1e-5)
    assert torch.allclose(conv[slots], conv_zero[slots]) and torch.allclose(ssm[slots], ssm_zero[slots], atol=1e-5)


def test_fresh_prefill_on_the_gpu_path_runs_mamba_ssm_where_installed(monkeypatch):
    """With the kernels' dispatch saying "GPU" and mamba-ssm present (both stood in for on this CPU), a fresh
    prefill goes through mamba-ssm's scan and gives the reference result and states."""
    calls = []

    def counting_scan(*args, **kwargs):
        calls.append(1)
        return stand_in_scan(*args, **kwargs)

    for module in (mamba_prefill_module, selective_scan_module):
        monkeypatch.setattr(module, "use_triton", lambda t: True)
        monkeypatch.setattr(module, "checked_mamba_ssm_scan", lambda: counting_scan)
    args, (conv, ssm), slots, lengths = prefill_inputs()
    conv_ref, ssm_ref = torch.zeros_like(conv), torch.zeros_like(ssm)
    got = mamba_prefill(*args, conv, ssm, slots, lengths, fresh=True)
    for module in (mamba_prefill_module, selective_scan_module):
        monkeypatch.setattr(module, "use_triton", lambda t: False)
    want = mamba_prefill_ref(*args, conv_ref, ssm_ref, slots, lengths)
    real = torch.arange(7)[None, :] < lengths[:, None]
    assert calls and torch.allclose(got[real], want[real], atol=1e-5)
    assert torch.allclose(conv[slots], conv_ref[slots]) and torch.allclose(ssm[slots], ssm_ref[slots], atol=1e-5)


@pytest.mark.gpu
def test_installed_mamba_ssm_scan_matches_the_reference():
    pytest.importorskip("mamba_ssm", reason="mamba-ssm is not installed on this machine")
    if checked_mamba_ssm_scan() is None:
        pytest.skip("mamba-ssm is installed without its CUDA selective scan")
    x, dt, A, B, C, D, z, dt_bias = (t.cuda() for t in scan_inputs(b=3, T=300, d=64, N=16, G_B=4, G_C=16))
    y, h = selective_scan_mamba_ssm(x, dt, A, B, C, D, z, dt_bias)
    want_y, want_h = selective_scan_ref(x, dt, A, B, C, D, z, dt_bias)
    assert torch.allclose(y, want_y, atol=1e-3, rtol=1e-3) and torch.allclose(h, want_h, atol=1e-3, rtol=1e-3)
