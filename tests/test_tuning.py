"""Hyper-parameter choice on a speaker-disjoint validation split of the training corpus only."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from serdevice.device.stream.contracts import InputError
from serdevice.train.dataset import FeatureSet
from serdevice.train.tuning import check_disjoint, read_choices, speakers, validation_split

CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def _features(corpus: str, groups: list[str], per_group: int = 3) -> FeatureSet:
    """Rows with the given speaker groups (features irrelevant here)."""
    group = np.repeat(np.array(groups), per_group)
    n = len(group)
    return FeatureSet(x=np.zeros((n, 88)), label=np.full(n, "neutral"),
                      activation=np.full(n, 2.5), valence=np.full(n, 3.0), group=group,
                      language=np.full(n, "en"), corpus=np.full(n, corpus),
                      file=np.array([f"{g}_{i}.wav" for i, g in enumerate(group)]))  # fmt: skip


def test_validation_split_holds_out_whole_speakers_disjoint_from_the_fit_part():
    data = _features("ravdess", [f"ravdess:Actor_{i:02d}" for i in range(1, 25)])
    fit_part, validation = validation_split(data, fraction=0.2, seed=0)
    assert len(set(validation.group)) == 5  # a fifth of 24 speakers, whole
    assert not set(validation.group) & set(fit_part.group)
    assert len(fit_part) + len(validation) == len(data)
    assert set(validation_split(data, seed=1)[1].group) != set(validation.group)  # seeded


def test_check_disjoint_refuses_a_target_that_shares_a_validation_speaker():
    data = _features("synth", ["en-m1", "en-f1", "en-m2", "en-f2", "en-m3"])
    validation = validation_split(data, fraction=0.2, seed=0)[1]
    check_disjoint(validation, [_features("synth", ["de-m1", "de-f1"])])
    leaked = _features("synth", [str(validation.group[0]), "de-f1"])
    with pytest.raises(InputError, match="validation speakers also in a target"):
        check_disjoint(validation, [leaked])
    # the same speaker code in another corpus is another person
    check_disjoint(validation, [_features("emovo", [str(validation.group[0])])])


@pytest.mark.skipif(not CORPORA.is_dir(), reason=f"{CORPORA} is absent")
def test_validation_split_of_ravdess_shares_no_speaker_with_the_real_targets():
    from serdevice.train.corpora import load_spec

    def listed(name: str) -> FeatureSet:  # the loaders' speakers, no feature extraction
        utterances = load_spec(f"{name}:{CORPORA / name}").utterances
        groups = [u.split_group for u in utterances]
        data = _features(name, groups, per_group=1)
        return FeatureSet(**{**{k: getattr(data, k) for k in data.__dataclass_fields__},
                             "corpus": np.array([u.corpus for u in utterances])})  # fmt: skip

    validation = validation_split(listed("ravdess"))[1]
    targets = [listed(name) for name in ("savee", "urdu", "emovo", "tess")]
    check_disjoint(validation, targets)
    assert all(not speakers(validation) & speakers(t) for t in targets)
    assert len(set(validation.group)) == 5


def test_read_choices_accepts_its_own_file_and_refuses_unknown_knobs(tmp_path):
    good = tmp_path / "choices.json"
    good.write_text(json.dumps({"choices": {"dae": {"noise": 0.2}, "vae": {}}}))
    assert read_choices(good) == {"dae": {"noise": 0.2}, "vae": {}}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"choices": {"dae": {"dropout": 0.5}}}))
    with pytest.raises(InputError, match="unknown method or knob"):
        read_choices(bad)
    with pytest.raises(InputError, match="not a readable choices file"):
        read_choices(tmp_path / "missing.json")
