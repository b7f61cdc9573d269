"""ModelConfig: the architecture of a hybrid (or pure-attention) decoder, read from a checkpoint folder.

An M1 folder holds config.json (a LlamaConfig) and mamba_config.json (the Mamba layers and which layers
stay attention); a plain Llama or Qwen2 folder holds config.json alone and loads as an all-attention
stack. This module only describes shapes and RoPE; it builds no tensors.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from m1reason.errors import ConfigError

__all__ = ["ModelConfig", "RopeConfig"]

# Ceilings on each size, far above any published shape (Llama-3.1-405B: 126 layers, hidden 16384, 128 heads,
# intermediate 53248, vocab 128256), so a corrupt or hostile config fails with the key named instead of building a
# million layers or handing the allocator a 10^12-row embedding.
_LIMITS = {"vocab_size": 1 << 24, "hidden_size": 1 << 16, "intermediate_size": 1 << 18, "num_layers": 1024,
           "num_heads": 1024, "num_kv_heads": 1024, "head_dim": 1024, "d_inner": 1 << 18, "d_xb": 1 << 18,
           "d_state": 1024, "d_conv": 64, "dt_rank": 1 << 16}
_MAX_PARAMETERS = 10**12  # weights (elements) in all: over twice the largest dense open model (405B)


class RopeConfig(BaseModel):
    """Rotary embedding settings of the attention layers.

    ``scaling`` is the llama3 frequency scaling of a plain Llama-3.x checkpoint, or None. M1's attention
    layers use plain RoPE even though their config.json carries llama3 scaling, so for hybrids it is None.

    >>> RopeConfig(theta=500000.0).scaling is None
    True
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    theta: float = Field(gt=0)
    scaling: dict[str, Any] | None = None


