"""Writing checkpoints in the exact M1-3B folder layout: config.json, mamba_config.json, sharded safetensors.

``save_model`` writes a model's weights (training uses it); ``write_random_checkpoint`` streams random
weights of any size straight to disk, tensor by tensor, so tests and GPU benchmarks load a
full-size M1-3B-shaped checkpoint through the same code path as the real one without holding it twice.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import Tensor

from m1reason.model.config import ModelConfig

__all__ = ["config_files", "save_model", "write_random_checkpoint"]


def config_files(config: ModelConfig) -> dict[str, dict]:
    """The JSON documents (by file name) that describe ``config`` in the M1 / HF layout.

    >>> sorted(config_files(ModelConfig.tiny()))
    ['config.json', 'mamba_config.json']
    """
    llama = {
        "architectures": ["LlamaForCausalLM"] if config.model_type != "qwen2" else ["Qwen2ForCausalLM"],
        "model_type": "qwen2" if config.model_type == "qwen2" else "llama",
        "vocab_size": config.vocab_size, "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size, "num_hidden_layers": config.num_layers,
        "num_attention_heads": config.num_heads, "num_key_value_heads": config.num_kv_heads,
        "head_dim": config.head_dim, "hidden_act": "silu", "rms_norm_eps": config.rms_norm_eps,
        "rope_theta": config.rope.theta, "rope_scaling": config.rope.scaling,
        "tie_word_embeddings": config.tie_word_embeddings, "attention_bias": config.attention_bias,
        "bos_token_id": config.bos_token_id, "pad_token_id": config.pad_token_id,
        "eos_token_id": list(config.eos_token_ids), "torch_dtype": "bfloat16",
    }
    if config.rope.scaling is not None:
        llama["rope_scaling"] = {**config.rope.scaling, "rope_type": "llama3"}
    files = {"config.json": llama}
    if config.is_hybrid:
        files["mamba_config.json"] = {
            "d_model": config.hidden_size, "d_inner": config.d_inner, "d_xb": config.d_xb,
            "ssm_cfg": {"expand": 1, "d_state": config.d_state, "d_conv": config.d_conv, "dt_rank": config.dt_rank,
                        "conv_bias": config.conv_bias, "repeat_kv_before_conv": True},
            "rms_norm_eps": config.rms_norm_eps, "vocab_size": None, "intermediate_size": config.intermediate_size,
            "hidden_act": "silu", "n_layer": config.num_layers, "attn_layers": list(config.attn_layers),
        }
    return files


def _write_configs(config: ModelConfig, folder: Path) -> None:
    for name, doc in config_files(config).items():
        (folder / name).write_text(json.dumps(doc, indent=2) + "\n")


def _write_shards(named: Iterator[tuple[str, Tensor]], folder: Path, total_bytes: int, shards: int) -> None:
    """Write tensors into ``shards`` files named as HF does, plus model.safetensors.index.json."""
    budget = math.ceil(total_bytes / shards)
    weight_map: dict[str, str] = {}
    batch: dict[str, Tensor] = {}
    size, index = 0, 1
    names = lambda i: f"model-{i:05d}-of-{shards:05d}.safetensors"  # noqa: E731
    for name, tensor in named:
        batch[name] = tensor.detach().to("cpu").contiguous()
        size += tensor.numel() * tensor.element_size()
        if size >= budget and index < shards:
            save_file(batch, str(folder / names(index)), metadata={"format": "pt"})
            weight_map.update(dict.fromkeys(batch, names(index)))
            batch, size, index = {}, 0, index + 1
    save_file(batch, str(folder / names(index)), metadata={"format": "pt"})
    weight_map.update(dict.fromkeys(batch, names(index)))
    index_doc = {"metadata": {"total_size": total_bytes}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index_doc, indent=2) + "\n")


def save_model(model: torch.nn.Module, folder: str | Path, *, shards: int = 1) -> Path:
    """Save a HybridLM's config and weights in the M1 layout (tied embeddings: no lm_head stored).

    >>> import tempfile
    >>> from m1reason.model.hybrid import HybridLM
    >>> path = save_model(HybridLM(ModelConfig.tiny()), tempfile.mkdtemp())
    >>> sorted(p.name for p in path.iterdir())[:2]
    ['config.json', 'mamba_config.json']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_configs(model.config, folder)
    state = model.state_dict()
    total = sum(t.numel() * t.element_size() for t in state.values())
    _write_shards(iter(state.items()), folder, total, shards)
    return folder


