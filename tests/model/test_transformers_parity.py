"""Plain Llama and Qwen2 checkpoints load as all-attention stacks that match transformers' own models."""

import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from m1reason.model import load_model

SHAPE = dict(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
             num_key_value_heads=2, head_dim=16, rms_norm_eps=1e-5, max_position_embeddings=256)
LLAMA3_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 16}


def _compare(hf_model, folder, seq_len=40):
    hf_model.save_pretrained(folder, safe_serialization=True)
    ours = load_model(folder, device="cpu")
    ids = torch.randint(0, SHAPE["vocab_size"], (2, seq_len))
    with torch.no_grad():
        expected = hf_model(ids).logits
        got = ours(ids)
    assert ((got - expected).abs().max() / expected.abs().max()).item() < 1e-5
    return ours


@pytest.mark.parametrize("tied", [True, False])
def test_llama_without_rope_scaling_matches_transformers(tmp_path, tied):
    torch.manual_seed(0)
    hf = LlamaForCausalLM(LlamaConfig(**SHAPE, rope_theta=500000.0, tie_word_embeddings=tied)).eval()
    ours = _compare(hf, tmp_path / "llama")
    assert ours.config.model_type == "llama" and not ours.config.is_hybrid


def test_llama3_rope_scaling_matches_transformers(tmp_path):
    torch.manual_seed(1)
    config = LlamaConfig(**SHAPE, rope_theta=500000.0, rope_scaling=LLAMA3_SCALING)
    ours = _compare(LlamaForCausalLM(config).eval(), tmp_path / "llama3", seq_len=64)
    assert ours.config.rope.scaling is not None


def test_qwen2_with_qkv_biases_matches_transformers(tmp_path):
    torch.manual_seed(2)
    hf = Qwen2ForCausalLM(Qwen2Config(**SHAPE, rope_theta=10000.0, tie_word_embeddings=False)).eval()
    with torch.no_grad():
        for layer in hf.model.layers:  # transformers initialises biases to zero; make them count
            for proj in (layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj):
                proj.bias.normal_()
    ours = _compare(hf, tmp_path / "qwen2")
    assert ours.config.attention_bias
