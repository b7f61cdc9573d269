"""Load a full-size M1-3B-shaped checkpoint by hub id from an offline Hugging Face cache, and measure it.

Writes random bf16 weights in the exact M1-3B layout (config.json, mamba_config.json, 2 shards + index) into
a fresh HF cache under ``togethercomputer/M1-3B``, then, in a separate process with HF_HUB_OFFLINE=1 (so its
memory peak is the loader's own), loads it by that id onto the GPU in bf16 and runs a forward. Reports load
time, peak host RSS against the checkpoint size, peak GPU memory, forward time, and a bf16 decode check.

    python -m benchmarks.checkpoint_load [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HUB_ID = "togethercomputer/M1-3B"
REVISION = "0" * 40


def m1_3b_config():
    from m1reason.model import ModelConfig, RopeConfig

    return ModelConfig(vocab_size=128256, hidden_size=3072, intermediate_size=8192, num_layers=28, num_heads=24,
                       num_kv_heads=8, head_dim=128, rms_norm_eps=1e-5, rope=RopeConfig(theta=500000.0),
                       attn_layers=(3, 8, 13, 18, 23, 27), d_inner=3072, d_xb=1024, d_state=16, d_conv=4,
                       dt_rank=192, bos_token_id=128000, eos_token_ids=(128001, 128008, 128009), pad_token_id=128004)


def write_offline_cache(hf_home: Path) -> tuple[float, int]:
    import torch

    from m1reason.model import write_random_checkpoint

    repo = hf_home / "hub" / ("models--" + HUB_ID.replace("/", "--"))
    started = time.perf_counter()
    folder = write_random_checkpoint(repo / "snapshots" / REVISION, m1_3b_config(), dtype=torch.bfloat16,
                                     device="cuda" if torch.cuda.is_available() else "cpu", shards=2)
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(REVISION)
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors"))
    return time.perf_counter() - started, size


LOADER = r"""
import json, re, time, torch
# VmHWM (this process's peak resident memory): unlike ru_maxrss it is not inherited across exec from the
# parent, which held the freshly written checkpoint.
rss = lambda: int(re.search(r"VmHWM:\s+(\d+) kB", open("/proc/self/status").read())[1]) * 1024
import m1reason
from m1reason.model import DenseCache
baseline = rss()
t = time.perf_counter()
model = m1reason.load_model("%(hub_id)s", device="cuda", dtype=torch.bfloat16)
torch.cuda.synchronize(); load_s = time.perf_counter() - t
after_load = rss(); gpu_after_load = torch.cuda.max_memory_allocated()
ids = torch.randint(0, 128256, (1, 256), device="cuda", generator=torch.Generator("cuda").manual_seed(0))
with torch.no_grad():
    model(ids); torch.cuda.synchronize()
    t = time.perf_counter(); logits = model(ids); torch.cuda.synchronize(); forward_s = time.perf_counter() - t
    cache = DenseCache(model.config, slots=1, max_len=256, dtype=torch.bfloat16, device="cuda")
    steps = [model.prefill(ids[:, :192], cache, all_logits=True)]
    steps += [model.step(ids[:, i], cache)[:, None] for i in range(192, 256)]
    stepped = torch.cat(steps, 1)
agree = (stepped.argmax(-1) == logits.argmax(-1)).float().mean().item()
rel = ((stepped.float() - logits.float()).abs().max() / logits.float().abs().max()).item()
print(json.dumps({"load_s": load_s, "host_rss_baseline_bytes": baseline, "host_rss_peak_bytes": after_load,
    "gpu_peak_after_load_bytes": gpu_after_load, "gpu_peak_bytes": torch.cuda.max_memory_allocated(),
    "forward_256_tokens_s": forward_s, "step_vs_forward_top1_agreement": agree, "step_vs_forward_rel_err": rel,
    "source": model.source, "finite": bool(torch.isfinite(logits).all())}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the JSON record and BENCHMARKS.md copy")
    args = parser.parse_args()
    from benchmarks.report import BENCHMARKS_MD, environment, markdown_table, write_section

    with tempfile.TemporaryDirectory() as tmp:
        hf_home = Path(tmp) / "hf"
        write_s, size = write_offline_cache(hf_home)
        env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1"}
        proc = subprocess.run([sys.executable, "-c", LOADER % {"hub_id": HUB_ID}], env=env, capture_output=True,
                              text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    record = {"checkpoint_bytes": size, "write_s": write_s, **json.loads(proc.stdout.strip().splitlines()[-1])}
    gib = 2**30
    row = {
        "checkpoint GiB": size / gib, "load s": record["load_s"],
        "host RSS before load GiB": record["host_rss_baseline_bytes"] / gib,
        "host RSS peak GiB": record["host_rss_peak_bytes"] / gib,
        "GPU peak after load GiB": record["gpu_peak_after_load_bytes"] / gib,
        "forward 1x256 s": record["forward_256_tokens_s"],
        "bf16 step vs forward top-1": record["step_vs_forward_top1_agreement"],
    }
    table = markdown_table([row], list(row))
    print(table)
    print(json.dumps(record))
    env_info = environment(("torch", "transformers", "safetensors", "huggingface_hub"))
    write_section("checkpoint_load", "Loading M1-3B (random bf16 weights) by hub id from an offline cache",
                  "Loaded in a fresh process with HF_HUB_OFFLINE=1; host RSS is that process's peak (VmHWM), "
                  "including torch/CUDA start-up (the 'before load' column).\n\n" + table
                  + "\n\n```json\n" + json.dumps(record) + "\n```", env_info)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "checkpoint_load.json").write_text(json.dumps(record, indent=2))
        (args.out / "BENCHMARKS.md").write_text(BENCHMARKS_MD.read_text())
    return 0 if record["finite"] else 1


if __name__ == "__main__":
    sys.exit(main())
