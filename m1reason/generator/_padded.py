"""PaddedBatch: rows of different prompts decoding together over one transformers DynamicCache (for HFGenerator).

Rows join with their prompt already cached (prefilled alone, so never padded) and are left-padded to the
batch's length; rows leave between steps, and left padding no row needs any more is trimmed.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

from m1reason.errors import ConfigError

__all__ = ["PaddedBatch"]


class PaddedBatch:
    """Rows decoding together over one DynamicCache whose rows are left-padded to a common length; ``mask``
    [B, L] marks real positions. Rows join with their prompt already cached and leave between steps."""

    def __init__(self, model, cache_arg: str):
        self.model, self.cache_arg = model, cache_arg
        self.rows: list = []
        self.cache = None
        self.mask: Tensor | None = None

    def decode(self, tokens: Tensor, positions: Tensor) -> Tensor:
        """Feed one token per row ([B] ids at [B] positions); next-token logits [B, V]."""
        self.mask = torch.cat([self.mask, self.mask.new_ones(len(self.rows), 1)], dim=1)
        out = self.model(input_ids=tokens[:, None], attention_mask=self.mask, position_ids=positions[:, None],
                         use_cache=True, **{self.cache_arg: self.cache})
        return out.logits[:, -1].float()

    def merge(self, cache, rows: list) -> None:
        """Add rows whose (unpadded) prompt states are in ``cache``."""
        mask = torch.ones(len(rows), cache.get_seq_length(), dtype=torch.long, device=self.model.device)
        if self.cache is None:
            self.cache, self.mask = cache, mask
        else:
            width = max(self.mask.shape[1], mask.shape[1])
            pad = lambda x: F.pad(x, (0, 0, width - x.shape[-2], 0))  # noqa: E731  [B, H, T, D] -> [B, H, width, D]
            _set_kv(self.cache, [(torch.cat([pad(k), pad(k2)]), torch.cat([pad(v), pad(v2)]))
                                 for (k, v), (k2, v2) in zip(_kv(self.cache), _kv(cache))])
            self.mask = torch.cat([F.pad(m, (width - m.shape[1], 0)) for m in (self.mask, mask)])
        self.rows += rows

    def keep(self, keep: list[int]) -> None:
        """Drop every row not in ``keep``, and the left padding no remaining row needs."""
        if len(keep) == len(self.rows):
            return
        if not keep:
            self.rows, self.cache, self.mask = [], None, None
            return
        index = torch.tensor(keep, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.rows, self.mask = [self.rows[i] for i in keep], self.mask[index]
        unused = int(self.mask.any(0).long().argmax())
        if unused:
            self.mask = self.mask[:, unused:]
            _set_kv(self.cache, [(k[..., unused:, :], v[..., unused:, :]) for k, v in _kv(self.cache)])


def _kv(cache) -> list[tuple[Tensor, Tensor]]:
    if hasattr(cache, "layers"):  # transformers >= 4.56
        if any(getattr(layer, "is_sliding", False) for layer in cache.layers):
            raise ConfigError("HFGenerator batches full-attention caches only; this model uses sliding windows")
        return [(layer.keys, layer.values) for layer in cache.layers]
    return list(zip(cache.key_cache, cache.value_cache))


def _set_kv(cache, kv: list[tuple[Tensor, Tensor]]) -> None:
    if hasattr(cache, "layers"):
        for layer, (k, v) in zip(cache.layers, kv):
            layer.keys, layer.values = k, v
    else:
        cache.key_cache, cache.value_cache = [k for k, _ in kv], [v for _, v in kv]
