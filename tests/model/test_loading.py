"""load_model over the exact M1-3B file layout: shards + index, tied embeddings, older key names, the hub
cache, and errors that list every problem by name and shape."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from m1reason.errors import CheckpointError
from m1reason.model import HybridLM, ModelConfig, load_model, save_model, write_random_checkpoint


def test_sharded_tied_checkpoint_loads_every_tensor(tiny_checkpoint):
    files = sorted(p.name for p in tiny_checkpoint.iterdir())
    assert files == ["config.json", "mamba_config.json", "model-00001-of-00002.safetensors",
                     "model-00002-of-00002.safetensors", "model.safetensors.index.json"]
    stored = {}
    for shard in tiny_checkpoint.glob("*.safetensors"):
        stored.update(load_file(shard))
    assert "lm_head.weight" not in stored
    model = load_model(tiny_checkpoint, device="cpu")
    state = model.state_dict()
    assert set(state) == set(stored)
    for name, tensor in stored.items():
        assert torch.equal(state[name], tensor), name
    assert model.output_weight is model.model.embed_tokens.weight
    assert model.source["revision"] is None and model.source["model_id"].endswith("ckpt")


def test_bfloat16_load_keeps_A_log_and_D_float32(tiny_checkpoint):
    model = load_model(tiny_checkpoint, device="cpu", dtype=torch.bfloat16)
    mamba = model.model.layers[0].mamba
    assert model.dtype == torch.bfloat16 and mamba.A_log.dtype == mamba.D.dtype == torch.float32


def _rewrite(folder, edit):
    """Apply ``edit`` to the merged tensors and store them as one model.safetensors."""
    tensors = {}
    for shard in folder.glob("*.safetensors"):
        tensors.update(load_file(shard))
        shard.unlink()
    (folder / "model.safetensors.index.json").unlink()
    edit(tensors)
    save_file(tensors, str(folder / "model.safetensors"))


def test_missing_unexpected_and_misshapen_are_reported_together(tiny_checkpoint):
    def edit(t):
        del t["model.norm.weight"]
        t["model.layers.0.mamba.extra_thing"] = torch.zeros(3)
        t["model.layers.1.mha.out_proj.weight"] = torch.zeros(64, 63)

    _rewrite(tiny_checkpoint, edit)
    with pytest.raises(CheckpointError) as err:
        load_model(tiny_checkpoint, device="cpu")
    message = str(err.value)
    assert "3 problem(s)" in message
    assert "missing: model.norm.weight [64]" in message
    assert "unexpected: model.layers.0.mamba.extra_thing [3]" in message
    assert "misshapen: model.layers.1.mha.out_proj.weight expects [64, 64]" in message and "[64, 63]" in message


def test_older_unfused_key_names_are_fused_at_load(tiny_checkpoint, tiny_config):
    reference = load_model(tiny_checkpoint, device="cpu")
    c = tiny_config

    def unfuse(t):
        for i in range(c.num_layers):
            p = f"model.layers.{i}."
            if i in c.attn_layers:
                q, k, v = t.pop(p + "mha.in_proj.weight").split([64, 32, 32])
                t.update({p + "self_attn.q_proj.weight": q, p + "self_attn.k_proj.weight": k,
                          p + "self_attn.v_proj.weight": v,
                          p + "self_attn.o_proj.weight": t.pop(p + "mha.out_proj.weight"),
                          p + "self_attn.rotary_emb.inv_freq": torch.ones(8)})
            else:
                parts = t.pop(p + "mamba.in_proj.weight").split([c.d_inner, c.d_xb, c.d_xb, c.d_inner, c.dt_rank])
                names = ["in_proj_z", "in_proj_x", "B_proj", "C_proj", "dt_proj_down"]
                t.update({f"{p}mamba.{n}.weight": part.contiguous() for n, part in zip(names, parts)})

    _rewrite(tiny_checkpoint, unfuse)
    model = load_model(tiny_checkpoint, device="cpu")
    ids = torch.randint(0, 256, (2, 9))
    with torch.no_grad():
        assert torch.equal(model(ids), reference(ids))


def test_stored_lm_head_is_accepted_tied_or_untied(tmp_path, tiny_config):
    tied = save_model(HybridLM(tiny_config), tmp_path / "tied")
    _rewrite(tied, lambda t: t.update({"lm_head.weight": t["model.embed_tokens.weight"].clone()}))
    assert load_model(tied, device="cpu").output_weight is not None

    untied_cfg = tiny_config.model_copy(update={"tie_word_embeddings": False})
    torch.manual_seed(0)
    untied = save_model(HybridLM(untied_cfg), tmp_path / "untied")
    model = load_model(untied, device="cpu")
    assert not torch.equal(model.output_weight, model.model.embed_tokens.weight)


def test_missing_files_give_clear_errors(tmp_path, tiny_checkpoint):
    (tiny_checkpoint / "model-00002-of-00002.safetensors").unlink()
    with pytest.raises(CheckpointError, match="model-00002-of-00002.safetensors"):
        load_model(tiny_checkpoint, device="cpu")
    empty = tmp_path / "empty"
    shutil.copytree(tiny_checkpoint, empty, ignore=shutil.ignore_patterns("*.safetensors*"))
    with pytest.raises(CheckpointError, match="no model.safetensors"):
        load_model(empty, device="cpu")
    with pytest.raises(CheckpointError, match="neither a checkpoint folder nor a hub id"):
        load_model(tmp_path / "does" / "not" / "exist", device="cpu")


def _offline_hub(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    return tmp_path / "hf" / "hub"


def test_hub_id_loads_from_the_offline_cache(monkeypatch, tmp_path, tiny_config):
    cache = _offline_hub(monkeypatch, tmp_path)
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / "models--togethercomputer--M1-3B"
    write_random_checkpoint(repo / "snapshots" / revision, tiny_config, dtype=torch.float32)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(revision)
    model = load_model("togethercomputer/M1-3B", device="cpu")
    assert model.source == {"model_id": "togethercomputer/M1-3B", "revision": revision}


def test_hub_id_not_cached_while_offline_says_how_to_fetch(monkeypatch, tmp_path):
    _offline_hub(monkeypatch, tmp_path)
    with pytest.raises(CheckpointError) as err:
        load_model("togethercomputer/M1-3B", device="cpu")
    message = str(err.value)
    assert "`hf download togethercomputer/M1-3B`" in message and "huggingface-cli" not in message


def test_the_fetch_command_named_in_the_message_exists():
    # huggingface_hub's current CLI is `hf` (the older `huggingface-cli` is gone); the message must name a real one.
    hf = shutil.which("hf", path=str(Path(sys.executable).parent)) or shutil.which("hf")
    assert hf, "huggingface_hub's `hf` command is not installed beside this Python"
    done = subprocess.run([hf, "download", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "REPO_ID" in done.stdout


def test_bad_index_is_reported(tiny_checkpoint):
    (tiny_checkpoint / "model.safetensors.index.json").write_text(json.dumps({"nope": 1}))
    with pytest.raises(CheckpointError, match="not a valid safetensors index"):
        load_model(tiny_checkpoint, device="cpu")


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_a_small_model_built_on_the_cpu_loads_as_one_built_on_meta(tmp_path, monkeypatch, dtype):
    import m1reason.model.loading as loading

    folder = write_random_checkpoint(tmp_path / "ckpt", ModelConfig.tiny())
    on_cpu = load_model(folder, device="cpu", dtype=dtype)
    monkeypatch.setattr(loading, "_BUILT_ON_CPU_UP_TO", 0)  # every model is "large": built on meta
    on_meta = load_model(folder, device="cpu", dtype=dtype)
    a, b = on_cpu.state_dict(), on_meta.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) and a[k].dtype == b[k].dtype for k in a)
    assert on_cpu.model.layers[0].mamba.A_log.dtype == torch.float32  # as the reference keeps it
    assert all(torch.equal(x, y) for x, y in zip(on_cpu.buffers(), on_meta.buffers()))
