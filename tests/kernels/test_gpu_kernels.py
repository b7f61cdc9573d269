"""Each Triton kernel against its torch reference twin, on fresh random inputs at M1-3B shapes (-m gpu)."""

import pytest
import torch

from m1reason.kernels import mamba_step_ref, paged_attention_decode_ref, selective_scan_ref

pytestmark = pytest.mark.gpu


def rel_err(got, want):
    return ((got.float() - want.float()).abs().max() / want.float().abs().max()).item()


@pytest.mark.parametrize("state_dtype", [torch.bfloat16, torch.float32])
def test_mamba_step_matches_reference(state_dtype):
    from m1reason.kernels.triton_mamba_step import mamba_step_triton

    torch.manual_seed(0)
    b, S, d, dxb, N, K = 24, 40, 3072, 1024, 16, 4
    dev, act = "cuda", torch.bfloat16
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
    for block_d, num_warps, rows in ((64, 2, 1), (32, 4, 2), (256, 8, 5)):  # the default, tilings kernel_tiles tries
        conv2, ssm2 = conv.clone(), ssm.clone()
        got = mamba_step_triton(x, z, B, C, dt, conv2, ssm2, w, cb, A_log, D, dt_bias, slots, block_d, num_warps, rows)
        assert torch.equal(conv2, conv_ref), block_d
        assert rel_err(ssm2, ssm_ref) < 1e-2 and rel_err(got, want) < 2e-2, block_d


