"""PYNQ side of the board backend: the overlay, the kernel's register driver and one DMA'd call.

This module imports `pynq` at import time; `ssa.backends.board.backend` imports it lazily so that `import ssa` works
without PYNQ. PYNQ's own AXI DMA driver (`pynq.lib.dma.DMA`), `pynq.allocate` and `Overlay` do the
work; this module adds what they lack: deadlines on every wait (PYNQ's `wait()` spins forever),
decoded DMA error bits, and registers addressed by their names in the `.hwh`.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pynq
from pynq import DefaultIP, Overlay

from ssa.contract.config import Limits
from ssa.contract.registers import (
    CTRL_AP_DONE,
    CTRL_AP_IDLE,
    CTRL_AP_START,
    check_status,
    check_version,
    decode_info,
    describe_status,
)
from ssa.errors import (
    BackendError,
    ConfigError,
    DMAError,
    KernelTimeoutError,
    OverlayError,
    StreamError,
)

SSA_VLNV = "xilinx.com:hls:ssa_top:1.0"
DMA_VLNV = "xilinx.com:ip:axi_dma:7.1"
#: Registers the driver writes or reads, by their names in the .hwh: the names of the spec's register
#: map (docs/spec.md section 7, ssa.contract.registers.REGISTER_OFFSETS); their offsets come from the .hwh.
KERNEL_REGISTERS = ("CTRL", "n", "dk", "t_steps", "seed", "blocks", "status", "info")
#: Read when the .hwh lists it: N_TILE - 1 of a tiled kernel; an older, untiled kernel has none.
TILE_REGISTER = "tile"
#: Written when the .hwh lists it: the encoders' gain exponent (contract v2). A v1 overlay has none,
#: so its gain is 0 (the probed Limits say gain_log2_max = 0 and every other gain is refused).
GAIN_REGISTER = "gain_log2"
#: ap_vld companions of the output registers: checked when the .hwh lists them (clear on read).
VALID_REGISTERS = {"status": "status_ctrl", "info": "info_ctrl", "tile": "tile_ctrl"}

# AXI DMA simple-mode registers (PG021): channel base, then offsets within the channel.
MM2S, S2MM = 0x00, 0x30
DMACR, DMASR = 0x00, 0x04
DMACR_RS, DMACR_RESET = 0x1, 0x4
DMASR_HALTED, DMASR_IDLE = 0x1, 0x2
DMASR_ERRORS = {
    4: ("DMAIntErr", "internal error: a zero transfer length, or (S2MM) a stream packet longer than the receive length"),
    5: ("DMASlvErr", "slave error: the memory (HP port / DDR) answered SLVERR to a DMA access"),
    6: ("DMADecErr", "decode error: the buffer address is not mapped to memory"),
    8: ("SGIntErr", "scatter-gather internal error (the overlay must use simple mode)"),
    9: ("SGSlvErr", "scatter-gather slave error"),
    10: ("SGDecErr", "scatter-gather decode error"),
}
DMASR_ERROR_MASK = sum(1 << bit for bit in DMASR_ERRORS)
CHANNELS = {"MM2S": (MM2S, "memory -> kernel"), "S2MM": (S2MM, "kernel -> memory")}
POLL_PAUSE_S = 20e-6  # between register polls: negligible latency, leaves the CPU to others
#: Share of a call's deadline that its modelled kernel time may take (calls are split to fit), and
#: the kernel clock that share is counted at: overlay/'s default FCLK_CLK0, the slowest it builds.
CALL_DEADLINE_SHARE = 0.5
SLOWEST_CLOCK_MHZ = 100.0
DMA_RESET_TIMEOUT_S = 1.0  # the soft reset after a stall (PG021: it completes within a few clocks once the streams let go)


def describe_dmasr(channel: str, dmasr: int) -> str:
    """The error bits of a DMASR value, each with its meaning."""
    names = [f"{name} ({meaning})" for bit, (name, meaning) in DMASR_ERRORS.items() if dmasr >> bit & 1]
    return f"AXI DMA {channel} ({CHANNELS[channel][1]}) DMASR=0x{dmasr:08x}: " + "; ".join(names)


class Deadline:
    """A monotonic deadline shared by the polls of one operation."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def passed(self) -> bool:
        return time.monotonic() > self.end


