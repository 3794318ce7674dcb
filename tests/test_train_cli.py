"""``serdevice train`` writes the run folder export relies on, with no pickle."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from serdevice.train.run import load_run

PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    from serdevice.train.corpora.generate import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, quick=True, progress=False)
    return out


def test_train_writes_the_run_folder_without_pickle(cli, corpus, tmp_path):
    run = tmp_path / "run"
    result = cli("train", "--method", "dae-metric-act", "--data", f"synth:{corpus}", "--epochs", "3",
                 "--out", str(run), "--cache-dir", str(tmp_path / "cache"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("config.json", "metrics.json", "encoder.pt", "norm.json", "heads.json",
                 "train_features.npy", "train_labels.npz", "loss.png"):  # fmt: skip
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["params"]["encoder_plus_head"] == 378 < 400
    assert config["labels"] == ["neutral", "sad", "happy", "angry"]
    heads = json.loads((run / "heads.json").read_text())
    assert np.array(heads["svc_coef"]).shape == (4, 2)
    for path in run.iterdir():
        assert path.read_bytes()[:2] not in PICKLE_MAGIC, path
    # torch's .pt is a zip of tensors that must load without unpickling arbitrary objects
    assert zipfile.is_zipfile(run / "encoder.pt")
    state = torch.load(run / "encoder.pt", weights_only=True)
    assert set(state) == {"hidden.weight", "hidden.bias", "mean.weight", "mean.bias"}
    np.load(run / "train_features.npy", allow_pickle=False)
    np.load(run / "train_labels.npz", allow_pickle=False)
    loaded = load_run(run)
    assert loaded.train_features.shape[1] == 88
    assert loaded.encoder(torch.zeros(1, 88)).shape == (1, 2)
    assert loaded.labels == ("neutral", "sad", "happy", "angry")
    # the saved features, encoded by the reloaded encoder, give the heads' scores (K columns)
    z = loaded.encoder(torch.as_tensor(loaded.train_features[:5])).detach().numpy()
    assert loaded.heads.scores(z).shape == (5, 4)


def test_device_cuda_falls_back_with_a_message(cli, corpus, tmp_path):
    result = cli("train", "--method", "vae", "--data", f"synth:{corpus}?language=en", "--epochs", "1",
                 "--device", "cuda", "--out", str(tmp_path / "r"), "--cache-dir", str(tmp_path / "c"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    if not torch.cuda.is_available():
        assert "no CUDA GPU is available here; training on the CPU" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "pca"], "unknown method 'pca'"),
        (["--method", "svc-egemaps"], "svc-egemaps has no encoder"),
        (["--method", "dae", "--data", "nosuch:/x"], "unknown corpus 'nosuch'"),
        (["--method", "dae", "--data", "synth:/no/such/dir"], "no such folder"),
    ],
)
def test_bad_requests_exit_2_with_one_line(cli, tmp_path, args, message):
    full = ["train", "--data", "synth:/x", "--out", str(tmp_path / "r")] + args
    result = cli(*full)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_empty_data_exits_2(cli, tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "manifest.csv").write_text(
        "path,corpus,speaker,gender,language,label,activation,valence,split_group\n"
    )
    result = cli(
        "train",
        "--method",
        "dae",
        "--data",
        f"synth:{tmp_path / 'c'}",
        "--out",
        str(tmp_path / "r"),
    )
    assert result.returncode == 2 and "no utterances found" in result.stderr
