"""Each Triton kernel against its torch reference twin, on fresh random inputs, in two places.

On a GPU (``-m gpu``, the ``gpu`` cases): compiled, at M1-3B shapes, in the dtypes the engine runs (bf16
activations and states too). On a CPU (the ``interpreter`` cases, in the default suite): through Triton's
interpreter (``TRITON_INTERPRET=1``, which the root conftest sets where no GPU is), at small shapes, in fp32. The
interpreter runs every program of the grid in numpy, so it checks the kernels' indexing, masks, slots, padding,
tails and chunk carries on every CI run; it cannot check bf16 numerics (numpy has no bf16: its dots of bf16 come
out wrong) or speed, which stay the GPU cases' work. Tests that need a GPU's own properties (its SM count, the
model dispatching to the kernels) are GPU-only.
"""

import os
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F

from m1reason.kernels import mamba_step_ref, paged_attention_decode_ref, selective_scan_ref
from m1reason.kernels.dispatch import triton_enabled
from m1reason.kernels.mamba_prefill import mamba_prefill_ref
from m1reason.kernels.rope import apply_rope

INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1" and triton_enabled()


@dataclass(frozen=True)
class Place:
    """Where a kernel test runs: the device, whether at M1-3B shapes, and the activation dtypes it checks."""

    device: str
    m1_shapes: bool
    dtypes: tuple[torch.dtype, ...]

    def size(self, m1: int, small: int) -> int:
        return m1 if self.m1_shapes else small


GPU = Place("cuda", True, (torch.float32, torch.bfloat16))
CPU = Place("cpu", False, (torch.float32,))


@pytest.fixture(params=[pytest.param(GPU, marks=pytest.mark.gpu, id="gpu"),
                        pytest.param(CPU, id="interpreter", marks=pytest.mark.skipif(
                            not INTERPRETED, reason="Triton's interpreter runs these on a CPU: triton installed and "
                                                    "TRITON_INTERPRET=1 set before it loads (the root conftest does, "
                                                    "where no GPU is)"))])
def place(request) -> Place:
    return request.param


def rel_err(got, want):
    return ((got.float() - want.float()).abs().max() / want.float().abs().max()).item()


def test_mamba_step_matches_reference(place):
    """One decode step at slots in random order, for each tiling the benchmark tries: spare rows past the batch
    (5 rows a program over 3 or 24 sequences) store nothing."""
    from m1reason.kernels.triton_mamba_step import mamba_step_triton

    torch.manual_seed(0)
    b, S, d, dxb, N, K = place.size(24, 3), place.size(40, 5), place.size(3072, 64), place.size(1024, 16), 16, 4
    dev, act = place.device, place.dtypes[-1]
    for state_dtype in place.dtypes:
        x, B = torch.randn(b, dxb, device=dev, dtype=act), torch.randn(b, dxb, device=dev, dtype=act)
        z, C, dt = (torch.randn(b, d, device=dev, dtype=act) for _ in range(3))
        conv = torch.randn(S, d, K, device=dev, dtype=state_dtype)
        ssm = torch.randn(S, d, N, device=dev, dtype=state_dtype)
        w, cb = torch.randn(d, K, device=dev, dtype=act) * 0.5, torch.randn(d, device=dev, dtype=act)
        A_log = torch.log(torch.rand(d, N, device=dev) * 4)
        D, dt_bias = torch.randn(d, device=dev), torch.randn(d, device=dev, dtype=act) - 3
        slots = torch.randperm(S, device=dev)[:b]
        conv_ref, ssm_ref = conv.clone(), ssm.clone()
        want = mamba_step_ref(x, z, B, C, dt, conv_ref, ssm_ref, w, cb, A_log, D, dt_bias, slots)
        for block_d, num_warps, rows in ((64, 2, 1), (32, 4, 2), (256, 8, 5)):  # the default, tilings tried
            conv2, ssm2 = conv.clone(), ssm.clone()
            got = mamba_step_triton(x, z, B, C, dt, conv2, ssm2, w, cb, A_log, D, dt_bias, slots, block_d,
                                    num_warps, rows)
            assert torch.equal(conv2, conv_ref), block_d
            assert rel_err(ssm2, ssm_ref) < 1e-2 and rel_err(got, want) < 2e-2, block_d


