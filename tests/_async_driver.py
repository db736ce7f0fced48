"""A controller process for tests/search/test_async_ray.py: one asynchronous search on a running Ray cluster.

``python tests/_async_driver.py ADDRESS WORKDIR STRATEGY EVALUATIONS`` connects to the cluster at ADDRESS
(as ``nwot search --workers 2 --address ADDRESS`` would), trains on the 1,280 CIFAR-10 images shipped in
nwot with per-candidate checkpoints and the controller state under WORKDIR, logs every trained epoch to
WORKDIR/epochs.log (sleeping 0.2 s after each, so that a candidate takes at least 0.4 s), and prints the
result as one JSON line. The test kills it with SIGKILL and starts it again.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import ray
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _async_helpers import EpochLog  # noqa: E402

from nwot.search.loop import Budget  # noqa: E402
from nwot.search.run import train_setup  # noqa: E402

TINY = dict(train_size=128, val_size=96, batch_size=32, epochs=2)
SMALL_NET = {"C": 4, "N": 1}
#: strategy -> (space, space kwargs, build kwargs, training preset, train overrides, strategy options, evaluations)
SETTINGS = {
    "lse": ("lse", {}, None, "lse_cpu_tiny", dict(train_size=200, val_size=100, epochs=2), {"population_size": 4}, 10),
    "random": ("pnas", {"num_blocks": 2}, SMALL_NET, "cpu_tiny", TINY, {}, 6),
    "rea": ("pnas", {"num_blocks": 2}, SMALL_NET, "cpu_tiny", TINY, {"population_size": 3, "sample_size": 2}, 7),
    "reinforce": ("nb201", {}, SMALL_NET, "cpu_tiny", TINY, {}, 6),
    "pnas": ("pnas", {"num_blocks": 2, "ops": ("sep_conv_3x3", "max_pool_3x3")}, SMALL_NET, "cpu_tiny", TINY,
             {"beam": 2, "surrogate": "mlp", "surrogate_kwargs": {"embed": 8, "hidden": 16, "epochs": 5}}, 12),
    "blockqnn": ("blockqnn", {"max_layers": 3}, SMALL_NET, "cpu_tiny", TINY, {"batch_size": 3, "replay_size": 3}, 6),
}


def sample_data():
    from nwot.data.datasets import NORMALISATION, load_embedded_sample
    from nwot.data.training import from_arrays

    images, labels, _ = load_embedded_sample()
    norm = NORMALISATION["cifar10"]
    return from_arrays(images, labels, num_classes=10, mean=norm.mean, std=norm.std,
                       name=f"cifar10-embedded:{len(labels)}")


def main(address: str, work: str, strategy: str, evaluations: int) -> None:
    torch.set_num_threads(1)
    repo = HERE.parent
    ray.init(address=address, runtime_env={"env_vars": {"PYTHONPATH": f"{repo}:{HERE}"}})
    space, space_kw, build, preset, over, options, _ = SETTINGS[strategy]
    work_dir = Path(work)
    setup = train_setup(space, preset=preset, train_overrides=over, space_kwargs=space_kw, build_kwargs=build,
                        data=sample_data(), checkpoint_dir=work_dir / "ckpt", test_images=0)
    setup.evaluator.epoch_callback = EpochLog(work_dir / "epochs.log", delay=0.2)  # 0.4 s per candidate at least
    res = setup.run(strategy, Budget(evaluations=evaluations), seed=0, options=options, workers=2,
                    address=address, state=work_dir / "state.sqlite").runs[0]
    print(json.dumps({"n_evals": res.n_evals, "best_signal": res.best_signal, "trace": [r.arch for r in res.trace],
                      "asynchronous": res.config["asynchronous"]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
