"""ModelConfig from config.json + mamba_config.json: M1's values, RoPE handling, and errors that name the field."""

import json

import pytest

from m1reason.errors import ConfigError
from m1reason.model import ModelConfig, config_files

M1_LLAMA_CONFIG = {
    "model_type": "llama", "hidden_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 24,
    "num_key_value_heads": 8, "head_dim": 128, "intermediate_size": 8192, "hidden_act": "silu",
    "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "vocab_size": 128256, "tie_word_embeddings": True,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
}
M1_MAMBA_CONFIG = {"d_model": 3072, "ssm_cfg": {"expand": 1}, "rms_norm_eps": 1e-5, "vocab_size": None,
                   "d_inner": 3072, "d_xb": 1024, "intermediate_size": 8192, "hidden_act": "silu", "n_layer": 28,
                   "attn_layers": [3, 8, 13, 18, 23, 27]}


def write(folder, llama=M1_LLAMA_CONFIG, mamba=M1_MAMBA_CONFIG):
    folder.mkdir(exist_ok=True)
    (folder / "config.json").write_text(json.dumps(llama))
    if mamba is not None:
        (folder / "mamba_config.json").write_text(json.dumps(mamba))
    return folder


def test_m1_3b_config_reads_as_documented(tmp_path):
    cfg = ModelConfig.from_pretrained(write(tmp_path / "m1"))
    assert cfg.model_type == "m1"
    assert cfg.attn_layers == (3, 8, 13, 18, 23, 27) and len(cfg.mamba_layers) == 22
    assert (cfg.d_inner, cfg.d_xb, cfg.d_state, cfg.d_conv, cfg.dt_rank) == (3072, 1024, 16, 4, 192)
    assert cfg.repeat_group == 3
    assert cfg.eos_token_ids == (128001, 128008, 128009)
    # config.json's llama3 scaling describes the teacher: M1's attention layers use plain RoPE.
    assert cfg.rope.theta == 500000.0 and cfg.rope.scaling is None


