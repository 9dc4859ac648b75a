"""Imports of the optional extras the quick-start install (`pip install -e ".[csim]"`) leaves out.

`.ci/run` also runs the tests in that environment (numpy 2.x, no torch, no PYNQ) with
SSA_QUICKSTART_ENV=1; there, and only there, tests/conftest.py accepts the skips these helpers give.
"""
from __future__ import annotations

import importlib
from types import ModuleType

import pytest

#: Why a test is skipped in the quick-start environment (tests/conftest.py matches this text).
QUICKSTART_SKIP = "not installed in the quick-start env"
#: Modules the quick start leaves out, and the extra that installs each.
NOT_IN_QUICKSTART = {"torch": "train", "brevitas": "train", "onnx": "train", "onnxruntime": "train",
                     "onnxoptimizer": "train", "matplotlib": "train", "pynq": "board"}


def require(module: str) -> ModuleType:
    """Import `module` (one the quick start leaves out), or skip the test saying which extra installs it."""
    extra = NOT_IN_QUICKSTART[module]
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.skip(f"{module} is {QUICKSTART_SKIP} (pip install -e \".[{extra}]\")", allow_module_level=True)
