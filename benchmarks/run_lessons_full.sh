#!/usr/bin/env bash
# Lessons 05 and 06 top to bottom in the full profile on a machine without Jupyter (the GPU device):
# export them here first with
#   mkdir -p .carry/nb && for n in 05_shortcuts 06_regularization; do
#     jupytext --to py:percent -o .carry/nb/$n.py notebooks/$n.ipynb; done
# then run `bash benchmarks/run_lessons_full.sh` there (carry .carry: the MNIST-1D cache in
# .carry/data and the exported scripts in .carry/nb). Logs go to $OUT/<lesson>.<profile>.log.
set -u
OUT=${OUT:-/tmp/lessons_full}; mkdir -p "$OUT"
export MAXENT_DATA_DIR=${MAXENT_DATA_DIR:-$PWD/.carry/data} PYTHONUNBUFFERED=1 TQDM_DISABLE=1
export MPLBACKEND=Agg PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} MAXENT_PROFILE=${PROFILE:-full}
PY=${PY:-python3}
cd notebooks
for n in ${ONLY:-05_shortcuts 06_regularization}; do
  echo "== $n ($MAXENT_PROFILE profile) $(date -u +%FT%TZ)"
  /usr/bin/time -f "$n: %e s wall, %M KB max RSS" timeout 200 $PY ../.carry/nb/$n.py \
    > "$OUT/$n.$MAXENT_PROFILE.log" 2>&1
  echo "exit $?"; tail -4 "$OUT/$n.$MAXENT_PROFILE.log"
done
