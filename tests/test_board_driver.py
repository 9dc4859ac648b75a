"""The pynq backend (ssa.backends.board.backend, ssa.backends.board.driver) run end to end, bit-exact against the emulator.

Off the board, PYNQ's real Overlay / DefaultIP / MMIO / pynq.lib.dma.DMA / allocate run on top of
ssa/backends/board/simulated/, which models DDR with a non-coherent cache, the AXI DMA's simple-mode
registers and the kernel's AXI-Lite block around the C-simulated HLS kernel. On a board the tests
marked `board` run unchanged against the real overlay:

    SSA_BOARD=1 SSA_BITSTREAM=/path/to/ssa.bit python -m pytest -m board tests/test_board_driver.py

The fault-injection tests need the double and are skipped there.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from click.testing import CliRunner

from extras import require

import ssa
from ssa.backends import BACKENDS, available_backends, get_backend
from ssa.backends.board.backend import PynqBackend, find_bitstream
from ssa.backends.kernel_calls import blocks_per_call
from ssa.cli import main
from ssa.contract.config import DEFAULT_KERNEL_LIMITS, GAIN_LOG2_MAX, Limits, SSAConfig
from ssa.errors import BackendError, ConfigError, DMAError, KernelTimeoutError, OverlayError, StreamError
from ssa.contract.packing import stream_word_counts, unpack_input_stream
from ssa.contract.registers import REGISTER_OFFSETS, check_status
from ssa.contract.vectors import read_vector

ON_BOARD = os.environ.get("SSA_BOARD") == "1"
VECTORS = sorted((Path(__file__).parent / "vectors").glob("*.txt"))
FAULT_TIMEOUT_S = 0.3


def spikes(rng: np.random.Generator, shape: tuple[int, ...], density: float = 0.4) -> tuple[np.ndarray, ...]:
    return tuple((rng.random(shape) < density).astype(np.uint8) for _ in range(3))


@pytest.fixture(scope="module")
def csim_kernel() -> Any:
    from ssa.backends.csim import CSimKernel

    return CSimKernel.build(DEFAULT_KERNEL_LIMITS)


@pytest.fixture
def pynq() -> Any:
    """PYNQ itself (the board extra): the driver runs PYNQ's own Overlay, MMIO and DMA code."""
    return require("pynq")


@pytest.fixture
def double(request: pytest.FixtureRequest, pynq: Any) -> Any:
    """A fresh simulated board (skipped on a real board, where neither it nor g++ is needed)."""
    if ON_BOARD:
        pytest.skip("needs the board double (fault injection / double internals)")
    from ssa.backends.board.simulated import SimulatedBoard

    return SimulatedBoard(request.getfixturevalue("csim_kernel"))


@pytest.fixture
def open_board(request: pytest.FixtureRequest, tmp_path: Path, pynq: Any) -> Callable[..., PynqBackend]:
    """Factory of PynqBackends: on the real board with SSA_BOARD=1, else on the double."""
    def make(**options: Any) -> PynqBackend:
        if ON_BOARD:
            return PynqBackend(**{"timeout_s": 5.0, **options})
        from ssa.backends.board.simulated import write_overlay

        return PynqBackend(write_overlay(tmp_path / "overlay"), device=request.getfixturevalue("double"), **{"timeout_s": 2.0, **options})
    return make


# ------------------------------------------------------------------------------------------------
# Bit-exact runs (board and double)


@pytest.mark.board
@pytest.mark.parametrize(("n", "dk", "t", "gain"), [(1, 1, 1, 0), (5, 13, 6, 0), (8, 64, 3, 0), (32, 64, 4, 0),
                                                    (5, 13, 6, 1), (8, 64, 3, 2), (32, 64, 4, 3), (40, 64, 2, GAIN_LOG2_MAX)])
def test_single_block_matches_emulator(open_board: Callable[..., PynqBackend], n: int, dk: int, t: int, gain: int) -> None:
    """One block, bit-exact, with the encoder gains of contract v2 (N = 40: tiled on the default build)."""
    backend = open_board()
    q, k, v = spikes(np.random.default_rng(n * dk + t), (t, n, dk))
    config = SSAConfig(n=n, dk=dk, t=t, seed=12345, gain_log2=gain)
    np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))


@pytest.mark.board
def test_batch_matches_emulator(open_board: Callable[..., PynqBackend]) -> None:
    backend = open_board()
    q, k, v = spikes(np.random.default_rng(7), (4, 2, 3, 6, 40))
    config = SSAConfig(n=6, dk=40, t=4, seed=99)
    attn = backend.run(q, k, v, config)
    assert attn.shape == q.shape and attn.dtype == np.uint8
    np.testing.assert_array_equal(attn, ssa.run(q, k, v, config))
    assert 0 < attn.mean() < 1, "a test that can tell a stuck output from a right one"


