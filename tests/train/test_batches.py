"""StepBatches: the same micro-batches with or without worker processes, in order or restarted anywhere."""

import pytest
import torch

from m1reason.tokenizer import load_tokenizer
from m1reason.train.batches import StepBatches, default_workers, step_batch

SPEC = {"seed": 7, "batch_size": 3, "max_len": 480}


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer("m1reason/embedded")


def _same(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


def test_workers_make_the_inline_batches_in_order_and_after_a_restart(tok):
    expected = {i: step_batch(tok, index=i, **SPEC) for i in (0, 1, 2, 5, 6)}
    with StepBatches(tok, stop=8, workers=2, ahead=2, **SPEC) as batches:
        got = [batches.take(i) for i in (0, 1, 2)]
        got += [batches.take(i) for i in (5, 6)]  # a resumed loop jumps ahead: the pool restarts there
    assert all(_same(g, expected[i]) for g, i in zip(got, (0, 1, 2, 5, 6)))
    assert batches._pending is None  # the context ended the workers


def test_micro_batches_differ_by_index_and_rank(tok):
    assert not _same(step_batch(tok, index=0, **SPEC), step_batch(tok, index=1, **SPEC))
    assert not _same(step_batch(tok, index=0, **SPEC), step_batch(tok, index=0, rank=1, **SPEC))


def test_bad_arguments_are_named(tok):
    with pytest.raises(ValueError, match="workers"):
        StepBatches(tok, stop=4, workers=-1, **SPEC)
    with pytest.raises(IndexError, match="micro-batch 4"):
        StepBatches(tok, stop=4, **SPEC).take(4)


def test_default_workers_leave_cpu_training_inline():
    assert default_workers("cpu") == 0
    assert default_workers("cuda") >= 1
