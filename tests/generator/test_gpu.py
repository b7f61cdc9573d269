"""M1Generator on CUDA: the engine's GPU path gives the model's own greedy tokens and batch-independent samples."""

import pytest
import torch

from m1reason.generator import GenerationRequest, M1Generator, SamplingParams
from m1reason.model import load_model

pytestmark = pytest.mark.gpu


def test_cuda_greedy_and_seeded_sampling(tiny_checkpoint):
    model = load_model(tiny_checkpoint, device="cuda", dtype=torch.float32)
    gen = M1Generator(model, max_slots=8, max_len=64)
    prompt = [3, 1, 4, 1, 5]
    greedy = SamplingParams(temperature=0, max_new_tokens=12, ignore_eos=True)
    [result] = gen.generate([GenerationRequest(prompt_token_ids=prompt, sampling=greedy)])
    ids = list(prompt)
    with torch.no_grad():
        for _ in range(12):
            ids.append(int(model(torch.tensor([ids], device="cuda"))[0, -1].argmax()))
    assert result.samples[0].token_ids == ids[len(prompt):]

    seeded = SamplingParams(n=3, temperature=1.0, seed=4, max_new_tokens=12, ignore_eos=True)
    alone = gen.generate([GenerationRequest(prompt_token_ids=prompt, sampling=seeded, request_id="a")])[0]
    crowd = gen.generate([GenerationRequest(prompt_token_ids=[7] * 30, sampling=seeded.model_copy(update={"n": 4})),
                          GenerationRequest(prompt_token_ids=prompt, sampling=seeded, request_id="a")])[1]
    assert [s.token_ids for s in alone.samples] == [s.token_ids for s in crowd.samples]


def test_warm_up_captures_the_sampled_step_graph_of_every_bucket(tiny_checkpoint):
    model = load_model(tiny_checkpoint, device="cuda", dtype=torch.bfloat16)
    gen = M1Generator(model, max_slots=16, max_len=128)
    gen.warm_up(SamplingParams(temperature=0.7))
    graphs = gen.engine.graphs
    captured = {key[0] for key in graphs._graphs if isinstance(key, tuple)}
    assert captured == set(graphs.buckets)
    before = len(graphs._graphs)  # a request like the warm-up's captures nothing new
    gen.generate([GenerationRequest(prompt_token_ids=[3, 1, 4], sampling=SamplingParams(n=5, temperature=0.7,
                                                                                        max_new_tokens=9))])
    assert len(graphs._graphs) == before
