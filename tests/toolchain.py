"""The one skip rule of the C-simulation tests: a missing compiler or hls4ml skips (outside CI, where
tests/conftest.py turns the skip into a failure); a kernel that does not COMPILE always fails."""
from __future__ import annotations

import pytest

from ssa.errors import BackendError


def require_csim_toolchain() -> None:
    """Skip unless a C++ compiler and hls4ml's ap_int headers are installed; compiles nothing."""
    from ssa.backends import csim

    try:
        csim.find_compiler()
        csim.ap_types_dir()
    except BackendError as exc:
        pytest.skip(f"C++ toolchain unavailable: {exc}")
