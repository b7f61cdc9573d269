"""Prefill attention leaves cuDNN's backend out on a GPU and keeps whatever an enclosing sdpa_kernel allows."""

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from m1reason.kernels.causal_attention import _enabled_backends_but_cudnn, sdpa


def test_the_backends_allowed_are_the_enabled_ones_less_cudnn():
    with sdpa_kernel([SDPBackend.CUDNN_ATTENTION, SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]):
        assert _enabled_backends_but_cudnn() == [SDPBackend.FLASH_ATTENTION, SDPBackend.MATH]


def test_training_math_only_attention_stays_math_only():
    with sdpa_kernel(SDPBackend.MATH):  # m1reason.train's deterministic mode
        assert _enabled_backends_but_cudnn() == [SDPBackend.MATH]


def test_on_a_cpu_it_is_torch_attention_with_the_same_options():
    q, k, v = torch.randn(3, 2, 2, 5, 8).unbind(0)
    mask = torch.rand(2, 1, 5, 5) > 0.3
    mask[..., 0] = True  # every query sees a key
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(sdpa(q, k, v, attn_mask=mask), expected)
