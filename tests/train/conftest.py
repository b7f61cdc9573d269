"""Shared fixtures: a tokenizer trained once per session on a small corpus (seconds, not minutes)."""

from __future__ import annotations

import pytest

from m1reason.train.stages import build_tokenizer


@pytest.fixture(scope="session")
def tokenizer_dir(tmp_path_factory):
    return build_tokenizer(tmp_path_factory.mktemp("tok"), texts=400, vocab_size=400)
