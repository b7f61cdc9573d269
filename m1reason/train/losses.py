"""The losses of the recipe as pure tensor functions: masked cross-entropy, reverse KL, and GRPO's pieces.

Each takes logits/log-probs and a 0/1 mask and returns a scalar averaged over the masked tokens; nothing here
knows about models, optimizers or data. The hand-computed cases in tests/train/test_losses.py pin the directions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["group_advantages", "informative_rollouts", "masked_cross_entropy", "policy_loss", "reverse_kl",
           "token_logprobs"]


def _shift(logits: Tensor, ids: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Logits at t predict ids[t+1]; a target counts when its own mask is 1."""
    return logits[:, :-1], ids[:, 1:], mask[:, 1:].to(logits.dtype if logits.is_floating_point() else torch.float32)


def masked_cross_entropy(logits: Tensor, ids: Tensor, mask: Tensor) -> Tensor:
    """Next-token CE averaged over target tokens whose mask is 1 (assistant tokens).

    logits [b, T, V]; ids, mask [b, T]. A uniform model over V tokens scores log V:

    >>> ids, mask = torch.tensor([[0, 1, 2]]), torch.tensor([[0, 1, 1]])
    >>> round(masked_cross_entropy(torch.zeros(1, 3, 4), ids, mask).item(), 4)
    1.3863
    """
    logits, targets, m = _shift(logits, ids, mask)
    ce = F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none")  # [b, T-1]
    return (ce * m).sum() / m.sum().clamp(min=1)


def reverse_kl(student_logits: Tensor, teacher_logits: Tensor, mask: Tensor) -> Tensor:
    """KL(student || teacher) = sum_v p_s (log p_s - log p_t) per position, averaged where mask is 1.

    Mode-seeking: the student is punished for mass where the teacher has little. Both logits [b, T, V] are
    aligned position by position (no shift); mask [b, T].

    >>> s = torch.log(torch.tensor([[[0.5, 0.5]]])); t = torch.log(torch.tensor([[[0.25, 0.75]]]))
    >>> round(reverse_kl(s, t, torch.ones(1, 1)).item(), 4)  # 0.5 ln 2 + 0.5 ln(2/3)
    0.1438
    """
    log_s = F.log_softmax(student_logits.float(), -1)
    log_t = F.log_softmax(teacher_logits.float(), -1)
    kl = (log_s.exp() * (log_s - log_t)).sum(-1)
    m = mask.to(kl.dtype)
    return (kl * m).sum() / m.sum().clamp(min=1)


def token_logprobs(logits: Tensor, ids: Tensor) -> tuple[Tensor, Tensor]:
    """log p(ids[t+1] | ..t) and the policy entropy at each position: both [b, T-1], from logits [b, T, V].

    >>> lp, ent = token_logprobs(torch.zeros(1, 2, 4), torch.tensor([[0, 3]]))
    >>> round(lp.item(), 4), round(ent.item(), 4)
    (-1.3863, 1.3863)
    """
    logp = F.log_softmax(logits[:, :-1].float(), -1)
    chosen = logp.gather(-1, ids[:, 1:, None]).squeeze(-1)
    entropy = -(logp.exp() * logp).sum(-1)
    return chosen, entropy


def group_advantages(rewards: Tensor, group_size: int, eps: float = 1e-6) -> Tensor:
    """GRPO advantages: each reward minus its group's mean, over the group's std (0 where a group is uniform).

    rewards [P * k], groups of ``group_size`` consecutive entries.

    >>> [round(a, 3) for a in group_advantages(torch.tensor([1., 0., 0., 1., 1., 1.]), 3).tolist()]
    [1.155, -0.577, -0.577, 0.0, 0.0, 0.0]
    """
    g = rewards.float().view(-1, group_size)
    adv = (g - g.mean(1, keepdim=True)) / (g.std(1, keepdim=True) + eps)
    return adv.view(-1)


def informative_rollouts(rewards: Tensor, group_size: int) -> Tensor:
    """True for each rollout whose group's rewards are not all equal (the only groups with a learning signal).

    >>> informative_rollouts(torch.tensor([1., 0., 1., 1., 0., 0.]), 2).tolist()
    [True, True, False, False, False, False]
    """
    g = rewards.view(-1, group_size)
    return (g != g[:, :1]).any(1).repeat_interleave(group_size)


def policy_loss(logp: Tensor, old_logp: Tensor, advantages: Tensor, mask: Tensor, *, clip: float = 0.2,
                entropy: Tensor | None = None, entropy_coef: float = 0.0) -> Tensor:
    """The clipped-ratio surrogate (no KL term) minus an entropy bonus, averaged over masked tokens.

    logp, old_logp, mask, entropy: [b, L]; advantages: [b] (one per rollout, shared by its tokens).
    loss = -mean(min(r A, clip(r, 1-eps, 1+eps) A)) - entropy_coef * mean(entropy), r = exp(logp - old_logp).

    >>> lp = torch.log(torch.tensor([[0.9]])); old = torch.log(torch.tensor([[0.5]]))
    >>> policy_loss(lp, old, torch.tensor([1.0]), torch.ones(1, 1)).item()  # ratio 1.8 clipped to 1.2
    -1.2000000476837158
    """
    ratio = torch.exp(logp - old_logp)
    adv = advantages[:, None].to(ratio.dtype)
    surrogate = torch.minimum(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
    m = mask.to(ratio.dtype)
    loss = -(surrogate * m).sum() / m.sum().clamp(min=1)
    if entropy is not None and entropy_coef:
        loss = loss - entropy_coef * (entropy * m).sum() / m.sum().clamp(min=1)
    return loss
