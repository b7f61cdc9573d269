"""Tokenizer loading and the prompt M1 was trained and evaluated with.

The tokenizer is separate from the model (load_model needs only config and weights). ``build_prompt``
renders the chat template with a pinned date: Llama-3.2's template otherwise writes today's date into
the system header, and the same problem would tokenize differently every day.
"""

from __future__ import annotations

import json
import os

from m1reason.errors import CheckpointError

__all__ = ["PINNED_DATE", "PROMPT_SUFFIX", "build_prompt", "load_tokenizer"]

PROMPT_SUFFIX = " Let's think step by step and output the final answer within \\boxed{}."
PINNED_DATE = "26 Jul 2024"  # the date Llama-3.2's template falls back to; any fixed value keeps prompts stable


def load_tokenizer(path_or_hub_id: str | os.PathLike, *, revision: str | None = None):
    """A transformers fast tokenizer from a checkpoint folder or hub id (tokenizer.json + tokenizer_config.json).

    >>> load_tokenizer("/no/such/folder")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    m1reason.errors.CheckpointError: /no/such/folder is neither a checkpoint folder nor a hub id ...
    """
    from m1reason.model.loading import resolve_checkpoint

    folder, _ = resolve_checkpoint(path_or_hub_id, revision=revision)
    if not (folder / "tokenizer.json").exists() and not (folder / "tokenizer_config.json").exists():
        raise CheckpointError(f"{folder} has no tokenizer.json / tokenizer_config.json")
    if (folder / "tokenizer.json").exists() and _tokenizer_class(folder) in _PLAIN_FAST_CLASSES:
        # The class the folder names is the plain fast tokenizer: load it directly. AutoTokenizer would first
        # import its whole model-class registry (about a second of a process's first load on a CPU).
        from transformers import PreTrainedTokenizerFast

        return PreTrainedTokenizerFast.from_pretrained(str(folder))
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder))


# tokenizer_config.json's tokenizer_class values that mean "the fast tokenizer of tokenizer.json, nothing more"
# (TokenizersBackend is transformers 5's name for it; Llama-3's checkpoints, M1's included, name the first).
_PLAIN_FAST_CLASSES = {None, "PreTrainedTokenizerFast", "TokenizersBackend"}


def _tokenizer_class(folder) -> str | None:
    config = folder / "tokenizer_config.json"
    if not config.exists():
        return None
    try:
        return json.loads(config.read_text()).get("tokenizer_class")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as err:
        raise CheckpointError(f"{config} is not a JSON object: {err}") from None


def build_prompt(problem: str, tokenizer) -> str:
    """The prompt text for ``problem``: its chat template (pinned date) with M1's instruction appended.

    The text starts with the template's BOS token where the template writes one, so tokenize it with
    ``add_special_tokens=False``. Without a chat template, the user message alone is returned.

    >>> class NoTemplate:
    ...     chat_template = None
    >>> build_prompt("What is 1+1?", NoTemplate())
    "What is 1+1? Let's think step by step and output the final answer within \\\\boxed{}."
    """
    if not isinstance(problem, str) or not problem.strip():
        raise ValueError("problem must be a non-empty string")
    message = problem.strip() + PROMPT_SUFFIX
    if not getattr(tokenizer, "chat_template", None):
        return message
    return tokenizer.apply_chat_template([{"role": "user", "content": message}], tokenize=False,
                                         add_generation_prompt=True, date_string=PINNED_DATE)
