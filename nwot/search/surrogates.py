"""PNAS's accuracy predictors: an LSTM and an MLP over a cell's block tokens, each an ensemble.

Liu et al., "Progressive Neural Architecture Search", ECCV 2018, §3.3 and §5.2:

* a cell of b blocks is the token sequence ``(I_1, O_1, I_2, O_2)`` per block (length 4b); inputs and
  ops have separate embedding tables (dimension D) shared across positions;
* **LSTM**: reads the embedded sequence; its final hidden state goes through a linear layer and a
  sigmoid to regress validation accuracy (hidden size = embedding size = 100 in the paper);
* **MLP**: embeds each token, concatenates a block's embeddings (4D), averages over blocks, then a
  small MLP (hidden width 100) and a sigmoid;
* both are trained with the L1 loss; the predictor is an **ensemble of 5** models, member k trained
  on the data minus fold k of a 5-fold split (each on 4/5 of the data); predictions are averaged.

The cells are variable-length (the predictor trained on b-block cells ranks (b+1)-block cells), so the
LSTM packs padded sequences and the MLP averages over the real blocks only.

Target scale: the sigmoid head regresses ``0.1 + 0.8 (y - min y) / (max y - min y)`` over the fitted
signals (so any signal unit works: % accuracy, fractions, scores); predictions are mapped back.
Optimiser (Adam), epochs and batch size are our choices (the paper does not list them).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from nwot.errors import NwotError, check_choice

SURROGATE_KINDS: Tuple[str, ...] = ("lstm", "mlp")


@dataclass(frozen=True)
class SurrogateConfig:
    """A PNAS predictor ensemble."""

    kind: str = "lstm"  # "lstm" (PNAS's final choice) or "mlp"
    embed: int = 100  # token embedding size D (paper: 100)
    hidden: int = 100  # LSTM hidden size / MLP hidden width (paper: 100)
    mlp_layers: int = 2  # hidden layers of the MLP head
    ensemble: int = 5  # members; member k trains on all folds but k of an `ensemble`-fold split (paper: 5)
    epochs: int = 100  # passes over the training data per fit
    batch_size: int = 64  # Adam mini-batch size
    lr: float = 0.01  # Adam learning rate
    weight_decay: float = 0.0  # Adam weight decay

    def __post_init__(self) -> None:
        check_choice("surrogate kind", self.kind, SURROGATE_KINDS)
        for name in ("embed", "hidden", "mlp_layers", "ensemble", "epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise NwotError(f"SurrogateConfig.{name} must be an int >= 1, got {v!r}")
        if not self.lr > 0:
            raise NwotError(f"SurrogateConfig.lr must be > 0, got {self.lr!r}")


Tokens = Sequence[Tuple[int, ...]]


def pad_tokens(cells: Sequence[Tokens], width: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """(N, max_blocks, width) int64 ids padded with 0, and (N,) block counts."""
    if not cells:
        raise NwotError("no cells to encode")
    lengths = [len(c) for c in cells]
    if min(lengths) < 1:
        raise NwotError("every cell needs at least one block")
    out = np.zeros((len(cells), max(lengths), width), dtype=np.int64)
    for i, c in enumerate(cells):
        blocks = np.asarray(c, dtype=np.int64)
        if blocks.ndim != 2 or blocks.shape[1] != width:
            raise NwotError(f"cell {list(c)!r} must be blocks of {width} token ids each")
        out[i, :len(c)] = blocks
    out, n_blocks = torch.from_numpy(out), torch.tensor(lengths, dtype=torch.int64)
    return out, n_blocks


class TokenEmbedding(nn.Module):
    """One embedding table per token kind; (N, blocks, width) ids -> (N, blocks, width, D)."""

    def __init__(self, kinds: Sequence[str], vocab: Dict[str, int], dim: int) -> None:
        super().__init__()
        self.kinds = tuple(kinds)
        missing = [k for k in set(self.kinds) if k not in vocab]
        if missing:
            raise NwotError(f"no vocabulary size for token kinds {missing}; given {vocab}")
        self.tables = nn.ModuleDict({k: nn.Embedding(vocab[k], dim) for k in sorted(set(self.kinds))})

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.tables[k](ids[..., p]) for p, k in enumerate(self.kinds)], dim=2)


class LSTMPredictor(nn.Module):
    """Embedded token sequence (length width * blocks) -> LSTM -> last hidden -> linear -> sigmoid."""

    def __init__(self, kinds: Sequence[str], vocab: Dict[str, int], cfg: SurrogateConfig) -> None:
        super().__init__()
        self.embed = TokenEmbedding(kinds, vocab, cfg.embed)
        self.lstm = nn.LSTM(cfg.embed, cfg.hidden, batch_first=True)
        self.out = nn.Linear(cfg.hidden, 1)

    def forward(self, ids: torch.Tensor, n_blocks: torch.Tensor) -> torch.Tensor:
        e = self.embed(ids)  # (N, B, W, D)
        N, B, W, D = e.shape
        seq = e.reshape(N, B * W, D)
        packed = nn.utils.rnn.pack_padded_sequence(seq, n_blocks * W, batch_first=True, enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return torch.sigmoid(self.out(h[-1])).squeeze(1)


class MLPPredictor(nn.Module):
    """Per block concat of token embeddings (width * D) -> mean over real blocks -> MLP -> sigmoid."""

    def __init__(self, kinds: Sequence[str], vocab: Dict[str, int], cfg: SurrogateConfig) -> None:
        super().__init__()
        self.embed = TokenEmbedding(kinds, vocab, cfg.embed)
        layers: List[nn.Module] = []
        width = len(kinds) * cfg.embed
        for _ in range(cfg.mlp_layers):
            layers += [nn.Linear(width, cfg.hidden), nn.ReLU()]
            width = cfg.hidden
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, ids: torch.Tensor, n_blocks: torch.Tensor) -> torch.Tensor:
        e = self.embed(ids)
        N, B, W, D = e.shape
        blocks = e.reshape(N, B, W * D)
        mask = (torch.arange(B)[None, :] < n_blocks[:, None]).to(blocks.dtype)[..., None]
        mean = (blocks * mask).sum(1) / n_blocks[:, None].to(blocks.dtype)
        return torch.sigmoid(self.mlp(mean)).squeeze(1)


PREDICTORS = {"lstm": LSTMPredictor, "mlp": MLPPredictor}


def fold_assignment(n: int, k: int, gen: torch.Generator) -> torch.Tensor:
    """Fold id in 0..k-1 of each of n items (a seeded permutation dealt round-robin)."""
    perm = torch.randperm(n, generator=gen)
    folds = torch.empty(n, dtype=torch.int64)
    folds[perm] = torch.arange(n) % k
    return folds


class EnsembleSurrogate:
    """Fit / predict an ensemble of PNAS predictors on token sequences (see the module docstring)."""

    def __init__(self, kinds: Sequence[str], vocab: Dict[str, int], cfg: SurrogateConfig = SurrogateConfig()) -> None:
        self.kinds, self.vocab, self.cfg = tuple(kinds), dict(vocab), cfg
        self.models: List[nn.Module] = []
        self.lo, self.hi = 0.0, 1.0
        self.train_l1: Optional[float] = None  # mean L1 (signal units) of the ensemble on its training data

    def _scale(self, y: torch.Tensor) -> torch.Tensor:
        return 0.1 + 0.8 * (y - self.lo) / (self.hi - self.lo)

    def _unscale(self, p: torch.Tensor) -> torch.Tensor:
        return self.lo + (p - 0.1) * (self.hi - self.lo) / 0.8

    def fit(self, cells: Sequence[Tokens], targets: Sequence[float], seed: int) -> EnsembleSurrogate:
        """Train every member from scratch on its 4/5 of ``(cells, targets)`` (``seed`` fixes init, folds, order)."""
        from nwot.seeding import torch_seed

        y = torch.tensor([float(t) for t in targets], dtype=torch.float32)
        if len(y) != len(cells) or len(y) < 1 or not torch.isfinite(y).all():
            raise NwotError(f"surrogate needs finite targets, one per cell; "
                            f"got {len(y)} targets for {len(cells)} cells")
        ids, nb = pad_tokens(cells, len(self.kinds))
        self.lo, self.hi = float(y.min()), float(y.max())
        if self.hi - self.lo < 1e-12:
            self.hi = self.lo + 1.0
        ys = self._scale(y)
        gen = torch.Generator().manual_seed(seed)
        k = self.cfg.ensemble
        folds = fold_assignment(len(y), k, gen) if k > 1 and len(y) >= k else None
        self.models = []
        for m in range(k):
            keep = torch.arange(len(y)) if folds is None else torch.nonzero(folds != m).squeeze(1)
            with torch_seed(seed * 7919 + m):
                model = PREDICTORS[self.cfg.kind](self.kinds, self.vocab, self.cfg)
            self._train(model, ids[keep], nb[keep], ys[keep], gen)
            self.models.append(model)
        self.train_l1 = float((self.predict(cells) - y.numpy()).__abs__().mean())
        return self

    def _train(self, model: nn.Module, ids: torch.Tensor, nb: torch.Tensor, y: torch.Tensor,
               gen: torch.Generator) -> None:
        opt = torch.optim.Adam(model.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        model.train()
        n = len(y)
        for _ in range(self.cfg.epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, self.cfg.batch_size):
                b = order[start:start + self.cfg.batch_size]
                opt.zero_grad(set_to_none=True)
                loss = F.l1_loss(model(ids[b], nb[b]), y[b])
                loss.backward()
                opt.step()
        model.eval()

    def predict(self, cells: Sequence[Tokens], batch_size: int = 4096) -> np.ndarray:
        """Mean ensemble prediction per cell, in the units of the fitted targets."""
        if not self.models:
            raise NwotError("surrogate has not been fitted")
        out = []
        with torch.no_grad():
            for start in range(0, len(cells), batch_size):
                ids, nb = pad_tokens(cells[start:start + batch_size], len(self.kinds))
                p = torch.stack([m(ids, nb) for m in self.models]).mean(0)
                out.append(self._unscale(p))
        return torch.cat(out).numpy().astype(np.float64)
