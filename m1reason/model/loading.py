"""load_model: a checkpoint folder or hub id -> HybridLM on a device, through one name table.

Reads the M1 layout (fused ``mamba.in_proj`` / ``mha.in_proj``), older MambaInLlama checkpoints
(unfused ``in_proj_z`` ... ``dt_proj_down``, ``self_attn.*_proj``) and plain Llama/Qwen2 folders. Tensors are
copied one at a time from memory-mapped safetensors into parameters already allocated on the target
device, so host memory never holds the model twice. Every missing, unexpected or misshapen tensor is
reported in one CheckpointError. Files are untrusted: index entries must name shards inside the folder, and
shard headers (readable, float dtypes, shapes) are checked before the weights are allocated, their values
(finite) as they are copied.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from contextlib import ExitStack
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from m1reason.errors import CheckpointError
from m1reason.model.config import ModelConfig
from m1reason.model.hybrid import HybridLM
from m1reason.model.layers import rope_inverse_frequencies

__all__ = ["load_model", "resolve_checkpoint"]

log = logging.getLogger(__name__)

_HUB_FILES = ["*.json", "*.safetensors", "tokenizer*", "*.jinja"]
_HUB_ID = re.compile(r"^[\w.-]+/[\w.-]+$")
_LAYER_KEY = re.compile(r"^(model\.layers\.\d+\.)(.+)$")

# canonical suffix -> the unfused suffixes it is concatenated from (row order matters)
_FUSED = {
    "mamba.in_proj.weight": ["mamba.in_proj_z.weight", "mamba.in_proj_x.weight", "mamba.B_proj.weight",
                             "mamba.C_proj.weight", "mamba.dt_proj_down.weight"],
    "mha.in_proj.weight": ["self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight"],
    "mha.in_proj.bias": ["self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"],
    "mha.out_proj.weight": ["self_attn.o_proj.weight"],
}
# Stored by some older exports; derived from the config here, so skipping them loses nothing.
_DERIVED = re.compile(r"rotary_emb\.inv_freq$")
_SHARD_NAME = re.compile(r"[^/\\:\x00]+\.safetensors")
# float8 is left out on purpose: fp8 checkpoints need their scale tensors, which this loader does not apply.
_FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}
_BUILT_ON_CPU_UP_TO = 50_000_000  # parameters


def resolve_checkpoint(path_or_hub_id: str | os.PathLike, *, revision: str | None = None) -> tuple[Path, dict]:
    """A local folder for a folder path or hub id, plus where it came from ({model_id, revision}).

    >>> resolve_checkpoint("no/such-folder-or-repo-in-any-cache-xyz")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    m1reason.errors.CheckpointError: no/such-folder-or-repo-in-any-cache-xyz is not a local folder ...
    """
    path = Path(path_or_hub_id).expanduser()
    if path.is_dir():
        return path, {"model_id": str(path.resolve()), "revision": None}
    name = str(path_or_hub_id)
    if not _HUB_ID.match(name):
        raise CheckpointError(f"{name} is neither a checkpoint folder nor a hub id like 'togethercomputer/M1-3B'")
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        folder = Path(snapshot_download(name, revision=revision, allow_patterns=_HUB_FILES))
    except LocalEntryNotFoundError:
        raise CheckpointError(
            f"{name} is not a local folder and is not in the Hugging Face cache, and the hub cannot be reached "
            f"(offline: HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', 'unset')}). Fetch it where there is a network "
            f"with `hf download {name}` (huggingface_hub's CLI; same HF_HOME), or pass a local folder."
        ) from None
    except (RepositoryNotFoundError, HfHubHTTPError) as e:
        raise CheckpointError(f"{name} could not be fetched from the hub: {e}") from None
    return folder, {"model_id": name, "revision": folder.name}


def _weight_files(folder: Path) -> list[Path]:
    index = folder / "model.safetensors.index.json"
    if index.exists():
        files = sorted({folder / f for f in _weight_map(index).values()})
        missing = [f.name for f in files if not f.exists()]
        if missing:
            raise CheckpointError(f"{index} names shard(s) that are missing from {folder}: {', '.join(missing)}")
        return files
    if (folder / "model.safetensors").exists():
        return [folder / "model.safetensors"]
    raise CheckpointError(f"{folder} holds no model.safetensors or model.safetensors.index.json")


def _weight_map(index: Path) -> dict[str, str]:
    """The index's tensor name -> shard file table, every shard a plain file name of the index's own folder."""
    try:
        weight_map = json.loads(index.read_text())["weight_map"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as e:
        raise CheckpointError(f"{index} is not a valid safetensors index: {e!r}") from None
    if not isinstance(weight_map, dict):
        raise CheckpointError(f"{index}: weight_map must map tensor names to shard file names")
    for key, shard in weight_map.items():
        # A separator, '..' or an absolute path would make the index read any file on the machine as weights.
        if not (isinstance(shard, str) and _SHARD_NAME.fullmatch(shard) and ".." not in shard):
            raise CheckpointError(f"{index}: weight_map[{key!r}] = {repr(shard)[:80]} is not a plain "
                                  ".safetensors file name inside the checkpoint folder")
    return weight_map


def _open_shards(stack: ExitStack, files: list[Path]) -> dict[str, tuple]:
    """Every stored tensor name -> (open safetensors handle, its file); corrupt files named."""
    where: dict[str, tuple] = {}
    for file in files:
        try:
            handle = stack.enter_context(safe_open(str(file), framework="pt", device="cpu"))
        except (SafetensorError, OSError) as e:
            raise CheckpointError(f"{file} is not a readable safetensors file (truncated or corrupt?): {e}") from None
        for key in handle.keys():  # noqa: SIM118 (safe_open has no __iter__)
            if key in where:
                raise CheckpointError(f"{file}: tensor {key} is also stored in {where[key][1]}")
            where[key] = (handle, file)
    return where


def _stored_shapes(where: dict[str, tuple]) -> dict[str, tuple]:
    """Shapes from the file headers (nothing is read yet); a non-float tensor is refused by name."""
    shapes = {}
    for key, (handle, file) in where.items():
        info = handle.get_slice(key)
        if info.get_dtype() not in _FLOAT_DTYPES:
            raise CheckpointError(f"{file}: tensor {key} has dtype {info.get_dtype()}; weights must be floating point "
                                  f"({', '.join(sorted(_FLOAT_DTYPES))})")
        shapes[key] = tuple(info.get_shape())
    return shapes


def _plan(model: HybridLM, stored: dict[str, tuple]) -> tuple[dict[str, list[str]], list[str]]:
    """Map each parameter name to the stored names it is built from; collect every problem found."""
    plan, problems = {}, []
    for name, param in model.state_dict().items():
        sources = [name] if name in stored else None
        layer = _LAYER_KEY.match(name)
        if sources is None and layer is not None:
            alt = [layer[1] + s for s in _FUSED.get(layer[2], [])]
            if alt and all(a in stored for a in alt):
                sources = alt
        if sources is None:
            problems.append(f"missing: {name} {list(param.shape)}")
            continue
        rows = sum((stored[s] or (0,))[0] for s in sources)  # a 0-dim tensor is reported below, not indexed
        shape = (rows, *stored[sources[0]][1:])
        if tuple(shape) != tuple(param.shape) or any(stored[s][1:] != stored[sources[0]][1:] for s in sources):
            got = " + ".join(f"{s} {list(stored[s])}" for s in sources)
            problems.append(f"misshapen: {name} expects {list(param.shape)}, checkpoint has {got}")
        plan[name] = sources
    used = {s for sources in plan.values() for s in sources}
    tied_head = "lm_head.weight" if model.config.tie_word_embeddings else None
    for name in sorted(set(stored) - used - {tied_head}):
        if not _DERIVED.search(name):
            problems.append(f"unexpected: {name} {list(stored[name])}")
    return plan, problems


def load_model(path_or_hub_id: str | os.PathLike, *, device: torch.device | str | None = None,
               dtype: torch.dtype | None = None, revision: str | None = None) -> HybridLM:
    """Load an M1 hybrid (or a plain Llama/Qwen2) checkpoint as a HybridLM in eval mode.

    device defaults to "cuda" when available, else "cpu"; dtype to bfloat16 on CUDA and float32 on CPU.
    A_log and D stay float32 whatever the dtype. ``model.source`` records the model id and revision.
    Raises ConfigError for an unusable or oversized config and CheckpointError for weights that are missing,
    misshapen, unreadable, not floating point or not finite, each naming the file and the key.

    >>> import tempfile
    >>> from m1reason.model.checkpoint import write_random_checkpoint
    >>> folder = write_random_checkpoint(tempfile.mkdtemp(), ModelConfig.tiny())
    >>> model = load_model(folder, device="cpu")
    >>> model(torch.tensor([[1, 2, 3]])).shape, model.dtype
    (torch.Size([1, 3, 256]), torch.float32)
    """
    started = time.perf_counter()
    folder, source = resolve_checkpoint(path_or_hub_id, revision=revision)
    config = ModelConfig.from_pretrained(folder)
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    # A large model is built on "meta" (no memory until the checkpoint's headers have been checked); a small one on
    # the CPU, where its random init costs milliseconds: on "meta" that init runs Python meta kernels whose first
    # call imports torch._dynamo, about 2 s of a first load on a CPU for values the checkpoint replaces.
    with torch.device("meta" if config.num_parameters > _BUILT_ON_CPU_UP_TO else "cpu"):
        model = HybridLM(config).to(dtype)
    with ExitStack() as stack:
        # Every header is checked against the config while the model is still on "meta": a corrupt or
        # mismatched checkpoint fails before the weights' memory is allocated.
        where = _open_shards(stack, _weight_files(folder))
        plan, problems = _plan(model, _stored_shapes(where))
        if problems:
            raise CheckpointError(f"checkpoint {folder} does not match its config ({len(problems)} problem(s)):\n  "
                                  + "\n  ".join(problems))
        model = model.to_empty(device=device) if model.device.type == "meta" else model.to(device)
        _copy_weights(model, plan, where)
    _init_buffers(model)
    model.source = source
    model.eval()
    log.info("loaded %s (%s) on %s in %s in %.1f s", source["model_id"], config.model_type, device, dtype,
             time.perf_counter() - started)
    return model


def _copy_weights(model: HybridLM, plan: dict[str, list[str]], where: dict[str, tuple]) -> None:
    """Copy each planned tensor into its parameter, then refuse the first one holding NaN or inf."""
    params = model.state_dict()
    finite = []
    with torch.no_grad():
        for name, sources in plan.items():
            parts = [where[s][0].get_tensor(s) for s in sources]
            params[name].copy_(parts[0] if len(parts) == 1 else torch.cat(parts, dim=0))
            finite.append(_finite(params[name]))
    # one host synchronisation for the whole model, not one per tensor
    ok = torch.stack(finite).cpu() if finite else torch.ones(0, dtype=torch.bool)
    if not ok.all():
        sources = plan[list(plan)[int((~ok).nonzero()[0])]]
        files = ", ".join(sorted({str(where[s][1]) for s in sources}))
        raise CheckpointError(f"{files}: tensor {' + '.join(sources)} holds NaN or inf values")


def _finite(t: torch.Tensor) -> torch.Tensor:
    """Whether ``t`` holds only finite values, as a 0-dim bool on its device (no host synchronisation).

    min and max carry any NaN or inf, and aminmax reads the tensor once with no tensor-sized temporary, which
    isfinite(t).all() would allocate and which is several times slower on CPU.

    >>> _finite(torch.tensor([1.0, float("inf")])), _finite(torch.zeros(0))
    (tensor(False), tensor(True))
    """
    if t.numel() == 0:
        return torch.ones((), dtype=torch.bool, device=t.device)
    return torch.stack(torch.aminmax(t)).isfinite().all()


def _init_buffers(model: HybridLM) -> None:
    """Recompute non-persistent buffers, which to_empty() left uninitialised."""
    for module in model.modules():
        if hasattr(module, "inv_freq"):
            module.inv_freq = rope_inverse_frequencies(model.config.head_dim, model.config.rope).to(model.device)
