#!/usr/bin/env bash
# Every GPU check and benchmark of the notebooks (their `#| cuda` cells), for a lent GPU machine (the `device` tool).
#
# That machine has torch but not nbdev, fastcore, fastprogress or the CIFAR-10 copy, so:
#   1. here:  bash tools/gpu_check.sh prepare    # data/ (git-ignored): the CIFAR-10 source from ../shared/data and two wheels
#             bash tools/gpu_check.sh smoke      # tools/gpu_bench.py at toy sizes on the CPU: the script works end to end (about 2 minutes)
#   2. there, through the device tool's `run` with carry ["data"]. A task gets about 15 minutes of device time in all, start-up included, so
#      the first call is the one that matters, with timeout_s about 540:
#        bash tools/gpu_check.sh bench      # tools/gpu_bench.py: every GPU figure of the issues, most important first, each saved as it is measured
#      and only with time left (each notebook run also runs its default cells, minutes on that machine):
#        bash tools/gpu_check.sh checks     # the `cuda` cells: captured steps against ordinary ones; CUDA against CPU for conv, pool and batch norm; the trainer on CUDA; the benchmark table; a trained model on CUDA
#        bash tools/gpu_check.sh airbench   # notebook 17's cuda cell: airbench94, 5 seeds, ours and its torch.nn twin
#        bash tools/gpu_check.sh hlb        # notebook 26's cuda cell: hlb-CIFAR10's recipe, 5 seeds, ours and its torch.nn twin
#   3. here:  `bench` brings back results.jsonl, bench.json and log.txt: copy them to nbs/results/<gpu>-<date>/ and read them from the notebooks
#      (as notebook 23 reads nbs/results/h100-2026-11-25/); after `checks` or `airbench`, copy the notebooks that come back (under the call's files_at) over nbs/, run nbdev_clean, and read `git diff`:
#      only `cuda` cells have new outputs (`tools/exec_nb.py --plain`); write what they show into the prose beside them.
# On a machine without a GPU every `cuda` cell prints that it was skipped, so the script can be tried on the CPU first.
set -uo pipefail
OUT=${OUT:-/tmp/gpu-check}; mkdir -p "$OUT"
PY=${PY:-python3}
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"          # the package from this tree, not installed
export CONVNETS_DATA=${CONVNETS_DATA:-/tmp/cifar}
if [ "${1:-}" = prepare ]; then
    mkdir -p data/wheels && cp ../shared/data/cifar10-jpeg.npz ../shared/data/cifar10.py data/ || exit 2
    pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation py -d data/wheels "fastcore<1.9" "fastprogress<1.1" || exit 2
    du -sh data; exit 0
fi
if ! $PY -c "import fastcore, fastprogress" 2>/dev/null; then           # pure-Python packages the notebooks import
    $PY -m pip install -q --no-deps --no-index --target /tmp/gpu-pydeps data/wheels/*.whl || { echo "no wheels in data/wheels: see step 1 at the top of $0" >&2; exit 2; }
    export PYTHONPATH="$PYTHONPATH:/tmp/gpu-pydeps"
fi
if [ ! -d "$CONVNETS_DATA/cifar-10-batches-py" ]; then
    [ -f data/cifar10.py ] || { echo "no CIFAR-10 in $CONVNETS_DATA and no data/cifar10.py: see step 1 at the top of $0" >&2; exit 2; }
    $PY data/cifar10.py "$CONVNETS_DATA" || exit 2
fi
{ date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi";
  $PY -c "import torch; print('torch', torch.__version__, '| cuda', torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else '')"; } | tee "$OUT/log.txt"
failed=0
run() {   # each notebook: its default cells and its cuda cells, then a copy under $OUT
    for nb in "$@"; do
        start=$SECONDS
        $PY tools/exec_nb.py "nbs/$nb" --flags cuda --plain >> "$OUT/log.txt" 2>&1 || { failed=1; echo "FAILED: $nb" | tee -a "$OUT/log.txt"; }
        echo "$nb: $((SECONDS - start)) s" | tee -a "$OUT/log.txt"
        cp "nbs/$nb" "$OUT/"
    done
}
case "${1:-}" in
    smoke)    $PY tools/gpu_bench.py --smoke --device cpu --seeds 1 --out "$OUT" 2>&1 | tee -a "$OUT/log.txt"; exit "${PIPESTATUS[0]}" ;;   # here, before a GPU call: the same steps at toy sizes
    bench)    $PY tools/gpu_bench.py --deadline "${GPU_DEADLINE:-420}" --out "$OUT" 2>&1 | tee -a "$OUT/log.txt"; exit "${PIPESTATUS[0]}" ;;
    checks)   run 25_capture.ipynb 11_fast_conv.ipynb 13_batchnorm.ipynb 14_spatial_batchnorm.ipynb 22_train.ipynb 23_benchmarks.ipynb 27_predict.ipynb ;;
    airbench) run 17_airbench.ipynb ;;
    hlb)      run 26_hlb.ipynb ;;
    *) echo "usage: bash $0 prepare|smoke|bench|checks|airbench|hlb" >&2; exit 2 ;;
esac
exit $failed
