#!/bin/sh
# Background scoring of NB201 cells with every zero-cost proxy, in priority order, into one store
# (benchmarks/results/work/nb201_proxies.sqlite). Resumable: re-run the same command after a kill;
# each stage skips what is stored. Run from the repo root:
#   nohup nice -n 15 sh benchmarks/run_proxies_scoring.sh > benchmarks/results/work/proxies_scoring.log 2>&1 &
set -e
PY="${PYTHON:-python}"
S="benchmarks/score_proxies_nb201.py --no-progress"
NASLIB12="epe_nas,fisher,flops,grad_norm,grasp,jacov,l2_norm,params,plain,snip,synflow"
CHEAP="params,flops,l2_norm,vkdnw_dim,az_nas_complexity,synflow,naswot,meco,snip,grad_norm,plain,fisher,jacov,epe_nas,swap,te_nas_lr"
# 1. NASLib's 725 cells, the NASLib proxies (NASLib's nwot = naswot at batch 32), seeds 0 and 1
for SEED in 0 1; do
  $PY $S --cells naslib725 --proxies $NASLIB12 --batch-seed $SEED --init-seed $SEED
  $PY $S --cells naslib725 --proxies naswot --modes clean --batch-sizes naswot=32 --batch-seed $SEED --init-seed $SEED
done
# 2. NASLib's 725 cells, every proxy (naswot in its clean mode only: reference needs 1-output networks)
$PY $S --cells naslib725 --proxies all --exclude naswot
$PY $S --cells naslib725 --proxies naswot --modes clean
# 3. 3,000 cells of random.Random(0).sample(range(15625), 3000), every proxy (random order: any prefix is a sample)
$PY $S --cells sample3000 --proxies all --exclude naswot
$PY $S --cells sample3000 --proxies naswot --modes clean
# 4. all 15,625 cells, the proxies cheap enough on 2 shared cores (~2 s per cell together)
$PY $S --cells all --proxies $CHEAP --exclude naswot
$PY $S --cells all --proxies naswot --modes clean
echo "all stages done"
