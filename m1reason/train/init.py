"""MambaInLlama initialisation: a hybrid whose Mamba layers start from a Llama-shaped transformer's attention.

Per Mamba layer, the attention projections become the SSM's linear-attention view of itself: x <- v_proj,
B <- k_proj, C <- q_proj, out_proj <- o_proj (shapes line up because d_xb = kv dim and d_inner = hidden =
q dim); MLP and norms are copied; z, dt, dt_proj, conv1d, A_log = log(1..N) and D = 1 are new. Attention layers
are copied whole. Sources: an all-attention HybridLM, or a transformers LlamaForCausalLM.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from m1reason.model import HybridLM, ModelConfig, RopeConfig

__all__ = ["from_hf_llama", "hybrid_config", "init_hybrid", "teacher_config"]


def teacher_config(*, vocab_size: int, hidden_size: int = 128, num_layers: int = 6, num_heads: int = 4,
                   num_kv_heads: int = 2, intermediate_size: int = 384, eos_token_id: int | None = None,
                   bos_token_id: int | None = None, pad_token_id: int | None = None) -> ModelConfig:
    """A Llama-shaped (all-attention) config whose kv and q widths suit a Mamba of d_state 16.

    >>> cfg = teacher_config(vocab_size=512)
    >>> cfg.attn_layers, cfg.kv_dim, cfg.num_heads * cfg.head_dim
    ((0, 1, 2, 3, 4, 5), 64, 128)
    """
    return ModelConfig(model_type="llama", vocab_size=vocab_size, hidden_size=hidden_size,
                       intermediate_size=intermediate_size, num_layers=num_layers, num_heads=num_heads,
                       num_kv_heads=num_kv_heads, head_dim=hidden_size // num_heads, rms_norm_eps=1e-5,
                       rope=RopeConfig(theta=10000.0), attn_layers=tuple(range(num_layers)),
                       bos_token_id=bos_token_id, eos_token_ids=() if eos_token_id is None else (eos_token_id,),
                       pad_token_id=pad_token_id)


def hybrid_config(teacher: ModelConfig, attn_layers: tuple[int, ...], *, d_state: int = 16) -> ModelConfig:
    """The M1 hybrid of ``teacher``: d_inner = hidden, d_xb = kv dim, dt_rank = ceil(hidden / 16).

    >>> hybrid_config(teacher_config(vocab_size=512), (2, 5)).mamba_layers
    (0, 1, 3, 4)
    """
    q_dim = teacher.num_heads * teacher.head_dim
    if q_dim != teacher.hidden_size:
        raise ValueError(f"MambaInLlama needs q dim (heads x head_dim = {q_dim}) == hidden {teacher.hidden_size}")
    return ModelConfig(**{**teacher.model_dump(), "model_type": "m1", "attn_layers": tuple(sorted(attn_layers)),
                          "d_inner": teacher.hidden_size, "d_xb": teacher.kv_dim, "d_state": d_state, "d_conv": 4,
                          "dt_rank": math.ceil(teacher.hidden_size / 16),
                          "rope": {"theta": teacher.rope.theta, "scaling": None}})


@torch.no_grad()
def init_hybrid(teacher: HybridLM, attn_layers: tuple[int, ...], *, seed: int = 0) -> HybridLM:
    """A hybrid initialised from an all-attention HybridLM ``teacher`` (the teacher is not modified).

    >>> t = HybridLM(teacher_config(vocab_size=64, num_layers=2))
    >>> h = init_hybrid(t, (1,))
    >>> torch.equal(h.model.layers[0].mamba.out_proj.weight, t.model.layers[0].mha.out_proj.weight)
    True
    """
    src = teacher.config
    if src.mamba_layers:
        raise ValueError(f"the source must be all attention; layers {list(src.mamba_layers)} are Mamba")
    torch.manual_seed(seed)
    student = HybridLM(hybrid_config(src, attn_layers)).to(teacher.dtype)
    new = student.state_dict()
    old = teacher.state_dict()
    q_dim, kv = src.num_heads * src.head_dim, src.kv_dim
    for name, tensor in old.items():
        if name in new and new[name].shape == tensor.shape and ".mha." not in name:
            new[name].copy_(tensor)  # embeddings, final norm, per-layer MLP and norms
    for i in range(src.num_layers):
        p = f"model.layers.{i}."
        if i in student.config.attn_layers:
            for suffix in ("mha.in_proj.weight", "mha.out_proj.weight"):
                new[p + suffix].copy_(old[p + suffix])
            continue
        q, k, v = old[p + "mha.in_proj.weight"].split([q_dim, kv, kv])
        mixer = student.model.layers[i].mamba
        z, x, B, C, dt = mixer.in_proj.weight.split([mixer.d_inner, mixer.d_xb, mixer.d_xb, mixer.d_inner,
                                                     mixer.dt_rank])
        x.copy_(v)
        B.copy_(k)
        C.copy_(q)
        mixer.out_proj.weight.copy_(old[p + "mha.out_proj.weight"])
        mixer.A_log.copy_(torch.log(torch.arange(1, mixer.d_state + 1, dtype=torch.float32)).repeat(mixer.d_inner, 1))
        mixer.D.fill_(1.0)
        _init_dt(mixer)
    return student


def _init_dt(mixer: nn.Module) -> None:
    """Mamba's dt init: dt_proj weight ~ U(+-dt_rank^-0.5), bias = softplus^-1(dt), dt log-uniform in [1e-3, 0.1]."""
    std = mixer.dt_rank ** -0.5
    nn.init.uniform_(mixer.dt_proj.weight, -std, std)
    dt = torch.exp(torch.rand(mixer.d_inner) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
    # the checkpoint quirk adds the bias twice (delta = softplus(W dt + 2 b)), so store half the inverse
    mixer.dt_proj.bias.copy_((dt + torch.log(-torch.expm1(-dt))) / 2)


@torch.no_grad()
def from_hf_llama(model) -> HybridLM:
    """An all-attention HybridLM holding the weights of a transformers LlamaForCausalLM (q/k/v fused in order).

    >>> from transformers import LlamaConfig, LlamaForCausalLM
    >>> hf = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
    ...                                   num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True))
    >>> from_hf_llama(hf).config.kv_dim
    32
    """
    c = model.config
    cfg = teacher_config(vocab_size=c.vocab_size, hidden_size=c.hidden_size, num_layers=c.num_hidden_layers,
                         num_heads=c.num_attention_heads, num_kv_heads=c.num_key_value_heads,
                         intermediate_size=c.intermediate_size)
    rope = getattr(c, "rope_theta", None) or (getattr(c, "rope_parameters", None) or {}).get("rope_theta", 10000.0)
    cfg = ModelConfig(**{**cfg.model_dump(), "rms_norm_eps": c.rms_norm_eps, "rope": {"theta": rope, "scaling": None},
                         "tie_word_embeddings": bool(getattr(c, "tie_word_embeddings", False))})
    out = HybridLM(cfg)
    sd, new = model.state_dict(), out.state_dict()
    for name in new:
        layer = name.split(".mha.")
        if len(layer) == 2 and layer[1] == "in_proj.weight":
            p = layer[0] + ".self_attn."
            new[name].copy_(torch.cat([sd[p + "q_proj.weight"], sd[p + "k_proj.weight"], sd[p + "v_proj.weight"]]))
        elif len(layer) == 2:
            new[name].copy_(sd[layer[0] + ".self_attn.o_proj.weight"])
        else:
            new[name].copy_(sd[name])
    return out
