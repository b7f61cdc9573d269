"""M1's Mamba mixer: Mamba-1 selective SSM whose x and B come in a narrow, GQA-like d_xb width.

Owns the parameters (named as in the checkpoint) and the two paths every mixer has: ``forward`` over a
whole sequence (optionally continuing from and filling a decode state) and ``step`` for one token.
The math of both lives in m1reason.kernels (``mamba_prefill``, ``mamba_step``), each with a torch reference
twin; the checkpoint quirks are documented here and kept there.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from m1reason.kernels import mamba_prefill, mamba_step
from m1reason.model.config import ModelConfig

__all__ = ["MambaMixer"]


class MambaMixer(nn.Module):
    """in_proj -> (z, x, B, C, dt) -> repeat x, B -> causal conv + silu -> selective scan -> gate -> out_proj.

    Quirks kept on purpose (the released weights depend on them):
    - x and B are repeated from d_xb to d_inner width BEFORE the conv, so the conv has d_inner channels;
    - dt_proj is applied with its bias and the scan adds the same bias again: delta = softplus(W dt + 2 b).

    >>> mixer = MambaMixer(ModelConfig.tiny())
    >>> mixer(torch.randn(2, 7, 64)).shape
    torch.Size([2, 7, 64])
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        c = config
        self.d_inner, self.d_xb, self.d_state = c.d_inner, c.d_xb, c.d_state
        self.d_conv, self.dt_rank = c.d_conv, c.dt_rank
        self.in_proj = nn.Linear(c.hidden_size, 2 * c.d_inner + 2 * c.d_xb + c.dt_rank, bias=False)
        self.dt_proj = nn.Linear(c.dt_rank, c.d_inner, bias=True)
        self.conv1d = nn.Conv1d(c.d_inner, c.d_inner, c.d_conv, groups=c.d_inner, padding=c.d_conv - 1,
                                bias=c.conv_bias)
        # A_log and D stay fp32 whatever the model dtype (see HybridLM.to_dtype), as in the reference.
        self.A_log = nn.Parameter(torch.log(torch.arange(1, c.d_state + 1, dtype=torch.float32)).repeat(c.d_inner, 1))
        self.D = nn.Parameter(torch.ones(c.d_inner))
        self.out_proj = nn.Linear(c.d_inner, c.hidden_size, bias=False)

    def _split(self, u: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """in_proj, split into z [.., d], x [.., d_xb], B [.., d_xb], C [.., d], dt [.., d] (projected, biased once)."""
        z, x, B, C, dt_low = self.in_proj(u).split([self.d_inner, self.d_xb, self.d_xb, self.d_inner, self.dt_rank], -1)
        # dt_proj on a 2D view (no copy: the split's rows stay evenly strided), as a decode step's [b, rank] is:
        # torch then adds the bias inside the GEMM, where on [b, T, rank] it adds it in a separate pass over
        # [b, T, d_inner], a strided pass a long prefill's profile shows.
        dt = self.dt_proj(dt_low.reshape(-1, self.dt_rank))
        return z, x, B, C, dt.view(*dt_low.shape[:-1], self.d_inner)

    def forward(self, u: Tensor, conv_state: Tensor | None = None, ssm_state: Tensor | None = None,
                slots: Tensor | None = None, lengths: Tensor | None = None, fresh: bool = False) -> Tensor:
        """u: [b, T, hidden] -> [b, T, hidden].

        With states ([S, d_inner, d_conv] and [S, d_inner, d_state], rows ``slots``), the sequence continues
        from them and they are updated in place to the state after the last token; without, it starts from
        zeros and nothing is kept. ``lengths`` [b]: right-padded rows whose states stop at their last real token
        (outputs at padded positions are garbage). ``fresh``: the rows are new prompts, their states known to start
        at zero (so a scan that cannot take an initial state, mamba-ssm's, may run).
        """
        z, x, B, C, dt = self._split(u)
        y = mamba_prefill(x, z, B, C, dt, self.conv1d.weight.squeeze(1), self.conv1d.bias,
                          self.A_log, self.D, self.dt_proj.bias, conv_state, ssm_state, slots, lengths, fresh)
        return self.out_proj(y)

    def step(self, u: Tensor, conv_state: Tensor, ssm_state: Tensor, slots: Tensor | None = None) -> Tensor:
        """One token per row: u [b, hidden] -> [b, hidden], states updated in place at rows ``slots``."""
        z, x, B, C, dt = self._split(u)
        y = mamba_step(x, z, B, C, dt, conv_state, ssm_state, self.conv1d.weight.squeeze(1), self.conv1d.bias,
                       self.A_log, self.D, self.dt_proj.bias, slots)
        return self.out_proj(y)

    def allocate_state(self, slots: int, *, dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
        """Zeroed (conv_state [slots, d_inner, d_conv], ssm_state [slots, d_inner, d_state])."""
        return (torch.zeros(slots, self.d_inner, self.d_conv, dtype=dtype, device=device),
                torch.zeros(slots, self.d_inner, self.d_state, dtype=dtype, device=device))