@pytest.mark.board
def test_tiled_blocks_through_the_driver(open_board: Callable[..., PynqBackend]) -> None:
    """Blocks larger than the SAU array (the paper's N = 64, ViT-B's 197) run bit-exact through the real driver."""
    backend = open_board()
    if backend.limits.n_max < 197:
        pytest.skip(f"this kernel build takes N <= {backend.limits.n_max}")
    assert backend.limits.array < 64, "the probe reports the array side (tile register)"
    for shape, config in (((3, 2, 1, 64, 64), SSAConfig(n=64, dk=64, t=3, seed=2**32 - 1)),
                          ((2, 197, 16), SSAConfig(n=197, dk=16, t=2, seed=5))):
        q, k, v = spikes(np.random.default_rng(config.n), shape)
        attn = backend.run(q, k, v, config)
        np.testing.assert_array_equal(attn, ssa.run(q, k, v, config))
        assert 0 < attn.mean() < 1


def test_long_tiled_calls_are_split_to_fit_the_deadline(double: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver caps each call's modelled kernel time (half the deadline at 100 MHz): a budget of
    two N = 64 blocks turns 5 blocks into calls of 2, 2, 1 with seeds seed, seed + 2, seed + 4."""
    from ssa.backends.board.simulated import write_overlay
    from ssa.cost.latency import estimate

    backend = PynqBackend(write_overlay(tmp_path), device=double, timeout_s=2.0)
    assert backend.board.call_cycle_budget() == 100_000_000  # 0.5 x 2 s x 100 MHz
    config = SSAConfig(n=64, dk=64, t=2, seed=10)
    two = estimate(64, 64, 2, blocks=2, limits=backend.limits).kernel_cycles
    monkeypatch.setattr(backend.board, "call_cycle_budget", lambda: two)
    q, k, v = spikes(np.random.default_rng(6), (2, 5, 1, 64, 64))
    np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))
    assert [(c["blocks"], c["seed"]) for c in double.kernel_starts[1:]] == [(2, 10), (2, 12), (1, 14)]


@pytest.mark.board
def test_calls_split_into_whole_blocks_keep_seeds(open_board: Callable[..., PynqBackend]) -> None:
    """A buffer cap of 3 blocks turns 9 blocks into 3 calls; block k still gets seed + k (spec §6)."""
    config = SSAConfig(n=4, dk=64, t=3, seed=2**32 - 5)  # seeds wrap around 2^32 inside the batch
    block_bytes = 8 * 3 * 3 * 4
    backend = open_board(max_buffer_bytes=3 * block_bytes + 7)
    assert blocks_per_call(config, min(backend.board.max_transfer_bytes, backend.max_buffer_bytes)) == 3
    q, k, v = spikes(np.random.default_rng(3), (3, 3, 3, 4, 64))
    np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))


@pytest.mark.board
@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_golden_vectors_through_the_raw_kernel_call(open_board: Callable[..., PynqBackend], path: Path) -> None:
    vec = read_vector(path)
    c = vec.config
    backend = open_board()
    if not (c.n <= backend.limits.n_max and c.dk <= backend.limits.dk_max and c.t <= backend.limits.t_max):
        pytest.skip(f"{path.name} needs more than this kernel build's maxima {backend.limits}")
    out = backend.board.call(vec.words_in, vec.words_out.size, n=c.n, dk=c.dk, t_steps=c.t, seed=c.seed, blocks=vec.blocks,
                             gain_log2=c.gain_log2)
    np.testing.assert_array_equal(out, vec.words_out)
    q, k, v = unpack_input_stream(vec.words_in, vec.blocks, c.t, c.n, c.dk)
    shaped = [x.reshape(c.t, 1, vec.blocks, c.n, c.dk) for x in (q, k, v)]
    np.testing.assert_array_equal(backend.run(*shaped, c), ssa.run(*shaped, c))


@pytest.mark.board
def test_limits_are_checked_before_any_transfer(open_board: Callable[..., PynqBackend]) -> None:
    backend = open_board()
    dk = backend.limits.dk_max + 1  # (N_LIMIT may be the contract's 256 already)
    q = np.zeros((2, 4, dk), np.uint8)
    with pytest.raises(ConfigError, match=f"dk={dk} is outside the board's kernel's range 1..{dk - 1}"):
        backend.run(q, q, q, SSAConfig(n=4, dk=dk, t=2))
    x = np.zeros((2, 4, 8), np.uint8)
    with pytest.raises(ConfigError, match="only has mode='lfsr'"):
        backend.run(x, x, x, SSAConfig(n=4, dk=8, t=2, mode="ideal"))
    np.testing.assert_array_equal(backend.run(x, x, x, SSAConfig(n=4, dk=8, t=2)), x), "still usable afterwards"


# ------------------------------------------------------------------------------------------------
# What the driver does to the hardware (double only)


def test_probe_then_transfers_in_order(double: Any, tmp_path: Path) -> None:
    from ssa.backends.board.simulated import write_overlay

    backend = PynqBackend(write_overlay(tmp_path), device=double)
    assert backend.limits == double.csim.limits
    assert double.kernel_starts == [dict(n=1, dk=1, t_steps=1, seed=0, blocks=0, gain_log2=0)] and double.transfers == []
    assert (backend.limits.gain_log2_max, backend.board.version) == (GAIN_LOG2_MAX, 2)
    q, k, v = spikes(np.random.default_rng(1), (4, 3, 2, 8, 64))
    backend.run(q, k, v, SSAConfig(n=8, dk=64, t=4, seed=7, gain_log2=3))
    assert double.kernel_starts[1] == dict(n=8, dk=64, t_steps=4, seed=7, blocks=6, gain_log2=3)
    (rx, rx_addr, rx_len), (tx, tx_addr, tx_len) = double.transfers
    assert (rx, tx) == ("S2MM", "MM2S"), "receive is armed before the input is sent"
    assert (tx_len, rx_len) == (8 * 6 * 4 * 3 * 8, 8 * 6 * 4 * 8)


def test_limits_refused_without_touching_the_dma(double: Any, tmp_path: Path) -> None:
    from ssa.backends.board.simulated import write_overlay

    backend = PynqBackend(write_overlay(tmp_path), device=double)
    for n, dk, t in ((4, backend.limits.dk_max + 1, 2), (4, 8, backend.limits.t_max + 1)):
        q = np.zeros((t, n, dk), np.uint8)
        with pytest.raises(ConfigError, match="board's kernel"):
            backend.run(q, q, q, SSAConfig(n=n, dk=dk, t=t))
    assert double.transfers == [] and len(double.kernel_starts) == 1


def test_chunks_respect_the_dma_length_register(double: Any, tmp_path: Path) -> None:
    """An overlay whose DMA has 10-bit length registers (1023 bytes) gets calls of 3 blocks of 288 bytes."""
    from ssa.backends.board.simulated import write_overlay

    backend = PynqBackend(write_overlay(tmp_path, sg_length_width=10), device=double)
    assert backend.board.max_transfer_bytes == 1023
    config = SSAConfig(n=4, dk=64, t=3, seed=41)
    q, k, v = spikes(np.random.default_rng(5), (3, 2, 4, 4, 64))
    np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))
    calls = double.kernel_starts[1:]
    assert [c["blocks"] for c in calls] == [3, 3, 2]
    assert [c["seed"] for c in calls] == [41, 44, 47]
    assert max(length for _, _, length in double.transfers) <= 1023


def test_block_too_large_for_one_transfer_is_a_config_error(double: Any, tmp_path: Path) -> None:
    from ssa.backends.board.simulated import write_overlay

    backend = PynqBackend(write_overlay(tmp_path, sg_length_width=8), device=double)
    q = np.zeros((3, 4, 64), np.uint8)
    with pytest.raises(ConfigError, match="needs 288 input bytes, over the 255-byte transfer limit"):
        backend.run(q, q, q, SSAConfig(n=4, dk=64, t=3))


def test_buffers_are_reused_and_grown(double: Any, tmp_path: Path) -> None:
    from ssa.backends.board.simulated import write_overlay

    backend = PynqBackend(write_overlay(tmp_path), device=double)
    config = SSAConfig(n=8, dk=64, t=4, seed=3)
    rng = np.random.default_rng(11)
    for batch, allocations in ((4, 2), (2, 2), (4, 2), (9, 4)):
        q, k, v = spikes(rng, (4, batch, 1, 8, 64))
        np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))
        assert len(double.memory.allocations) == allocations, f"batch {batch}"


def test_registers_are_found_by_name_in_the_hwh(double: Any, tmp_path: Path) -> None:
    """A kernel whose argument registers sit elsewhere (another tool version) still works."""
    from ssa.backends.board.simulated import SimulatedBoard, write_overlay

    moved = {name: offset + (0x100 if offset >= 0x10 else 0) for name, offset in REGISTER_OFFSETS.items()}
    double = SimulatedBoard(double.csim, register_offsets=moved)
    backend = PynqBackend(write_overlay(tmp_path, register_offsets=moved), device=double)
    q, k, v = spikes(np.random.default_rng(2), (2, 5, 20))
    for gain in (0, 2):  # gain_log2 moved as well: only its name finds it
        config = SSAConfig(n=5, dk=20, t=2, seed=8, gain_log2=gain)
        np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))
    assert [start["gain_log2"] for start in double.kernel_starts] == [0, 0, 2]


@pytest.mark.usefixtures("pynq")
def test_n_above_the_kernels_limit_is_refused(tmp_path: Path) -> None:
    """A build with N_LIMIT = 8 (no tiling): N = 9 is refused before any transfer."""
    if ON_BOARD:
        pytest.skip("needs the board double")
    from ssa.backends.board.simulated import SimulatedBoard, write_overlay
    from ssa.backends.csim import CSimKernel

    double = SimulatedBoard(CSimKernel.build(Limits(n_max=8, dk_max=128, t_max=4)))
    backend = PynqBackend(write_overlay(tmp_path), device=double)
    q = np.zeros((2, 9, 8), np.uint8)
    with pytest.raises(ConfigError, match="n=9 is outside the board's kernel's range 1..8"):
        backend.run(q, q, q, SSAConfig(n=9, dk=8, t=2))
    assert double.transfers == [] and len(double.kernel_starts) == 1


@pytest.mark.parametrize("missing", [("gain_log2",), ("gain_log2", "tile")], ids=["v1", "v1_untiled"])
def test_v1_overlay_refuses_a_gain_before_any_transfer_and_runs_gain_0(double: Any, tmp_path: Path, missing: tuple[str, ...]) -> None:
    """An overlay built for contract v1: its .hwh lists no `gain_log2` and its kernel reports version 1.
    The driver probes gain_log2_max = 0, refuses gain 1..4 (run and raw call) with a ConfigError that
    names the fix before any transfer or register write, and runs gain 0 bit-exact without writing a
    gain register."""
    from ssa.backends.board.simulated import SimulatedBoard, write_overlay

    offsets = {name: offset for name, offset in REGISTER_OFFSETS.items() if not name.startswith(missing)}
    double = SimulatedBoard(double.csim, register_offsets=offsets)
    backend = PynqBackend(write_overlay(tmp_path, register_offsets=offsets), device=double)
    assert (backend.board.version, backend.limits.gain_log2_max) == (1, 0)
    q, k, v = spikes(np.random.default_rng(4), (3, 2, 1, 40, 16))
    for gain in range(1, GAIN_LOG2_MAX + 1):
        with pytest.raises(ConfigError, match=rf"gain_log2={gain} is outside the board's kernel's range 0\.\.0; .*contract v1.*rebuild"):
            backend.run(q, k, v, SSAConfig(n=40, dk=16, t=3, gain_log2=gain))
    with pytest.raises(ConfigError, match="gain_log2=2 is outside the kernel of overlay .*range 0..0"):
        backend.board.call(np.zeros(3 * 3 * 40, np.uint64), 3 * 40, n=40, dk=16, t_steps=3, seed=0, blocks=1, gain_log2=2)
    with pytest.raises(ConfigError, match="no gain_log2 register .*must be 0, got 1"):
        backend.board.kernel.start(n=1, dk=1, t_steps=1, seed=0, blocks=0, gain_log2=1)
    assert double.transfers == [] and len(double.kernel_starts) == 1
    config = SSAConfig(n=40, dk=16, t=3, seed=6)
    np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))
    assert "gain_log2" not in double.kernel_starts[-1] and double.kernel_starts[-1]["blocks"] == 2


def test_hwh_without_the_gain_register_means_gain_0_whatever_info_says(double: Any, tmp_path: Path) -> None:
    """A .hwh without `gain_log2` beside a kernel reporting version 2 (files of two builds): the driver
    cannot write the gain, so it probes gain_log2_max = 0 and refuses a gain rather than drop it."""
    from ssa.backends.board.simulated import write_overlay

    offsets = {name: offset for name, offset in REGISTER_OFFSETS.items() if name != "gain_log2"}
    backend = PynqBackend(write_overlay(tmp_path, register_offsets=offsets), device=double)
    assert (backend.board.version, backend.limits.gain_log2_max) == (2, 0)
    with pytest.raises(ConfigError, match="gain_log2=1 is outside the board's kernel's range 0..0"):
        _run_small(backend, gain_log2=1)
    assert double.transfers == []


def test_gain_outside_the_contract_is_refused_before_the_kernel(double: Any, tmp_path: Path) -> None:
    """The raw call checks the gain against the probed limits (0..4) before any register write; a gain
    that reaches the kernel anyway (a register write by hand) ends in status bit 7 and no stream traffic."""
    from ssa.backends.board.driver import Deadline
    from ssa.backends.board.simulated import write_overlay

    backend = PynqBackend(write_overlay(tmp_path), device=double, timeout_s=FAULT_TIMEOUT_S)
    words = np.zeros(3 * 2 * 4, np.uint64)
    with pytest.raises(ConfigError, match=rf"gain_log2={GAIN_LOG2_MAX + 1} is outside the kernel of overlay .*range 0..{GAIN_LOG2_MAX}"):
        backend.board.call(words, 2 * 4, n=4, dk=16, t_steps=2, seed=0, blocks=1, gain_log2=GAIN_LOG2_MAX + 1)
    assert double.transfers == [] and len(double.kernel_starts) == 1
    backend.board.kernel.start(n=4, dk=16, t_steps=2, seed=0, blocks=1, gain_log2=GAIN_LOG2_MAX + 1)
    backend.board._wait(Deadline(FAULT_TIMEOUT_S), channels=())
    with pytest.raises(BackendError, match=r"kernel status 0x80: gain_log2 out of range \(0..4\)"):
        check_status(backend.board.kernel.output("status"), "the kernel")
    assert double.transfers == [] and double.dma.stream is None


def test_overlay_without_tile_register_is_an_untiled_kernel(double: Any, tmp_path: Path) -> None:
    """An overlay from before tiling has no `tile` register: the driver takes its array as N_LIMIT wide."""
    from ssa.backends.board.simulated import SimulatedBoard, write_overlay

    offsets = {name: offset for name, offset in REGISTER_OFFSETS.items() if not name.startswith("tile")}
    double = SimulatedBoard(double.csim, register_offsets=offsets)
    backend = PynqBackend(write_overlay(tmp_path, register_offsets=offsets), device=double)
    assert backend.limits == Limits(n_max=double.csim.limits.n_max, dk_max=double.csim.limits.dk_max,
                                    t_max=double.csim.limits.t_max).tiled()
    assert backend.limits.n_tile == backend.limits.n_max


@pytest.mark.usefixtures("pynq")
def test_multiword_rows_on_a_wider_kernel_build(tmp_path: Path) -> None:
    """D_K = 100 takes two words per row; the driver learns DK_MAX = 256 from the probe. The golden
    vectors beyond the default build (D_K > 64) run through this double's raw call."""
    if ON_BOARD:
        pytest.skip("needs the board double")
    from ssa.backends.board.simulated import SimulatedBoard, write_overlay
    from ssa.backends.csim import CSimKernel

    wide = Limits(n_max=8, dk_max=256, t_max=4)
    backend = PynqBackend(write_overlay(tmp_path), device=SimulatedBoard(CSimKernel.build(wide)))
    assert backend.limits == wide.tiled()
    q, k, v = spikes(np.random.default_rng(9), (3, 2, 1, 7, 100))
    config = SSAConfig(n=7, dk=100, t=3, seed=77)
    np.testing.assert_array_equal(backend.run(q, k, v, config), ssa.run(q, k, v, config))
    multiword = [read_vector(path) for path in VECTORS if read_vector(path).config.dk > DEFAULT_KERNEL_LIMITS.dk_max]
    assert multiword, "no golden vector beyond the default build"
    for vec in multiword:
        c = vec.config
        out = backend.board.call(vec.words_in, vec.words_out.size, n=c.n, dk=c.dk, t_steps=c.t, seed=c.seed,
                                 blocks=vec.blocks, gain_log2=c.gain_log2)
        np.testing.assert_array_equal(out, vec.words_out, err_msg=vec.name)


@pytest.mark.board
def test_deliberate_stall_is_reported_and_a_reload_recovers(open_board: Callable[..., PynqBackend]) -> None:
    """The stall test of overlay/README.md: registers announce two blocks, the DMA sends one. The
    kernel waits for input that never comes; the driver times out, soft-resets the DMA, refuses
    further calls, and a new backend (overlay reloaded) runs bit-exact again."""
    backend = open_board(timeout_s=0.5)
    n, dk, t = 4, 16, 2
    one_block = np.zeros(stream_word_counts(1, t, n, dk)[0], np.uint64)
    with pytest.raises(KernelTimeoutError, match="kernel, S2MM not done .*both DMA channels were soft-reset"):
        backend.board.call(one_block, stream_word_counts(2, t, n, dk)[1], n=n, dk=dk, t_steps=t, seed=0, blocks=2)
    with pytest.raises(BackendError, match="unknown state after: a call that timed out"):
        _run_small(backend)
    fresh = open_board()
    q, k, v = spikes(np.random.default_rng(5), (t, n, dk))
    config = SSAConfig(n=n, dk=dk, t=t, seed=3)
    np.testing.assert_array_equal(fresh.run(q, k, v, config), ssa.run(q, k, v, config))


# ------------------------------------------------------------------------------------------------
# Faults (double only): each ends in its own exception, within the deadline


def _faulty_backend(double: Any, tmp_path: Path, **faults: Any) -> PynqBackend:
    from ssa.backends.board.simulated import write_overlay

    backend = PynqBackend(write_overlay(tmp_path), device=double, timeout_s=FAULT_TIMEOUT_S)
    for name, value in faults.items():
        setattr(double.faults, name, value)
    return backend


def _run_small(backend: PynqBackend, dk: int = 16, gain_log2: int = 0) -> np.ndarray:
    q, k, v = spikes(np.random.default_rng(0), (2, 4, dk))
    return backend.run(q, k, v, SSAConfig(n=4, dk=dk, t=2, gain_log2=gain_log2))


@pytest.mark.parametrize(("channel", "bit", "name"), [("MM2S", 0x20, "DMASlvErr"), ("S2MM", 0x40, "DMADecErr"), ("S2MM", 0x10, "DMAIntErr")])
def test_dma_error_bits_are_decoded(double: Any, tmp_path: Path, channel: str, bit: int, name: str) -> None:
    backend = _faulty_backend(double, tmp_path, dma_error=(channel, bit))
    with pytest.raises(DMAError, match=rf"AXI DMA {channel} .*{name}"):
        _run_small(backend)
    with pytest.raises(BackendError, match="unknown state after: AXI DMA"):
        _run_small(backend)


@pytest.mark.parametrize(("fault", "value", "message"), [
    ("stall_kernel", True, "kernel, MM2S, S2MM not done .*stopped accepting input"),
    ("drop_tlast", True, "S2MM not done .*output stream ended without TLAST"),
])
def test_hangs_end_in_a_timeout(double: Any, tmp_path: Path, fault: str, value: Any, message: str) -> None:
    backend = _faulty_backend(double, tmp_path, **{fault: value})
    start = time.monotonic()
    with pytest.raises(KernelTimeoutError, match=message):
        _run_small(backend)
    assert time.monotonic() - start < FAULT_TIMEOUT_S + 1.0
    with pytest.raises(BackendError, match="unknown state after: a call that timed out"):
        _run_small(backend)


def test_a_stall_soft_resets_the_dma_before_it_is_reported(double: Any, tmp_path: Path) -> None:
    backend = _faulty_backend(double, tmp_path, stall_kernel=True)
    resets = double.dma.resets
    with pytest.raises(KernelTimeoutError, match="both DMA channels were soft-reset .*create a new PynqBackend"):
        _run_small(backend)
    assert double.dma.resets == resets + 1
    assert not double.dma.mm2s.busy and not double.dma.s2mm.busy and double.dma.stream is None  # nothing outstanding


def test_a_dma_error_soft_resets_the_dma(double: Any, tmp_path: Path) -> None:
    backend = _faulty_backend(double, tmp_path, dma_error=("S2MM", 0x40))
    resets = double.dma.resets
    with pytest.raises(DMAError, match="DMADecErr.*both DMA channels were soft-reset"):
        _run_small(backend)
    assert double.dma.resets == resets + 1 and not double.dma.mm2s.busy


def test_a_failed_soft_reset_is_reported_within_its_deadline(double: Any, tmp_path: Path) -> None:
    from ssa.backends.board.driver import DMA_RESET_TIMEOUT_S

    backend = _faulty_backend(double, tmp_path, stall_kernel=True)
    double.faults.dead_dma = True  # the channels never leave the halted state after the reset
    start = time.monotonic()
    with pytest.raises(KernelTimeoutError, match="DMA soft reset failed as well .*stayed halted.*power-cycle"):
        _run_small(backend)
    assert time.monotonic() - start < FAULT_TIMEOUT_S + DMA_RESET_TIMEOUT_S + 1.0


def test_early_tlast_is_a_stream_error(double: Any, tmp_path: Path) -> None:
    backend = _faulty_backend(double, tmp_path, truncate_output=1)
    with pytest.raises(StreamError, match="S2MM received 56 bytes, expected 64"):
        _run_small(backend)


def test_kernel_status_bits_are_reported(double: Any, tmp_path: Path) -> None:
    backend = _faulty_backend(double, tmp_path, flip_input_bit=63)  # a padding bit of a D_K = 37 row
    with pytest.raises(BackendError, match="kernel status 0x10: non-zero padding bits"):
        _run_small(backend, dk=37)


def test_dead_dma_is_a_timeout_not_a_hang(double: Any, tmp_path: Path) -> None:
    from ssa.backends.board.simulated import write_overlay

    double.faults.dead_dma = True
    with pytest.raises(KernelTimeoutError, match="stayed halted"):
        PynqBackend(write_overlay(tmp_path), device=double, timeout_s=FAULT_TIMEOUT_S)


def test_overlay_without_the_ssa_kernel(double: Any, tmp_path: Path) -> None:
    from ssa.backends.board.simulated import write_overlay

    bit = write_overlay(tmp_path, kernel_vlnv="xilinx.com:hls:other_top:1.0")
    with pytest.raises(OverlayError, match=r"no SSA kernel \(xilinx.com:hls:ssa_top:1.0\); it contains .*other_top_0"):
        PynqBackend(bit, device=double)


# ------------------------------------------------------------------------------------------------
# Setup errors


@pytest.mark.usefixtures("pynq")
def test_missing_bitstream_says_how_to_build_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SSA_BITSTREAM", raising=False)
    with pytest.raises(OverlayError, match=r"no SSA overlay bitstream at .*make -C overlay"):
        find_bitstream()
    with pytest.raises(OverlayError, match="missing.bit.*make -C overlay"):
        PynqBackend(tmp_path / "missing.bit")


def test_missing_hwh_is_named(tmp_path: Path) -> None:
    bit = tmp_path / "ssa.bit"
    bit.write_bytes(b"x")
    with pytest.raises(OverlayError, match="has no ssa.hwh beside it"):
        find_bitstream(bit)


def test_bitstream_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ssa.bit").write_bytes(b"x")
    (tmp_path / "ssa.hwh").write_text("<EDKSYSTEM/>")
    monkeypatch.setenv("SSA_BITSTREAM", str(tmp_path / "ssa.bit"))
    assert find_bitstream() == (tmp_path / "ssa.bit").resolve()


@pytest.mark.skipif(ON_BOARD, reason="a board is present")
@pytest.mark.usefixtures("pynq")
def test_no_board_found(tmp_path: Path) -> None:
    from ssa.backends.board.simulated import write_overlay

    with pytest.raises(BackendError, match="no PYNQ board found"):
        PynqBackend(write_overlay(tmp_path))


def test_ssa_works_without_pynq() -> None:
    """With pynq unimportable, `import ssa`, the registry and the other backends still work."""
    script = textwrap.dedent("""
        import sys
        sys.modules["pynq"] = None  # `import pynq` now raises ImportError
        import numpy as np
        import ssa, ssa.backends.board.backend, ssa.cli.verify
        from ssa.backends import available_backends, get_backend
        assert "pynq" in available_backends()
        x = np.ones((2, 3, 4), np.uint8)
        assert get_backend("emulate").run(x, x, x, ssa.SSAConfig(3, 4, 2)).shape == x.shape
        try:
            get_backend("pynq")
        except ssa.BackendError as exc:
            print(exc)
        assert sys.modules["pynq"] is None and "ssa.backends.board.driver" not in sys.modules
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "pip install ssa-fpga[board]" in done.stdout and "PYNQ 3.x" in done.stdout


# ------------------------------------------------------------------------------------------------
# Backend registry and `ssa verify`


@pytest.mark.usefixtures("pynq")
def test_driver_uses_the_spec_register_names() -> None:
    from ssa.backends.board.driver import GAIN_REGISTER, KERNEL_REGISTERS, TILE_REGISTER, VALID_REGISTERS

    assert set(KERNEL_REGISTERS) | set(VALID_REGISTERS.values()) | {TILE_REGISTER, GAIN_REGISTER} <= set(REGISTER_OFFSETS)


def test_registry_names_and_errors() -> None:
    assert {"emulate", "csim", "pynq"} <= set(available_backends())
    with pytest.raises(ConfigError, match="unknown backend 'gpu'; known backends: .*csim.*emulate.*pynq"):
        get_backend("gpu")
    with pytest.raises(ConfigError, match="backend 'emulate' does not take options"):
        get_backend("emulate", bitstream="x.bit")


def test_verify_agreeing_backends() -> None:
    result = CliRunner().invoke(main, ["verify", "--backend", "csim", "--against", "emulate", "--blocks", "3", "--n", "6", "--dk", "20", "--t", "3"])
    assert result.exit_code == 0, result.output
    assert "bit-exact: 3/3 blocks agree" in result.output
    assert [line.split()[0] for line in result.output.splitlines()[2:4]] == ["csim", "emulate"]


def test_verify_with_an_encoder_gain() -> None:
    """`ssa verify --gain-log2 g`: the csim kernel against the emulator with gain g (default 0)."""
    result = CliRunner().invoke(main, ["verify", "--backend", "csim", "--gain-log2", "2", "--blocks", "3", "--n", "40", "--t", "3"])
    assert result.exit_code == 0, result.output
    assert "gain=2^2" in result.output.splitlines()[0] and "bit-exact: 3/3 blocks agree" in result.output
    assert "gain=2^0" in CliRunner().invoke(main, ["verify", "--blocks", "1", "--n", "4", "--t", "2"]).output


def test_verify_refuses_a_gain_on_a_v1_overlay(double: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssa.backends.board.simulated import SimulatedBoard, write_overlay

    offsets = {name: offset for name, offset in REGISTER_OFFSETS.items() if name != "gain_log2"}
    bit = write_overlay(tmp_path, register_offsets=offsets)
    v1 = SimulatedBoard(double.csim, register_offsets=offsets)
    monkeypatch.setitem(BACKENDS, "pynq", lambda **options: PynqBackend(device=v1, **options))
    args = ["verify", "--backend", "pynq", "--bitstream", str(bit), "--blocks", "2", "--n", "8", "--t", "2"]
    refused = CliRunner().invoke(main, [*args, "--gain-log2", "1"])
    assert refused.exit_code == 1 and "ConfigError: gain_log2=1 is outside the board's kernel's range 0..0" in refused.output
    assert v1.transfers == []
    assert CliRunner().invoke(main, args).exit_code == 0


def test_verify_tiled_blocks_on_both_array_sizes() -> None:
    for n_tile in ("16", "32"):
        result = CliRunner().invoke(main, ["verify", "--n", "64", "--dk", "64", "--t", "3", "--blocks", "2", "--n-tile", n_tile])
        assert result.exit_code == 0, result.output
        assert "bit-exact: 2/2 blocks agree" in result.output
        assert f"csim kernel: {n_tile}x{n_tile} SAU array, N <= 256" in result.output


def test_verify_reports_mismatching_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    class OffByOne:
        name = "off-by-one"

        def run(self, q: np.ndarray, k: np.ndarray, v: np.ndarray, config: SSAConfig) -> np.ndarray:
            attn = ssa.run(q, k, v, config)
            if attn.shape[1] > 2:  # not in verify's untimed two-block warm-up call
                attn[1, 2, 0, 3, 5] ^= 1  # one spike of block 2
            return attn

    monkeypatch.setitem(BACKENDS, "off-by-one", lambda **options: OffByOne())
    result = CliRunner().invoke(main, ["verify", "--backend", "off-by-one", "--blocks", "4", "--n", "4", "--dk", "8", "--t", "2"])
    assert result.exit_code == 1
    assert "MISMATCH: 1/4 block(s) differ: 2" in result.output
    assert "block 2: first difference at t=1, i=3, d=5" in result.output


def test_verify_drives_the_pynq_backend(double: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssa.backends.board.simulated import write_overlay

    bit = write_overlay(tmp_path)
    monkeypatch.setitem(BACKENDS, "pynq", lambda **options: PynqBackend(device=double, **options))
    result = CliRunner().invoke(main, ["verify", "--backend", "pynq", "--bitstream", str(bit), "--blocks", "5", "--n", "8", "--t", "4"])
    assert result.exit_code == 0, result.output
    assert "bit-exact: 5/5 blocks agree" in result.output
    assert double.kernel_starts[-1]["blocks"] == 5


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--against", "nope"], 1, "Error: ConfigError: unknown backend 'nope'"),
    (["--backend", "emulate"], 2, "both name 'emulate'"),
    (["--bitstream", "x.bit"], 2, "--bitstream only applies to the pynq backend"),
    (["--backend", "fast", "--n-tile", "16"], 2, "--n-tile only applies to the csim backend"),
    (["--n-tile", "0"], 2, "--n-tile"),
    (["--gain-log2", str(GAIN_LOG2_MAX + 1)], 2, "--gain-log2"),
    (["--gain-log2", "-1"], 2, "--gain-log2"),
])
def test_verify_usage_errors(args: list[str], code: int, message: str) -> None:
    result = CliRunner().invoke(main, ["verify", *args])
    assert result.exit_code == code and message in result.output