def test_selective_scan_matches_reference(place):
    from m1reason.kernels.triton_selective_scan import selective_scan_triton

    torch.manual_seed(1)
    b, T, d, N, dev = 3, place.size(77, 13), place.size(256, 64), 16, place.device
    x, dt, z = (torch.randn(b, T, d, device=dev) for _ in range(3))
    B, C = torch.randn(b, T, 4, N, device=dev), torch.randn(b, T, d // N, N, device=dev)  # M1: B narrower than C
    A, D = -torch.rand(d, N, device=dev) * 4, torch.randn(d, device=dev)
    dt_bias, h0 = torch.randn(d, device=dev) - 2, torch.randn(b, d, N, device=dev)
    for start in (None, h0):
        y_ref, h_ref = selective_scan_ref(x, dt, A, B, C, D, z, dt_bias, start)
        y, h = selective_scan_triton(x, dt, A, B, C, D, z, dt_bias, start)
        assert rel_err(y, y_ref) < 1e-4 and rel_err(h, h_ref) < 1e-4


@pytest.mark.parametrize("T,chunk_len", [(37, 0), (301, 3), (301, 16), (301, 64)])
def test_fused_mamba_prefill_matches_reference(place, T, chunk_len):
    """Conv and scan in one kernel, x and B read narrow from in_proj's strided split, states at their slots: the
    outputs and both states of the torch path (repeat, cat, conv1d, silu, scan), with and without padding. Walked
    whole (chunk_len 0), or in chunks walked in parallel (each from zero, the carry over the chunks, each again
    from its start), with padding over many chunks and a row shorter than the conv (its conv state partly the
    slot's old one). On the CPU the chunked walks cover 67 steps (23 chunks of 3, 5 of 16, 2 of 64)."""
    from m1reason.kernels.triton_mamba_prefill import mamba_prefill_triton

    torch.manual_seed(4)
    T = T if place.m1_shapes or T < 70 else 67
    b, d, dxb, N, K, S, dev = 3, place.size(3072, 32), place.size(1024, 16), 16, 4, 6, place.device
    block_d = None if place.m1_shapes else d  # on the CPU one program a row (or chunk): the interpreter is slow
    for act, state_dtype in {(place.dtypes[0], place.dtypes[0]), (place.dtypes[-1], place.dtypes[-1]),
                             (place.dtypes[-1], torch.float32)}:
        z, x, B, C = torch.randn(b, T, 2 * d + 2 * dxb, device=dev, dtype=act).split([d, dxb, dxb, d], -1)
        dt = torch.randn(b, T, d, device=dev, dtype=act)
        w, cb = torch.randn(d, K, device=dev, dtype=act) * 0.5, torch.randn(d, device=dev, dtype=act)
        A_log, D = torch.log(torch.rand(d, N, device=dev) * 4), torch.randn(d, device=dev)
        dt_bias = torch.randn(d, device=dev, dtype=act) - 2
        slots = torch.tensor([5, 0, 3], device=dev)
        tol = 1e-4 if act == torch.float32 else 2e-2
        assert rel_err(mamba_prefill_triton(x, z, B, C, dt, w, cb, A_log, D, dt_bias, block_d=block_d,
                                            chunk_len=chunk_len),
                       mamba_prefill_ref(x, z, B, C, dt, w, cb, A_log, D, dt_bias)) < tol  # no state: from zeros
        for lengths in (None, torch.tensor([T, 2, 20 if T < 60 else 60], device=dev)):
            conv = torch.randn(S, d, K, device=dev, dtype=state_dtype)
            ssm = torch.randn(S, d, N, device=dev, dtype=state_dtype)
            conv2, ssm2 = conv.clone(), ssm.clone()
            want = mamba_prefill_ref(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv, ssm, slots, lengths)
            got = mamba_prefill_triton(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv2, ssm2, slots, lengths,
                                       block_d=block_d, chunk_len=chunk_len)
            real = slice(None) if lengths is None else torch.arange(T, device=dev)[None, :] < lengths[:, None]
            assert rel_err(got[real], want[real]) < tol, (act, state_dtype, lengths)
            assert torch.equal(conv2, conv) and rel_err(ssm2, ssm) < tol, (act, state_dtype, lengths)


@pytest.mark.parametrize("block_d,num_warps,stages,chunked", [
    (4, 1, 3, False), (8, 1, 1, False), (16, 1, 1, False), (32, 2, 2, False), (64, 4, 3, False), (128, 4, 2, False),
    (None, 1, None, False), (8, 1, 1, True), (32, 1, 1, True), (None, 1, None, True)])
def test_fused_mamba_prefill_tilings_agree(place, block_d, num_warps, stages, chunked):
    """Every tiling and pipelining depth the benchmark sweeps, and the one picked by the sequence count (None),
    computes the same thing (fp32, states, padding), walking each sequence whole or in chunks."""
    from m1reason.kernels.triton_mamba_prefill import mamba_prefill_triton

    torch.manual_seed(5)
    b, T, d, dxb, N, K, dev = 2, place.size(29, 11), place.size(512, 128), 128, 16, 4, place.device
    z, x, B, C = torch.randn(b, T, 2 * d + 2 * dxb, device=dev).split([d, dxb, dxb, d], -1)
    dt, w, cb = torch.randn(b, T, d, device=dev), torch.randn(d, K, device=dev) * 0.5, torch.randn(d, device=dev)
    A_log, D, dt_bias = torch.log(torch.rand(d, N, device=dev) * 4), *torch.randn(2, d, device=dev)
    conv, ssm = torch.randn(3, d, K, device=dev), torch.randn(3, d, N, device=dev)
    slots = torch.tensor([2, 0], device=dev)
    lengths = torch.tensor([T, 3], device=dev)
    conv2, ssm2 = conv.clone(), ssm.clone()
    want = mamba_prefill_ref(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv, ssm, slots, lengths)
    got = mamba_prefill_triton(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv2, ssm2, slots, lengths,
                               block_d=block_d, num_warps=num_warps, stages=stages,
                               chunk_len=place.size(8, 4) if chunked else 0)
    real = torch.arange(T, device=dev)[None, :] < lengths[:, None]
    assert rel_err(got[real], want[real]) < 1e-4
    assert torch.equal(conv2, conv) and rel_err(ssm2, ssm) < 1e-4


@pytest.mark.gpu
def test_few_sequences_get_narrower_programs_to_fill_the_gpu():
    from m1reason.kernels import triton_mamba_prefill
    from m1reason.kernels.triton_mamba_prefill import prefill_chunk, prefill_tiling

    dev = torch.device("cuda")
    assert prefill_tiling(512, 3072, dev) == (32, 3)
    assert prefill_tiling(1, 3072, dev) == (8, 1)
    assert prefill_tiling(1, 3072, dev, chunks=16) == (32, 1)  # one 1,024-token prompt in chunks of 64
    chunked, triton_mamba_prefill.CHUNKED_PREFILL = triton_mamba_prefill.CHUNKED_PREFILL, True
    try:
        assert prefill_chunk(1, 1024, 3072, dev) == 64 and prefill_chunk(512, 256, 3072, dev) == 0
    finally:
        triton_mamba_prefill.CHUNKED_PREFILL = chunked


def test_paged_attention_decode_matches_reference(place):
    """Rows at positions inside, at the end of and past a cache block, over blocks in random order, split over
    1 to 7 programs along the context and tiled one block, a default tile or more per iteration."""
    from m1reason.kernels.triton_paged_attention import paged_attention_decode_triton

    torch.manual_seed(2)
    b, H, Hkv, hd = 6, place.size(24, 4), place.size(8, 2), place.size(128, 32)
    blocks, bs, per_slot, dev = place.size(400, 100), 16, place.size(40, 12), place.device
    for dtype in place.dtypes:
        k_pool = torch.randn(blocks, bs, Hkv, hd, device=dev, dtype=dtype)
        v_pool = torch.randn(blocks, bs, Hkv, hd, device=dev, dtype=dtype)
        table = torch.randperm(blocks, device=dev)[: 8 * per_slot].view(8, per_slot)
        slots = torch.tensor([3, 0, 7, 1, 5, 2], device=dev)
        positions = torch.tensor([0, 15, 16, place.size(333, 100), place.size(639, 191), 100], device=dev)
        q = torch.randn(b, H, hd, device=dev, dtype=dtype)
        want = paged_attention_decode_ref(q, k_pool, v_pool, table, slots, positions)
        tol = 1e-5 if dtype == torch.float32 else 2e-2
        for splits in (None, 1, 7):
            for tile_tokens in (16, 64, 128):  # one cache block per iteration, the default, more
                got = paged_attention_decode_triton(q, k_pool, v_pool, table, slots, positions, splits, tile_tokens)
                assert rel_err(got, want) < tol, (dtype, splits, tile_tokens)


@pytest.mark.parametrize("b,splits", [(64, None), (1, None), (3, 7), (5, 63)])
def test_fused_gumbel_sampling_draws_the_reference_tokens(place, b, splits):
    """One program per row, or a row's vocabulary split over several programs and merged: the reference's tokens."""
    from m1reason.kernels.gumbel_argmax import uniform_noise
    from m1reason.kernels.triton_sampling import gumbel_argmax_triton

    b, V, dev = place.size(b, min(b, 5)), place.size(128256, 3000), place.device
    for dtype in place.dtypes:
        torch.manual_seed(3)
        logits = (torch.randn(b, V, device=dev) * 3).to(dtype)
        temperature = torch.rand(b, device=dev) * 1.5
        temperature[::5] = 0  # some greedy rows
        seeds = torch.randint(0, 2**62, (b,), device=dev)
        index, steps = torch.arange(b, device=dev), torch.randint(0, 5000, (b,), device=dev)
        l32 = logits.float()
        scaled = l32 / torch.where(temperature == 0, 1.0, temperature)[:, None]
        drawn = (scaled - torch.log(-torch.log(uniform_noise(seeds, index, steps, V)))).argmax(-1)
        want = torch.where(temperature == 0, l32.argmax(-1), drawn)
        got = gumbel_argmax_triton(logits, temperature, seeds, index, steps, splits=splits)
        assert (got == want).float().mean().item() >= 0.99  # exp/log may differ in the last ulp on a near tie
        assert torch.equal(got[temperature == 0], want[temperature == 0])


def test_norm_silu_mul_and_residual_add_match_torch(place):
    """The norm, the gate (also reading the halves of a merged gate-up output in place, a width that is no power
    of two for the masked tail) and the residual add fused into the next norm, in fp32."""
    from m1reason.kernels.triton_elementwise import add_rms_norm_triton, rms_norm_triton, silu_mul_triton

    torch.manual_seed(4)
    width, dev = place.size(3072, 96), place.device
    x, w = torch.randn(37, width, device=dev) * 3, torch.randn(width, device=dev)
    assert rel_err(rms_norm_triton(x, w, 1e-5), w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5)) < 1e-6
    for cols in (place.size(8192, 128), place.size(5000, 100)):
        g, u = torch.randn(2, 19, 2 * cols, device=dev).chunk(2, dim=-1)
        assert not g.is_contiguous()
        assert rel_err(silu_mul_triton(g, u), F.silu(g) * u) < 1e-6
    h, x = (torch.randn(2, 19, width, device=dev) * 3 for _ in range(2))
    total, normed = add_rms_norm_triton(h, x, w, 1e-5)
    assert torch.equal(total, h + x)
    assert torch.equal(normed, rms_norm_triton(h + x, w, 1e-5))