class SSAKernel(DefaultIP):
    """Register driver of the SSA HLS kernel; PYNQ binds it to every `ssa_top` IP of an overlay."""

    bindto = [SSA_VLNV]

    def __init__(self, description: dict[str, Any]):
        super().__init__(description)
        self.name = description.get("fullpath", "ssa_top")
        registers = description.get("registers") or {}
        missing = [name for name in KERNEL_REGISTERS if name not in registers]
        if missing:
            raise OverlayError(
                f"the .hwh lists no register {', '.join(missing)} for {self.name}; its registers are "
                f"{', '.join(registers) or 'none'}: rebuild the overlay from hls/ and overlay/ of this release"
            )
        self.offsets = {name: int(reg["address_offset"]) for name, reg in registers.items()}

    def write_register(self, name: str, value: int) -> None:
        self.write(self.offsets[name], value)

    def read_register(self, name: str) -> int:
        return self.read(self.offsets[name])

    def control(self) -> int:
        """The CTRL register (reading it clears ap_done)."""
        return self.read_register("CTRL")

    @property
    def has_gain(self) -> bool:
        """Whether the kernel has the `gain_log2` register (contract v2)."""
        return GAIN_REGISTER in self.offsets

    def start(self, *, n: int, dk: int, t_steps: int, seed: int, blocks: int, gain_log2: int = 0) -> None:
        """Write the argument registers by name (`gain_log2` where the kernel has it), then set ap_start."""
        if gain_log2 and not self.has_gain:
            raise ConfigError(f"{self.name} has no {GAIN_REGISTER} register (an overlay built for contract v1), "
                              f"so gain_log2 must be 0, got {gain_log2}; rebuild the overlay from this release")
        if not self.control() & CTRL_AP_IDLE:
            raise BackendError(f"{self.name} is busy (ap_idle clear): a previous call did not finish; create a new PynqBackend")
        registers = {"n": n, "dk": dk, "t_steps": t_steps, "seed": seed, "blocks": blocks}
        if self.has_gain:
            registers[GAIN_REGISTER] = gain_log2
        for name, value in registers.items():
            self.write_register(name, value)
        self.write_register("CTRL", CTRL_AP_START)

    @staticmethod
    def finished(ctrl: int) -> bool:
        """ap_done seen, or idle again after ap_start cleared."""
        return bool(ctrl & CTRL_AP_DONE) or (bool(ctrl & CTRL_AP_IDLE) and not ctrl & CTRL_AP_START)

    def output(self, name: str) -> int:
        """An output register after the call; its ap_vld bit must be set when the .hwh has one."""
        valid = VALID_REGISTERS[name]
        if valid in self.offsets and not self.read_register(valid) & 1:
            raise BackendError(f"{self.name} finished without setting {valid} (the {name} register is not valid)")
        return self.read_register(name)


def _find_ip(ip_dict: dict[str, dict], vlnv: str, role: str) -> str:
    """The one IP of type `vlnv` in the overlay (OverlayError naming what is there otherwise)."""
    base = vlnv.rpartition(":")[0]
    found = [name for name, ip in ip_dict.items() if str(ip.get("type", "")).rpartition(":")[0] == base]
    present = ", ".join(f"{name} ({ip.get('type')})" for name, ip in ip_dict.items()) or "nothing"
    if not found:
        raise OverlayError(
            f"the overlay has no {role} ({vlnv}); it contains {present}. "
            "Load an overlay built from overlay/ (make -C overlay) or pass its .bit path"
        )
    if len(found) > 1:
        raise OverlayError(f"the overlay has {len(found)} {role}s ({', '.join(found)}); the driver expects exactly one")
    if ip_dict[found[0]]["type"] != vlnv:
        raise OverlayError(f"{found[0]} is {ip_dict[found[0]]['type']}, this runtime drives {vlnv}; rebuild the overlay from this release")
    return found[0]


def _check_dma_parameters(name: str, parameters: dict[str, str]) -> None:
    """The DMA must be the one overlay/ssa_bd.tcl builds: simple mode, 64-bit streams both ways."""
    wanted = {"c_include_sg": "0", "c_include_mm2s": "1", "c_include_s2mm": "1",
              "c_m_axis_mm2s_tdata_width": "64", "c_s_axis_s2mm_tdata_width": "64"}
    wrong = {key: parameters.get(key) for key, value in wanted.items() if parameters.get(key) != value}
    if wrong:
        raise OverlayError(f"AXI DMA {name} has {wrong}, the SSA driver needs {wanted}; rebuild the overlay with overlay/ssa_bd.tcl")


