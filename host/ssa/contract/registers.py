"""AXI-Lite register map, status bits and the `info` word of the SSA kernel (docs/spec.md section 7).

Shared by the C-simulation backend and the PYNQ driver so both decode the kernel the same way.
"""
from __future__ import annotations

from ssa.contract.config import CONTRACT_VERSION, GAIN_LOG2_MAX, SUPPORTED_VERSIONS, Limits
from ssa.errors import BackendError

#: Vitis HLS 2024.1 offsets for `ssa_top`'s arguments; the PYNQ driver prefers names from the .hwh.
#: `gain_log2` (contract v2) is the last argument, so it moved no register of a v1 build.
REGISTER_OFFSETS = {
    "CTRL": 0x00, "GIER": 0x04, "IP_IER": 0x08, "IP_ISR": 0x0C,
    "n": 0x10, "dk": 0x18, "t_steps": 0x20, "seed": 0x28, "blocks": 0x30,
    "status": 0x38, "status_ctrl": 0x3C, "info": 0x48, "info_ctrl": 0x4C, "tile": 0x58, "tile_ctrl": 0x5C,
    "gain_log2": 0x68,
}
CTRL_AP_START, CTRL_AP_DONE, CTRL_AP_IDLE, CTRL_AP_READY = 0x1, 0x2, 0x4, 0x8
BLOCKS_MAX = 65535

STATUS_BITS = {
    0: "N out of the kernel's range",
    1: "D_K out of the kernel's range",
    2: "T out of the kernel's range",
    3: "blocks out of range (0..65535)",
    4: "non-zero padding bits in the input stream (rows not packed for this D_K)",
    5: "TLAST before the final input word (input shorter than the configuration implies)",
    6: "final input word without TLAST (input longer than the configuration implies)",
    7: f"gain_log2 out of range (0..{GAIN_LOG2_MAX})",
}
#: Configuration errors: the kernel reads and writes no stream word.
STATUS_CONFIG_MASK = 0x8F


def describe_status(status: int) -> list[str]:
    """Human-readable meaning of every bit set in a status word."""
    return [text for bit, text in STATUS_BITS.items() if status >> bit & 1] + (
        [f"unknown status bits 0x{status & ~0xFF:x}"] if status & ~0xFF else []
    )


def check_status(status: int, where: str) -> None:
    """Raise BackendError naming every error bit of a non-zero status word."""
    if status:
        raise BackendError(f"{where}: kernel status 0x{status:02x}: " + "; ".join(describe_status(status)))


def encode_info(limits: Limits, version: int = CONTRACT_VERSION) -> int:
    """The `info` word a kernel build with these maxima reports (N_LIMIT, DK_MAX, T_MAX, version)."""
    return (limits.n_max - 1) | (limits.dk_max - 1) << 8 | (limits.t_max - 1) << 16 | version << 26


def encode_tile(limits: Limits) -> int:
    """The `tile` word a kernel build reports: N_TILE - 1."""
    return limits.array - 1


def decode_info(info: int, tile: int | None = None) -> tuple[Limits, int]:
    """(synthesized parameters, contract version) from the kernel's `info` and `tile` words.

    `tile` None (an overlay whose kernel has no `tile` register) means an untiled array of N_LIMIT;
    a contract-v1 kernel has no encoder gain (`gain_log2_max` 0).
    """
    n_limit = (info & 0xFF) + 1
    n_tile = n_limit if tile is None else (tile & 0xFF) + 1
    if n_tile > n_limit:
        raise BackendError(f"the kernel reports N_TILE={n_tile} > N_LIMIT={n_limit} (info 0x{info:08x}, tile 0x{tile:x}); "
                           "its registers are not those of docs/spec.md section 7: rebuild the kernel from hls/")
    version = info >> 26
    limits = Limits(n_max=n_limit, dk_max=(info >> 8 & 0xFF) + 1, t_max=(info >> 16 & 0x3FF) + 1, n_tile=n_tile,
                    gain_log2_max=GAIN_LOG2_MAX if version >= 2 else 0)
    return limits, version


def check_version(version: int, where: str) -> None:
    """Raise BackendError if a kernel implements a contract version this runtime does not drive (v1 and v2 it does)."""
    if version not in SUPPORTED_VERSIONS:
        raise BackendError(
            f"{where} implements SSA contract v{version}, this runtime v{CONTRACT_VERSION} "
            f"(and drives v{', v'.join(map(str, SUPPORTED_VERSIONS))}); "
            "rebuild the kernel/overlay from this release or install the matching runtime"
        )
