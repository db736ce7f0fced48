"""NASWOT on NAS-Bench-201: rank correlation with trained accuracy, agreement with NASLib, sensitivity.

Mellor et al., ICML 2021, arXiv:2006.04647, §4 / Fig. 3 (τ = 0.574 on NB201 CIFAR-10) and §5 ablations.
Reads whatever scores are stored (``benchmarks/score_nb201.py``) and says how many cells each number uses:

* Kendall τ / Spearman ρ / top-k overlap of the score against 200-epoch test accuracy, over all scored
  cells, the cells with an input->output path, and one cell per isomorphism class; against both CIFAR-10
  accuracies of the embedded table (``cifar10/ori-test@200``: trained on 50k, NB201's reporting number;
  ``cifar10-valid/ori-test@200``: trained on 25k, what the paper's released code correlates with), for
  the clean and the reference scorer, beside the paper; τ between the two modes on their common cells.
* Agreement with NASLib's independent NASWOT (``nwot``) on its 725 cells (shared data MANIFEST §1.8).
* Sensitivity on 500 seeded random cells: mean pairwise τ over 5 batches and over 5 init seeds; ρ with
  accuracy for batch sizes 32, 64, 128, 256.

Sources: ``--source store`` (default; the SQLite score store) or ``--source exports`` (the committed
``benchmarks/results/nb201_cifar10_naswot_*.csv.xz`` files). Writes ``nb201_correlation.json`` and
``nb201_correlation.md`` to ``--out``. CIFAR-100 / ImageNet16-120 need their images (``--data-dir``);
without them the script stops with the loader's message saying where to get them.
The study is :mod:`nwot.study.correlation_study`, the report :func:`nwot.study.tables.correlation_markdown`.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from _common import RESULTS, STORE

from nwot.study.correlation_study import ACCURACY, correlation_study
from nwot.study.provenance import command_line
from nwot.study.scores import StoredScores, export_sensitivity
from nwot.study.tables import correlation_markdown


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="cifar10", choices=tuple(ACCURACY), help="default: cifar10")
    p.add_argument("--source", default="store", choices=("store", "exports"), help="store (default) or exports")
    p.add_argument("--store", default=str(STORE))
    p.add_argument("--data-dir", default=None, help="dataset images (needed for cifar100 / ImageNet16-120)")
    p.add_argument("--shared-data", default=None, help="staged shared data (default: $NWOT_SHARED_DATA)")
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--export-sensitivity", default=None, help="only write the sensitivity scores (CSV) here")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from nwot.adapters.embedded import load_nb201_table
    from nwot.data.datasets import scoring_batch
    from nwot.errors import NwotError
    from nwot.paths import shared_data_dir

    scores = StoredScores(args.source, args.dataset, Path(args.store), RESULTS)
    if args.export_sensitivity:
        n = export_sensitivity(scores, Path(args.export_sensitivity))
        print(f"wrote {n} sensitivity scores -> {args.export_sensitivity}")
        return 0
    try:
        if len(scores.get("clean")) == 0 and len(scores.get("reference")) == 0:
            scoring_batch(args.dataset, batch_size=2, data_dir=args.data_dir)  # raises DataNotFoundError
            raise NwotError(f"no {args.dataset} scores stored yet; run benchmarks/score_nb201.py --dataset "
                            f"{args.dataset} first")
    except NwotError as e:
        print(f"nb201_correlation: {args.dataset}: {e}", file=sys.stderr)
        return 2
    res = {"dataset": args.dataset, "source": args.source, "command": command_line(__file__, argv),
           **correlation_study(scores, load_nb201_table(), args.dataset, shared_data_dir(args.shared_data))}
    stem = "nb201_correlation" if args.dataset == "cifar10" else f"nb201_correlation_{args.dataset}"
    out = Path(args.out)
    (out / f"{stem}.json").write_text(json.dumps(res, indent=2) + "\n")
    md = correlation_markdown(res)
    (out / f"{stem}.md").write_text(md)
    if not args.quiet:
        print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
