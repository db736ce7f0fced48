#!/usr/bin/env bash
# Every NASWOT score of the NB201 reproduction, in priority order; resumable (re-run to continue).
# Usage: nohup nice -n 5 bash benchmarks/run_nb201_scoring.sh > benchmarks/results/work/scoring.log 2>&1 &
# On a machine with several cores run one shard per core side by side (they share the WAL-mode store):
#   for i in 0 1; do nohup nice -n 5 bash benchmarks/run_nb201_scoring.sh $i/2 > benchmarks/results/work/scoring$i.log 2>&1 & done
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SHARD=${1:-0/1}
S="$PY benchmarks/score_nb201.py --threads 1 --quiet --shard $SHARD"
R=benchmarks/results
# (1) clean mode, batch 128, seeds 0: NASLib's 725 cells first (agreement study), then the whole space
$S --cells naslib725,all --export $R/nb201_cifar10_naswot_clean_seed0.csv.xz
# (2) reference mode (the paper's released code, 1-output-unit nets) on 500 seeded random cells + NASLib's 725
$S --compat reference --cells random500,naslib725 --export $R/nb201_cifar10_naswot_reference_seed0.csv.xz
# (3) sensitivity on the same 500 random cells: 5 batches, 5 inits, batch sizes 32/64/128/256
for s in 1 2 3 4; do $S --cells random500 --batch-seed $s; done
for s in 1 2 3 4; do $S --cells random500 --init-seed $s; done
for b in 32 64 256; do $S --cells random500 --batch-size $b; done
$PY benchmarks/nb201_correlation.py --export-sensitivity $R/nb201_cifar10_naswot_sensitivity.csv.xz --quiet || true
# (4) reference mode on the whole space
$S --compat reference --cells random500,naslib725,all --export $R/nb201_cifar10_naswot_reference_seed0.csv.xz
echo "all scoring done"