@pytest.mark.gpu
def test_fused_norm_and_silu_mul_round_exactly_as_torch_in_bf16():
    from m1reason.kernels.triton_elementwise import rms_norm_triton, silu_mul_triton

    torch.manual_seed(4)
    x = torch.randn(37, 3072, device="cuda", dtype=torch.bfloat16) * 3
    w = torch.randn(3072, device="cuda", dtype=torch.bfloat16)
    x32 = x.float()
    want = w * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + 1e-5)).to(x.dtype)
    got = rms_norm_triton(x, w, 1e-5)
    assert (got.float() - want.float()).abs().max().item() <= 1e-2 * want.float().abs().max().item()
    assert (got == want).float().mean().item() > 0.99  # equal but for rare last-bit rounding of the rsqrt
    g, u = (torch.randn(64, 8192, device="cuda", dtype=torch.bfloat16) for _ in range(2))
    assert torch.equal(silu_mul_triton(g, u), F.silu(g) * u)
    for width in (8192, 5000):
        g, u = torch.randn(2, 19, 2 * width, device="cuda", dtype=torch.bfloat16).chunk(2, dim=-1)
        assert torch.equal(silu_mul_triton(g, u), F.silu(g) * u), width


@pytest.mark.gpu
def test_fused_residual_add_and_norm_match_the_add_then_the_norm_in_bf16():
    """One kernel for a decoder layer's residual add and the norm after it: the sum exactly torch's bf16 add, the
    norm exactly the norm kernel's over that sum."""
    from m1reason.kernels.triton_elementwise import add_rms_norm_triton, rms_norm_triton

    torch.manual_seed(5)
    h, x = (torch.randn(2, 19, 3072, device="cuda", dtype=torch.bfloat16) * 3 for _ in range(2))
    w = torch.randn(3072, device="cuda", dtype=torch.bfloat16)
    total, normed = add_rms_norm_triton(h, x, w, 1e-5)
    assert torch.equal(total, h + x)
    assert torch.equal(normed, rms_norm_triton(h + x, w, 1e-5))


