"""The synthetic corpus: deterministic, four labels, Danish, dimensions, learnable but not trivial."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream.contracts import FEATURE_NAMES
from serdevice.train.corpora import load_spec


@pytest.fixture(scope="module")
def quick_corpus(tmp_path_factory) -> Path:
    from serdevice.train.corpora.generate import generate

    out = tmp_path_factory.mktemp("synth")
    generate(out, quick=True, progress=False)
    return out


def test_quick_corpus_via_cli_has_four_labels_danish_and_dimensions(cli, tmp_path):
    result = cli("data", "synth", str(tmp_path / "s"), "--quick")
    assert result.returncode == 0, result.stderr
    with (tmp_path / "s" / "manifest.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) <= 200
    assert {r["label"] for r in rows} == {"neutral", "sad", "happy", "angry"}
    assert "da" in {r["language"] for r in rows}
    activation = np.array([float(r["activation"]) for r in rows])
    assert ((activation >= 1) & (activation <= 5)).all()
    assert all(1 <= float(r["valence"]) <= 5 for r in rows)
    mean = {lab: activation[[r["label"] == lab for r in rows]].mean() for lab in ("sad", "angry")}
    assert mean["sad"] < 2.5 < 3.5 < mean["angry"]
    assert all((tmp_path / "s" / r["path"]).is_file() for r in rows)


def test_generation_is_deterministic(tmp_path):
    from serdevice.train.corpora.generate import generate

    def digest(folder: Path) -> str:
        h = hashlib.sha256()
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                h.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
        return h.hexdigest()

    kwargs = dict(
        languages=("da", "el"), speakers=1, sentences_per_speaker=2, seed=3, progress=False
    )
    generate(tmp_path / "a", **kwargs)
    generate(tmp_path / "b", jobs=1, **kwargs)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")


def test_features_extract_works_on_the_synth_spec(cli, quick_corpus, tmp_path):
    out = tmp_path / "clip.csv"
    result = cli(
        "features",
        "extract",
        f"synth:{quick_corpus}?language=da",
        "--level",
        "clip",
        "--out",
        str(out),
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert result.returncode == 0, result.stderr
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 32 and list(rows[0])[3:] == list(FEATURE_NAMES)


def test_learnable_but_not_trivial_leave_one_language_out(quick_corpus, tmp_path):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.preprocessing import StandardScaler

    from serdevice.train.features_batch import extract_table

    utts = load_spec(f"synth:{quick_corpus}").utterances
    table = extract_table([u.path for u in utts], level="clip", jobs=2, progress=False,
                          cache_dir=tmp_path / "cache")  # fmt: skip
    x = table[list(FEATURE_NAMES)].to_numpy()
    y = np.array([u.label.value for u in utts])
    language = np.array([u.language for u in utts])
    scores = []
    for held_out in sorted(set(language)):
        train, test = language != held_out, language == held_out
        scaler = StandardScaler().fit(x[train])
        model = LogisticRegression(max_iter=3000).fit(scaler.transform(x[train]), y[train])
        scores.append(balanced_accuracy_score(y[test], model.predict(scaler.transform(x[test]))))
    mean = float(np.mean(scores))
    print(f"\nleave-one-language-out logistic regression, 4 classes: balanced accuracy {mean:.3f} "
          f"(per language {[round(s, 2) for s in scores]})")  # fmt: skip
    assert 0.5 <= mean <= 0.98


def test_bundled_sample_is_what_the_generator_makes(tmp_path):
    from serdevice.train.corpora.generate import make_sample

    bundled = Path(__file__).resolve().parents[1] / "device" / "data" / "sample.wav"
    made = make_sample(tmp_path / "sample.wav")
    assert bundled.stat().st_size <= 400_000
    assert made.read_bytes() == bundled.read_bytes()