def test_plain_llama_keeps_its_llama3_scaling(tmp_path):
    cfg = ModelConfig.from_pretrained(write(tmp_path / "llama", mamba=None))
    assert cfg.model_type == "llama" and cfg.attn_layers == tuple(range(28)) and not cfg.is_hybrid
    assert cfg.rope.scaling == {"factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                "original_max_position_embeddings": 8192}


def test_transformers5_rope_parameters_are_read(tmp_path):
    llama = {k: v for k, v in M1_LLAMA_CONFIG.items() if k not in ("rope_theta", "rope_scaling")}
    llama["rope_parameters"] = {"rope_theta": 123456.0, "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}
    plain = ModelConfig.from_pretrained(write(tmp_path / "plain", llama=llama, mamba=None))
    assert plain.rope.theta == 123456.0 and plain.rope.scaling["factor"] == 8.0
    hybrid = ModelConfig.from_pretrained(write(tmp_path / "hybrid", llama=llama))
    assert hybrid.rope.theta == 123456.0 and hybrid.rope.scaling is None


@pytest.mark.parametrize("change, words", [
    ({"attn_layers": [3, 40]}, ["attn_layers", "mamba_config.json"]),
    ({"d_xb": 1000}, ["d_xb", "mamba_config.json"]),
    ({"ssm_cfg": {"d_state": 0}}, ["d_state", "mamba_config.json"]),
    ({"d_model": 2048}, ["d_model", "mamba_config.json"]),
    ({"ssm_cfg": {"repeat_kv_before_conv": False}}, ["repeat_kv_before_conv"]),
])
def test_bad_mamba_config_names_field_and_file(tmp_path, change, words):
    folder = write(tmp_path / "bad", mamba={**M1_MAMBA_CONFIG, **change})
    with pytest.raises(ConfigError) as err:
        ModelConfig.from_pretrained(folder)
    for word in words:
        assert word in str(err.value)


def test_missing_and_broken_config_files(tmp_path):
    with pytest.raises(ConfigError, match="config.json is missing"):
        ModelConfig.from_pretrained(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        ModelConfig.from_pretrained(tmp_path)
    llama = {k: v for k, v in M1_LLAMA_CONFIG.items() if k != "hidden_size"}
    with pytest.raises(ConfigError, match="'hidden_size' is missing"):
        ModelConfig.from_pretrained(write(tmp_path / "x", llama=llama))


def test_config_files_round_trip(tmp_path):
    cfg = ModelConfig.tiny(num_layers=5, attn_layers=(0, 4))
    for name, doc in config_files(cfg).items():
        (tmp_path / name).write_text(json.dumps(doc))
    assert ModelConfig.from_pretrained(tmp_path) == cfg.model_copy(update={"model_type": "m1"})


@pytest.fixture
def nothing_built(monkeypatch):
    """Fail the test if a model is built: the config must be refused first."""
    from m1reason.model import HybridLM

    def refuse(self, config):
        raise AssertionError(f"a model with {config.num_layers} layers was built from a config that should fail")

    monkeypatch.setattr(HybridLM, "__init__", refuse)


def _refused(folder) -> str:
    from m1reason.model import load_model

    with pytest.raises(ConfigError) as err:
        load_model(folder, device="cpu")
    assert "\n" not in str(err.value)
    return str(err.value)


@pytest.mark.parametrize("llama, mamba, words", [
    ({"num_hidden_layers": 10**6}, {"n_layer": 10**6}, ["config.json: num_hidden_layers = 1000000", "1024"]),
    ({}, {"n_layer": 10**6}, ["mamba_config.json: n_layer = 1000000"]),
    ({"vocab_size": 10**12}, {}, ["config.json: vocab_size = 1000000000000", "16777216"]),
    ({"hidden_size": 10**6}, {"d_model": 10**6}, ["config.json: hidden_size"]),
    ({"intermediate_size": 10**7}, {}, ["config.json: intermediate_size"]),
    ({}, {"intermediate_size": 10**7}, ["mamba_config.json: intermediate_size"]),
    ({"num_attention_heads": 0}, {}, ["num_attention_heads = 0"]),
    ({"num_attention_heads": "24"}, {}, ["num_attention_heads must be an integer"]),
    ({"num_key_value_heads": 10**5}, {}, ["num_key_value_heads"]),
    ({"head_dim": 10**5}, {}, ["head_dim"]),
    ({"num_hidden_layers": True}, {}, ["num_hidden_layers must be an integer"]),
    ({"num_hidden_layers": 28.5}, {}, ["num_hidden_layers must be an integer"]),
    ({}, {"d_inner": 10**9}, ["mamba_config.json: d_inner"]),
    ({}, {"d_xb": 10**9}, ["mamba_config.json: d_xb"]),
    ({}, {"ssm_cfg": {"d_state": 10**6}}, ["mamba_config.json: ssm_cfg.d_state"]),
    ({}, {"ssm_cfg": {"d_conv": 10**6}}, ["ssm_cfg.d_conv"]),
    ({}, {"ssm_cfg": {"dt_rank": 10**9}}, ["ssm_cfg.dt_rank"]),
    ({}, {"d_inner": None, "ssm_cfg": {"expand": "2"}}, ["ssm_cfg.expand"]),
    ({}, {"d_inner": None, "ssm_cfg": {"expand": 10**9}}, ["ssm_cfg.expand"]),
    ({}, {"attn_layers": 5}, ["mamba_config.json: attn_layers must be a list"]),
    ({}, {"attn_layers": "3,8"}, ["attn_layers must be a list"]),
    ({}, {"attn_layers": [3, 10**12]}, ["attn_layers", "mamba_config.json"]),
    ({"rope_scaling": [1, 2]}, {}, ["config.json: rope_scaling must be an object"]),
    ({"rope_scaling": {"rope_type": "llama3", "factor": 8.0}}, {}, ["llama3 rope scaling lacks low_freq_factor"]),
])
def test_oversized_or_mistyped_config_is_refused_before_building(tmp_path, nothing_built, llama, mamba, words):
    folder = write(tmp_path / "bad", llama={**M1_LLAMA_CONFIG, **llama}, mamba={**M1_MAMBA_CONFIG, **mamba})
    message = _refused(folder)
    for word in words:
        assert word in message


def test_total_parameter_count_is_bounded(tmp_path, nothing_built):
    from m1reason.model.config import _MAX_PARAMETERS

    # every size within its own limit, together over 10^12 weights
    llama = {**M1_LLAMA_CONFIG, "vocab_size": 1 << 24, "hidden_size": 1 << 16, "tie_word_embeddings": False}
    message = _refused(write(tmp_path / "big", llama=llama, mamba=None))
    assert "config.json" in message and "over the limit of 1e+12" in message and "vocab_size 16777216" in message
    assert ModelConfig.from_pretrained(write(tmp_path / "m1")).num_parameters < _MAX_PARAMETERS


def test_num_parameters_is_the_state_dict_size(tmp_path):
    from m1reason.model import HybridLM

    tiny = ModelConfig.tiny(num_layers=5, attn_layers=(0, 4))
    for cfg in (tiny, tiny.model_copy(update={"tie_word_embeddings": False, "attention_bias": True})):
        assert cfg.num_parameters == sum(t.numel() for t in HybridLM(cfg).state_dict().values())
    m1 = ModelConfig.from_pretrained(write(tmp_path / "m1"))
    assert 3.0e9 < m1.num_parameters < 3.5e9  # M1-3B
