"""The details that break naive M1 reimplementations, checked against the equations of docs (m1_model.md).

Each reference below is written from the equations, channel by channel in float64, independently of the
library code; each test also shows that the "fixed" variant (single dt bias, llama3-scaled RoPE,
interleaved group repeat) gives a clearly different answer, so the test would catch such a change.
"""

import json
import math

import pytest
import torch
import torch.nn.functional as F

from m1reason.model import HybridLM, ModelConfig, config_files, load_model, save_model
from m1reason.model.attention import Attention
from m1reason.model.mamba import MambaMixer


def naive_mamba(mixer: MambaMixer, u: torch.Tensor, *, dt_bias_times=2, group_of=None) -> torch.Tensor:
    """m1_model.md's Mamba mixer, one channel and one time step at a time. u: [T, hidden]."""
    d, dxb, N, K, R = mixer.d_inner, mixer.d_xb, mixer.d_state, mixer.d_conv, mixer.dt_rank
    repeat = d // dxb
    group_of = group_of or (lambda out_group: out_group // repeat)  # output group j takes input group j // 3
    W = {k: v.double() for k, v in mixer.state_dict().items()}
    z, x, B, C, dt_low = (u.double() @ W["in_proj.weight"].T).split([d, dxb, dxb, d, R], -1)
    src = [group_of(c // N) * N + c % N for c in range(d)]
    x, B = x[:, src], B[:, src]
    T = u.shape[0]
    w, bias = W["conv1d.weight"][:, 0], W["conv1d.bias"]
    xc = torch.zeros(T, d, dtype=torch.float64)
    for t in range(T):
        for k in range(K):
            if t - (K - 1) + k >= 0:
                xc[t] += w[:, k] * x[t - (K - 1) + k]
    xc = F.silu(xc + bias)
    delta = F.softplus(dt_low @ W["dt_proj.weight"].T + dt_bias_times * W["dt_proj.bias"])
    A = -torch.exp(W["A_log"])
    h = torch.zeros(d, N, dtype=torch.float64)
    y = torch.zeros(T, d, dtype=torch.float64)
    for t in range(T):
        g = torch.arange(d) // N  # channel c reads the C (and repeated B) group c // N
        Bt = B[t].view(-1, N)[g]  # [d, N]
        Ct = C[t].view(-1, N)[g]
        h = torch.exp(delta[t, :, None] * A) * h + (delta[t] * xc[t])[:, None] * Bt
        y[t] = (Ct * h).sum(-1) + W["D"] * xc[t]
    y = y * F.silu(z)
    return y @ W["out_proj.weight"].T


@pytest.fixture
def mixer():
    torch.manual_seed(3)
    m = MambaMixer(ModelConfig.tiny()).eval()  # d_inner 128, d_xb 64: x and B repeated 2x
    with torch.no_grad():
        m.dt_proj.bias.uniform_(-2, 0.5)
        m.D.uniform_(0.5, 1.5)
        m.A_log.add_(torch.randn_like(m.A_log) * 0.3)
    return m


@torch.no_grad()
def test_mamba_mixer_matches_equations_with_doubled_dt_bias(mixer):
    u = torch.randn(9, 64)
    got = mixer(u[None])[0].double()
    assert torch.allclose(got, naive_mamba(mixer, u), rtol=1e-5, atol=1e-6)
    single_bias = naive_mamba(mixer, u, dt_bias_times=1)
    assert (got - single_bias).abs().max() > 1e-3, "the test must be able to see the double dt bias"


@torch.no_grad()
def test_x_and_B_repeat_group_wise_before_the_conv(mixer):
    u = torch.randn(6, 64)
    got = mixer(u[None])[0].double()
    groups = mixer.d_xb // mixer.d_state
    tiled = naive_mamba(mixer, u, group_of=lambda j: j % groups)  # a repeat_interleave-vs-tile mix-up
    assert (got - tiled).abs().max() > 1e-3
    # The conv has d_inner channels: it runs after the repeat, on the expanded x.
    assert mixer.conv1d.weight.shape == (mixer.d_inner, 1, mixer.d_conv)


def naive_attention(attn: Attention, x: torch.Tensor, inv_freq: torch.Tensor) -> torch.Tensor:
    """Causal GQA attention, rotate-half RoPE over all head dims at positions 0..T-1. x: [T, hidden]."""
    H, Hkv, hd = attn.heads, attn.kv_heads, attn.head_dim
    W = {k: v.double() for k, v in attn.state_dict().items()}
    q, k, v = (x.double() @ W["in_proj.weight"].T).split([H * hd, Hkv * hd, Hkv * hd], -1)
    T = x.shape[0]
    angle = torch.arange(T, dtype=torch.float64)[:, None] * inv_freq.double()[None]  # [T, hd/2]
    cos, sin = torch.cat([angle.cos()] * 2, -1)[:, None], torch.cat([angle.sin()] * 2, -1)[:, None]

    def rope(t):
        t = t.view(T, -1, hd)
        return t * cos + torch.cat([-t[..., hd // 2:], t[..., :hd // 2]], -1) * sin

    q, k, v = rope(q), rope(k), v.view(T, Hkv, hd)
    out = torch.zeros(T, H, hd, dtype=torch.float64)
    for head in range(H):
        kv = head // (H // Hkv)
        scores = q[:, head] @ k[:, kv].T / math.sqrt(hd)
        scores = scores.masked_fill(torch.ones(T, T).triu(1).bool(), float("-inf"))
        out[:, head] = scores.softmax(-1) @ v[:, kv]
    return out.reshape(T, -1) @ W["out_proj.weight"].T


@torch.no_grad()
def test_m1_attention_uses_plain_rope_even_when_config_json_has_llama3(tmp_path):
    cfg = ModelConfig.tiny(num_layers=2, attn_layers=(1,)).model_copy(
        update={"rope": ModelConfig.tiny().rope.model_copy(update={"theta": 500000.0})})
    torch.manual_seed(0)
    folder = save_model(HybridLM(cfg), tmp_path / "m1")
    llama = json.loads((folder / "config.json").read_text())
    llama["rope_scaling"] = {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                             "original_max_position_embeddings": 8, "rope_type": "llama3"}
    (folder / "config.json").write_text(json.dumps(llama))
    model = load_model(folder, device="cpu")
    attn = model.model.layers[1].mha
    plain = 1.0 / 500000.0 ** (torch.arange(0, 16, 2, dtype=torch.float64) / 16)
    assert torch.allclose(attn.inv_freq.double(), plain, rtol=1e-6)
    x = torch.randn(12, 64)
    got = attn(x[None])[0].double()
    assert torch.allclose(got, naive_attention(attn, x, plain), rtol=1e-5, atol=1e-6)
    scaled = plain.clone()
    scaled[plain < 2 * math.pi / 8] /= 32  # what applying llama3 scaling would have done to low frequencies
    assert (got - naive_attention(attn, x, scaled)).abs().max() > 1e-4


def test_tiny_config_files_carry_no_rope_scaling_for_hybrids():
    assert config_files(ModelConfig.tiny())["config.json"]["rope_scaling"] is None
