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


# --- the layers (device/__init__.py says what each is) --------------------------------------

DEVICE = Path(__file__).resolve().parents[1] / "device"
LAYERS = {
    "stream": {"audio", "contracts", "resampler", "sources", "microphone", "features",
               "egemaps_names", "gate", "normalize", "adaptation", "state", "calibration",
               "model", "sidecar", "decision", "pipeline", "events", "fanout", "runtime", "files",
               "retry"},
    "sinks": {"sinks", "mqtt", "live", "live_page"},
    "clinic": {"record", "store", "event_log", "timeline", "report", "report_png", "loadgen"},
    "deployment": {"service", "watchdog"},
    "cli": {"cli", "benchmark", "commands"},
}  # fmt: skip
# Each layer may import its own and the layers before it in this order, nothing after.
ORDER = ("stream", "sinks", "clinic", "deployment", "cli")
STREAM_NEVER = ("click", "paho", "psycopg")
CLINIC_NEVER = ("opensmile", "ai_edge_litert", "tflite_runtime", "sounddevice", "webrtcvad")


def layer_of(module: str) -> str:
    top = module.split(".")[0]
    return next(name for name, members in LAYERS.items() if top in members)


def device_imports(path: Path) -> set[str]:
    """The device modules a file imports (relative or absolute), as ``name`` or ``commands``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(DEVICE).parent.parts  # () or ("commands",)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = list(package[: len(package) - node.level + 1])
                parts = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.startswith("serdevice.device."):
                parts = node.module.split(".")[2:]
            else:
                continue
            names = parts or [alias.name for alias in node.names]
            found.add(names[0] if names else "")
    return {name for name in found if name}


def test_every_device_module_is_in_one_layer():
    modules = {p.stem for p in DEVICE.glob("*.py") if p.stem != "__init__"} | {"commands"}
    placed = set().union(*LAYERS.values())
    assert modules - placed == set(), "a new module needs a layer (device/__init__.py)"
    assert placed - modules == set()


def test_each_layer_imports_only_itself_and_the_layers_below():
    wrong = []
    for path in [*DEVICE.glob("*.py"), *DEVICE.glob("commands/*.py")]:
        if path.stem == "__init__" and path.parent == DEVICE:
            continue
        own = "commands" if path.parent.name == "commands" else path.stem
        mine = ORDER.index(layer_of(own))
        for target in device_imports(path):
            if target in ("__version__", "data", "models"):  # the package's version, data files
                continue
            if ORDER.index(layer_of(target)) > mine:
                wrong.append(f"{path.relative_to(DEVICE)} ({layer_of(own)}) imports {target} "
                             f"({layer_of(target)})")  # fmt: skip
    assert wrong == []


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
    result = imports_without(sorted(LAYERS["stream"]), STREAM_NEVER)
    assert result.stdout.strip() == "ok", result.stderr


def test_the_clinic_side_imports_without_opensmile_litert_or_sounddevice():
    result = imports_without(sorted(LAYERS["clinic"]), CLINIC_NEVER)
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
