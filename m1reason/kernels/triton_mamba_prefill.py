"""Triton: M1's whole Mamba prefill after in_proj in one kernel per layer.

One program per (sequence, block of channels) walks the time steps in order, as the scan kernel does, and at
each step computes that step's causal conv itself: the K inputs it needs are read from x in its narrow d_xb
form (channel c of the repeated tensor is narrow element (c // (r N)) N + c % N, r = d / d_xb), or, before the
first token, from the slot's conv state. So neither the repeated x, nor the padded conv input, nor the conv
output is ever written to memory: the torch path spends a copy, a concatenation, a depthwise conv and a silu
over [b, T, d] per layer on them. The states are read and written at the
slot in place, no gather or scatter. Matches ``mamba_prefill_ref``, including its roundings (conv output and
silu to the activation dtype).

A program's time steps run one after another, so for one long prompt (few sequences: few programs) the layer
takes T steps' latency whatever the GPU. There the time axis is cut into chunks walked in parallel: the state
update is linear, h_t = exp(delta_t A) h_(t-1) + delta_t x_t B_t, so a chunk scanned from zero gives its end
state up to the term exp(A sum(delta)) h_start. Three launches: every chunk from zero (its end state and delta
sum; no outputs), then per channel block a walk over the chunks that turns those into each chunk's true start
state (and the slot's final state), then every chunk again from its start state, writing the outputs.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl
from torch import Tensor

from m1reason.kernels.triton_elementwise import softplus

__all__ = ["chunk_length", "mamba_prefill_triton", "prefill_chunk", "prefill_tiling"]


@triton.jit
def _mamba_prefill_kernel(x_ptr, z_ptr, B_ptr, C_ptr, dt_ptr, conv_ptr, ssm_ptr, w_ptr, conv_bias_ptr, A_log_ptr, D_ptr,
                          dt_bias_ptr, slots_ptr, lengths_ptr, y_ptr, chunks_ptr, sums_ptr, T, d, chunk_len,
                          stride_x_b, stride_x_t, stride_z_b, stride_z_t, stride_B_b, stride_B_t, stride_C_b,
                          stride_C_t, stride_dt_b, stride_dt_t, stride_y_b, stride_y_t, stride_conv_slot,
                          stride_ssm_slot, CHUNKED: tl.constexpr, FROM_ZERO: tl.constexpr,
                          HAS_STATE: tl.constexpr, HAS_LENGTHS: tl.constexpr,
                          HAS_CONV_BIAS: tl.constexpr, K: tl.constexpr, K_PAD: tl.constexpr, N: tl.constexpr,
                          R: tl.constexpr, BLOCK_D: tl.constexpr, STAGES: tl.constexpr):
    # Unchunked: one walk over the whole sequence (chunk 0, chunk_len = T), states read and written at the slot.
    # Chunked, FROM_ZERO: each chunk from a zero state, keeping its end state and delta sum, no outputs; then,
    # after _chunk_carry_kernel, each chunk from its start state, writing the outputs.
    row = tl.program_id(0).to(tl.int64)
    c = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)
    chunk = tl.program_id(2)
    live = c < d
    n = tl.arange(0, N)
    k = tl.arange(0, K_PAD)
    tap = k < K
    narrow = (c // (R * N)) * N  # start of the narrow N-group that channel c repeats (x and B)
    length = T
    if HAS_LENGTHS:
        length = tl.load(lengths_ptr + row).to(tl.int32)
    if HAS_STATE:
        slot = tl.load(slots_ptr + row).to(tl.int64)
        conv_rows = conv_ptr + slot * stride_conv_slot + c[:, None] * K
        state_rows = ssm_ptr + slot * stride_ssm_slot + c[:, None] * N + n[None, :]
    # chunk states: [b, chunks, d, N] fp32; per-chunk delta sums: [b, chunks, d]
    chunk_rows = chunks_ptr + ((row * tl.num_programs(2) + chunk) * d + c[:, None]) * N + n[None, :]
    if CHUNKED and not FROM_ZERO:
        h = tl.load(chunk_rows, mask=live[:, None], other=0.0)  # the chunk's start state (_chunk_carry_kernel)
    elif HAS_STATE and not CHUNKED:
        h = tl.load(state_rows, mask=live[:, None], other=0.0).to(tl.float32)
    else:
        h = tl.zeros([BLOCK_D, N], tl.float32)
    delta_sum = tl.zeros([BLOCK_D], tl.float32)

    w = tl.load(w_ptr + c[:, None] * K + k[None, :], mask=live[:, None] & tap[None, :], other=0.0).to(tl.float32)
    conv_bias = tl.zeros([BLOCK_D], tl.float32)
    if HAS_CONV_BIAS:
        conv_bias = tl.load(conv_bias_ptr + c, mask=live, other=0.0).to(tl.float32)
    A = -tl.exp(tl.load(A_log_ptr + c[:, None] * N + n[None, :], mask=live[:, None], other=0.0).to(tl.float32))
    D = tl.load(D_ptr + c, mask=live, other=0.0).to(tl.float32)
    dt_bias = tl.load(dt_bias_ptr + c, mask=live, other=0.0).to(tl.float32)
    x_rows = x_ptr + row * stride_x_b + (narrow + c % N)[:, None]
    # Each step's loads depend on t alone, not on the state: with STAGES > 1 Triton issues the next steps'
    # loads while this one computes, hiding the memory latency a step otherwise waits on.
    for t in tl.range(chunk * chunk_len, tl.minimum(chunk * chunk_len + chunk_len, T), num_stages=STAGES):
        # the conv window of step t: inputs t-K+1 .. t; those before the first token come from the conv state,
        # whose entries 1..K-1 are the last K-1 inputs before it (input -j at entry K - j)
        src = t - (K - 1) + k
        window = tl.load(x_rows + src[None, :] * stride_x_t, mask=live[:, None] & (tap & (src >= 0))[None, :],
                         other=0.0)
        if HAS_STATE:  # only the first K - 1 steps read it: all in chunk 0 (chunk_len >= K - 1)
            past = tl.load(conv_rows + (K + src)[None, :], mask=live[:, None] & (tap & (src < 0))[None, :],
                           other=0.0)
            window = tl.where((src >= 0)[None, :], window, past.to(window.dtype))
        xc = tl.sum(window.to(tl.float32) * w, axis=1) + conv_bias
        xc = xc.to(x_ptr.dtype.element_ty).to(tl.float32)  # torch's conv1d writes the activation dtype
        xc = (xc * tl.sigmoid(xc)).to(x_ptr.dtype.element_ty).to(tl.float32)  # and so does its silu

        dt = tl.load(dt_ptr + row * stride_dt_b + t * stride_dt_t + c, mask=live, other=0.0).to(tl.float32)
        dt = dt + dt_bias
        delta = softplus(dt)
        if HAS_LENGTHS:
            delta = tl.where(t < length, delta, 0.0)  # padding: the state passes through unchanged
        Bv = tl.load(B_ptr + row * stride_B_b + t * stride_B_t + narrow[:, None] + n[None, :], mask=live[:, None],
                     other=0.0).to(tl.float32)
        h = h * tl.exp(delta[:, None] * A) + (delta * xc)[:, None] * Bv
        if FROM_ZERO:
            delta_sum += delta
        else:
            Cv = tl.load(C_ptr + row * stride_C_b + t * stride_C_t + (c // N * N)[:, None] + n[None, :],
                         mask=live[:, None], other=0.0).to(tl.float32)
            z = tl.load(z_ptr + row * stride_z_b + t * stride_z_t + c, mask=live, other=0.0).to(tl.float32)
            y = (tl.sum(h * Cv, axis=1) + D * xc) * z * tl.sigmoid(z)
            tl.store(y_ptr + row * stride_y_b + t * stride_y_t + c, y.to(y_ptr.dtype.element_ty), mask=live)

    if FROM_ZERO:
        tl.store(chunk_rows, h, mask=live[:, None])
        tl.store(sums_ptr + (row * tl.num_programs(2) + chunk) * d + c, delta_sum, mask=live)
    elif HAS_STATE:
        if not CHUNKED:  # chunked, _chunk_carry_kernel writes the final state
            tl.store(state_rows, h.to(ssm_ptr.dtype.element_ty), mask=live[:, None])
        if chunk == 0:  # chunk 0 alone read the conv state (its first K - 1 steps): now rewrite it
            # the conv state after the row's last real token: inputs length-K .. length-1 (read all, then write)
            src = length - K + k
            tail = tl.load(x_rows + src[None, :] * stride_x_t, mask=live[:, None] & (tap & (src >= 0))[None, :],
                           other=0.0)
            past = tl.load(conv_rows + (K + src)[None, :], mask=live[:, None] & (tap & (src < 0))[None, :],
                           other=0.0)
            tail = tl.where((src >= 0)[None, :], tail, past.to(tail.dtype))  # via the activation dtype, as torch
            tl.store(conv_rows + k[None, :], tail.to(conv_ptr.dtype.element_ty), mask=live[:, None] & tap[None, :])


@triton.jit
def _chunk_carry_kernel(chunks_ptr, sums_ptr, ssm_ptr, A_log_ptr, slots_ptr, d, n_chunks, stride_ssm_slot,
                        HAS_STATE: tl.constexpr, N: tl.constexpr, BLOCK_D: tl.constexpr):
    """Per (sequence, channel block): chunk j's end state from zero h_j and delta sum s_j become the chunks' start
    states, in place: start_0 = the slot's state (or zeros), start_(j+1) = exp(A s_j) start_j + h_j; the last
    chunk's end state is the slot's new state."""
    row = tl.program_id(0).to(tl.int64)
    c = tl.program_id(1) * BLOCK_D + tl.arange(0, BLOCK_D)
    live = c < d
    n = tl.arange(0, N)
    A = -tl.exp(tl.load(A_log_ptr + c[:, None] * N + n[None, :], mask=live[:, None], other=0.0).to(tl.float32))
    if HAS_STATE:
        slot = tl.load(slots_ptr + row).to(tl.int64)
        state_rows = ssm_ptr + slot * stride_ssm_slot + c[:, None] * N + n[None, :]
        h = tl.load(state_rows, mask=live[:, None], other=0.0).to(tl.float32)
    else:
        h = tl.zeros([BLOCK_D, N], tl.float32)
    for j in range(n_chunks):
        chunk_rows = chunks_ptr + ((row * n_chunks + j) * d + c[:, None]) * N + n[None, :]
        from_zero = tl.load(chunk_rows, mask=live[:, None], other=0.0)
        delta_sum = tl.load(sums_ptr + (row * n_chunks + j) * d + c, mask=live, other=0.0)
        h_next = tl.exp(delta_sum[:, None] * A) * h + from_zero
        tl.store(chunk_rows, h, mask=live[:, None])
        h = h_next
    if HAS_STATE:
        tl.store(state_rows, h.to(ssm_ptr.dtype.element_ty), mask=live[:, None])


def mamba_prefill_triton(x: Tensor, z: Tensor, B: Tensor, C: Tensor, dt: Tensor, conv_weight: Tensor,
                         conv_bias: Tensor | None, A_log: Tensor, D: Tensor, dt_bias: Tensor,
                         conv_state: Tensor | None = None, ssm_state: Tensor | None = None,
                         slots: Tensor | None = None, lengths: Tensor | None = None, block_d: int | None = None,
                         num_warps: int = 1, stages: int | None = None, chunk_len: int | None = None) -> Tensor:
    """Same contract as ``m1reason.kernels.mamba_prefill_ref``; CUDA tensors. The inputs may be strided views
    (in_proj's output split five ways) as long as their last dimension is contiguous. ``block_d`` channels and
    ``num_warps`` warps per program; ``stages`` time steps' loads in flight (software pipelining; 1: none);
    ``chunk_len`` time steps per chunk walked in parallel (0: the whole sequence in one walk). None:
    ``prefill_tiling``'s and ``prefill_chunk``'s choices for this shape. ``python -m benchmarks.kernel_tiles
    --prefill BxT`` times the choices."""
    b, T, d = z.shape
    chunk_len = prefill_chunk(b, T, d, z.device) if chunk_len is None else chunk_len
    walks = triton.cdiv(T, chunk_len) if chunk_len else 1  # chunks per sequence, each a program's walk
    default_block, default_stages = prefill_tiling(b, d, z.device, chunks=walks)
    block_d, stages = block_d or default_block, stages or default_stages
    N, K = A_log.shape[-1], conv_weight.shape[-1]
    R = d // x.shape[-1]
    assert all(t.stride(-1) == 1 for t in (x, z, B, C, dt)), "the channel dimension must be contiguous"
    has_state = conv_state is not None
    if has_state:
        assert ssm_state is not None and conv_state.stride(1) == K and conv_state.stride(2) == 1
        assert ssm_state.stride(1) == N and ssm_state.stride(2) == 1
        if slots is None:
            slots = torch.arange(b, device=z.device)
    y = torch.empty(b, T, d, dtype=x.dtype, device=z.device)
    A_log = A_log.float().contiguous()
    blocks = triton.cdiv(d, block_d)

    def launch(chunks: int, length: int, scratch: Tensor, sums: Tensor, *, from_zero: bool = False) -> None:
        _mamba_prefill_kernel[(b, blocks, chunks)](
            x, z, B, C, dt, conv_state if has_state else z, ssm_state if has_state else z,
            conv_weight.contiguous(), conv_bias if conv_bias is not None else z, A_log, D, dt_bias,
            slots if has_state else z, lengths if lengths is not None else z, y, scratch, sums, T, d, length,
            x.stride(0), x.stride(1), z.stride(0), z.stride(1), B.stride(0), B.stride(1), C.stride(0), C.stride(1),
            dt.stride(0), dt.stride(1), y.stride(0), y.stride(1),
            conv_state.stride(0) if has_state else 0, ssm_state.stride(0) if has_state else 0,
            CHUNKED=chunks > 1, FROM_ZERO=from_zero, HAS_STATE=has_state, HAS_LENGTHS=lengths is not None,
            HAS_CONV_BIAS=conv_bias is not None, K=K, K_PAD=triton.next_power_of_2(K), N=N, R=R, BLOCK_D=block_d,
            STAGES=stages, num_warps=num_warps)

    if not chunk_len or chunk_len >= T:
        launch(1, T, z, z)  # no chunks: one walk over each sequence
        return y
    assert chunk_len >= K - 1, "the conv state is read by chunk 0 alone"
    chunks = triton.cdiv(T, chunk_len)  # >= 2
    states = torch.empty(b, chunks, d, N, dtype=torch.float32, device=z.device)
    sums = torch.empty(b, chunks, d, dtype=torch.float32, device=z.device)
    launch(chunks, chunk_len, states, sums, from_zero=True)
    _chunk_carry_kernel[(b, blocks)](states, sums, ssm_state if has_state else z, A_log, slots if has_state else z,
                                     d, chunks, ssm_state.stride(0) if has_state else 0, HAS_STATE=has_state, N=N,
                                     BLOCK_D=block_d, num_warps=num_warps)
    launch(chunks, chunk_len, states, sums)
    return y


def prefill_tiling(sequences: int, channels: int, device: torch.device, chunks: int = 1) -> tuple[int, int]:
    """(channels per program, time steps' loads in flight) for a prefill of this many sequences, each walked in
    ``chunks`` chunks (``prefill_chunk``; 1: whole).

    A program walks its chunk's time steps one after another. With programs enough for 4 per SM, wide programs
    (32 channels) fill the GPU: a whole walk with 3 steps' loads in flight hides each step's latency behind the
    others; chunked walks are short and numerous, and pipelining them only adds registers. With fewer programs, as
    for one long prompt walked whole (a few dozen programs on a GPU of over a hundred SMs, nothing to hide a
    step's latency behind), narrow programs (8 channels) without pipelining spread the work over more SMs
    instead. The tilings were chosen with ``python -m benchmarks.kernel_tiles --prefill`` (``--prefill-chunks``
    for the chunked ones).

    >>> prefill_tiling(256, 3072, torch.device("cpu")), prefill_tiling(1, 3072, torch.device("cpu"), chunks=16)
    ((32, 3), (32, 1))
    """
    if sequences * chunks * triton.cdiv(channels, 32) < 4 * _sm_count(device):
        return 8, 1
    return (32, 1) if chunks > 1 else (32, 3)


# True lets prefill_chunk choose chunks for one or a few long prompts (BENCHMARKS.md "first_token_chunks": a lone
# prompt's first token); False walks every prompt whole. Benchmarks switch it for an A/B.
CHUNKED_PREFILL = True


def prefill_chunk(sequences: int, length: int, channels: int, device: torch.device) -> int:
    """Time steps per chunk for a prefill of this shape (0: no chunks, one walk over the whole sequence).

    Chunks (``chunk_length``) only where the sequences alone give too few programs to keep the GPU busy
    (``prefill_tiling``'s narrow case), and only with ``CHUNKED_PREFILL`` on. A CPU counts as one SM, so there
    no shape is narrow.

    >>> prefill_chunk(1, 1024, 3072, torch.device("cpu"))
    0
    """
    if not CHUNKED_PREFILL or prefill_tiling(sequences, channels, device)[0] == 32:
        return 0
    return chunk_length(length)


def chunk_length(length: int) -> int:
    """Time steps per chunk for a ``length``-step prompt walked in chunks: 64, or longer so that there are at most
    16 per sequence (each chunk costs a carry step and walks its steps twice); 0 (one walk) below 4 chunks of 64.

    >>> chunk_length(1024), chunk_length(4096), chunk_length(100)
    (64, 256, 0)
    """
    if length < 4 * 64:
        return 0
    return max(64, triton.next_power_of_2(triton.cdiv(length, 16)))


_SM_COUNTS: dict[int, int] = {}  # device index -> streaming multiprocessors


def _sm_count(device: torch.device) -> int:
    if device.type != "cuda":
        return 1  # nothing to spread over; for the doctest and the CPU interpreter
    index = device.index if device.index is not None else torch.cuda.current_device()
    if index not in _SM_COUNTS:
        _SM_COUNTS[index] = torch.cuda.get_device_properties(index).multi_processor_count
    return _SM_COUNTS[index]