def active_device() -> Any:
    """PYNQ's device on this machine (BackendError when there is no board)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PYNQ's "is the XRT environment sourced?" hint
        devices = pynq.Device.devices
    if not devices:
        raise BackendError(
            "no PYNQ board found (no FPGA manager at /sys/class/fpga_manager): run on a PYNQ-Z2/Z1 "
            "with a PYNQ 3.x image, as root (sudo) so /dev/mem can be mapped"
        )
    return pynq.Device.active_device


class SSAOverlay(Overlay):
    """The SSA overlay: PS7, AXI DMA (simple mode) and the SSA kernel, as overlay/ builds it."""

    def __init__(self, bitfile: Path, *, device: Any = None, download: bool = True, timeout_s: float = 5.0):
        super().__init__(str(bitfile), download=download, device=device if device is not None else active_device())
        self.kernel_name = _find_ip(self.ip_dict, SSA_VLNV, "SSA kernel")
        self.dma_name = _find_ip(self.ip_dict, DMA_VLNV, "AXI DMA")
        _check_dma_parameters(self.dma_name, self.ip_dict[self.dma_name]["parameters"])
        self.kernel = self._driver(self.kernel_name)
        if not isinstance(self.kernel, SSAKernel):
            raise OverlayError(f"{self.kernel_name} was bound to {type(self.kernel).__name__}, not SSAKernel")
        self.reset_dma(Deadline(timeout_s))
        self.dma = self._driver(self.dma_name)

    def _driver(self, path: str) -> Any:
        target: Any = self
        for part in path.split("/"):
            target = getattr(target, part)
        return target

    def reset_dma(self, deadline: Deadline) -> None:
        """Soft-reset the DMA (both channels, outstanding transfers dropped) and start both channels, with a deadline.

        PYNQ's DMA driver starts the channels in its constructor and spins until they run; doing it
        here first (reset, run, wait for halted to clear) turns a dead DMA into an error, not a hang.
        BoardKernel also calls it after a stall or a DMA error, before reporting it.
        """
        ip = self.ip_dict[self.dma_name]
        mmio = pynq.MMIO(ip["phys_addr"], ip["addr_range"], device=self.device)
        mmio.write(MM2S + DMACR, DMACR_RESET)
        while mmio.read(MM2S + DMACR) & DMACR_RESET:
            if deadline.passed():
                raise KernelTimeoutError(f"AXI DMA {self.dma_name} did not finish its soft reset within {deadline.seconds} s: is the PL clocked and the overlay loaded?")
            time.sleep(POLL_PAUSE_S)
        for base in (MM2S, S2MM):
            mmio.write(base + DMACR, DMACR_RS)
        while any(mmio.read(base + DMASR) & DMASR_HALTED for base in (MM2S, S2MM)):
            if deadline.passed():
                raise KernelTimeoutError(f"AXI DMA {self.dma_name} stayed halted after run/stop was set ({deadline.seconds} s)")
            time.sleep(POLL_PAUSE_S)


class BoardKernel:
    """One SSA kernel on the board: probe, then calls of whole blocks through the AXI DMA.

    Buffers are allocated once and grown when a call needs more. After a timeout or a DMA error the
    hardware is in an unknown state, so every later call is refused until the overlay is reloaded.
    """

    def __init__(self, overlay: SSAOverlay, timeout_s: float):
        self.overlay = overlay
        self.kernel = overlay.kernel
        self.dma = overlay.dma
        self.timeout_s = timeout_s
        self.max_transfer_bytes = int(self.dma.buffer_max_size)
        self._in: Any = None
        self._out: Any = None
        self._broken = ""
        self.limits, self.version = self.probe()

    def call_cycle_budget(self) -> int:
        """Kernel clocks one call may take: half the deadline at the slowest supported kernel clock
        (a faster FCLK_CLK0 only finishes sooner); the other half is left for DMA stalls and the PS."""
        return int(CALL_DEADLINE_SHARE * self.timeout_s * SLOWEST_CLOCK_MHZ * 1e6)

    def probe(self) -> tuple[Limits, int]:
        """One call with blocks = 0 (spec section 7): the synthesized parameters and contract version.

        A kernel without the `gain_log2` register gets `gain_log2_max = 0` (whatever its `info` says:
        a gain it cannot be given is refused before any transfer, never dropped).
        """
        self._guard()
        self.kernel.start(n=1, dk=1, t_steps=1, seed=0, blocks=0)
        self._wait(Deadline(self.timeout_s), channels=())
        check_status(self.kernel.output("status"), f"{self.kernel.name} probe")
        tile = self.kernel.output(TILE_REGISTER) if TILE_REGISTER in self.kernel.offsets else None
        limits, version = decode_info(self.kernel.output("info"), tile)
        check_version(version, f"the kernel of overlay {self.overlay.bitfile_name}")
        if not self.kernel.has_gain:
            limits = replace(limits, gain_log2_max=0)
        return limits, version

    def call(self, words: np.ndarray, out_words: int, *, n: int, dk: int, t_steps: int, seed: int, blocks: int,
             gain_log2: int = 0) -> np.ndarray:
        """Send `words` (uint64) through the kernel; return its `out_words` output words (a copy).

        ConfigError before any transfer if the kernel cannot take `gain_log2` (a v1 kernel: only 0).
        """
        self._guard()
        self.limits.check_gain(gain_log2, f"the kernel of overlay {self.overlay.bitfile_name}")
        in_bytes, out_bytes = 8 * words.size, 8 * out_words
        for what, size in (("input", in_bytes), ("output", out_bytes)):
            if size > self.max_transfer_bytes:
                raise StreamError(f"{what} of {size} bytes exceeds the DMA transfer limit {self.max_transfer_bytes}; split the call")
        self._in = self._ensure(self._in, words.size)
        self._out = self._ensure(self._out, out_words)
        self._in[: words.size] = words
        send, recv = self.dma.sendchannel, self.dma.recvchannel
        self.kernel.start(n=n, dk=dk, t_steps=t_steps, seed=seed, blocks=blocks, gain_log2=gain_log2)
        recv.transfer(self._out, nbytes=out_bytes)  # armed before any output can appear
        send.transfer(self._in, nbytes=in_bytes)  # flushes the input from the CPU cache
        self._wait(Deadline(self.timeout_s), channels=("MM2S", "S2MM"))
        send.wait()  # both return at once: the channels are idle; recv invalidates the output
        recv.wait()
        if recv.transferred != out_bytes:
            self._broken = f"a call whose output ended after {recv.transferred} of {out_bytes} bytes"
            raise StreamError(
                f"S2MM received {recv.transferred} bytes, expected {out_bytes}: the kernel's output stream "
                "ended (TLAST) early; check the kernel build against this runtime"
            )
        check_status(self.kernel.output("status"),
                     f"{self.kernel.name} call (n={n}, dk={dk}, t={t_steps}, blocks={blocks}, gain_log2={gain_log2})")
        return np.array(self._out[:out_words])

    def close(self) -> None:
        """Free the DMA buffers."""
        for buffer in (self._in, self._out):
            if buffer is not None:
                buffer.freebuffer()
        self._in = self._out = None

    def _ensure(self, buffer: Any, words: int) -> Any:
        if buffer is not None and buffer.size >= words:
            return buffer
        if buffer is not None:
            buffer.freebuffer()
        return pynq.allocate(shape=(words,), dtype=np.uint64, target=self.overlay.device)

    def _guard(self) -> None:
        if self._broken:
            raise BackendError(f"the board is in an unknown state after: {self._broken}. Create a new PynqBackend (reloads the overlay)")

    def _wait(self, deadline: Deadline, channels: tuple[str, ...]) -> None:
        """Poll the kernel and DMA channels until all are done, an error bit shows or the deadline passes."""
        pending = {"kernel", *channels}
        while pending:
            for channel in channels:
                if channel not in pending:
                    continue
                dmasr = self.dma.mmio.read(CHANNELS[channel][0] + DMASR)
                if dmasr & DMASR_ERROR_MASK:
                    self._broken = describe_dmasr(channel, dmasr)
                    raise DMAError(f"{self._broken}. The DMA halted; {self._stop_dma()}; create a new PynqBackend to reload the overlay")
                if dmasr & DMASR_IDLE:
                    pending.discard(channel)
            if "kernel" in pending and self.kernel.finished(self.kernel.control()):
                pending.discard("kernel")
            if pending and deadline.passed():
                self._broken = f"a call that timed out after {deadline.seconds} s"
                message = _diagnose(pending, deadline.seconds)
                if "kernel" not in pending and (status := self.kernel.read_register("status")):
                    message += f"; kernel status 0x{status:02x}: " + "; ".join(describe_status(status))
                raise KernelTimeoutError(f"{message}. {self._stop_dma()}; create a new PynqBackend to reload the overlay")
            if pending:
                time.sleep(POLL_PAUSE_S)


    def _stop_dma(self) -> str:
        """Soft-reset the DMA after a stall or an error, so that no transfer is outstanding when the overlay
        is reloaded; returns a sentence saying how that went (the kernel itself only resets with the overlay)."""
        try:
            self.overlay.reset_dma(Deadline(min(self.timeout_s, DMA_RESET_TIMEOUT_S)))
        except KernelTimeoutError as exc:
            return f"the DMA soft reset failed as well ({exc}); reload the overlay, and power-cycle the board if that hangs"
        return "both DMA channels were soft-reset (no transfer outstanding)"


def _diagnose(pending: set[str], seconds: float) -> str:
    """What a timeout most likely means, from which parts did not finish."""
    if "kernel" in pending and "MM2S" in pending:
        why = "the kernel stopped accepting input (stalled) before the MM2S transfer finished"
    elif "kernel" in pending and "S2MM" in pending:
        why = "the kernel consumed the whole input but never finished: the input is shorter than the registers announce, or the kernel stalled"
    elif "kernel" in pending:
        why = "the kernel never signalled ap_done"
    elif "S2MM" in pending:
        why = "the kernel finished but S2MM never completed: its output stream ended without TLAST"
    else:
        why = "the kernel finished but MM2S still holds input it never read: the input is longer than the registers announce"
    parts = [part for part in ("kernel", "MM2S", "S2MM") if part in pending]
    return f"{', '.join(parts)} not done after {seconds} s: {why}"
