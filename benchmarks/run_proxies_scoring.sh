#!/bin/sh
# Background scoring of NB201 cells with every zero-cost proxy, in priority order, into one store
# (benchmarks/results/work/nb201_proxies.sqlite). Resumable: re-run the same command after a kill;
# each stage skips what is stored. Run from the repo root:
#   nohup nice -n 15 sh benchmarks/run_proxies_scoring.sh > benchmarks/results/work/proxies_scoring.log 2>&1 &
set -e
PY="${PYTHON:-python}"
S="benchmarks/score_proxies_nb201.py --no-progress"
NASLIB12="epe_nas,fisher,flops,grad_norm,grasp,jacov,l2_norm,params,plain,snip,synflow"
# ~1.2 CPU-s per cell together (benchmarks/results/proxies_cost.md): the full space is ~5 CPU-hours
CHEAP="params,flops,l2_norm,vkdnw_dim,az_nas_complexity,synflow,naswot,meco,snip,grad_norm,plain,fisher,jacov,epe_nas,swap,te_nas_lr"
# 1. NASLib's 725 cells, the NASLib proxies (NASLib's nwot = naswot at batch 32), seed 0; then seed 1 on the
#    first 200 of them (our own batch/init-to-batch/init agreement, the noise floor of the NASLib comparison)
$PY $S --cells naslib725 --proxies $NASLIB12
$PY $S --cells naslib725 --proxies naswot --modes clean --batch-sizes naswot=32
$PY $S --cells naslib725 --proxies $NASLIB12 --batch-seed 1 --init-seed 1 --limit 200
$PY $S --cells naslib725 --proxies naswot --modes clean --batch-sizes naswot=32 --batch-seed 1 --init-seed 1 --limit 200
# 2. NASLib's 725 cells, every proxy (naswot in its clean mode only: reference needs 1-output networks)
$PY $S --cells naslib725 --proxies all --exclude naswot
$PY $S --cells naslib725 --proxies naswot --modes clean
# 3. 3,000 cells of random.Random(0).sample(range(15625), 3000), every proxy (random order: any prefix is a sample)
$PY $S --cells sample3000 --proxies all --exclude naswot
$PY $S --cells sample3000 --proxies naswot --modes clean
# 4. all 15,625 cells, the proxies cheap enough on 2 shared cores (~2 s per cell together)
$PY $S --cells all --proxies $CHEAP --modes clean
$PY $S --cells all --proxies fisher,meco --modes reference
echo "all stages done"
