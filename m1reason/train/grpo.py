"""GRPO: k rollouts per prompt through m1reason's own M1Generator, 1/0 rewards from m1reason.answers,
group-normalised advantages, the clipped ratio objective with NO KL term, an entropy bonus, and an optional
length limit that grows over training (M1's "longer training lengths help").

Only informative groups (rewards not all equal) enter the loss, entropy bonus included: a uniform group has zero
advantage, so all it could add is the entropy term, pushing every token of problems the policy already gets
right (or always gets wrong) towards randomness. Small, noisy steps matter here: Adam moves every weight by about
the learning rate whatever the gradient's size, so a batch with two informative groups out of 32 takes as large
a step as a batch of clean signal; the recipe's GRPO lr is 10x below its SFT lr.

After SFT most groups are uniform (the second GPU run's informative fraction fell from 27% to 5% in 31 steps), so a
batch of ``prompts`` groups carried almost no signal. ``oversample`` > 1 is DAPO's dynamic sampling: draw
``prompts * oversample`` problems, roll them all out, and train on the ``prompts`` groups whose rewards differ
(topped up with uniform ones, which the mask then ignores, when too few do). Rollouts of a tiny model are cheap
next to the update, so this buys a full batch of signal for a few more decode steps.

The generator runs a second copy of the policy whose weights are synced from the trained model before each
rollout batch; each batch is reused for ``updates_per_rollout`` optimizer steps (so the ratio and its clip
matter). Under torchrun each rank draws its own prompts (DDP; FSDP is not supported here).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import NamedTuple

import torch
from pydantic import Field, field_validator, model_validator

from m1reason.answers import extract_answer, is_equivalent
from m1reason.errors import ConfigError
from m1reason.generator import GenerationRequest, M1Generator, SamplingParams
from m1reason.model import HybridLM, load_model
from m1reason.tokenizer import build_prompt, load_tokenizer
from m1reason.train.data import KINDS, heldout_problems
from m1reason.train.examples import Example, collate, step_problems
from m1reason.train.limits import REPLY_TOKENS
from m1reason.train.loop import TrainSettings, copy_tokenizer, forward_logits, train_loop
from m1reason.train.losses import group_advantages, informative_rollouts, policy_loss, token_logprobs

__all__ = ["GRPOSettings", "grpo", "max_new_tokens_at", "reward", "select_groups", "sync_weights"]

log = logging.getLogger(__name__)


class GRPOSettings(TrainSettings):
    """GRPO: ``prompts`` x ``k`` rollouts per batch at ``temperature`` (chosen from ``prompts * oversample`` groups,
    informative first). ``grad_accum`` trains that one batch in as many slices of whole groups, a slice per
    forward/backward pass: the training forward's differentiable scan keeps every step's state for backward
    ([rows, tokens, d_inner, d_state] per Mamba layer), so long rollouts at a GPU-sized batch need slicing to fit
    in memory. The length limit grows linearly from
    ``max_new_tokens_start`` (default: no growth) to ``max_new_tokens``. Every ``heldout_every`` steps (0: never)
    the policy's greedy accuracy on ``heldout_count`` held-out problems is logged as ``heldout_greedy``: the
    training reward is measured on problems the model has seen many times, and the first GPU run's reward rose
    while held-out accuracy fell.

    >>> GRPOSettings(steps=4).entropy_coef
    0.01
    >>> GRPOSettings(steps=4, kind_weights="percent=3,fraction=1").kind_weights
    {'percent': 3.0, 'fraction': 1.0}
    """

    prompts: int = Field(default=8, gt=0)
    k: int = Field(default=8, gt=1)
    oversample: int = Field(default=1, gt=0)
    temperature: float = Field(default=0.9, gt=0)
    clip: float = Field(default=0.2, gt=0)
    entropy_coef: float = Field(default=0.01, ge=0)
    max_new_tokens: int = Field(default=REPLY_TOKENS, gt=0)
    max_new_tokens_start: int | None = Field(default=None, gt=0)
    updates_per_rollout: int = Field(default=2, gt=0)
    lr: float = Field(default=1e-5, gt=0)
    heldout_every: int = Field(default=10, ge=0)
    heldout_count: int = Field(default=64, gt=0)
    kind_weights: dict[str, float] | None = Field(
        default=None, description="problem kinds of the rollout prompts, e.g. percent=3,fraction=3,arithmetic=1 "
                                  "(default: the training mix)")

    @field_validator("kind_weights", mode="before")
    @classmethod
    def _parse_kind_weights(cls, value):
        """``kind=weight,...`` from the command line, or a dict."""
        if isinstance(value, str):
            try:
                value = {kind.strip(): float(weight) for kind, weight in
                         (item.split("=") for item in value.split(",") if item.strip())}
            except ValueError:
                raise ValueError(f"expected kind=weight,... (kinds: {', '.join(KINDS)}), got {value!r}") from None
        return value

    @model_validator(mode="after")
    def _slices_hold_whole_groups(self):
        if self.prompts % self.grad_accum:
            raise ValueError(f"grad_accum ({self.grad_accum}) must divide prompts ({self.prompts}): each slice of a "
                             "rollout batch trains whole groups of k rollouts")
        return self

    @field_validator("kind_weights")
    @classmethod
    def _check_kind_weights(cls, value):
        if value is None:
            return value
        unknown = sorted(set(value) - set(KINDS))
        if unknown:
            raise ValueError(f"unknown problem kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}")
        if any(w < 0 for w in value.values()) or not sum(value.values()) > 0:
            raise ValueError(f"weights must be >= 0 with a positive sum, got {value}")
        return value


def max_new_tokens_at(settings: GRPOSettings, step: int) -> int:
    """The rollout length limit at ``step``: linear from max_new_tokens_start to max_new_tokens.

    >>> s = GRPOSettings(steps=11, max_new_tokens_start=32, max_new_tokens=64)
    >>> max_new_tokens_at(s, 0), max_new_tokens_at(s, 5), max_new_tokens_at(s, 10)
    (32, 48, 64)
    """
    if settings.max_new_tokens_start is None or settings.steps == 1:
        return settings.max_new_tokens
    frac = step / (settings.steps - 1)
    return round(settings.max_new_tokens_start + frac * (settings.max_new_tokens - settings.max_new_tokens_start))


def reward(text: str, gold: str) -> float:
    """1.0 when the completion's final answer is equivalent to ``gold``, else 0.0 (no answer: 0.0).

    >>> reward("<think>2+2=4</think> \\\\boxed{4}", "4"), reward("no idea", "4")
    (1.0, 0.0)
    """
    answer = extract_answer(text)
    return float(answer is not None and is_equivalent(answer, gold))


def select_groups(rewards: list[float], k: int, keep: int) -> list[int]:
    """Indices of the ``keep`` groups (of ``k`` consecutive rewards each) to train on: those whose rewards differ
    (``informative_rollouts``) first, in draw order, then uniform ones to fill the batch.

    >>> select_groups([1, 1, 0, 1, 0, 0, 1, 0], k=2, keep=2), select_groups([1, 1, 0, 0, 1, 0], k=2, keep=2)
    ([1, 3], [2, 0])
    """
    informative = informative_rollouts(torch.tensor(rewards, dtype=torch.float), k)[::k].tolist()
    order = [g for g, yes in enumerate(informative) if yes] + [g for g, yes in enumerate(informative) if not yes]
    return order[:keep]


@torch.no_grad()
def sync_weights(target: HybridLM, source: HybridLM) -> None:
    """Copy every parameter of ``source`` into ``target`` in place (the generator's model keeps its buffers).

    >>> from m1reason.model import ModelConfig
    >>> a, b = HybridLM(ModelConfig.tiny()), HybridLM(ModelConfig.tiny())
    >>> sync_weights(a, b); torch.equal(a.model.norm.weight, b.model.norm.weight)
    True
    """
    for t, s in zip(target.state_dict().values(), source.state_dict().values()):
        t.copy_(s)


class _Group(NamedTuple):
    """One prompt's k rollouts: training examples, 1/0 rewards, completion lengths."""

    examples: list[Example]
    rewards: list[float]
    lengths: list[int]


class _Rollouts:
    """Generates and holds one rollout batch: token sequences, masks, advantages, rollout-policy log-probs."""

    def __init__(self, settings: GRPOSettings, tokenizer, model: HybridLM):
        self.settings, self.tokenizer = settings, tokenizer
        self.policy = HybridLM(model.config).to(model.device).eval().requires_grad_(False)
        rollouts = settings.prompts * settings.oversample * settings.k
        self.generator = M1Generator(self.policy, tokenizer, max_slots=rollouts,
                                     max_len=settings.max_len + settings.max_new_tokens, cuda_graphs=False)
        self.key = None

    def get(self, model: HybridLM, step: int, micro: int, rank: int) -> dict:
        """Slice ``micro`` of the rollout batch of ``step`` (drawn anew every ``updates_per_rollout`` steps)."""
        s = self.settings
        key = step // s.updates_per_rollout
        if key != self.key:
            sync_weights(self.policy, model)
            self.batch, self.key = self._generate(model, key, rank, max_new_tokens_at(s, step)), key
        per_slice = len(self.batch["ids"]) // s.grad_accum
        rows = slice(micro * per_slice, (micro + 1) * per_slice)
        return {name: value[rows] if torch.is_tensor(value) else value for name, value in self.batch.items()}

    def heldout_greedy(self, model: HybridLM) -> float:
        """The current policy's greedy accuracy on the first ``heldout_count`` mixed held-out problems."""
        from m1reason.train.evaluate import sample_answers

        sync_weights(self.policy, model)  # harmless for rollouts: each new rollout batch syncs again first
        records = sample_answers(self.generator, heldout_problems(self.settings.heldout_count),
                                 max_new_tokens=self.settings.max_new_tokens,
                                 batch=self.settings.prompts * self.settings.k)
        return sum(r["correct"][0] for r in records) / len(records)

    def _generate(self, model: HybridLM, key: int, rank: int, max_new: int) -> dict:
        s, tok = self.settings, self.tokenizer
        problems = step_problems(s.seed, key, s.prompts * s.oversample, rank=rank, weights=s.kind_weights)
        params = SamplingParams(n=s.k, temperature=s.temperature, max_new_tokens=max_new,
                                seed=(s.seed * 1_000_003 + key * 1009 + rank) % 2**62)
        prompts = [build_prompt(p.problem, tok) for p in problems]
        requests = [GenerationRequest(prompt=text, sampling=params, request_id=f"g{i}")
                    for i, text in enumerate(prompts)]
        groups = []  # per problem: its k rollouts
        for p, text, result in zip(problems, prompts, self.generator.generate(requests)):
            prompt = tok(text, add_special_tokens=False)["input_ids"]
            group = _Group([], [], [])
            for sample in result.samples:
                completion = list(sample.token_ids)
                if sample.finish_reason == "stop" and (not completion or completion[-1] != tok.eos_token_id):
                    completion.append(tok.eos_token_id)
                group.examples.append(Example(prompt + completion, [0] * len(prompt) + [1] * len(completion)))
                group.rewards.append(reward(sample.text, p.answer))
                group.lengths.append(len(completion))
            groups.append(group)
        drawn = [r for g in groups for r in g.rewards]
        kept = [groups[i] for i in select_groups(drawn, s.k, s.prompts)]
        examples = [x for g in kept for x in g.examples]
        rewards = [x for g in kept for x in g.rewards]
        lengths = [x for g in kept for x in g.lengths]
        ids, mask = collate(examples, tok.pad_token_id)
        ids, mask = ids.to(model.device), mask.to(model.device)
        with torch.no_grad():
            old_logp = torch.cat([token_logprobs(forward_logits(model, part, s), part)[0]
                                  for part in ids.chunk(s.grad_accum)])
        r = torch.tensor(rewards, device=model.device)
        informative = informative_rollouts(r, s.k)
        return {"ids": ids, "mask": mask[:, 1:] * informative[:, None], "old_logp": old_logp,
                "adv": group_advantages(r, s.k), "reward": sum(drawn) / len(drawn),
                "length": sum(lengths) / len(lengths), "informative": informative.float().mean().item(),
                "drawn_informative": informative_rollouts(torch.tensor(drawn), s.k).float().mean().item()}


def grpo(out: str | Path, *, source: str | Path, settings: GRPOSettings) -> Path:
    """GRPO fine-tuning of the ``source`` folder; per-step reward, loss, entropy and clip fraction are logged.

    >>> grpo("runs/r/grpo", source="runs/r/sft", settings=GRPOSettings(steps=40, lr=1e-4))  # doctest: +SKIP
    """
    from m1reason.train.stages import _finish, _rank, _threads

    if settings.fsdp:
        raise ConfigError("grpo runs under DDP only (its rollouts need the whole policy on every rank); drop --fsdp")
    out = Path(out)
    _threads(settings)
    tok = load_tokenizer(source)
    model = load_model(source, device="cpu", dtype=torch.float32)
    copy_tokenizer(source, out)
    state: dict = {}

    def loss_fn(wrapped, step, micro):
        inner = getattr(wrapped, "module", wrapped)
        if "rollouts" not in state:
            state["rollouts"] = _Rollouts(settings, tok, inner)
        batch = state["rollouts"].get(inner, step, micro, _rank())
        logp, entropy = token_logprobs(forward_logits(wrapped, batch["ids"], settings), batch["ids"])
        loss = policy_loss(logp, batch["old_logp"], batch["adv"], batch["mask"], clip=settings.clip,
                           entropy=entropy, entropy_coef=settings.entropy_coef)
        with torch.no_grad():
            m = batch["mask"].float()
            clipped = ((logp - batch["old_logp"]).exp() - 1).abs() > settings.clip
            clip_frac = ((clipped.float() * m).sum() / m.sum().clamp(min=1)).item()
            ent = ((entropy * m).sum() / m.sum().clamp(min=1)).item()
        metrics = {"loss": loss.item(), "reward": batch["reward"], "entropy": ent, "clip_frac": clip_frac,
                   "length": batch["length"], "informative": batch["informative"],
                   "drawn_informative": batch["drawn_informative"]}
        if settings.heldout_every and micro == 0 and step % settings.heldout_every == 0 and _rank() == 0:
            metrics["heldout_greedy"] = state["rollouts"].heldout_greedy(inner)  # the policy before this update
        return loss, metrics

    model = train_loop(out, model, settings, loss_fn, name="grpo")
    return _finish(out, model, tok, settings)