class ModelConfig(BaseModel):
    """Shapes of a decoder stack whose layers are either Mamba (M1's Mamba-1 variant) or GQA attention.

    >>> cfg = ModelConfig.tiny()
    >>> cfg.num_layers, cfg.attn_layers, cfg.mamba_layers
    (4, (1,), (0, 2, 3))
    >>> cfg.d_inner // cfg.d_state, cfg.d_xb // cfg.d_state   # C groups, x/B groups
    (8, 4)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_type: Literal["m1", "llama", "qwen2"] = "m1"
    vocab_size: int = Field(gt=0, le=_LIMITS["vocab_size"])
    hidden_size: int = Field(gt=0, le=_LIMITS["hidden_size"])
    intermediate_size: int = Field(gt=0, le=_LIMITS["intermediate_size"])
    num_layers: int = Field(gt=0, le=_LIMITS["num_layers"])
    num_heads: int = Field(gt=0, le=_LIMITS["num_heads"])
    num_kv_heads: int = Field(gt=0, le=_LIMITS["num_kv_heads"])
    head_dim: int = Field(gt=0, le=_LIMITS["head_dim"])
    rms_norm_eps: float = Field(gt=0)
    rope: RopeConfig
    attention_bias: bool = False  # Qwen2 has q/k/v biases; Llama and M1 have none
    tie_word_embeddings: bool = True
    attn_layers: tuple[int, ...]
    # Mamba layers (unused when every layer is attention)
    d_inner: int = Field(default=0, ge=0, le=_LIMITS["d_inner"])
    d_xb: int = Field(default=0, ge=0, le=_LIMITS["d_xb"])
    d_state: int = Field(default=16, gt=0, le=_LIMITS["d_state"])
    d_conv: int = Field(default=4, gt=0, le=_LIMITS["d_conv"])
    dt_rank: int = Field(default=0, ge=0, le=_LIMITS["dt_rank"])
    conv_bias: bool = True
    bos_token_id: int | None = None
    eos_token_ids: tuple[int, ...] = ()
    pad_token_id: int | None = None

    @model_validator(mode="after")
    def _check_shapes(self) -> ModelConfig:
        if any(not 0 <= i < self.num_layers for i in self.attn_layers):
            raise ValueError(f"attn_layers {list(self.attn_layers)} must lie in [0, {self.num_layers})")
        if len(set(self.attn_layers)) != len(self.attn_layers):
            raise ValueError(f"attn_layers {list(self.attn_layers)} has duplicates")
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"num_heads {self.num_heads} is not a multiple of num_kv_heads {self.num_kv_heads}")
        if self.head_dim % 2:
            raise ValueError(f"head_dim {self.head_dim} must be even for RoPE")
        if self.mamba_layers:
            if self.d_inner % self.d_state or self.d_xb % self.d_state:
                raise ValueError(f"d_inner {self.d_inner} and d_xb {self.d_xb} must be multiples of "
                                 f"d_state {self.d_state}")
            if self.d_xb == 0 or (self.d_inner // self.d_state) % (self.d_xb // self.d_state):
                raise ValueError(f"d_inner/d_state ({self.d_inner // self.d_state}) must be a multiple of "
                                 f"d_xb/d_state ({self.d_xb // self.d_state})")
            if self.dt_rank <= 0:
                raise ValueError("dt_rank must be > 0")
        if self.num_parameters > _MAX_PARAMETERS:
            raise ValueError(f"the shapes give {self.num_parameters:.3g} parameters, over the limit of "
                             f"{_MAX_PARAMETERS:.0e} (vocab_size {self.vocab_size}, hidden_size {self.hidden_size}, "
                             f"intermediate_size {self.intermediate_size}, num_layers {self.num_layers})")
        return self

    @property
    def num_parameters(self) -> int:
        """How many weights (elements) the model has: the size of its state dict, tied embeddings counted once.

        >>> ModelConfig.tiny().num_parameters
        236992
        """
        h, q = self.hidden_size, self.num_heads * self.head_dim
        attention = h * (q + 2 * self.kv_dim) + q * h + (q + 2 * self.kv_dim) * self.attention_bias
        d, n = self.d_inner, self.d_state
        mamba = (h * (2 * d + 2 * self.d_xb + self.dt_rank) + d * self.dt_rank + d  # in_proj, dt_proj
                 + d * self.d_conv + d * self.conv_bias + d * n + d + h * d)  # conv1d, A_log, D, out_proj
        per_layer = 3 * h * self.intermediate_size + 2 * h  # MLP and the two norms
        layers = len(self.attn_layers) * (per_layer + attention) + len(self.mamba_layers) * (per_layer + mamba)
        embeddings = self.vocab_size * h * (1 if self.tie_word_embeddings else 2)
        return embeddings + layers + h

    @property
    def mamba_layers(self) -> tuple[int, ...]:
        """Indices of the Mamba layers (every layer not in attn_layers)."""
        return tuple(i for i in range(self.num_layers) if i not in self.attn_layers)

    @property
    def is_hybrid(self) -> bool:
        return bool(self.mamba_layers)

    @property
    def repeat_group(self) -> int:
        """How many times each d_state-wide group of x and B is repeated (3 for M1-3B)."""
        return (self.d_inner // self.d_state) // (self.d_xb // self.d_state)

    @property
    def kv_dim(self) -> int:
        return self.num_kv_heads * self.head_dim

    @classmethod
    def from_pretrained(cls, folder: str | Path) -> ModelConfig:
        """Read config.json (+ mamba_config.json when present) from a checkpoint folder.

        Raises ConfigError naming the file and field of anything missing or invalid.
        """
        folder = Path(folder)
        llama = _read_json(folder / "config.json")
        mamba_path = folder / "mamba_config.json"
        mamba = _read_json(mamba_path) if mamba_path.exists() else None
        try:
            fields = _fields_from_llama(llama, folder / "config.json")
            if mamba is not None:
                fields.update(_fields_from_mamba(mamba, fields, mamba_path))
            return cls(**fields)
        except ValidationError as e:
            source = f"{folder / 'config.json'}" + (" and mamba_config.json" if mamba is not None else "")
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'config'}: {err['msg']}" for err in e.errors())
            raise ConfigError(f"invalid model config from {source}: {problems}") from None

    @classmethod
    def tiny(cls, *, num_layers: int = 4, attn_layers: tuple[int, ...] = (1,), vocab_size: int = 256) -> ModelConfig:
        """A tiny config in M1's proportions (GQA x/B repeated 2x), for tests and examples."""
        return cls(vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_layers=num_layers,
                   num_heads=4, num_kv_heads=2, head_dim=16, rms_norm_eps=1e-5, rope=RopeConfig(theta=10000.0),
                   attn_layers=attn_layers, d_inner=128, d_xb=64, d_state=16, d_conv=4, dt_rank=4,
                   bos_token_id=1, eos_token_ids=(2,), pad_token_id=0)


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise ConfigError(f"{path} is missing: a checkpoint folder needs config.json "
                          "(and mamba_config.json for a hybrid)")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a JSON object, got {type(data).__name__}")
    return data


