"""`predict` on many short clips (single words, 0.4-2 s): files per second, same answers."""

from __future__ import annotations

from serdevice.device.benchmark import predict_throughput, short_clips


def test_predict_many_short_clips(figures, quick, tmp_path):
    paths = short_clips(tmp_path, 20 if quick else 120)
    measured = predict_throughput(paths)
    figures.add("predict: short clips per second", measured["predict_files_per_s"], "files/s",
                budget=30.0, lower_is_better=False)  # fmt: skip
    assert measured["identical"]  # several at a time gives exactly the one-at-a-time answers
