"""train/cache.py: the one mechanism behind the features, device-rows, rows, childlike and
channel caches."""

from __future__ import annotations

import numpy as np
import pytest

from serdevice.train import cache


def test_an_entry_is_computed_once_then_read(tmp_path):
    calls = []

    def compute() -> np.ndarray:
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(2, 3)

    path = tmp_path / "kind" / "key.npy"
    first, hit = cache.array(path, compute)
    again, hit_again = cache.array(path, compute)
    assert (hit, hit_again, len(calls)) == (False, True, 1)
    np.testing.assert_array_equal(first, again)
    assert [p.name for p in path.parent.iterdir()] == ["key.npy"]  # no temporary file left


def test_a_damaged_entry_is_computed_again(tmp_path):
    path = tmp_path / "key.npy"
    path.write_bytes(b"\x93NUMPY half a file")
    rows, hit = cache.array(path, lambda: np.ones(3))
    assert not hit and rows.tolist() == [1.0, 1.0, 1.0]
    assert cache.array(path, lambda: np.zeros(3))[0].tolist() == [1.0, 1.0, 1.0]


def test_a_file_entry_is_written_once_and_a_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "copy.flac"
    cache.file(path, lambda partial: partial.write_bytes(b"first"))
    cache.file(path, lambda partial: partial.write_bytes(b"second"))
    assert path.read_bytes() == b"first"

    def fails(partial):
        partial.write_bytes(b"half")
        raise OSError("disk full")

    broken = tmp_path / "other.flac"
    with pytest.raises(OSError, match="disk full"):
        cache.file(broken, fails)
    assert list(tmp_path.iterdir()) == [path]


def test_the_kinds_sit_beside_the_features_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.default_cache_dir() == tmp_path / "serdevice" / "features"
    assert cache.folder("channel") == tmp_path / "serdevice" / "channel"
    assert cache.folder("rows", tmp_path / "mine" / "features") == tmp_path / "mine" / "rows"
