"""The shared loop: an interrupted run resumes to the same weights; stages run end to end on a tiny model."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from m1reason.errors import CheckpointError
from m1reason.model import HybridLM, load_model
from m1reason.tokenizer import load_tokenizer
from m1reason.train.examples import collate, encode, step_problems
from m1reason.train.init import teacher_config
from m1reason.train.loop import STATE_FILE, TrainSettings, copy_tokenizer, forward_logits, lr_at, train_loop
from m1reason.train.losses import masked_cross_entropy
from m1reason.train.state import read_trainer_state


def _tiny(tok) -> HybridLM:
    torch.manual_seed(0)
    return HybridLM(teacher_config(vocab_size=len(tok) + 8, hidden_size=32, num_layers=2, num_heads=2, num_kv_heads=1,
                                   intermediate_size=64))


def _loss(tok, settings, crash_at=None):
    def loss_fn(model, step, micro):
        if step == crash_at:
            raise KeyboardInterrupt
        ids, mask = collate([encode(p, tok, max_len=64) for p in step_problems(0, step, 4)], tok.pad_token_id)
        loss = masked_cross_entropy(forward_logits(model, ids, settings), ids, mask)
        return loss, {"loss": loss.item()}
    return loss_fn


def test_resume_reproduces_an_uninterrupted_run(tmp_path, tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir)
    settings = TrainSettings(steps=4, batch_size=4, save_every=2, warmup=1, lr=1e-2)
    whole = train_loop(tmp_path / "a", _tiny(tok), settings, _loss(tok, settings), name="a")
    with pytest.raises(KeyboardInterrupt):
        train_loop(tmp_path / "b", _tiny(tok), settings, _loss(tok, settings, crash_at=3), name="b")
    assert torch.load(tmp_path / "b" / STATE_FILE, weights_only=True)["step"] == 2  # tensors and containers only
    resumed = train_loop(tmp_path / "b", _tiny(tok), settings, _loss(tok, settings), name="b")
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
    assert [json.loads(x)["step"] for x in (tmp_path / "b" / "history.jsonl").read_text().splitlines()] == [1, 2, 3, 4]
    # the folder is a loadable M1 checkpoint; a finished stage is stored in bf16 without optimizer state
    loaded = load_model(tmp_path / "b", device="cpu", dtype=torch.float32)
    torch.testing.assert_close(loaded.model.norm.weight, resumed.model.norm.weight.to(torch.bfloat16).float())
    assert read_trainer_state(tmp_path / "b" / STATE_FILE)["optimizer"] is None
    again = train_loop(tmp_path / "b", _tiny(tok), settings, _loss(tok, settings, crash_at=0), name="b")
    torch.testing.assert_close(again.model.norm.weight, loaded.model.norm.weight)  # finished: nothing re-trained


def test_schedule_warms_up_then_decays():
    s = TrainSettings(steps=50, lr=1.0, warmup=5, min_lr_ratio=0.1)
    lrs = [lr_at(s, i) for i in range(50)]
    assert lrs[0] < lrs[4] == 1.0 and lrs[-1] < 0.11 and all(a >= b for a, b in zip(lrs[4:], lrs[5:]))


def test_gradient_checkpointing_gives_the_same_gradients(tokenizer_dir):
    tok = load_tokenizer(tokenizer_dir)
    grads = []
    for ckpt in (False, True):
        model = _tiny(tok)
        settings = TrainSettings(steps=1, grad_checkpointing=ckpt)
        from m1reason.train.loop import _wrap

        wrapped = _wrap(model, settings, 1, torch.device("cpu"))
        _loss(tok, settings)(wrapped, 0, 0)[0].backward()
        grads.append(model.model.layers[0].mlp.up_proj.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_stages_run_end_to_end(tmp_path, tokenizer_dir, monkeypatch):
    import m1reason.train.stages as stages
    from m1reason.model import save_model
    from m1reason.train.grpo import GRPOSettings, grpo

    monkeypatch.setattr(stages, "_finish", lambda out, model, tok, settings: out)  # skip the held-out eval
    tok = load_tokenizer(tokenizer_dir)
    save_model(_tiny(tok), tmp_path / "t")
    copy_tokenizer(tokenizer_dir, tmp_path / "t")
    stages.init(tmp_path / "h", teacher=tmp_path / "t", attn_layers=(1,))
    stages.distill(tmp_path / "d", student=tmp_path / "h", teacher=tmp_path / "t",
                   settings=stages.DistillSettings(steps=1, batch_size=2, ce_weight=0.5))
    stages.sft(tmp_path / "s", source=tmp_path / "d", settings=stages.SFTSettings(steps=1, batch_size=2))
    grpo(tmp_path / "g", source=tmp_path / "s",
         settings=GRPOSettings(steps=2, prompts=2, k=2, oversample=2, max_new_tokens=8, max_new_tokens_start=4,
                               warmup=0, heldout_every=2, heldout_count=3))
    rows = [json.loads(x) for x in (tmp_path / "g" / "history.jsonl").read_text().splitlines()]
    assert [r["length"] <= 8 for r in rows] == [True, True]
    assert {"reward", "entropy", "clip_frac", "informative", "drawn_informative"} <= set(rows[0])
    assert rows[0]["informative"] >= rows[0]["drawn_informative"]  # informative groups are kept first
    assert rows[0]["heldout_greedy"] in (0.0, 1 / 3, 2 / 3, 1.0) and "heldout_greedy" not in rows[1]  # every 2nd
    assert load_model(tmp_path / "g", device="cpu").config.mamba_layers == (0,)


def test_grpo_trains_one_rollout_batch_in_slices_of_whole_groups(tokenizer_dir, monkeypatch):
    """``grad_accum`` slices one rollout batch (drawn once per update) into row slices of whole groups; a slice
    count that does not divide the prompts is refused by name."""
    from m1reason.train.grpo import GRPOSettings, _Rollouts

    with pytest.raises(ValueError, match="grad_accum"):
        GRPOSettings(steps=1, prompts=3, grad_accum=2)
    tok = load_tokenizer(tokenizer_dir)
    model = _tiny(tok)
    settings = GRPOSettings(steps=2, prompts=4, k=2, grad_accum=2, max_new_tokens=6, updates_per_rollout=1)
    rollouts = _Rollouts(settings, tok, model)
    drawn = []
    generate = rollouts._generate
    monkeypatch.setattr(rollouts, "_generate", lambda *a: drawn.append(a[1]) or generate(*a))
    first, second = rollouts.get(model, 0, 0, 0), rollouts.get(model, 0, 1, 0)
    assert drawn == [0]  # both slices come from one rollout batch
    assert len(first["ids"]) == len(second["ids"]) == 4  # 2 of the 4 groups of k=2 each
    whole = rollouts.batch
    for name in ("ids", "mask", "old_logp", "adv"):
        assert torch.equal(torch.cat([first[name], second[name]]), whole[name]), name
    rollouts.get(model, 1, 0, 0)
    assert drawn == [0, 1]  # the next update draws anew


def test_deterministic_runs_train_with_deterministic_kernels_and_restore_the_setting(tmp_path, tokenizer_dir):
    """``deterministic=True`` turns torch's deterministic kernels on for the run only (and sets cuBLAS's workspace
    for GPUs); two such runs from one seed give the same weights."""
    tok = load_tokenizer(tokenizer_dir)
    settings = TrainSettings(steps=2, batch_size=4, warmup=0, lr=1e-2, deterministic=True)
    seen = []

    def loss_fn(model, step, micro):
        seen.append(torch.are_deterministic_algorithms_enabled())
        return _loss(tok, settings)(model, step, micro)

    first = train_loop(tmp_path / "a", _tiny(tok), settings, loss_fn, name="a")
    second = train_loop(tmp_path / "b", _tiny(tok), settings, loss_fn, name="b")
    assert seen == [True] * 4 and not torch.are_deterministic_algorithms_enabled()
    for (name, a), b in zip(first.state_dict().items(), second.state_dict().values()):
        assert torch.equal(a, b), name
    assert json.loads((tmp_path / "a" / "settings.json").read_text())["deterministic"] is True


class _WritesAMarker:
    """Unpickling this creates ``path``: a crafted trainer_state.pt can call anything importable the same way."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_crafted_trainer_state_is_refused_without_running_it(tmp_path, tokenizer_dir, writer):
    tok = load_tokenizer(tokenizer_dir)
    settings = TrainSettings(steps=2, batch_size=4, warmup=0)
    out, marker = tmp_path / "run", tmp_path / "marker"
    train_loop(out, _tiny(tok), settings.model_copy(update={"steps": 1}), _loss(tok, settings), name="a")
    payload = {"step": 1, "optimizer": None, "torch_rng": _WritesAMarker(marker)}
    if writer == "pickle":
        (out / STATE_FILE).write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, out / STATE_FILE)
    with pytest.raises(CheckpointError) as err:
        train_loop(out, _tiny(tok), settings, _loss(tok, settings), name="a")
    message = str(err.value)
    assert not marker.exists()
    assert str(out / STATE_FILE) in message and "could run code" in message and "\n" not in message


