"""One mechanism each: writing a file whole or not at all (device/stream/files.py), retrying with
backoff (device/stream/retry.py)."""

from __future__ import annotations

import numpy as np
import pytest

from serdevice.device.stream.contracts import RuntimeFailure
from serdevice.device.stream.files import replacing, write_atomically


def test_a_failed_write_leaves_the_old_file_and_no_partial(tmp_path):
    target = tmp_path / "cache" / "rows.npy"
    write_atomically(target, b"old")
    with pytest.raises(ValueError), replacing(target) as partial:
        partial.write_bytes(b"half")
        raise ValueError("the writer failed")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["rows.npy"]


def test_the_extension_stays_last_for_writers_that_go_by_it(tmp_path):
    target = tmp_path / "rows.npy"
    with replacing(target) as partial:
        assert partial.suffix == ".npy" and partial.parent == tmp_path
        np.save(partial, np.arange(3), allow_pickle=False)  # would append .npy otherwise
    assert np.load(target).tolist() == [0, 1, 2]


def test_a_disk_that_refuses_is_one_line(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "x.json").mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(RuntimeFailure, match=r"^state x: cannot write"):
        write_atomically(folder / "x.json", "{}", what="state x")
    assert [p.name for p in folder.iterdir()] == ["x.json"]


def test_retry_waits_by_the_schedule_and_stops_when_told():
    from serdevice.device.stream.retry import doubling, retry

    assert doubling(0.25, 10.0) == (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
    tries, waited = [], []

    def attempt():
        tries.append(1)
        if len(tries) < 4:
            raise OSError("down")
        return "up"

    assert retry(attempt, errors=(OSError,), schedule=(1.0, 2.0),
                 wait=lambda s: waited.append(s) or False) == "up"  # fmt: skip
    assert waited == [1.0, 2.0, 2.0]  # the last wait repeats
    assert retry(lambda: 1 / 0, errors=(ZeroDivisionError,),
                 schedule=(1.0,), wait=lambda s: True) is None  # fmt: skip