def random_tensors(config: ModelConfig, *, dtype: torch.dtype, device: torch.device | str, seed: int = 0,
                   std: float = 0.02) -> Iterator[tuple[str, Tensor]]:
    """Random weights with sensible scales, one tensor at a time, in checkpoint order and names."""
    # On "meta" (used to size the shards) there is nothing to draw.
    gen = None if torch.device(device).type == "meta" else torch.Generator(device=device).manual_seed(seed)
    normal = lambda *shape: torch.randn(*shape, generator=gen, device=device, dtype=torch.float32).mul_(std).to(dtype)  # noqa: E731
    d, h = config.hidden_size, config.hidden_size
    yield "model.embed_tokens.weight", normal(config.vocab_size, d)
    for i in range(config.num_layers):
        p = f"model.layers.{i}."
        if i in config.attn_layers:
            q, kv = config.num_heads * config.head_dim, config.kv_dim
            yield p + "mha.in_proj.weight", normal(q + 2 * kv, h)
            if config.attention_bias:
                yield p + "mha.in_proj.bias", normal(q + 2 * kv)
            yield p + "mha.out_proj.weight", normal(h, q)
        else:
            yield from _random_mamba(config, p + "mamba.", normal, gen, dtype, device)
        yield p + "mlp.gate_proj.weight", normal(config.intermediate_size, h)
        yield p + "mlp.up_proj.weight", normal(config.intermediate_size, h)
        yield p + "mlp.down_proj.weight", normal(h, config.intermediate_size)
        yield p + "input_layernorm.weight", torch.ones(h, dtype=dtype, device=device)
        yield p + "post_attention_layernorm.weight", torch.ones(h, dtype=dtype, device=device)
    yield "model.norm.weight", torch.ones(h, dtype=dtype, device=device)
    if not config.tie_word_embeddings:
        yield "lm_head.weight", normal(config.vocab_size, h)


def _random_mamba(config, prefix, normal, gen, dtype, device):
    c = config
    yield prefix + "in_proj.weight", normal(2 * c.d_inner + 2 * c.d_xb + c.dt_rank, c.hidden_size)
    yield prefix + "dt_proj.weight", (torch.rand(c.d_inner, c.dt_rank, generator=gen, device=device) * 2 - 1).mul_(
        c.dt_rank ** -0.5).to(dtype)
    # dt bias = softplus^-1 of a step size in [1e-3, 1e-1], as mamba initialises it
    log_lo, log_hi = math.log(1e-3), math.log(0.1)
    dt = torch.exp(torch.rand(c.d_inner, generator=gen, device=device) * (log_hi - log_lo) + log_lo)
    yield prefix + "dt_proj.bias", (dt + torch.log(-torch.expm1(-dt))).to(dtype)
    yield prefix + "conv1d.weight", (torch.rand(c.d_inner, 1, c.d_conv, generator=gen, device=device) - 0.5).to(dtype)
    if c.conv_bias:
        yield prefix + "conv1d.bias", normal(c.d_inner)
    a = torch.arange(1, c.d_state + 1, dtype=torch.float32, device=device)
    yield prefix + "A_log", torch.log(a).repeat(c.d_inner, 1)
    yield prefix + "D", torch.ones(c.d_inner, dtype=torch.float32, device=device)
    yield prefix + "out_proj.weight", normal(c.hidden_size, c.d_inner)


def write_random_checkpoint(folder: str | Path, config: ModelConfig, *, dtype: torch.dtype = torch.bfloat16,
                            device: torch.device | str = "cpu", seed: int = 0, shards: int = 2) -> Path:
    """Write a random checkpoint of ``config`` in the exact M1 layout, streaming tensor by tensor.

    >>> import tempfile
    >>> path = write_random_checkpoint(tempfile.mkdtemp(), ModelConfig.tiny(), shards=2)
    >>> sorted(p.name for p in path.glob("*.safetensors"))
    ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _write_configs(config, folder)
    total = sum(t.numel() * t.element_size() for _, t in random_tensors(config, dtype=dtype, device="meta"))
    _write_shards(random_tensors(config, dtype=dtype, device=device, seed=seed), folder, total, shards)
    return folder