def test_selective_scan_matches_reference():
    from m1reason.kernels.triton_selective_scan import selective_scan_triton

    torch.manual_seed(1)
    b, T, d, N = 3, 77, 256, 16
    dev = "cuda"
    x, dt, z = (torch.randn(b, T, d, device=dev) for _ in range(3))
    B, C = torch.randn(b, T, 4, N, device=dev), torch.randn(b, T, d // N, N, device=dev)  # M1: B narrower than C
    A, D = -torch.rand(d, N, device=dev) * 4, torch.randn(d, device=dev)
    dt_bias, h0 = torch.randn(d, device=dev) - 2, torch.randn(b, d, N, device=dev)
    for start in (None, h0):
        y_ref, h_ref = selective_scan_ref(x, dt, A, B, C, D, z, dt_bias, start)
        y, h = selective_scan_triton(x, dt, A, B, C, D, z, dt_bias, start)
        assert rel_err(y, y_ref) < 1e-4 and rel_err(h, h_ref) < 1e-4


@pytest.mark.parametrize("act,state_dtype", [(torch.float32, torch.float32), (torch.bfloat16, torch.bfloat16),
                                               (torch.bfloat16, torch.float32)])
@pytest.mark.parametrize("T,chunk_len", [(37, 0), (301, 3), (301, 16), (301, 64)])
def test_fused_mamba_prefill_matches_reference(act, state_dtype, T, chunk_len):
    """Conv and scan in one kernel, x and B read narrow from in_proj's strided split, states at their slots: the
    outputs and both states of the torch path (repeat, cat, conv1d, silu, scan), with and without padding. Walked
    whole (chunk_len 0), or in chunks walked in parallel (each from zero, the carry over the chunks, each again
    from its start), with padding over many chunks and a row shorter than the conv (its conv state partly the
    slot's old one)."""
    from m1reason.kernels.mamba_prefill import mamba_prefill_ref
    from m1reason.kernels.triton_mamba_prefill import mamba_prefill_triton

    torch.manual_seed(4)
    b, d, dxb, N, K, S, dev = 3, 3072, 1024, 16, 4, 6, "cuda"
    z, x, B, C = torch.randn(b, T, 2 * d + 2 * dxb, device=dev, dtype=act).split([d, dxb, dxb, d], -1)
    dt = torch.randn(b, T, d, device=dev, dtype=act)
    w, cb = torch.randn(d, K, device=dev, dtype=act) * 0.5, torch.randn(d, device=dev, dtype=act)
    A_log, D = torch.log(torch.rand(d, N, device=dev) * 4), torch.randn(d, device=dev)
    dt_bias = torch.randn(d, device=dev, dtype=act) - 2
    slots = torch.tensor([5, 0, 3], device=dev)
    tol = 1e-4 if act == torch.float32 else 2e-2
    assert rel_err(mamba_prefill_triton(x, z, B, C, dt, w, cb, A_log, D, dt_bias, chunk_len=chunk_len),
                   mamba_prefill_ref(x, z, B, C, dt, w, cb, A_log, D, dt_bias)) < tol  # no state: from zeros
    for lengths in (None, torch.tensor([T, 2, 20 if T < 70 else 70], device=dev)):
        conv = torch.randn(S, d, K, device=dev, dtype=state_dtype)
        ssm = torch.randn(S, d, N, device=dev, dtype=state_dtype)
        conv2, ssm2 = conv.clone(), ssm.clone()
        want = mamba_prefill_ref(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv, ssm, slots, lengths)
        got = mamba_prefill_triton(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv2, ssm2, slots, lengths,
                                   chunk_len=chunk_len)
        real = slice(None) if lengths is None else torch.arange(T, device=dev)[None, :] < lengths[:, None]
        assert rel_err(got[real], want[real]) < tol
        assert torch.equal(conv2, conv) and rel_err(ssm2, ssm) < tol


@pytest.mark.parametrize("block_d,num_warps,stages", [(4, 1, 3), (8, 1, 1), (16, 1, 1), (32, 2, 2), (64, 4, 3),
                                                       (128, 4, 2), (None, 1, None)])
def test_fused_mamba_prefill_tilings_agree(block_d, num_warps, stages):
    """Every tiling and pipelining depth the benchmark sweeps, and the one picked by the sequence count (None),
    computes the same thing (fp32, states, padding)."""
    from m1reason.kernels.mamba_prefill import mamba_prefill_ref
    from m1reason.kernels.triton_mamba_prefill import mamba_prefill_triton

    torch.manual_seed(5)
    b, T, d, dxb, N, K, dev = 2, 29, 512, 128, 16, 4, "cuda"
    z, x, B, C = torch.randn(b, T, 2 * d + 2 * dxb, device=dev).split([d, dxb, dxb, d], -1)
    dt, w, cb = torch.randn(b, T, d, device=dev), torch.randn(d, K, device=dev) * 0.5, torch.randn(d, device=dev)
    A_log, D, dt_bias = torch.log(torch.rand(d, N, device=dev) * 4), *torch.randn(2, d, device=dev)
    conv, ssm = torch.randn(3, d, K, device=dev), torch.randn(3, d, N, device=dev)
    slots = torch.tensor([2, 0], device=dev)
    lengths = torch.tensor([29, 11], device=dev)
    conv2, ssm2 = conv.clone(), ssm.clone()
    want = mamba_prefill_ref(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv, ssm, slots, lengths)
    got = mamba_prefill_triton(x, z, B, C, dt, w, cb, A_log, D, dt_bias, conv2, ssm2, slots, lengths,
                               block_d=block_d, num_warps=num_warps, stages=stages)
    real = torch.arange(T, device=dev)[None, :] < lengths[:, None]
    assert rel_err(got[real], want[real]) < 1e-4
    assert torch.equal(conv2, conv) and rel_err(ssm2, ssm) < 1e-4


def test_few_sequences_get_narrower_programs_to_fill_the_gpu():
    from m1reason.kernels.triton_mamba_prefill import prefill_chunk, prefill_tiling

    dev = torch.device("cuda")
    assert prefill_tiling(512, 3072, dev) == (32, 3)
    assert prefill_tiling(1, 3072, dev) == (8, 1)
    from m1reason.kernels import triton_mamba_prefill

    chunked, triton_mamba_prefill.CHUNKED_PREFILL = triton_mamba_prefill.CHUNKED_PREFILL, True
    try:
        assert prefill_chunk(1, 1024, 3072, dev) == 64 and prefill_chunk(512, 256, 3072, dev) == 0
    finally:
        triton_mamba_prefill.CHUNKED_PREFILL = chunked


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.bfloat16, 2e-2)])
def test_paged_attention_decode_matches_reference(dtype, tol):
    from m1reason.kernels.triton_paged_attention import paged_attention_decode_triton

    torch.manual_seed(2)
    b, H, Hkv, hd, blocks, bs, per_slot = 6, 24, 8, 128, 400, 16, 40
    dev = "cuda"
    k_pool = torch.randn(blocks, bs, Hkv, hd, device=dev, dtype=dtype)
    v_pool = torch.randn(blocks, bs, Hkv, hd, device=dev, dtype=dtype)
    table = torch.randperm(blocks, device=dev)[: 8 * per_slot].view(8, per_slot)
    slots = torch.tensor([3, 0, 7, 1, 5, 2], device=dev)
    positions = torch.tensor([0, 15, 16, 333, 639, 100], device=dev)
    q = torch.randn(b, H, hd, device=dev, dtype=dtype)
    want = paged_attention_decode_ref(q, k_pool, v_pool, table, slots, positions)
    for splits in (None, 1, 7):
        for tile_tokens in (16, 64, 128):  # one cache block per iteration, the default, more
            got = paged_attention_decode_triton(q, k_pool, v_pool, table, slots, positions, splits, tile_tokens)
            assert rel_err(got, want) < tol, (splits, tile_tokens)


