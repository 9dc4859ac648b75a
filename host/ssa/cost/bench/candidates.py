"""The implementations `ssa bench` times: each a zero-argument call on fixed inputs and a function
turning its result into numpy spikes (None for the baselines, which are not bit-exact)."""
from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Callable

import numpy as np

from ssa.backends import emulator
from ssa.contract.config import SSAConfig
from ssa.errors import SSAError

if TYPE_CHECKING:
    import torch


Candidate = tuple[str, str, int, Callable[[], object], Callable[[object], np.ndarray] | None, str]


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


def cuda_available() -> bool:
    if not torch_available():
        return False
    import torch

    return torch.cuda.is_available()


def plain_torch_ssa(q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor") -> "torch.Tensor":
    """BASELINE, not bit-exact: SSA as a user would write it in float PyTorch (eq. 5 and 6)."""
    import torch

    s = torch.bernoulli(torch.matmul(q, k.transpose(-1, -2)) / q.shape[-1])
    return torch.bernoulli(torch.matmul(s, v) / q.shape[-2])


def ann_attention(q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor") -> "torch.Tensor":
    """BASELINE: one pass of scaled dot-product softmax attention on float inputs."""
    import torch

    scores = torch.matmul(q, k.transpose(-1, -2)) / q.shape[-1] ** 0.5
    return torch.matmul(torch.softmax(scores, dim=-1), v)


def _sync(device: str) -> Callable[[], None]:
    if device == "cuda":
        import torch

        return torch.cuda.synchronize
    return lambda: None


def timed_on(call: Callable[[], object], device: str) -> Callable[[], object]:
    sync = _sync(device)

    def run() -> object:
        out = call()
        sync()
        return out

    return run


def candidates(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, device: str, threads: int, skipped: list[str], compiled: bool = False,
) -> list[Candidate]:
    """Every implementation to time on these inputs: (impl, device, threads, call, to_numpy, note)."""
    found: list[Candidate] = []
    if device == "cpu":
        found.append(("reference", "cpu", 1, lambda: emulator.run(q, k, v, config), np.asarray, "ssa.backends.emulator.run (numpy)"))
        found += _fast_candidates(q, k, v, config, threads, skipped)
        found += _csim_candidates(q, k, v, config, skipped)
    found += _torch_candidates(q, k, v, config, device, threads, skipped, compiled)
    return found


def _fast_candidates(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, threads: int, skipped: list[str]) -> list[Candidate]:
    try:
        from ssa.backends.fast import FastBackend

        one = FastBackend(threads=1)
    except SSAError as exc:
        skipped.append(f"fast: {exc}")
        return []
    path = one.kernel.isa if one.native else "NOT BUILT: numpy emulator"
    rows: list[Candidate] = [("fast", "cpu", 1, lambda: one.run(q, k, v, config), np.asarray, f"native C kernel ({path}), bit-packed")]
    if q.shape[1] > 1 and threads > 1:
        try:
            many = FastBackend(threads=threads)
        except SSAError as exc:
            skipped.append(f"fast with {threads} threads: {exc}")
            return rows
        rows.append(("fast", "cpu", threads, lambda: many.run(q, k, v, config), np.asarray, f"native C kernel ({path}), blocks over {threads} threads"))
    return rows


def _csim_candidates(q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, skipped: list[str]) -> list[Candidate]:
    try:
        from ssa.backends.csim import CSimBackend

        backend = CSimBackend()
    except (ImportError, OSError, SSAError) as exc:
        skipped.append(f"csim: unavailable ({type(exc).__name__}: {exc})")
        return []
    limits = backend.limits
    if not limits.fits(config.n, config.dk, config.t):
        skipped.append(f"csim: N={config.n}, D_K={config.dk}, T={config.t} exceed its build's N_LIMIT={limits.n_max}, DK_MAX={limits.dk_max}, T_MAX={limits.t_max}")
        return []
    return [("csim", "cpu", 1, lambda: backend.run(q, k, v, config), np.asarray, "HLS kernel via g++ C-simulation")]


def _torch_candidates(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig, device: str, threads: int, skipped: list[str], compiled: bool,
) -> list[Candidate]:
    if not torch_available():
        skipped.append("torch rows: PyTorch is not installed")
        return []
    import torch

    from ssa.backends.torch_backend import run_torch

    bits = [torch.from_numpy(x).to(device) for x in (q, k, v)]
    floats = [x.float() for x in bits]
    flat = [x[0].reshape(-1, config.n, config.dk) for x in floats]  # ANN: one pass per block (time step 0)
    pinned = threads if device == "cpu" and q.shape[1] > 1 else 1  # CUDA rows drive the GPU from one thread

    def to_numpy(out: "torch.Tensor") -> np.ndarray:
        return out.cpu().numpy()

    rows: list[Candidate] = [("torch", device, pinned, lambda: run_torch(*bits, config), to_numpy, "ssa.backends.torch_backend, eager, tensors on device")]
    if device == "cuda" and compiled:
        rows.append(("torch-compiled", device, pinned, lambda: run_torch(*bits, config, compiled=True), to_numpy, "torch.compile (Triton)"))
    rows.append(("plain-torch-ssa", device, pinned, lambda: plain_torch_ssa(*floats), None, "BASELINE not bit-exact: float matmul + torch.bernoulli"))
    rows.append(("ann-attention", device, pinned, lambda: ann_attention(*flat), None, "BASELINE: softmax attention, float32, one pass"))
    return rows
