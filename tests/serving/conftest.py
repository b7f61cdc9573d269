"""Generators for serving tests: a scripted fake that answers from the problem text, and the tiny real model."""

import re

import pytest

from m1reason.generator.fake import FakeCompletion, FakeGenerator


def doubling_handler(request, i):
    """Answer twice the first number of the problem, so every caller can check it got its own answer."""
    if "boom" in request.prompt:
        raise RuntimeError("scripted failure")
    k = int(re.search(r"number (\d+)", request.prompt).group(1))
    return FakeCompletion(f"double it </think> $\\boxed{{{2 * k}}}$", steps=3 + k % 4)


@pytest.fixture
def fake():
    return FakeGenerator(doubling_handler)


@pytest.fixture
def slow_fake():
    """Each sample takes about 40 steps of 10 ms of real time."""
    return FakeGenerator(lambda request, i: FakeCompletion("</think> \\boxed{1}", steps=40), real_time=True,
                         step_s=0.01)


@pytest.fixture(scope="module")
def tiny():
    from m1reason.defaults import default_generator

    return default_generator(max_slots=32, max_len=256)
