"""The allow-list unpickler refuses code execution and accepts the real benchmark pickles."""
import bz2
import os
import pickle
from collections import OrderedDict

import numpy as np
import pytest

from nwot.errors import BenchmarkFileError, UnsafePickleError
from nwot.safe_pickle import safe_load, safe_loads


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_malicious_pickle_is_refused(tmp_path):
    p = tmp_path / "evil.pickle.pbz2"
    p.write_bytes(bz2.compress(pickle.dumps(_Evil())))
    with pytest.raises(UnsafePickleError, match="system"):
        safe_load(p)


def test_malicious_pickle_names_the_global():
    with pytest.raises(UnsafePickleError, match=r"posix\.system|os\.system|nt\.system"):
        safe_loads(pickle.dumps(_Evil()))


def test_allowed_types_round_trip():
    obj = OrderedDict(a=np.arange(6, dtype=np.uint8).reshape(2, 3), b=np.float64(1.5), c={1, 2})
    back = safe_loads(pickle.dumps(obj))
    assert isinstance(back, OrderedDict)
    np.testing.assert_array_equal(back["a"], obj["a"])
    assert back["b"] == 1.5 and back["c"] == {1, 2}


def test_real_nats_meta_loads(cut_data):
    meta = safe_load(cut_data / "nats" / "NATS-tss-v1_0-3ffb9-simple" / "meta.pickle.pbz2")
    assert meta["total_archs"] == 15625
    assert meta["meta_archs"][0] == (
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|")


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(BenchmarkFileError, match="not found.*nope.pbz2.*https://x"):
        safe_load(tmp_path / "nope.pbz2", source="https://x")
    bad = tmp_path / "bad.pickle.pbz2"
    bad.write_bytes(b"definitely not bz2")
    with pytest.raises(BenchmarkFileError, match="corrupt.*bad.pickle.pbz2"):
        safe_load(bad)
