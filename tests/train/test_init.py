"""MambaInLlama init: weights land where the recipe says, and copied attention layers compute the same thing."""

from __future__ import annotations

import pytest
import torch

from m1reason.model import HybridLM
from m1reason.train.init import from_hf_llama, hybrid_config, init_hybrid, teacher_config


@pytest.fixture
def teacher():
    torch.manual_seed(0)
    model = HybridLM(teacher_config(vocab_size=96, hidden_size=64, num_layers=3, num_heads=4, num_kv_heads=2,
                                    intermediate_size=96))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    return model.eval()


def test_hybrid_shapes_follow_m1():
    cfg = hybrid_config(teacher_config(vocab_size=96, hidden_size=64), (1,))
    assert cfg.d_inner == 64 == cfg.num_heads * cfg.head_dim  # C is q-wide
    assert cfg.d_xb == cfg.kv_dim == 32  # x and B are kv-wide
    assert cfg.dt_rank == 4 and cfg.repeat_group == 2


def test_mamba_projections_are_the_attention_slices(teacher):
    hybrid = init_hybrid(teacher, (1,))
    q_dim, kv = 64, 32
    for i in (0, 2):
        q, k, v = teacher.model.layers[i].mha.in_proj.weight.split([q_dim, kv, kv])
        mixer = hybrid.model.layers[i].mamba
        z, x, B, C, dt = mixer.in_proj.weight.split([64, 32, 32, 64, mixer.dt_rank])
        assert torch.equal(x, v) and torch.equal(B, k) and torch.equal(C, q)
        assert torch.equal(mixer.out_proj.weight, teacher.model.layers[i].mha.out_proj.weight)
        assert torch.equal(mixer.A_log, torch.log(torch.arange(1, 17.0)).repeat(64, 1))
        assert torch.equal(mixer.D, torch.ones(64))
        for name in ("mlp.gate_proj.weight", "mlp.down_proj.weight", "input_layernorm.weight"):
            assert torch.equal(hybrid.state_dict()[f"model.layers.{i}.{name}"],
                               teacher.state_dict()[f"model.layers.{i}.{name}"])
    assert torch.equal(hybrid.model.embed_tokens.weight, teacher.model.embed_tokens.weight)


def test_copied_attention_layer_reproduces_teacher_outputs(teacher):
    hybrid = init_hybrid(teacher, (0, 2)).eval()
    h = torch.randn(2, 7, 64)
    for i in (0, 2):
        torch.testing.assert_close(hybrid.model.layers[i](h), teacher.model.layers[i](h))
    # layer 1 became Mamba: its output differs, but the model still runs end to end
    assert hybrid(torch.tensor([[1, 2, 3]])).shape == (1, 3, 96)


def test_init_rejects_a_hybrid_source(teacher):
    with pytest.raises(ValueError, match="all attention"):
        init_hybrid(init_hybrid(teacher, (1,)), (1,))


def test_hf_llama_conversion_matches_logits():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    hf = LlamaForCausalLM(LlamaConfig(vocab_size=64, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
                                      rms_norm_eps=1e-5)).eval()
    ids = torch.tensor([[3, 9, 4, 1, 5]])
    ours = from_hf_llama(hf).eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(ids), hf(ids).logits, atol=1e-4, rtol=1e-4)
    assert init_hybrid(ours, (1,)).config.mamba_layers == (0,)