def _require(cfg: dict, key: str, path: Path) -> Any:
    if key not in cfg:
        raise ConfigError(f"{path}: required field {key!r} is missing")
    return cfg[key]


def _size(value: Any, key: str, path: Path, field: str) -> int:
    """``value`` checked as a size (an integer in [1, the limit of ``field``]) before anything is built from it."""
    limit = _LIMITS[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{path}: {key} must be an integer, got {repr(value)[:40]}")
    if not 1 <= value <= limit:
        raise ConfigError(f"{path}: {key} = {value} is outside [1, {limit}]")
    return value


def _fields_from_llama(cfg: dict, path: Path) -> dict:
    model_type = cfg.get("model_type", "llama")
    if model_type not in ("llama", "qwen2"):
        raise ConfigError(f"{path}: model_type {model_type!r} is not supported (llama, qwen2, or an M1 hybrid)")
    hidden = _size(_require(cfg, "hidden_size", path), "hidden_size", path, "hidden_size")
    heads = _size(_require(cfg, "num_attention_heads", path), "num_attention_heads", path, "num_heads")
    num_layers = _size(_require(cfg, "num_hidden_layers", path), "num_hidden_layers", path, "num_layers")
    eos = cfg.get("eos_token_id")
    return dict(
        model_type=model_type,
        vocab_size=_size(_require(cfg, "vocab_size", path), "vocab_size", path, "vocab_size"),
        hidden_size=hidden,
        intermediate_size=_size(_require(cfg, "intermediate_size", path), "intermediate_size", path,
                                "intermediate_size"),
        num_layers=num_layers,
        num_heads=heads,
        num_kv_heads=_size(cfg.get("num_key_value_heads") or heads, "num_key_value_heads", path, "num_kv_heads"),
        head_dim=_size(cfg.get("head_dim") or hidden // heads, "head_dim", path, "head_dim"),
        rms_norm_eps=cfg.get("rms_norm_eps", 1e-6),
        rope=_rope_from_llama(cfg, path),
        attention_bias=model_type == "qwen2" or bool(cfg.get("attention_bias", False)),
        tie_word_embeddings=cfg.get("tie_word_embeddings", model_type == "llama"),
        attn_layers=tuple(range(num_layers)),
        bos_token_id=cfg.get("bos_token_id"),
        eos_token_ids=tuple(eos) if isinstance(eos, list) else ((eos,) if eos is not None else ()),
        pad_token_id=cfg.get("pad_token_id"),
    )


def _rope_from_llama(cfg: dict, path: Path) -> RopeConfig:
    # transformers < 5 writes rope_theta + rope_scaling; transformers 5 writes rope_parameters.
    params = cfg.get("rope_parameters") or {}
    scaling = cfg.get("rope_scaling") or None
    for key, value in (("rope_parameters", params), ("rope_scaling", scaling or {})):
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: {key} must be an object, got {repr(value)[:40]}")
    theta = params.get("rope_theta", cfg.get("rope_theta", 10000.0))
    rope_type = (scaling or params).get("rope_type", (scaling or {}).get("type", "default"))
    if rope_type == "llama3":
        source = scaling or params
        keys = ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings")
        if missing := [k for k in keys if k not in source]:
            raise ConfigError(f"{path}: llama3 rope scaling lacks {', '.join(missing)}")
        scaling = {k: source[k] for k in keys}
    elif rope_type in ("default", None):
        scaling = None
    else:
        raise ConfigError(f"{path}: rope type {rope_type!r} is not supported (default or llama3)")
    return RopeConfig(theta=theta, scaling=scaling)


def _fields_from_mamba(cfg: dict, llama_fields: dict, path: Path) -> dict:
    ssm = cfg.get("ssm_cfg") or {}
    if not isinstance(ssm, dict):
        raise ConfigError(f"{path}: ssm_cfg must be an object")
    d_model = cfg.get("d_model", llama_fields["hidden_size"])
    if d_model != llama_fields["hidden_size"]:
        raise ConfigError(f"{path}: d_model {d_model} differs from config.json "
                          f"hidden_size {llama_fields['hidden_size']}")
    if not ssm.get("repeat_kv_before_conv", True):
        raise ConfigError(f"{path}: ssm_cfg.repeat_kv_before_conv=false is not supported (M1 repeats before the conv)")
    dt_rank = ssm.get("dt_rank", "auto")
    n_layer = _size(cfg.get("n_layer", llama_fields["num_layers"]), "n_layer", path, "num_layers")
    if n_layer != llama_fields["num_layers"]:
        raise ConfigError(f"{path}: n_layer {n_layer} differs from config.json num_hidden_layers")
    rope = llama_fields["rope"]
    return dict(
        model_type="m1",
        d_inner=_size(cfg.get("d_inner") or _expanded(ssm, d_model, path), "d_inner", path, "d_inner"),
        d_xb=_size(_require(cfg, "d_xb", path), "d_xb", path, "d_xb"),
        d_state=_size(ssm.get("d_state", 16), "ssm_cfg.d_state", path, "d_state"),
        d_conv=_size(ssm.get("d_conv", 4), "ssm_cfg.d_conv", path, "d_conv"),
        dt_rank=math.ceil(d_model / 16) if dt_rank == "auto" else _size(dt_rank, "ssm_cfg.dt_rank", path, "dt_rank"),
        conv_bias=ssm.get("conv_bias", True),
        attn_layers=_layer_indices(_require(cfg, "attn_layers", path), path),
        intermediate_size=_size(cfg.get("intermediate_size", llama_fields["intermediate_size"]), "intermediate_size",
                                path, "intermediate_size"),
        rms_norm_eps=cfg.get("rms_norm_eps", llama_fields["rms_norm_eps"]),
        # M1's attention layers are mamba_ssm MHA modules with plain RoPE: the llama3 scaling in config.json
        # describes the teacher, not them. Applying it would shift every long-context logit.
        rope=RopeConfig(theta=rope.theta, scaling=None),
        attention_bias=False,
    )


def _expanded(ssm: dict, d_model: int, path: Path) -> int:
    expand = ssm.get("expand", 1)
    if isinstance(expand, bool) or not isinstance(expand, (int, float)) or not 0 < expand <= 64:
        raise ConfigError(f"{path}: ssm_cfg.expand must be a number in (0, 64], got {repr(expand)[:40]}")
    return int(expand * d_model)


def _layer_indices(value: Any, path: Path) -> tuple[int, ...]:
    """attn_layers as integers; their range and uniqueness are checked with the other shapes."""
    if not isinstance(value, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in value):
        raise ConfigError(f"{path}: attn_layers must be a list of layer indices, got {repr(value)[:40]}")
    return tuple(value)
