#!/usr/bin/env bash
# The engine's GPU checks and measurements in one run. A lent GPU is billed per start and per minute held, so one
# call should do all of it; a step that fails is noted and the next one runs. In order:
#   1. the GPU tests (kernels at M1-3B shapes in bf16, model, engine, generator);
#   2. the chunked Mamba prefill against the whole walk: the kernel alone on one 1,024-token prompt, then the time to
#      first token through M1Generator with chunks off and on (issue 32's 256x1 and 1024x16 cases);
#   3. decode throughput of M1-3B shapes at batch 1 and 8 (issue 32's small-batch targets).
# With TRAIN=<folder> the training recipe runs (or resumes) into it in the background from the start, beside the
# tests (GPU timings are taken after the tests, and training shares the GPU with them: read them as such);
# TRAIN_ARGS adds options to it (e.g. "--steps distill=2200 --stages teacher,init,distill,sft"). After it ends (or
# is stopped at END), each finished stage named in PACK (e.g. "teacher distill sft grpo") is packed into
# OUT/<stage>.tgz, the way its weights come back from a machine that keeps nothing; with step "train-report" in
# STEPS, the stages found are scored on the GPU (benchmarks.train_report on the generator's mixed held-out set
# and the hand-written development set, 8 samples) into OUT/train-report.json.
# Every output lands under OUT (default benchmarks/results/gpu-session); BENCHMARKS.md is left alone (every step
# runs with --no-write: a section is written from the records once they are read). END (seconds since the epoch)
# caps the whole run, so a call's time limit is never hit in the middle of a step; default: 9 minutes from now.
# STEPS picks which of the steps run (default all: "gpu-tests kernel-tiles first-token throughput"), so timings can
# wait for a call in which nothing else uses the GPU.
#
#   bash benchmarks/gpu_session.sh
# The GPU machine's python has torch, transformers and numpy but not the project's other dependencies (pydantic,
# sympy, math-verify, ...) and no network: wheels for its python, downloaded on a machine that has an index with
# `pip download --python-version 3.12 --only-binary=:all: --platform manylinux2014_x86_64 -d devwheels <deps>`,
# are installed from devwheels/ first when that folder is there (carry it to the machine).
#
#   OUT=$OUT TRAIN=runs/d STEPS=gpu-tests END=$(( $(date +%s) + 560 )) bash benchmarks/gpu_session.sh
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-benchmarks/results/gpu-session}"
END="${END:-$(( $(date +%s) + 540 ))}"
STEPS="${STEPS:-gpu-tests kernel-tiles first-token throughput}"
mkdir -p "$OUT"
log="$OUT/session.txt"

# step NAME LIMIT_S COMMAND...: run under the smaller of LIMIT_S and the time left before END, output to OUT/NAME.txt
step() {
  local name="$1" limit="$2" left=$(( END - $(date +%s) - 5 ))
  shift 2
  local group="${name%-o[nf]*}"  # first-token-on and first-token-off are both step "first-token"
  [[ " $STEPS " == *" $group "* ]] || return 0
  (( left < limit )) && limit=$left
  if (( limit < 10 )); then echo "$name: skipped, no time left" | tee -a "$log"; return; fi
  local started=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.txt" 2>&1
  echo "$name: rc $? in $(( SECONDS - started )) s (limit $limit s)" | tee -a "$log"
}

if [ -d devwheels ]; then
  deps=(pydantic sympy mpmath math-verify latex2sympy2_extended asyncio-throttle)
  { python3 -m pip install -q --no-index --find-links devwheels "${deps[@]}" ||
    uv pip install --python "$(command -v python3)" --no-index --find-links devwheels "${deps[@]}" ||
    echo "deps: install failed"; } > "$OUT/deps.txt" 2>&1
fi
{ nvidia-smi --query-gpu=name,driver_version --format=csv,noheader; python3 -c \
  "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"; git rev-parse HEAD; } \
  > "$log" 2>&1

if [ -n "${TRAIN:-}" ]; then
  # shellcheck disable=SC2086  # TRAIN_ARGS is a list of options
  python3 -m m1reason.train all --out "$TRAIN" --device cuda --seed 0 --deterministic true ${TRAIN_ARGS:-} \
    > "$OUT/train.txt" 2>&1 &
  train=$!
fi

step gpu-tests 300 python3 -m pytest -m gpu -q -p no:cacheprovider tests/kernels/test_triton_kernels.py \
  tests/engine/test_gpu_engine.py tests/model/test_gpu.py tests/generator/test_gpu.py
# batch 1's decode kernels at 1,024 tokens of context come first (kernel_tiles always sweeps some decode shape)
step kernel-tiles 120 python3 -m benchmarks.kernel_tiles --batches 1 --contexts 1024 --tiles 16 32 64 --warps 2 4 \
  --prefill 1x1024 --prefill-blocks 8 16 32 --prefill-warps 1 --stages 1 3 --prefill-chunks 0 32 64 128 256 \
  --no-write --json "$OUT/kernel-tiles.json"
for chunks in off on; do
  step "first-token-$chunks" 90 python3 -m benchmarks.first_token --prefill-chunks "$chunks" --no-write \
    --out "$OUT/first-token-$chunks"
done
step throughput 150 python3 -m benchmarks.throughput --engines m1 --batches 1 8 --new 1024 \
  --results "$OUT/throughput.jsonl" --no-write

if [ -n "${TRAIN:-}" ]; then
  left=$(( END - $(date +%s) - 5 ))
  if (( left > 0 )); then timeout "$left" tail --pid="$train" -f /dev/null; fi
  kill "$train" 2> /dev/null && echo "train: stopped at END (it resumes by stage)" | tee -a "$log"
  tail -n 5 "$OUT/train.txt" >> "$log"
  for stage in ${PACK:-}; do
    if [ -f "$TRAIN/$stage/eval.json" ]; then tar czf "$OUT/$stage.tgz" -C "$TRAIN" "$stage"; fi
  done
  step train-report 240 python3 -m benchmarks.train_report --run "$TRAIN" --sets mixed,dev --limit 340 --samples 8 \
    --device cuda --no-write --json "$OUT/train-report.json"
fi