@pytest.mark.parametrize("dtype,b,splits", [(torch.float32, 64, None), (torch.bfloat16, 64, None),
                                            (torch.bfloat16, 1, None), (torch.bfloat16, 3, 7),
                                            (torch.float32, 5, 63)])
def test_fused_gumbel_sampling_draws_the_reference_tokens(dtype, b, splits):
    """One program per row, or a row's vocabulary split over several programs and merged: the reference's tokens."""
    from m1reason.kernels.gumbel_argmax import uniform_noise
    from m1reason.kernels.triton_sampling import gumbel_argmax_triton

    torch.manual_seed(3)
    V = 128256
    logits = (torch.randn(b, V, device="cuda") * 3).to(dtype)
    temperature = torch.rand(b, device="cuda") * 1.5
    temperature[::5] = 0  # some greedy rows
    seeds = torch.randint(0, 2**62, (b,), device="cuda")
    index, steps = torch.arange(b, device="cuda"), torch.randint(0, 5000, (b,), device="cuda")
    l32 = logits.float()
    scaled = l32 / torch.where(temperature == 0, 1.0, temperature)[:, None]
    drawn = (scaled - torch.log(-torch.log(uniform_noise(seeds, index, steps, V)))).argmax(-1)
    want = torch.where(temperature == 0, l32.argmax(-1), drawn)
    got = gumbel_argmax_triton(logits, temperature, seeds, index, steps, splits=splits)
    assert (got == want).float().mean().item() >= 0.99  # exp/log may differ in the last ulp on a near tie
    assert torch.equal(got[temperature == 0], want[temperature == 0])


def test_fused_norm_and_silu_mul_match_torch_exactly():
    import torch.nn.functional as F

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


def test_silu_mul_reads_the_halves_of_a_merged_gate_up_output_in_place():
    """GatedMLP.merge_gate_up's GEMM gives [.., 2I]; its halves are strided views, read without a copy. A width
    that is no power of two exercises the masked tail."""
    import torch.nn.functional as F

    from m1reason.kernels.triton_elementwise import silu_mul_triton

    torch.manual_seed(6)
    for width in (8192, 5000):
        gate_up = torch.randn(2, 19, 2 * width, device="cuda", dtype=torch.bfloat16)
        g, u = gate_up.chunk(2, dim=-1)
        assert not g.is_contiguous()
        got = silu_mul_triton(g, u)
        assert got.shape == g.shape and torch.equal(got, F.silu(g) * u), width


def test_fused_residual_add_and_norm_match_the_add_then_the_norm():
    """One kernel for a decoder layer's residual add and the norm after it: the sum exactly torch's bf16 add, the
    norm exactly the norm kernel's over that sum."""
    from m1reason.kernels.triton_elementwise import add_rms_norm_triton, rms_norm_triton

    torch.manual_seed(5)
    h, x = (torch.randn(2, 19, 3072, device="cuda", dtype=torch.bfloat16) * 3 for _ in range(2))
    w = torch.randn(3072, device="cuda", dtype=torch.bfloat16)
    total, normed = add_rms_norm_triton(h, x, w, 1e-5)
    assert torch.equal(total, h + x)
    assert torch.equal(normed, rms_norm_triton(h + x, w, 1e-5))


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.bfloat16, 1e-2)])
def test_fused_rope_matches_apply_rope(dtype, tol):
    """q's and k's heads rotated in one launch from in_proj's fused output: apply_rope's result, far positions too."""
    from m1reason.kernels.rope import apply_rope
    from m1reason.kernels.triton_rope import rope_qk_triton

    torch.manual_seed(6)
    b, H, Hkv, hd = 5, 24, 8, 128
    qkv = torch.randn(b, (H + 2 * Hkv) * hd, device="cuda", dtype=dtype)
    positions = torch.tensor([0, 1, 255, 4351, 120_000], device="cuda")
    inv_freq = 1.0 / (500000 ** (torch.arange(0, hd, 2, device="cuda").float() / hd))
    q, k, _ = qkv.split([H * hd, Hkv * hd, Hkv * hd], -1)
    got_q, got_k = rope_qk_triton(qkv, positions, inv_freq, H, Hkv, hd)
    assert rel_err(got_q, apply_rope(q.view(b, 1, H, hd), positions[:, None], inv_freq)[:, 0]) < tol
    assert rel_err(got_k, apply_rope(k.view(b, 1, Hkv, hd), positions[:, None], inv_freq)[:, 0]) < tol


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
