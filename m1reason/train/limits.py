"""How long the curriculum's texts are, in tokens of the recipe's tokenizer: the limits every stage, its
evaluation and the shipped model's generation settings are sized by (``tests/train/test_data_lengths.py`` keeps
the curriculum inside them).

>>> SEQUENCE_TOKENS == PROMPT_TOKENS + REPLY_TOKENS
True
"""

__all__ = ["PROMPT_TOKENS", "REPLY_TOKENS", "SEQUENCE_TOKENS"]

PROMPT_TOKENS = 160  # the chat-templated prompt: the longest problem (~120 tokens) and the template around it
REPLY_TOKENS = 320  # the longest worked solution (~260 tokens) with room for a sampled one to wander
SEQUENCE_TOKENS = PROMPT_TOKENS + REPLY_TOKENS
