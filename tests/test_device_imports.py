"""The device path stays light: no torch, tensorflow, sklearn, train, export, or full opensmile."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

FORBIDDEN = ("torch", "tensorflow", "sklearn", "serdevice.train", "serdevice.export")


def test_every_device_module_imports_without_heavy_packages():
    code = textwrap.dedent(
        """
        import importlib, json, pkgutil, sys
        import serdevice.device as device
        import serdevice.device.cli
        names = [m.name for m in pkgutil.walk_packages(device.__path__, "serdevice.device.")]
        for name in names:
            importlib.import_module(name)
        print(json.dumps({"modules": names, "loaded": sorted(sys.modules)}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert "serdevice.device.features" in report["modules"]
    assert "serdevice.device.cli" in report["modules"]
    heavy = [m for m in report["loaded"] if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN)]
    assert heavy == []


def test_streaming_features_do_not_import_the_full_opensmile_package():
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from serdevice.device.features import extract_windows
        rows = extract_windows(np.zeros(16000 * 3, dtype=np.float32))
        print(len(rows), "opensmile" in sys.modules, "pandas" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False", "False"]
