"""Sizes a reader can hold (issue 23): no module in device/ over 400 lines, no function in
device/, train/ or export/ over 60, from its ``def`` to its last line (a click command's option
decorators above it aside)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE_LINES = 400
FUNCTION_LINES = 60


def python_files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_no_module_in_device_is_over_400_lines():
    long = {
        p.relative_to(ROOT).as_posix(): n
        for p in python_files("device")
        if (n := len(p.read_text().splitlines())) > MODULE_LINES
    }
    assert not long, long


def test_no_function_is_over_60_lines():
    long = {}
    for folder in ("device", "train", "export"):
        for path in python_files(folder):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    size = (node.end_lineno or node.lineno) - node.lineno + 1
                    if size > FUNCTION_LINES:
                        long[f"{path.relative_to(ROOT).as_posix()}:{node.name}"] = size
    assert not long, long
