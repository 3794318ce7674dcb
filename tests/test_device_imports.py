"""The device path stays light: no torch, tensorflow, sklearn, train, export, or full opensmile."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

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
    assert "serdevice.device.stream.features" in report["modules"]
    assert "serdevice.device.cli" in report["modules"]
    heavy = [m for m in report["loaded"] if m.split(".")[0] in FORBIDDEN or m.startswith(FORBIDDEN)]
    assert heavy == []


def test_streaming_features_do_not_import_the_full_opensmile_package():
    code = textwrap.dedent(
        """
        import sys, numpy as np
        from serdevice.device.stream.features import extract_windows
        rows = extract_windows(np.zeros(16000 * 3, dtype=np.float32))
        print(len(rows), "opensmile" in sys.modules, "pandas" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2", "False", "False"]


# --- the layers (device/__init__.py says what each is) --------------------------------------

DEVICE = Path(__file__).resolve().parents[1] / "device"
# Each layer may import its own and the layers before it in this order, nothing after. The
# first four are device/'s sub-packages; the CLI is device/ itself (cli, benchmark, commands/).
ORDER = ("stream", "sinks", "clinic", "deployment", "cli")
PACKAGES = ORDER[:-1]
CLI = {"__init__", "cli", "benchmark"}  # device/*.py
STREAM_NEVER = ("click", "paho", "psycopg")
CLINIC_NEVER = ("opensmile", "ai_edge_litert", "tflite_runtime", "sounddevice", "webrtcvad")


def layer_of(parts: tuple[str, ...]) -> str:
    """The layer of a module named by its path under device/, e.g. ("stream", "pipeline")."""
    return parts[0] if parts and parts[0] in PACKAGES else "cli"


def modules(layer: str) -> list[str]:
    return sorted(f"{layer}.{p.stem}" for p in (DEVICE / layer).glob("*.py"))


def device_imports(path: Path, device: Path = DEVICE) -> set[tuple[str, ...]]:
    """The device modules a file imports (relative or absolute), as paths under device/."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(device).parent.parts  # (), ("commands",), ("stream",), ...
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.startswith("serdevice.device"):
                parts = node.module.split(".")[2:]
            else:
                continue
            found.add(tuple(parts) if parts else (node.names[0].name,))
    return found


def test_every_device_module_is_in_a_layers_folder():
    top = {p.stem for p in DEVICE.glob("*.py")}
    assert top - CLI == set(), "a new module goes in a layer's folder (device/__init__.py)"
    folders = {p.parent.name for p in DEVICE.glob("*/*.py")}
    assert folders - {"data", "models"} == {*PACKAGES, "commands"}  # two data packages
    for package in PACKAGES:
        assert (DEVICE / package / "__init__.py").read_text().startswith('"""'), package


def test_each_layer_imports_only_itself_and_the_layers_before_it():
    wrong = []
    for path in DEVICE.rglob("*.py"):
        if path == DEVICE / "__init__.py":
            continue
        own = layer_of(path.relative_to(DEVICE).parts)
        for target in device_imports(path):
            if target[0] in ("__version__", "data", "models"):  # the version, data files
                continue
            if ORDER.index(layer_of(target)) > ORDER.index(own):
                wrong.append(f"{path.relative_to(DEVICE)} ({own}) imports "
                             f"{'.'.join(target)} ({layer_of(target)})")  # fmt: skip
    assert wrong == []


def test_a_module_that_imports_upward_is_caught(tmp_path):
    """The rule above can fail: a stream module importing a sink is reported."""
    stream = tmp_path / "device" / "stream"
    stream.mkdir(parents=True)
    (stream / "bad.py").write_text("from ..sinks.outputs import Stdout\nfrom .events import x\n")
    found = device_imports(stream / "bad.py", tmp_path / "device")
    assert {layer_of(t) for t in found} == {"sinks", "stream"}


def imports_without(modules: list[str], blocked: tuple[str, ...]) -> subprocess.CompletedProcess:
    code = textwrap.dedent(
        f"""
        import importlib, sys
        for name in {list(blocked)!r}:
            sys.modules[name] = None  # import name -> ModuleNotFoundError
        for module in {modules!r}:
            importlib.import_module("serdevice.device." + module)
        print("ok")
        """
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_the_stream_imports_without_click_paho_or_psycopg():
    result = imports_without(modules("stream"), STREAM_NEVER)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_clinic_side_imports_without_opensmile_litert_or_sounddevice():
    result = imports_without(modules("clinic"), CLINIC_NEVER)
    assert result.stdout.strip() == "ok", result.stderr


def test_train_never_imports_export():
    # export builds on train (its run folders, heads, metrics); the other way would be a cycle
    root = DEVICE.parent / "train"
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])  # fmt: skip
            found += [
                f"{path.relative_to(root)}: {n}" for n in names if n.startswith("serdevice.export")
            ]
    assert found == []


def test_every_absolute_serdevice_import_names_something_that_exists():
    # mypy cannot follow serdevice.* (the editable install maps it to device/, train/, export/),
    # so a name moved between modules would only fail when that line runs: check them all here
    import importlib

    root = DEVICE.parent
    missing = []
    for folder in ("device", "train", "export", "tests", "benchmarks"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not (isinstance(node, ast.ImportFrom) and not node.level and node.module
                        and node.module.startswith("serdevice.")):  # fmt: skip
                    continue
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if hasattr(module, alias.name):
                        continue
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        missing.append(f"{path.relative_to(root)}:{node.lineno} "
                                       f"{node.module}.{alias.name}")  # fmt: skip
    assert missing == []
