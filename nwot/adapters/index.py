"""One door per identity (STYLE.md habit 6): arch string / op vector / channel tuple / index -> index.

Used by every NB201 / NATS backend so that they all accept the same inputs:

* ``int`` (or anything with ``__index__``): the benchmark index itself;
* ``str``: the benchmark's arch string (NB201 ``|op~0|+|op~0|op~1|+...``, SSS ``c0:c1:c2:c3:c4``);
* a sequence: NB201 op ids in string order / op names (MANIFEST ``nb201_op_vector``), SSS channels;
* an object with ``tostr()`` (the official API's structure objects).

With ``resolve_isomorph=True`` an NB201 cell maps to the *lowest* index of its isomorphism class
(equal :func:`nwot.spaces.nb201.codec.unique_str`, NATS-Bench's ``get_unique_str``); SSS configs have no
isomorphs.
"""
from __future__ import annotations

import numbers
import re
from typing import Any, Dict, List, Optional, Sequence

from nwot.errors import NwotError, OutOfSpaceError, check_choice

INDEXED_SPACES = ("nb201", "nats_sss")
#: How messages name each space's index.
SPACE_LABELS = {"nb201": "NB201", "nats_sss": "NATS-SSS"}


def detect_space(arch: str) -> str:
    """``"nb201"`` for ``|op~0|+...`` strings, ``"nats_sss"`` for ``c0:c1:c2:c3:c4``."""
    if isinstance(arch, str) and arch.startswith("|"):
        return "nb201"
    if isinstance(arch, str) and re.fullmatch(r"\d+(:\d+){4}", arch):
        return "nats_sss"
    raise NwotError(f"cannot tell the search space of arch {arch!r}: expected an NB201 string '|op~0|+...' "
                    f"or an SSS config 'c0:c1:c2:c3:c4'")


class ArchIndex:
    """Index of a benchmark's arch list (``meta_archs``) for the space ``space``."""

    def __init__(self, archs: Sequence[str], space: str, name: str = "benchmark") -> None:
        check_choice("indexed space", space, INDEXED_SPACES)
        self.archs: List[str] = list(archs)
        self.space, self.name = space, name
        self._index: Dict[str, int] = {}
        for i, a in enumerate(self.archs):
            if a in self._index:
                raise OutOfSpaceError(f"{name}: arch {a!r} listed twice (indices {self._index[a]} and {i})")
            self._index[a] = i
        self._lowest_isomorph: Optional[List[int]] = None

    def __len__(self) -> int:
        return len(self.archs)

    def arch(self, index: int) -> str:
        return self.archs[self.check_index(index)]

    def check_index(self, index: Any) -> int:
        if isinstance(index, bool) or not hasattr(index, "__index__"):
            raise OutOfSpaceError(f"{self.name} index must be an int, got {index!r}")
        index = int(index)
        if not 0 <= index < len(self.archs):
            raise OutOfSpaceError(f"{self.name}: {SPACE_LABELS[self.space]} index {index} out of range; allowed "
                                  f"0..{len(self.archs) - 1}")
        return index

    def normalise(self, arch: Any) -> str:
        """Canonical arch string of ``arch`` (a string, op vector or channel tuple); raises if malformed."""
        if not isinstance(arch, str) and hasattr(arch, "tostr"):
            arch = arch.tostr()
        if self.space == "nb201":
            from nwot.spaces import nb201

            try:
                return nb201.format_arch(nb201.to_arch(arch))
            except TypeError as e:
                raise OutOfSpaceError(f"{self.name}: cannot read {arch!r} as an NB201 arch (string, op names "
                                      f"or op ids {', '.join(f'{i} {o}' for i, o in enumerate(nb201.OPS))})") from e
        from nwot.spaces import nats_sss

        try:
            return nats_sss.format_arch(nats_sss.to_arch(arch))
        except TypeError as e:
            raise OutOfSpaceError(f"{self.name}: cannot read {arch!r} as an SSS config ('c0:c1:c2:c3:c4' or "
                                  f"5 channel counts)") from e

    def index_of(self, arch: Any, *, resolve_isomorph: bool = False) -> int:
        if isinstance(arch, bool):
            raise OutOfSpaceError(f"{self.name}: {arch!r} is not an arch or index")
        if isinstance(arch, numbers.Integral):
            index = self.check_index(arch)
        else:
            s = self.normalise(arch)
            if s not in self._index:
                raise OutOfSpaceError(f"{self.name}: arch {s!r} is not in this benchmark's list of {len(self)} archs")
            index = self._index[s]
        if resolve_isomorph and self.space == "nb201":
            index = self.lowest_isomorphs()[index]
        return index

    def lowest_isomorphs(self) -> List[int]:
        """``m[i]`` = lowest index with the same ``unique_str`` as index ``i`` (computed once)."""
        if self._lowest_isomorph is None:
            from nwot.spaces.nb201.codec import unique_str

            first: Dict[str, int] = {}
            out = []
            for i, a in enumerate(self.archs):
                out.append(first.setdefault(unique_str(a), i))
            self._lowest_isomorph = out
        return self._lowest_isomorph
