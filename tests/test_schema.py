"""device/stream/schema.py: the one validator behind sidecars, calibration files and stored events."""

from __future__ import annotations

import json

import pytest

from serdevice.device.clinic.store import event_row
from serdevice.device.stream.contracts import InputError
from serdevice.device.stream.schema import Fields, read_json


def test_fields_names_the_first_bad_field():
    fields = Fields({"n": 3, "flag": True, "x": [1.0, 2.0]}, "thing")
    assert fields.get("n", int) == 3
    with pytest.raises(InputError, match=r"^thing invalid: flag: expected int, got bool$"):
        fields.get("flag", int)  # JSON's true is not a number here
    with pytest.raises(InputError, match=r"^thing invalid: gone: missing$"):
        fields.get("gone", str)
    with pytest.raises(InputError, match=r"^thing invalid: n: expected a number, got str"):
        Fields({"n": "3"}, "thing").get("n", (int, float))
    with pytest.raises(InputError, match="the top level must be a JSON object"):
        Fields([1, 2], "thing")


@pytest.mark.parametrize(
    ("values", "kwargs", "why"),
    [
        ([1.0], {}, "expected 2 numbers, got 1"),
        ([1.0, float("nan")], {}, "every value must be a finite number"),
        ([1.0, 1e31], {}, "every value must be a finite number"),
        ([1.0, True], {}, "every value must be a finite number"),
        ([1.0, 0.0], {"minimum": 0}, "every value must be > 0"),
        ([1.0, -1.0], {"minimum": 0, "strict": False}, "every value must be >= 0"),
    ],
)
def test_numbers_are_checked(values, kwargs, why):
    with pytest.raises(InputError, match=f"^thing invalid: x: {why}$"):
        Fields({"x": values}, "thing").numbers("x", 2, **kwargs)


def test_numbers_pass_through_as_floats():
    assert Fields({"x": [1, 0.0]}, "t").numbers("x", 2, minimum=0, strict=False) == (1.0, 0.0)


def test_read_json_says_what_is_wrong_with_the_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_json(tmp_path / "none.json", "sidecar")
    with pytest.raises(InputError, match="is a directory, not a sidecar file"):
        read_json(tmp_path, "sidecar")
    (tmp_path / "big.json").write_text("[" + "0," * 100 + "0]")
    with pytest.raises(InputError, match="too large to be a calibration file"):
        read_json(tmp_path / "big.json", "calibration", max_bytes=100)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match="bad.json: not a JSON sidecar file"):
        read_json(tmp_path / "bad.json", "sidecar")
    assert read_json(tmp_path / "big.json", "calibration")[0] == 0


@pytest.mark.parametrize(
    "event",
    [[1], {"seq": 1, "type": "stop"}, {"session": "", "seq": 1, "type": "stop"},
     {"session": "s", "seq": True, "type": "stop"}, {"session": "s", "seq": 1}],
)  # fmt: skip
def test_a_stored_event_must_be_a_serdevice_event(event):
    with pytest.raises(ValueError, match="event invalid"):
        event_row("dev1", json.dumps(event), 1.0)
