"""Backends by name: every implementation of `run(q, k, v, config)`, imported only when asked for.

    get_backend("csim").run(q, k, v, SSAConfig(...))

A backend is any object with a `name` and `run(q, k, v, config) -> attn` on time-first spikes
([T, N, D_K] or [T, B, H, N, D_K]), bit-exact with the emulator in mode "lfsr". Adding one is one
line in BACKENDS: its name and "module:Class" (the class takes its options as keyword arguments).
"""
from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable, Protocol

import numpy as np

from ssa.backends.emulator import run as emulate
from ssa.contract.config import SSAConfig
from ssa.errors import ConfigError


class Backend(Protocol):
    """What every backend provides."""

    name: str

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray: ...


class EmulatorBackend:
    """The reference emulator (ssa.backends.emulator.run) as a backend."""

    name = "emulate"

    def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
        return emulate(q, k, v, config)


def _lazy(target: str) -> Callable[..., Backend]:
    """A factory that imports "module:Class" on first use and checks the options against it."""
    module, attr = target.split(":")

    def factory(**options: Any) -> Backend:
        cls = getattr(importlib.import_module(module), attr)
        try:
            inspect.signature(cls).bind(**options)
        except TypeError as exc:
            raise ConfigError(f"backend {cls.name!r} does not take options {sorted(options)}: {exc}") from exc
        return cls(**options)

    return factory


#: Every backend: name -> factory(**options).
BACKENDS: dict[str, Callable[..., Backend]] = {
    "emulate": _lazy("ssa.backends:EmulatorBackend"),
    "csim": _lazy("ssa.backends.csim:CSimBackend"),
    "pynq": _lazy("ssa.backends.board.backend:PynqBackend"),
    "fast": _lazy("ssa.backends.fast:FastBackend"),
    "torch": _lazy("ssa.backends.torch_backend:TorchBackend"),
}


def available_backends() -> list[str]:
    """Names get_backend accepts (a backend may still fail to start, e.g. pynq without a board)."""
    return sorted(BACKENDS)


def get_backend(name: str, **options: Any) -> Backend:
    """The backend `name`, built with `options` (ConfigError for an unknown name or option)."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; known backends: {', '.join(available_backends())}")
    return BACKENDS[name](**options)
