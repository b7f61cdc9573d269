"""Scripted generators for strategy tests: a FakeGenerator that records what strategies ask of it."""

import pytest

from m1reason.generator.fake import FakeCompletion, FakeGenerator


class SpyGenerator(FakeGenerator):
    """A FakeGenerator that remembers every request, append and cancel a strategy makes."""

    def __init__(self, handler, **options):
        super().__init__(handler, **options)
        self.requests, self.appends, self.cancels = [], [], []

    def stream(self, requests):
        requests = list(requests)
        self.requests.extend(requests)
        return super().stream(requests)

    def generate(self, requests):
        requests = list(requests)
        self.requests.extend(requests)
        return super().generate(requests)

    def append(self, sample_id, text_or_token_ids, *, sampling=None):
        self.appends.append((sample_id, text_or_token_ids, sampling))
        return super().append(sample_id, text_or_token_ids, sampling=sampling)

    def cancel(self, id):
        self.cancels.append(id)
        return super().cancel(id)


def boxed(answer, steps=1, **options):
    """A finished chain that ends with the answer in M1's format."""
    return FakeCompletion(f"some thinking </think> so $\\boxed{{{answer}}}$", steps=steps, **options)


@pytest.fixture
def spy():
    return SpyGenerator