@pytest.mark.parametrize("damage, words", [
    (lambda path: path.write_bytes(path.read_bytes()[:60]), "truncated or corrupt"),
    (lambda path: path.write_bytes(b""), "truncated or corrupt"),
    (lambda path: torch.save([1, 2], path), "must hold a dict"),
    (lambda path: torch.save({"step": "2", "optimizer": None, "torch_rng": torch.get_rng_state()}, path), "'step'"),
    (lambda path: torch.save({"step": 2, "optimizer": None, "torch_rng": torch.zeros(3)}, path), "'torch_rng'"),
    (lambda path: torch.save({"step": 2, "optimizer": [1], "torch_rng": torch.get_rng_state()}, path), "'optimizer'"),
])
def test_damaged_trainer_state_is_named(tmp_path, damage, words):
    from m1reason.train.state import write_trainer_state

    path = tmp_path / STATE_FILE
    write_trainer_state(path, step=2, optimizer=torch.optim.SGD(torch.nn.Linear(2, 2).parameters()).state_dict())
    damage(path)
    with pytest.raises(CheckpointError) as err:
        read_trainer_state(path)
    assert str(path) in str(err.value) and words in str(err.value) and "\n" not in str(err.value)


def test_a_metric_reported_once_a_step_is_logged_as_measured(tmp_path):
    """A metric only one micro-batch measures (GRPO's held-out accuracy) is logged as it was measured, not divided
    by the micro-batches that did not measure it; one every micro-batch reports is their mean."""
    from m1reason.model import ModelConfig
    from m1reason.train.loop import load_history

    def loss_fn(model, step, micro):
        loss = model(torch.tensor([[1, 2, 3]])).pow(2).mean()
        return loss, {"loss": float(micro), **({"heldout": 0.75} if micro == 0 else {})}

    settings = TrainSettings(steps=1, warmup=0, grad_accum=4)
    train_loop(tmp_path, HybridLM(ModelConfig.tiny()), settings, loss_fn, name="demo")
    [row] = load_history(tmp_path)
    assert row["heldout"] == 0.75 and row["loss"] == 1.5
