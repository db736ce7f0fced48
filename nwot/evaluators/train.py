"""Real training as a search evaluator: arch -> (held-out validation accuracy, training seconds).

The candidate network (``space.build(arch, ...)``) is trained from a seeded default init with

* SGD with momentum and weight decay, learning rate annealed per step by a cosine
  (Loshchilov & Hutter, SGDR, ICLR 2017)::

      lr_t = lr_min + (lr - lr_min) * (1 + cos(pi * t / T)) / 2,   t = 0 .. T-1 optimiser steps

* the standard CIFAR augmentation, written with torch ops (no torchvision): zero-pad 4 pixels, take a
  random 32x32 crop, flip horizontally with probability 1/2; optional cutout (see
  :mod:`nwot.data.training`, which also holds the tensor datasets);
* a held-out validation split drawn from the *training* images (the search signal never touches the
  test set): a seeded permutation of the training split gives ``val_size`` validation images, then
  ``train_size`` training images.

The signal is the validation top-1 accuracy in percent (the unit of the NAS-Bench-201 tables), the
cost the measured wall seconds of training + validation (summed over resumed sessions).

**Checkpoint / resume.** With ``checkpoint_dir`` set, each candidate owns the folder
``<checkpoint_dir>/<space>-<sha1(encoding, config, build kwargs, data)[:16]>`` (``arch.json`` names
the arch). After every epoch the model, optimiser (momentum buffers) and elapsed time are written
atomically to ``state.pt``; a finished candidate also gets ``result.json``. A finished candidate is
never retrained: its stored evaluation (original cost included, ``info["cached"] = True``) is returned,
so replaying an interrupted search charges the same budget. An interrupted candidate resumes from its
last finished epoch. Batch order and augmentation of epoch e come from a ``torch.Generator`` seeded
with ``(seed, e)`` and the learning rate is a function of the step, so a resumed run ends with the
same weights as an uninterrupted one (bit-identical on CPU).

Randomness: weight init under :func:`nwot.seeding.torch_seed`, data split / order / augmentation from
``torch.Generator`` objects; global RNGs are never seeded.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from nwot.data.training import ImageData, augmented_batch, cifar10_data, normalised, split_indices
from nwot.errors import NwotError, check_choice
from nwot.evaluators.base import Evaluation, register_evaluator
from nwot.machine.device import resolve_device
from nwot.spaces.base import Arch, SearchSpace
from nwot.spaces.complexity import count_flops, count_params


@dataclass(frozen=True)
class TrainConfig:
    """How one candidate is trained (everything that changes the result is here, except the device)."""

    epochs: int = 1  # training epochs
    batch_size: int = 64  # SGD mini-batch size
    lr: float = 0.025  # initial learning rate
    lr_min: float = 0.0  # final learning rate of the per-step cosine schedule
    momentum: float = 0.9  # SGD momentum
    nesterov: bool = False  # Nesterov momentum
    weight_decay: float = 3e-4  # L2 weight decay (on every parameter)
    train_size: Optional[int] = 2000  # training images used (None: all images not held out)
    val_size: int = 500  # training-split images held out for the validation accuracy (the signal)
    augment: bool = True  # random crop (4-px zero padding) + horizontal flip
    cutout: int = 0  # side of the cutout square in pixels (0 = off)
    grad_clip: Optional[float] = 5.0  # max global gradient norm (None = no clipping)
    seed: int = 0  # seeds weight init, data split, batch order and augmentation
    eval_batch_size: int = 256  # batch size of the validation pass
    device: str = "auto"  # "auto" (CUDA when available), "cpu", "cuda" or "cuda:N"; not part of the checkpoint key

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "eval_batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise NwotError(f"TrainConfig.{name} must be an int >= 1, got {v!r}")
        if self.batch_size < 2:
            raise NwotError(f"TrainConfig.batch_size must be >= 2 (BatchNorm needs 2 images), got {self.batch_size}")
        if isinstance(self.val_size, bool) or not isinstance(self.val_size, int) or self.val_size < 1:
            raise NwotError(f"TrainConfig.val_size must be an int >= 1, got {self.val_size!r}")
        if self.train_size is not None and (isinstance(self.train_size, bool) or not isinstance(self.train_size, int)
                                            or self.train_size < 2):
            raise NwotError(f"TrainConfig.train_size must be None or an int >= 2, got {self.train_size!r}")
        if not (self.lr > 0 and 0 <= self.lr_min <= self.lr):
            raise NwotError(f"TrainConfig needs lr > 0 and 0 <= lr_min <= lr, "
                            f"got lr={self.lr!r}, lr_min={self.lr_min!r}")
        if not 0 <= self.momentum < 1 or self.weight_decay < 0:
            raise NwotError(f"TrainConfig needs 0 <= momentum < 1 and weight_decay >= 0, "
                            f"got {self.momentum!r}, {self.weight_decay!r}")
        if isinstance(self.cutout, bool) or not isinstance(self.cutout, int) or self.cutout < 0:
            raise NwotError(f"TrainConfig.cutout must be an int >= 0 (0 = off), got {self.cutout!r}")
        if self.grad_clip is not None and not self.grad_clip > 0:
            raise NwotError(f"TrainConfig.grad_clip must be None or > 0, got {self.grad_clip!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise NwotError(f"TrainConfig.seed must be an int >= 0, got {self.seed!r}")
        resolve_device(self.device)

    def key(self) -> Dict[str, Any]:
        """The fields that identify a training run (all but ``device``)."""
        d = asdict(self)
        d.pop("device")
        return d


#: Named budgets. ``cpu_tiny`` (1 epoch on 2,000 images, 500 held out) is for tests and CPU demos.
#: ``pnas_proxy`` is the search-time budget of Liu et al., PNAS, ECCV 2018, §5.1: each child trained for
#: 20 epochs with 5,000 of the 50,000 CIFAR-10 training images held out (their child networks use
#: N = 2, F = 24: the pnas space declares them as its ``train_build`` for this preset); batch size
#: 32, lr 0.025 and weight decay 3e-4 are DARTS-style choices of ours. ``blockqnn_proxy`` is a short
#: "early-stop" budget in the spirit of Zhong et al., BlockQNN, CVPR 2018, §3.4 (12 epochs); the paper's
#: exact early-stop recipe (trained with Adam) is not reproduced, we keep SGD + cosine.
PRESETS: Dict[str, TrainConfig] = {
    "cpu_tiny": TrainConfig(epochs=1, batch_size=64, lr=0.05, train_size=2000, val_size=500),
    "pnas_proxy": TrainConfig(epochs=20, batch_size=32, lr=0.025, weight_decay=3e-4, train_size=45000,
                              val_size=5000, grad_clip=5.0),
    "blockqnn_proxy": TrainConfig(epochs=12, batch_size=256, lr=0.1, weight_decay=5e-4, train_size=45000,
                                  val_size=5000, grad_clip=None),
    # Large-scale evolution (Real et al., ICML 2017, §3.3 and S1 as we read them): SGD with momentum 0.9,
    # batch 50, weight decay 1e-4, a constant learning rate (lr_min = lr; on the lse space each individual's
    # gene replaces it), 25,600 steps per evaluation (32 epochs x 800 steps of 50 images), 5,000 images held out
    # for the fitness; lse_cpu_tiny shrinks it to a 2-core CPU (2 epochs of 40 steps, no augmentation).
    "lse_gpu": TrainConfig(epochs=32, batch_size=50, lr=0.1, lr_min=0.1, momentum=0.9, weight_decay=1e-4,
                           train_size=40_000, val_size=5_000, augment=True, grad_clip=None, eval_batch_size=500),
    "lse_cpu_tiny": TrainConfig(epochs=2, batch_size=50, lr=0.1, lr_min=0.1, momentum=0.9, weight_decay=1e-4,
                                train_size=2_000, val_size=500, augment=False, grad_clip=None, device="cpu"),
}


def train_preset(name: str, **overrides: Any) -> TrainConfig:
    """A named :data:`PRESETS` entry, with ``dataclasses.replace`` overrides."""
    check_choice("training preset", name, PRESETS)
    return replace(PRESETS[name], **overrides)


# --------------------------------------------------------------------------------------------------
# Training.
# --------------------------------------------------------------------------------------------------


def cosine_lr(cfg: TrainConfig, step: int, total_steps: int) -> float:
    """``lr_min + (lr - lr_min) (1 + cos(pi step / total_steps)) / 2``."""
    return cfg.lr_min + (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * step / total_steps)) / 2


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The generator of epoch ``epoch``'s batch order and augmentation (independent of earlier epochs)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch + 1)


def _batches(n: int, batch_size: int):
    """Consecutive slices; a trailing batch of one image is dropped (BatchNorm needs two)."""
    for start in range(0, n, batch_size):
        if n - start >= 2:
            yield slice(start, min(start + batch_size, n))


def steps_per_epoch(n_train: int, batch_size: int) -> int:
    return sum(1 for _ in _batches(n_train, batch_size))


def _logits(out) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


def evaluate_accuracy(model: nn.Module, data: ImageData, idx: torch.Tensor, batch_size: int,
                      device: torch.device) -> Tuple[float, float]:
    """(top-1 accuracy in %, mean cross-entropy) of ``model`` in eval mode on ``idx``."""
    model.eval()
    correct, loss_sum = 0, 0.0
    with torch.no_grad():
        for start in range(0, len(idx), batch_size):
            b = idx[start:start + batch_size]
            x = normalised(data, b).to(device)
            y = data.labels[b].to(device)
            logits = _logits(model(x))
            loss_sum += float(F.cross_entropy(logits, y, reduction="sum"))
            correct += int((logits.argmax(1) == y).sum())
    return 100.0 * correct / len(idx), loss_sum / len(idx)


def train_epoch(model: nn.Module, opt: torch.optim.Optimizer, data: ImageData, train_idx: torch.Tensor,
                cfg: TrainConfig, epoch: int, device: torch.device) -> Dict[str, float]:
    """One epoch of SGD on ``train_idx`` (order and augmentation from :func:`epoch_generator`)."""
    gen = epoch_generator(cfg.seed, epoch)
    order = train_idx[torch.randperm(len(train_idx), generator=gen)]
    n_steps = steps_per_epoch(len(order), cfg.batch_size)
    total = cfg.epochs * n_steps
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    for k, sl in enumerate(_batches(len(order), cfg.batch_size)):
        b = order[sl]
        x = augmented_batch(data, b, gen, augment=cfg.augment, cutout_size=cfg.cutout).to(device)
        y = data.labels[b].to(device)
        for group in opt.param_groups:
            group["lr"] = cosine_lr(cfg, epoch * n_steps + k, total)
        opt.zero_grad(set_to_none=True)
        logits = _logits(model(x))
        loss = F.cross_entropy(logits, y)
        if not torch.isfinite(loss):
            return {"train_loss": float("nan"), "train_acc": 100.0 * correct / max(seen, 1), "diverged": 1.0}
        loss.backward()
        if cfg.grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        loss_sum += float(loss.detach()) * len(b)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(b)
    return {"train_loss": loss_sum / max(seen, 1), "train_acc": 100.0 * correct / max(seen, 1), "diverged": 0.0}


# --------------------------------------------------------------------------------------------------
# The evaluator.
# --------------------------------------------------------------------------------------------------


#: ``Evaluation.failure`` of a run whose training loss became non-finite (NaN / inf).
DIVERGED = "diverged: the training loss became non-finite"


class TrainingInterrupted(NwotError):
    """Raised by an ``epoch_callback`` to stop training after a saved epoch (simulated kill)."""


EpochCallback = Callable[[str, int, Dict[str, float]], None]


@register_evaluator("train")
@dataclass
class TrainEvaluator:
    """Evaluator: train ``arch`` with ``config`` on ``data`` and return its validation accuracy.

    ``build_kwargs`` go to ``space.build`` (macro skeleton: e.g. ``C``/``N`` for ``pnas``);
    ``epoch_callback(encoding, epoch, stats)`` is called after each saved epoch (progress or tests).

    ``hook`` (a :class:`~nwot.evaluators.lineage.TrainHook`, e.g. LSE's weight inheritance) may change the
    config per arch (``hook.config``), initialise the fresh network before training (``hook.init``, e.g. from
    the parent's trained weights; not called when resuming a checkpoint) and receives the trained network
    (``hook.trained``, also for a cached candidate). Its ``key()`` joins the checkpoint key.

    A candidate that cannot be trained -- out of memory (``torch.OutOfMemoryError``, ``MemoryError``) or any
    other ``RuntimeError`` from torch (e.g. a shape error) -- is that candidate's failure, not the search's:
    :meth:`Evaluation.failed <nwot.evaluators.base.Evaluation.failed>` with the error as ``failure`` (and in
    ``info["error"]``) and the seconds spent as cost; nothing is cached, so a resumed search retries it. A
    run whose training loss becomes non-finite is failed too (``failure`` = :data:`DIVERGED`, its measured
    numbers kept in ``info``); it is deterministic, so it is cached. ``NwotError`` (bad input) still raises.

    ``follow_run_seed``: :meth:`for_run` gives each search run a copy training with ``config.seed`` = the
    run's seed (weight init, data split, batch order); otherwise every run uses ``config.seed``.
    """

    space: SearchSpace  # builds the candidate networks
    config: TrainConfig = field(default_factory=TrainConfig)  # training budget and hyper-parameters
    # training split; None = CIFAR-10 via nwot.data.datasets (data_dir / $NWOT_DATA_DIR)
    data: Optional[ImageData] = None
    build_kwargs: Mapping[str, Any] = field(default_factory=dict)  # macro config passed to space.build
    checkpoint_dir: Optional[os.PathLike] = None  # per-candidate checkpoint folders (None = no checkpoints)
    data_dir: Optional[os.PathLike] = None  # CIFAR-10 folder when data is None
    epoch_callback: Optional[EpochCallback] = None  # called after every finished (saved) epoch
    hook: Optional[Any] = None  # per-arch TrainHook (nwot.evaluators.lineage): lr gene, inherited init, kept weights
    follow_run_seed: bool = False  # for_run(seed) trains with config.seed = the run's seed

    def __post_init__(self) -> None:
        if self.data is None:
            self.data = cifar10_data(self.data_dir)
        self.device = resolve_device(self.config.device)
        self.train_idx, self.val_idx = split_indices(len(self.data), self.config.train_size, self.config.val_size,
                                                     self.config.seed)
        self.build_kwargs = dict(self.build_kwargs)

    cost_kind = "wall"

    def for_run(self, seed: int) -> TrainEvaluator:
        """The evaluator of search run ``seed``: itself, or with ``follow_run_seed`` a copy training with that seed."""
        if not self.follow_run_seed or seed == self.config.seed:
            return self
        return replace(self, config=replace(self.config, seed=seed))

    def describe(self) -> Dict[str, Any]:
        return {"evaluator": "train", "train_config": self.config.key(), "device": str(self.device),
                "build_kwargs": dict(self.build_kwargs), "data": self.data.name,
                "checkpoint_dir": None if self.checkpoint_dir is None else str(self.checkpoint_dir),
                **({"hook": self.hook.key()} if self.hook is not None else {})}

    # -- identity ---------------------------------------------------------------------------------
    def run_key(self, arch: Arch) -> Dict[str, Any]:
        """Everything that determines the trained network of ``arch``."""
        key = {"space": self.space.name, "arch": self.space.encode(arch), "config": self.config.key(),
               "build_kwargs": {k: self.build_kwargs[k] for k in sorted(self.build_kwargs)},
               "data": self.data.name, "num_classes": self.data.num_classes}
        if self.hook is not None:
            key["hook"] = self.hook.key()
        return key

    def checkpoint_path(self, arch: Arch) -> Optional[Path]:
        if self.checkpoint_dir is None:
            return None
        blob = json.dumps(self.run_key(arch), sort_keys=True, default=str).encode()
        return Path(self.checkpoint_dir) / f"{self.space.name}-{hashlib.sha1(blob).hexdigest()[:16]}"

    # -- training ---------------------------------------------------------------------------------
    def build(self, arch: Arch) -> nn.Module:
        from nwot.seeding import torch_seed

        with torch_seed(self.config.seed):
            return self.space.build(arch, num_classes=self.data.num_classes, **self.build_kwargs)

    def trained_model(self, arch: Arch) -> nn.Module:
        """The network of a finished candidate with its checkpointed weights (needs ``checkpoint_dir``)."""
        folder = self.checkpoint_path(arch)
        if folder is None or not (folder / "result.json").is_file():
            raise NwotError(f"no finished checkpoint for {self.space.encode(arch)!r}"
                            + ("" if folder is None else f" in {folder}")
                            + "; evaluate it with checkpoint_dir set first")
        model = self.build(arch)
        model.load_state_dict(torch.load(folder / "state.pt", map_location="cpu", weights_only=True)["model"])
        return model.to(self.device)

    def test_accuracy(self, arch: Arch, test: ImageData, size: Optional[int] = None) -> float:
        """Top-1 accuracy (%) of the trained ``arch`` on the first ``size`` images of ``test`` (all if None)."""
        idx = torch.arange(len(test) if size is None else min(size, len(test)))
        return evaluate_accuracy(self.trained_model(arch), test, idx, self.config.eval_batch_size, self.device)[0]

    def __call__(self, arch: Arch) -> Evaluation:
        folder = self.checkpoint_path(arch)
        if folder is not None and (folder / "result.json").is_file():
            stored = json.loads((folder / "result.json").read_text())
            if self.hook is not None:
                self.hook.trained(arch, self.trained_model(arch))
            info = {**stored["info"], "cached": True}
            # results written before failures were values name divergence in info only
            failure = stored.get("failure") or (DIVERGED if info.get("diverged") else None)
            if failure is not None:
                return Evaluation.failed(failure, float(stored["cost"]), **info)
            return Evaluation(signal=float(stored["signal"]), cost=float(stored["cost"]), info=info)
        t0 = time.perf_counter()
        try:
            return self._train(arch, folder)
        except (MemoryError, RuntimeError) as err:  # torch.OutOfMemoryError is a RuntimeError
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            reason = f"{type(err).__name__}: {str(err)[:500]}"
            return Evaluation.failed(reason, time.perf_counter() - t0, error=reason, device=str(self.device),
                                     cached=False)

    def _train(self, arch: Arch, folder: Optional[Path]) -> Evaluation:
        cfg, dev = self.config, self.device
        if self.hook is not None:
            cfg = self.hook.config(arch, cfg)
        model = self.build(arch)
        params = count_params(model)
        flops = count_flops(model, self.data.image_shape)
        state = None
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "arch.json").write_text(json.dumps(self.run_key(arch), indent=1, sort_keys=True, default=str))
            if (folder / "state.pt").is_file():
                state = torch.load(folder / "state.pt", map_location="cpu", weights_only=True)
        lineage: Dict[str, Any] = {}
        if self.hook is not None and state is None:
            lineage = {"lineage": self.hook.init(arch, model)}
        model.to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                              weight_decay=cfg.weight_decay)
        start_epoch, elapsed, history = 0, 0.0, []
        if state is not None:
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            start_epoch, elapsed, history = int(state["epoch"]), float(state["elapsed"]), list(state["history"])
        resumed_from = start_epoch
        enc = self.space.encode(arch)
        stats: Dict[str, float] = {}
        diverged = False
        for epoch in range(start_epoch, cfg.epochs):
            t0 = time.perf_counter()
            stats = train_epoch(model, opt, self.data, self.train_idx, cfg, epoch, dev)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            elapsed += time.perf_counter() - t0
            history.append({"epoch": epoch + 1, **stats})
            diverged = bool(stats["diverged"])
            if folder is not None:
                _atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch + 1,
                              "elapsed": elapsed, "history": history}, folder / "state.pt")
            if self.epoch_callback is not None:
                self.epoch_callback(enc, epoch + 1, stats)
            if diverged:
                break
        t0 = time.perf_counter()
        val_acc, val_loss = evaluate_accuracy(model, self.data, self.val_idx, cfg.eval_batch_size, dev)
        elapsed += time.perf_counter() - t0
        last = history[-1] if history else {}
        if self.hook is not None:
            self.hook.trained(arch, model)
        info = {"val_acc": val_acc, "val_loss": val_loss, "train_acc": last.get("train_acc"),
                "train_loss": last.get("train_loss"), "params": params, "flops": flops,
                "epochs": len(history), "diverged": diverged, "resumed_from_epoch": resumed_from,
                "device": str(dev), "cached": False, "lr": cfg.lr,
                "first_epoch_train_loss": history[0]["train_loss"] if history else None, **lineage}
        ev = Evaluation.failed(DIVERGED, elapsed, **info) if diverged else Evaluation(val_acc, elapsed, info)
        if folder is not None:
            tmp = folder / "result.json.tmp"
            tmp.write_text(json.dumps({"signal": val_acc, "cost": ev.cost, "info": info, "failure": ev.failure},
                                      indent=1))
            os.replace(tmp, folder / "result.json")
        return ev


def _atomic_save(obj: Dict[str, Any], path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)
