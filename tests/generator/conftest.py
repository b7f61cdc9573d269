"""A tiny random Llama and a SentencePiece-style BPE tokenizer, built in-process (no downloads)."""

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

CORPUS = ["What is 2 + 2? Let's think step by step. The answer is \\boxed{4}. </think> Wait, so x = 4."] * 20


@pytest.fixture(scope="session")
def tokenizer():
    """Metaspace BPE (spaces as '▁' inside tokens, as Llama's SentencePiece): every token decodes to valid text."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer, tok.decoder = pre_tokenizers.Metaspace(), decoders.Metaspace()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=120, special_tokens=["<unk>", "<s>", "</s>"]))
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


@pytest.fixture(scope="session")
def llama(tokenizer):
    """Two layers, GQA 4/2, fp32, eval. A wide initialisation keeps next-token logits far from ties."""
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, intermediate_size=64, max_position_embeddings=128,
                         initializer_range=0.2, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=None)
    return LlamaForCausalLM(config).eval()
