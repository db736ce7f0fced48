"""Weight inheritance for training evaluators (Real et al., "Large-Scale Evolution of Image Classifiers",
ICML 2017, §3.2-3.3: "children inherit their parent's weights whenever possible").

A :class:`TrainHook` lets :class:`~nwot.evaluators.train.TrainEvaluator` train an arch the way its
lineage asks for, without the evaluator knowing the space:

* ``config(arch, cfg)``: the training config of this arch (LSE: the genome's learning-rate gene);
* ``init(arch, model)``: called on the freshly built network before training from scratch (not when
  resuming a checkpoint); LSE copies the parent's trained tensors into it; returns what it did (recorded
  in the evaluation's ``info``);
* ``trained(arch, model)``: called with the trained network; LSE keeps its weights for its children.

Inheritance rule (:func:`inherit_state`): every entry of the child's ``state_dict`` (parameters and batch-norm
buffers) whose *name* exists in the parent's trained state with the *same shape* is copied bit for bit;
every other entry keeps the child's fresh initialisation. LSE layers are named by the genome's persistent
vertex / edge ids (:mod:`nwot.spaces.lse.model`), so "same name, same shape" is "the layer is unchanged".
``reset-weights`` children (``Individual.inherits`` false) keep their fresh He initialisation.

:class:`WeightStore` holds trained weights by individual ``uid`` (CPU copies in memory, and on disk when
given a folder, so a restarted controller or another worker process finds them).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Protocol, Tuple

import torch
import torch.nn as nn

from nwot.errors import NwotError

State = Dict[str, torch.Tensor]


class TrainHook(Protocol):
    def key(self) -> Dict[str, Any]: ...  # identity of the hook's effect (joins the checkpoint key)

    def config(self, arch: Any, cfg: Any) -> Any: ...

    def init(self, arch: Any, model: nn.Module) -> Dict[str, Any]: ...

    def trained(self, arch: Any, model: nn.Module) -> None: ...


@dataclass(frozen=True)
class InheritReport:
    copied: Tuple[str, ...]  # state entries copied from the parent (same name and shape)
    reshaped: Tuple[str, ...]  # entries the parent has with another shape: left at the fresh init
    new: Tuple[str, ...]  # entries the parent does not have: left at the fresh init


def inherit_state(model: nn.Module, parent: Mapping[str, torch.Tensor]) -> InheritReport:
    """Copy into ``model`` (in place) every ``parent`` tensor whose name and shape match; see the module docstring."""
    copied, reshaped, new = [], [], []
    with torch.no_grad():
        for name, t in model.state_dict().items():
            p = parent.get(name)
            if p is None:
                new.append(name)
            elif tuple(p.shape) != tuple(t.shape):
                reshaped.append(name)
            else:
                t.copy_(p.to(t.device, t.dtype))
                copied.append(name)
    return InheritReport(tuple(copied), tuple(reshaped), tuple(new))


def cpu_state(model: nn.Module) -> State:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


class WeightStore:
    """``uid -> trained state_dict``; in memory, and under ``folder/<uid>.pt`` when a folder is given."""

    def __init__(self, folder: Optional[os.PathLike] = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self._mem: Dict[str, State] = {}

    def _path(self, uid: str) -> Path:
        if not uid or any(ch in uid for ch in "/\\."):
            raise NwotError(f"a weight-store key must be a plain non-empty name, got {uid!r}")
        return self.folder / f"{uid}.pt"  # type: ignore[operator]

    def put(self, uid: str, state: Mapping[str, torch.Tensor]) -> None:
        state = {k: v.detach().to("cpu", copy=True) for k, v in state.items()}
        if self.folder is not None:
            path, tmp = self._path(uid), self._path(uid).with_suffix(".tmp")
            torch.save(state, tmp)
            os.replace(tmp, path)
        self._mem[uid] = state

    def get(self, uid: str) -> Optional[State]:
        if uid in self._mem:
            return self._mem[uid]
        if self.folder is not None and self._path(uid).is_file():
            state = torch.load(self._path(uid), map_location="cpu", weights_only=True)
            self._mem[uid] = state
            return state
        return None

    def __contains__(self, uid: str) -> bool:
        return uid in self._mem or (self.folder is not None and self._path(uid).is_file())

    def forget(self, uid: str) -> None:
        """Drop ``uid``'s weights (a dead individual with no child in flight)."""
        self._mem.pop(uid, None)
        if self.folder is not None and self._path(uid).is_file():
            self._path(uid).unlink()

    def __len__(self) -> int:
        return len(self._mem)


class LseLineage:
    """:class:`TrainHook` for ``lse`` individuals: learning-rate gene, weight inheritance, weight keeping.

    ``inherit=False`` is the ablation: every child trains from its own fresh He initialisation (the
    learning-rate gene still applies). The learning rate of an individual replaces ``cfg.lr``; ``cfg.lr_min``
    is scaled by the same factor (a constant-rate preset, ``lr_min == lr``, stays constant).
    """

    def __init__(self, store: Optional[WeightStore] = None, inherit: bool = True) -> None:
        self.store = store if store is not None else WeightStore()
        self.inherit = bool(inherit)

    def key(self) -> Dict[str, Any]:
        return {"hook": "lse-lineage", "inherit": self.inherit}

    def config(self, arch: Any, cfg: Any) -> Any:
        lr = float(arch.genome.learning_rate)
        return replace(cfg, lr=lr, lr_min=lr if cfg.lr_min == cfg.lr else min(lr, cfg.lr_min * lr / cfg.lr))

    def init(self, arch: Any, model: nn.Module) -> Dict[str, Any]:
        if not (self.inherit and arch.inherits):
            return {"parent": arch.parent or None, "inherited": 0, "fresh": len(model.state_dict())}
        state = self.store.get(arch.parent)
        if state is None:
            raise NwotError(f"no trained weights of parent {arch.parent!r} for child {arch.uid!r} (was the parent "
                            f"trained with this weight store, or forgotten too early?)")
        rep = inherit_state(model, state)
        return {"parent": arch.parent, "inherited": len(rep.copied), "fresh": len(rep.reshaped) + len(rep.new),
                "reshaped": list(rep.reshaped)}

    def trained(self, arch: Any, model: nn.Module) -> None:
        self.store.put(arch.uid, cpu_state(model))  # kept with inherit=False too: the chosen one is reported