def test_fused_rope_matches_apply_rope(place):
    """q's and k's heads rotated in one launch from in_proj's fused output: apply_rope's result, far positions too."""
    from m1reason.kernels.triton_rope import rope_qk_triton

    torch.manual_seed(6)
    b, H, Hkv, hd, dev = 5, place.size(24, 6), place.size(8, 2), place.size(128, 32), place.device
    for dtype in place.dtypes:
        qkv = torch.randn(b, (H + 2 * Hkv) * hd, device=dev, dtype=dtype)
        positions = torch.tensor([0, 1, 255, 4351, 120_000], device=dev)
        inv_freq = 1.0 / (500000 ** (torch.arange(0, hd, 2, device=dev).float() / hd))
        q, k, _ = qkv.split([H * hd, Hkv * hd, Hkv * hd], -1)
        got_q, got_k = rope_qk_triton(qkv, positions, inv_freq, H, Hkv, hd)
        tol = 1e-5 if dtype == torch.float32 else 1e-2
        assert rel_err(got_q, apply_rope(q.view(b, 1, H, hd), positions[:, None], inv_freq)[:, 0]) < tol
        assert rel_err(got_k, apply_rope(k.view(b, 1, Hkv, hd), positions[:, None], inv_freq)[:, 0]) < tol


@pytest.mark.gpu
def test_attention_prefill_rotates_through_the_kernel_as_through_apply_rope(monkeypatch):
    """A prefill's [b, T] tokens go through the same kernel as rows: the layer's output is apply_rope's."""
    from m1reason.kernels.rope import kernel_fits
    from m1reason.model import ModelConfig
    from m1reason.model.attention import Attention

    torch.manual_seed(7)
    attn = Attention(ModelConfig.tiny(), layer_idx=1).cuda()
    assert kernel_fits(attn.head_dim)
    x = torch.randn(3, 37, attn.in_proj.in_features, device="cuda")
    positions = torch.arange(37, device="cuda") + torch.tensor([[0], [5], [300]], device="cuda")
    with torch.no_grad():  # where the kernels run (m1reason.kernels.dispatch.use_triton)
        q, k, v = attn._rotated_qkv(x, positions)
        monkeypatch.setattr("m1reason.kernels.rope.use_triton", lambda *_: False)
        want_q, want_k, want_v = attn._rotated_qkv(x, positions)
    assert rel_err(q, want_q) < 1e-5 and rel_err(k, want_k) < 1e-5 and torch.equal(v, want_v)
