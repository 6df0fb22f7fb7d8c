#!/usr/bin/env bash
# One device session, every GPU benchmark of the course: environment, parity checks, the
# full-profile grids of lessons 05-06, the stacked-vs-loop benchmark, torch.compile against eager
# and CUDA graphs, and grids on Ray on this GPU. Everything lands under $OUT. Needs the MNIST-1D
# cache in .carry/data (made here with MAXENT_DATA_DIR=.carry/data). Run from the repository root:
#   bash benchmarks/gpu_check.sh            # on the GPU machine
#   bash benchmarks/gpu_check.sh --smoke    # on a CPU, tiny sizes, to test the script itself
#   STAGES="compile ray" bash benchmarks/gpu_check.sh   # only some stages
# Stages and their time limits (s): parity 45, grids 2 x GRID_SECONDS (240), bench 110,
# compile 150, ray 90 (an interrupted grid resumes when the command is run again): with the
# settled budgets of ablation.configs (4-8x the epochs of the earlier grids) the grids need more
# than one 600-s command; run `STAGES=grids` again to resume them. The lessons' full profiles are
# a second command:
# benchmarks/run_lessons_full.sh. Ray is not in the device's image: the ray stage says so and is
# skipped unless `import ray` works there.
set -u
SMOKE=0; [ "${1:-}" = "--smoke" ] && SMOKE=1
STAGES=" ${STAGES:-parity grids bench compile ray} "
want() { [[ "$STAGES" == *" $1 "* ]]; }
OUT=${OUT:-/tmp/gpu_check_out}; mkdir -p "$OUT"
export MAXENT_DATA_DIR=${MAXENT_DATA_DIR:-$PWD/.carry/data} PYTHONUNBUFFERED=1 TQDM_DISABLE=1
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
PY=${PY:-python3}
LOG=$OUT/gpu_check.log
if [ $SMOKE = 1 ]; then DEV=cpu; LIMIT="--limit 4"; BENCH="--cases 64:4 --epochs 1 --baseline-models 2"
  COMPILE="--cases 64:4 --epochs 1 --baseline-models 1 --modes eager,compile"
  SCALING="--limit 4 --repeats 1"
else DEV=cuda; LIMIT=""; BENCH=""
  COMPILE="--cases 256:1024,64:4096 --baseline-models 2 --modes eager+tf32,graph+tf32,compile+tf32,compile-ro+tf32"
  SCALING="--grid regularization --profile full --repeats 1 --local"; fi
{
  echo "== environment $(date -u +%FT%TZ)"
  nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"
  $PY -c "import torch,numpy,scipy,sklearn;print('torch',torch.__version__,'numpy',numpy.__version__,'cuda',torch.cuda.is_available())"
  if want parity; then echo "== parity"; timeout 45 $PY benchmarks/parity.py --device $DEV; fi
} 2>&1 | tee "$LOG"
want grids && for g in shortcut regularization; do
  # the CLI writes ${g}_full_provenance.json (commit, code hash, versions, device, command, runs)
  echo "== grid $g (full profile)" | tee -a "$LOG"
  timeout ${GRID_SECONDS:-240} $PY -m maxent_lib ablate --grid $g --profile full --device $DEV \
    --no-progress --out "$OUT/${g}_full.jsonl" $LIMIT 2>&1 | tee -a "$LOG"
  echo "exit ${PIPESTATUS[0]}" | tee -a "$LOG"
done
if want bench; then
  echo "== benchmark" | tee -a "$LOG"
  timeout 110 $PY benchmarks/bench_ensemble.py --device $DEV $BENCH --json "$OUT/bench.json" 2>&1 \
    | tee "$OUT/bench.txt"
fi
if want compile; then  # torch.compile vs eager and CUDA graphs, compile time apart (cold caches)
  echo "== torch.compile $(date -u +%FT%TZ)" | tee -a "$LOG"
  timeout 150 $PY benchmarks/bench_ensemble.py --device $DEV $COMPILE \
    --json "$OUT/bench_compile.json" 2>&1 | tee "$OUT/bench_compile.txt"
fi
if want ray; then  # one GPU: Ray's overhead against the local executor (2 tasks share 1 GPU slot)
  echo "== ray $(date -u +%FT%TZ)" | tee -a "$LOG"
  if $PY -c "import ray" 2>/dev/null; then
    timeout 90 $PY benchmarks/bench_scaling.py --device $DEV --workers 1,2 $SCALING \
      --json "$OUT/bench_scaling.json" 2>&1 | tee "$OUT/bench_scaling.txt"
  else
    echo "ray is not installed here: stage skipped (pip install -e \".[ray]\")" | tee -a "$LOG"
  fi
fi
echo "== end $(date -u +%FT%TZ)" | tee -a "$LOG"
