"""Hand-computed cases pinning each loss: directions, masks, normalisation, clipping."""

from __future__ import annotations

import math

import torch

from m1reason.train.losses import (
    group_advantages,
    informative_rollouts,
    masked_cross_entropy,
    policy_loss,
    reverse_kl,
    token_logprobs,
)


def test_reverse_kl_is_student_to_teacher():
    s = torch.tensor([[[0.9, 0.1]]]).log()
    t = torch.tensor([[[0.5, 0.5]]]).log()
    want = 0.9 * math.log(0.9 / 0.5) + 0.1 * math.log(0.1 / 0.5)  # KL(s || t)
    forward = 0.5 * math.log(0.5 / 0.9) + 0.5 * math.log(0.5 / 0.1)  # KL(t || s), the other direction
    got = reverse_kl(s, t, torch.ones(1, 1)).item()
    assert math.isclose(got, want, rel_tol=1e-5) and not math.isclose(got, forward, rel_tol=1e-2)


def test_reverse_kl_ignores_masked_positions():
    s = torch.tensor([[[0.9, 0.1], [0.5, 0.5]]]).log()
    t = torch.tensor([[[0.5, 0.5], [0.5, 0.5]]]).log()
    assert reverse_kl(s, t, torch.tensor([[0, 1]])).item() == 0.0


def test_cross_entropy_counts_assistant_targets_only():
    # vocab 2; position t predicts ids[t+1]. Only the target at index 2 is an assistant token.
    logits = torch.tensor([[[0.0, 0.0], [math.log(3), 0.0], [0.0, 0.0]]])
    ids = torch.tensor([[1, 1, 0]])
    mask = torch.tensor([[0, 0, 1]])
    assert math.isclose(masked_cross_entropy(logits, ids, mask).item(), -math.log(0.75), rel_tol=1e-6)
    # changing a prompt-position logit (predicting the masked target at index 1) changes nothing
    logits2 = logits.clone()
    logits2[0, 0] = torch.tensor([5.0, -5.0])
    assert masked_cross_entropy(logits2, ids, mask).item() == masked_cross_entropy(logits, ids, mask).item()


def test_group_advantages_normalise_per_group():
    adv = group_advantages(torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0]), 4)
    first, second = adv[:4], adv[4:]
    assert torch.allclose(first.mean(), torch.tensor(0.0), atol=1e-6)
    assert torch.allclose(first.std(), torch.tensor(1.0), atol=1e-4)
    assert second[3] > 0 > second[0]
    assert torch.equal(group_advantages(torch.ones(4), 4), torch.zeros(4))


def test_policy_loss_clips_the_ratio_both_ways():
    old = torch.zeros(1, 1)
    mask = torch.ones(1, 1)
    up = torch.tensor([[math.log(1.5)]])
    # positive advantage: gain capped at 1 + clip
    assert math.isclose(policy_loss(up, old, torch.tensor([2.0]), mask, clip=0.2).item(), -1.2 * 2.0, rel_tol=1e-6)
    # negative advantage with ratio > 1: pessimistic (unclipped) term is kept
    assert math.isclose(policy_loss(up, old, torch.tensor([-1.0]), mask, clip=0.2).item(), 1.5, rel_tol=1e-6)
    down = torch.tensor([[math.log(0.5)]])
    assert math.isclose(policy_loss(down, old, torch.tensor([-1.0]), mask, clip=0.2).item(), 0.8, rel_tol=1e-6)


def test_policy_loss_gradient_is_zero_once_clipped():
    lp = torch.tensor([[math.log(1.5)]], requires_grad=True)
    policy_loss(lp, torch.zeros(1, 1), torch.tensor([1.0]), torch.ones(1, 1), clip=0.2).backward()
    assert lp.grad.abs().item() == 0.0


def test_entropy_bonus_lowers_the_loss():
    logits = torch.zeros(1, 2, 4)
    ids = torch.tensor([[0, 1]])
    lp, ent = token_logprobs(logits, ids)
    base = policy_loss(lp, lp.detach(), torch.tensor([0.0]), torch.ones(1, 1))
    bonus = policy_loss(lp, lp.detach(), torch.tensor([0.0]), torch.ones(1, 1), entropy=ent, entropy_coef=0.1)
    assert math.isclose(base.item() - bonus.item(), 0.1 * math.log(4), rel_tol=1e-5)


def test_only_groups_with_differing_rewards_are_informative():
    rewards = torch.tensor([1.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    assert informative_rollouts(rewards, 3).tolist() == [False] * 3 + [True] * 3 + [False] * 3
    assert not informative_rollouts(torch.ones(4), 2).any()


def test_dynamic_sampling_keeps_informative_groups_first_then_fills_with_uniform_ones():
    from m1reason.train.grpo import select_groups

    rewards = [1, 1, 0, 1, 0, 0, 1, 0, 1, 1]  # groups of 2: uniform, mixed, uniform, mixed, uniform
    assert select_groups(rewards, k=2, keep=2) == [1, 3]
    assert select_groups(rewards, k=2, keep=4) == [1, 3, 0, 2]
    assert select_groups([0] * 6, k=3, keep=1) == [0]  # nothing informative: the batch is still full


def test_grpo_prompt_kinds_parse_from_the_command_line_and_reject_unknown_kinds():
    import pytest
    from pydantic import ValidationError

    from m1reason.train.__main__ import _settings, build_parser
    from m1reason.train.grpo import GRPOSettings

    args = build_parser().parse_args(["grpo", "--out", "o", "--source", "s", "--steps", "2",
                                       "--kind-weights", "percent=2, fraction=1"])
    assert _settings(GRPOSettings, args).kind_weights == {"percent": 2.0, "fraction": 1.0}
    for bad, named in (("percnt=1", "percnt"), ("percent=-1", "positive sum"), ("percent", "kind=weight")):
        with pytest.raises(ValidationError, match=named):
            GRPOSettings(steps=2, kind_weights=bad)
