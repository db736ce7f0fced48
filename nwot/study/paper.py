"""Published numbers the studies are compared with (one place for each).

* Mellor, Turner, Storkey & Crowley, "Neural Architecture Search without Training", ICML 2021,
  arXiv:2006.04647: Fig. 3 (Kendall tau of the NASWOT score with CIFAR-10 accuracy over NAS-Bench-201),
  Table 2 (NASWOT search, N sampled cells, 500 runs), §4.1 (AREA, 50 runs).
* Dong & Yang, "NAS-Bench-201", ICLR 2020, Table 5: the search strategies under 12,000 simulated s,
  searched on CIFAR-10, 500 runs.
"""
from __future__ import annotations

from typing import Dict, Tuple

MeanStd = Tuple[float, float]

#: NASWOT paper, Fig. 3: Kendall tau of the score with NB201 CIFAR-10 accuracy (the released code's).
PAPER_KENDALL_TAU_C10 = 0.574
#: NASWOT paper, Table 2: NASWOT test accuracy on NB201 CIFAR-10 (mean, std over 500 runs) for N sampled cells.
PAPER_SEARCH_C10: Dict[int, MeanStd] = {10: (92.44, 1.13), 100: (92.81, 0.99), 1000: (92.96, 0.81)}
#: An independent rerun of the paper's score over all 15,625 cells (quoted in the project issue).
RERUN_KENDALL_TAU_C10, RERUN_SPEARMAN_C10 = 0.571, 0.762

#: NAS-Bench-201 Table 5, 12,000 s searched on CIFAR-10: test accuracy (mean, std) of the chosen arch.
PUBLISHED_NB201: Dict[str, Dict[str, MeanStd]] = {
    "rea": {"cifar10": (93.92, 0.30), "cifar100": (71.84, 0.99), "ImageNet16-120": (45.54, 1.03)},
    "random": {"cifar10": (93.70, 0.36), "cifar100": (71.04, 1.07), "ImageNet16-120": (44.57, 1.25)},
    "reinforce": {"cifar10": (93.85, 0.37), "cifar100": (71.71, 1.09), "ImageNet16-120": (45.24, 1.18)},
    "bo": {"cifar10": (93.61, 0.52), "cifar100": (70.85, 1.28), "ImageNet16-120": (44.42, 1.49)},
}
#: The published row a strategy sits beside when its name differs (our TPE row beside NB201's BOHB).
PUBLISHED_LABEL = {"bo": "BOHB"}
#: Validation accuracy (200-epoch x-valid: cifar10-valid, cifar100, ImageNet16-120) of the chosen arch,
#: 12,000 s searched on CIFAR-10: REA from NB201 Table 5, AREA from the NASWOT paper §4.1 (50 runs).
PUBLISHED_VALID: Dict[str, Dict[str, MeanStd]] = {
    "rea": {"cifar10": (91.19, 0.31), "cifar100": (71.81, 1.12), "ImageNet16-120": (45.15, 0.89)},
    "area": {"cifar10": (91.20, 0.27), "cifar100": (71.95, 0.99), "ImageNet16-120": (45.70, 1.05)},
}
