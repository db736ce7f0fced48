"""Shared pytest fixtures and the ``real_data`` marker.

Data for tests comes from two roots with the same layout (``tests/_data_roots.py``):

* ``cut_data``: the tiny real fixtures committed under ``tests/data/shared`` (cut from the staged data by
  ``scripts/cut_test_fixtures.py``; provenance in its PROVENANCE.md). Always present: most tests use it.
* ``shared_data``: the full staged benchmark data, ``$NWOT_SHARED_DATA`` (default ``<repo>/../shared/data``,
  described in its MANIFEST.md). Only tests marked ``@pytest.mark.real_data`` may use it.
* ``data_root``: parametrised over both (``[cut]`` always runs, ``[full]`` is ``real_data``), for tests that
  check every row they have and, on the full files, whole-file facts too (``data_root.full``).

A ``real_data`` test whose data is missing is skipped with a one-line reason saying how to enable it,
except under CI (``$CI`` = ``true`` / ``1`` / ``yes``, as CI services set it), where it errors, so that CI
never skips them silently.
"""
from __future__ import annotations

import os

import pytest
import torch
from _data_roots import CUT_ROOT, DataRoot

from nwot.paths import SHARED_DATA_ENV, shared_data_dir

# One intra-op thread: test networks are tiny, and on a shared 2-core machine OpenMP spin-waiting with
# 2 threads made a forward pass 100x slower (6.7 s vs 0.04 s measured). Results are thread-independent.
torch.set_num_threads(1)

REAL_DATA = "real_data"
#: Fixtures giving the full staged data: a test using them must be marked real_data.
FULL_DATA_FIXTURES = {"shared_data", "full_data"}


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def real_data_missing() -> str:
    """Why the full staged data is unusable here ('' when it is present)."""
    root = shared_data_dir()
    if (root / "MANIFEST.md").is_file():
        return ""
    return (f"real benchmark data not found at {root}; set {SHARED_DATA_ENV} to the shared/data folder "
            f"to run it")


def gram_method_missing(method: str) -> str:
    """Why the Gram method ``method`` cannot run here ('' when it can): bitpack needs a C compiler."""
    from nwot.proxies import gram

    return gram.unavailable_methods().get(method, "")


def require_gram_method(method: str) -> None:
    """Skip a test that forces ``method`` where this machine cannot run it (fail under CI)."""
    missing = gram_method_missing(method)
    if missing:
        if under_ci():
            pytest.fail(f"gram method {method!r} unavailable: {missing} (CI is set: it may not be skipped)",
                        pytrace=False)
        pytest.skip(f"gram method {method!r} unavailable here: {missing}")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    method = getattr(getattr(item, "callspec", None), "params", {}).get("method")
    if isinstance(method, str) and method in ("int8", "bitpack"):
        require_gram_method(method)  # a test forcing a Gram method this machine may not run
    marked = item.get_closest_marker(REAL_DATA) is not None
    if not marked:
        if FULL_DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            pytest.fail(f"{item.nodeid} uses the full staged data but is not marked @pytest.mark.{REAL_DATA}; "
                        f"mark it, or use the committed cut (fixture cut_data)", pytrace=False)
        return
    reason = real_data_missing()
    if not reason:
        return
    if under_ci():
        pytest.fail(f"{reason} (CI is set: real_data tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cut_data() -> DataRoot:
    """The committed cut ``tests/data/shared`` (tiny real fixtures)."""
    if not (CUT_ROOT / "PROVENANCE.md").is_file():
        pytest.fail(f"committed test fixtures missing at {CUT_ROOT}; restore them from git or re-cut with "
                    f"`python scripts/cut_test_fixtures.py`")
    return DataRoot(CUT_ROOT, full=False)


@pytest.fixture(scope="session")
def full_data() -> DataRoot:
    """The full staged data as a :class:`DataRoot`; only for ``real_data`` tests."""
    return DataRoot(_shared_root(), full=True)


@pytest.fixture(scope="session")
def shared_data():
    """Root (a Path) of the full staged benchmark data; only for ``real_data`` tests."""
    return _shared_root()


def _shared_root():
    reason = real_data_missing()
    if reason:  # the setup hook skips (or fails) real_data tests first; this guards other callers
        pytest.fail(reason, pytrace=False)
    return shared_data_dir()


@pytest.fixture(scope="module", params=["cut", pytest.param("full", marks=pytest.mark.real_data)])
def data_root(request) -> DataRoot:
    """The cut, then (``real_data``) the full staged data. Module scope: pytest groups a module's tests by
    this parameter, not the whole session's."""
    if request.param == "cut":
        return request.getfixturevalue("cut_data")
    return request.getfixturevalue("full_data")


@pytest.fixture
def cut_as_shared_data(cut_data, monkeypatch) -> DataRoot:
    """Point ``$NWOT_SHARED_DATA`` (nwot's default benchmark paths) at the committed cut for one test."""
    monkeypatch.setenv(SHARED_DATA_ENV, str(cut_data.path))
    return cut_data


@pytest.fixture(scope="session")
def cifar10_sample():
    """The 1,280 real CIFAR-10 training images embedded in nwot (the first 1,280 of the staged JPEG-derived
    ``data_batch_1``, 128 per class) as :class:`nwot.data.training.ImageData`, like ``cifar10_data(root)``."""
    from nwot.data.datasets import NORMALISATION, load_embedded_sample
    from nwot.data.training import from_arrays

    images, labels, _ = load_embedded_sample()
    norm = NORMALISATION["cifar10"]
    return from_arrays(images, labels, num_classes=10, mean=norm.mean, std=norm.std,
                       name=f"cifar10-embedded:{len(labels)}")
