#!/usr/bin/env bash
# Full-scale proof on a GPU machine: SD 1.4's architecture with random weights (fp16), the whole
# figure set through the real `figgen render --model PATH`, and the benchmark. Logs and numbers go
# to $OUT. Images are noise, as expected with random weights; speed and memory are the real ones.
#
# On the device (no network): first, here, `make gpu-wheels` (downloads every wheel figgen needs
# except torch into wheels/), then run this script there with wheels/ carried along.
# Dry run on a CPU with the tiny pipeline:  GPU_CHECK_MODEL=tiny DEVICE=cpu scripts/gpu-check.sh
set -euo pipefail
OUT=${OUT:-gpu-check-out}
DEVICE=${DEVICE:-cuda}
MODEL_KIND=${GPU_CHECK_MODEL:-sd14-random}
mkdir -p "$OUT"
exec > >(tee "$OUT/log.txt") 2>&1

if ! python -c "import figgen" 2>/dev/null; then
    echo "== installing figgen and its dependencies from wheels/ (offline)"
    python -m pip install --no-index --find-links wheels --no-deps wheels/*.whl
    python -m pip install --no-index --find-links wheels --no-deps -e .
fi
python -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else '')"

MODEL="$OUT/model-$MODEL_KIND"
echo "== building $MODEL_KIND into $MODEL"
start=$(date +%s.%N)
python - "$MODEL" "$MODEL_KIND" <<'PY'
import sys
from pathlib import Path
from figgen.tiny import build_sd14_random_pipeline, build_tiny_pipeline
folder, kind = Path(sys.argv[1]), sys.argv[2]
if not (folder / "model_index.json").exists():
    build_sd14_random_pipeline(folder) if kind == "sd14-random" else build_tiny_pipeline(folder)
PY
echo "built in $(python -c "print(round($(date +%s.%N) - $start, 1))") s"

for run in cold warm; do
    echo "== figgen render, whole catalogue, $run"
    start=$(date +%s.%N)
    figgen render --model "$MODEL" --device "$DEVICE" --figures-dir "$OUT/figures" --cache-dir "$OUT/cache"
    echo "RENDER_$run seconds: $(python -c "print(round($(date +%s.%N) - $start, 1))")"
done

echo "== benchmark"
figgen-bench --model "$MODEL" --device "$DEVICE" --skip-render | tee "$OUT/bench.txt"
du -sh "$OUT/figures" || true
