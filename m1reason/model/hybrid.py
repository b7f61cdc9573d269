"""HybridLM: embeddings, a stack of pre-norm decoder layers (Mamba or attention mixers), final norm, lm_head.

Three entry points, all plain eager PyTorch: ``forward`` (parallel, no state), ``prefill`` (parallel over
new tokens, continuing from and filling an InferenceCache) and ``step`` (one token per sequence). The
engine builds on ``prefill``/``step``; nothing here knows about scheduling, sampling or CUDA graphs.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from m1reason.model.attention import Attention
from m1reason.model.cache import InferenceCache
from m1reason.model.config import ModelConfig
from m1reason.model.layers import GatedMLP, RMSNorm
from m1reason.model.mamba import MambaMixer

__all__ = ["DecoderLayer", "HybridLM"]


class DecoderLayer(nn.Module):
    """h = h + mixer(norm_in(h)); h = h + mlp(norm_post(h)). The mixer sits under ``mamba`` or ``mha``,
    the checkpoint's names, so state_dict keys equal the file's keys."""

    def __init__(self, config: ModelConfig, layer_idx: int):
        super().__init__()
        self.layer_idx = layer_idx
        self.is_attention = layer_idx in config.attn_layers
        if self.is_attention:
            self.mha = Attention(config, layer_idx)
        else:
            self.mamba = MambaMixer(config)
        self.input_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(config.hidden_size, config.rms_norm_eps)
        self.mlp = GatedMLP(config.hidden_size, config.intermediate_size)

    def forward(self, h: Tensor, positions: Tensor | None = None, cache: InferenceCache | None = None,
                slots: Tensor | None = None, lengths: Tensor | None = None, fresh: bool | None = None) -> Tensor:
        """h: [b, T, hidden]; with a cache, continues each slot's sequence at ``positions`` [b, T]. ``lengths``
        [b]: rows are right-padded and only their first ``lengths`` tokens count (the Mamba state skips the rest;
        attention is causal, so real tokens never see the padding after them). ``fresh``: every row starts at
        position 0 (None: attention finds out, at the cost of a host synchronisation)."""
        x = self.input_layernorm(h)
        if self.is_attention:
            x = self.mha(x, positions, cache, slots, fresh=fresh)
        elif cache is None:
            x = self.mamba(x)
        else:
            x = self.mamba(x, cache.conv_state(self.layer_idx), cache.ssm_state(self.layer_idx), slots, lengths,
                           fresh=bool(fresh))  # unknown (None): read the states, zero for a new slot anyway
        h, x = self.post_attention_layernorm.add_and_norm(h, x)
        return h + self.mlp(x)

    def step(self, h: Tensor, positions: Tensor, cache: InferenceCache, slots: Tensor,
             pending: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """One token per row: h [b, hidden] at ``positions`` [b]. ``pending``: the previous layer's MLP output,
        not yet added to the residual stream h; the add happens here, in one kernel with this layer's input norm
        (a decode step at batch 1 is bound by its kernel count). Returns (h, pending) for the next layer."""
        if pending is None:
            x = self.input_layernorm(h)
        else:
            h, x = self.input_layernorm.add_and_norm(h, pending)
        if self.is_attention:
            x = self.mha.step(x, positions, cache, slots)
        else:
            x = self.mamba.step(x, cache.conv_state(self.layer_idx), cache.ssm_state(self.layer_idx), slots)
        h, x = self.post_attention_layernorm.add_and_norm(h, x)
        return h, self.mlp(x)


class _Backbone(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(config, i) for i in range(config.num_layers))
        self.norm = RMSNorm(config.hidden_size, config.rms_norm_eps)


class HybridLM(nn.Module):
    """A causal LM whose layers are Mamba or attention, as listed in ``config.attn_layers``.

    >>> torch.manual_seed(0) and None
    >>> model = HybridLM(ModelConfig.tiny())
    >>> model(torch.tensor([[1, 5, 9]])).shape
    torch.Size([1, 3, 256])
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.model = _Backbone(config)
        if not config.tie_word_embeddings:
            self.lm_head = nn.Linear(config.hidden_size, config.vocab_size, bias=False)

    @property
    def output_weight(self) -> Tensor:
        """The [vocab, hidden] matrix that turns hidden states into logits (the embedding when tied)."""
        return self.model.embed_tokens.weight if self.config.tie_word_embeddings else self.lm_head.weight

    @property
    def dtype(self) -> torch.dtype:
        return self.model.embed_tokens.weight.dtype

    @property
    def device(self) -> torch.device:
        return self.model.embed_tokens.weight.device

    def _apply(self, fn, recurse=True):
        # .to(bf16) etc. must not touch A_log and D: the reference applies them in fp32, and bf16 A_log
        # shifts every decay rate.
        super()._apply(fn, recurse)
        for module in self.modules():
            if isinstance(module, MambaMixer):
                module.A_log.data = module.A_log.data.float()
                module.D.data = module.D.data.float()
        return self

    def merge_gate_up(self) -> None:
        """Every MLP's gate and up weights in one tensor each, run as one GEMM at small batches
        (``GatedMLP.merge_gate_up``: same parameters and values, no extra memory). The engine does it on a GPU.

        >>> model = HybridLM(ModelConfig.tiny())
        >>> model.merge_gate_up()
        >>> mlp = model.model.layers[0].mlp
        >>> mlp.up_proj.weight.data_ptr() - mlp.gate_proj.weight.data_ptr() == mlp.gate_proj.weight.nbytes
        True
        """
        for layer in self.model.layers:
            layer.mlp.merge_gate_up()

    def forward(self, input_ids: Tensor) -> Tensor:
        """input_ids: [b, T] -> logits [b, T, vocab], the parallel path from an empty state."""
        h = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            h = layer(h)
        return self.model.norm(h) @ self.output_weight.T

    @torch.no_grad()  # the cache keeps its states across calls: a graph recorded into them would only grow
    def prefill(self, input_ids: Tensor, cache: InferenceCache, slots: Tensor | None = None, *,
                lengths: Tensor | None = None, all_logits: bool = False, fresh: bool | None = None) -> Tensor:
        """Run T new tokens per slot in parallel, continuing each slot's state, and advance its length.

        input_ids: [b, T]; slots: [b] (0..b-1 when None). ``lengths`` [b] (all T when None): prompts of different
        lengths, right-padded to T; each slot takes only its first ``lengths`` tokens, as if prefilled alone.
        ``fresh``: whether every slot is empty (a new prompt), as the caller knows it; None lets each attention
        layer read it from the positions, a host synchronisation (on a GPU the host then waits for all queued
        work). Returns the logits of each row's last real position [b, vocab] (or all positions [b, T, vocab] with
        ``all_logits``, padding included).
        """
        b, T = input_ids.shape
        slots = torch.arange(b, device=input_ids.device) if slots is None else slots
        positions = cache.lengths[slots, None] + torch.arange(T, device=input_ids.device)
        h = self.model.embed_tokens(input_ids)
        for layer in self.model.layers:
            h = layer(h, positions, cache, slots, lengths, fresh)
        cache.lengths[slots] += T if lengths is None else lengths
        if not all_logits:
            h = h[:, -1] if lengths is None else h[torch.arange(b, device=h.device), lengths - 1]
        return self.model.norm(h) @ self.output_weight.T

    @torch.no_grad()
    def step(self, token_ids: Tensor, cache: InferenceCache, slots: Tensor | None = None) -> Tensor:
        """Decode one token per slot: token_ids [b] -> logits [b, vocab]; states and lengths advance."""
        slots = torch.arange(token_ids.shape[0], device=token_ids.device) if slots is None else slots
        positions = cache.lengths[slots]
        h, pending = self.model.embed_tokens(token_ids), None
        for layer in self.model.layers:
            h, pending = layer.step(h, positions, cache, slots, pending)
        cache.lengths[slots] += 1
        _, x = self.model.norm.add_and_norm(h, pending)  # the last layer's residual add, with the final norm
        return x @ self.output_weight.T
