#!/bin/sh
# Export the proxy store (benchmarks/results/work/nb201_proxies.sqlite) to the committed wide CSVs that
# benchmarks/proxies_study.py and notebooks/proxies_nb201.ipynb read: every current proxy config, seeds 0
# (NASLib's 725 cells + the 3,000-cell sample) and seeds 1 (the seed-stability cells). Run from the repo root.
set -e
PY="${PYTHON:-python}"
S="benchmarks/score_proxies_nb201.py --export-only --export-all-configs"
$PY $S --cells naslib725,sample3000 --export benchmarks/results/nb201_proxies_seed0.csv.xz
$PY $S --cells naslib725,sample3000 --batch-seed 1 --init-seed 1 --export benchmarks/results/nb201_proxies_seed1.csv.xz
