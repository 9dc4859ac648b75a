"""Configuration of one SSA block and its legal ranges (docs/spec.md section 2)."""
from __future__ import annotations

import operator
from dataclasses import dataclass, replace

import numpy as np

from ssa.errors import ConfigError

#: Version 2 added the encoders' power-of-two gain (docs/spec.md section 3); gain 0 is version 1 bit for bit.
CONTRACT_VERSION = 2
#: Contract versions whose kernels and bundles this runtime still drives (a v1 kernel has no gain register).
SUPPORTED_VERSIONS = (1, 2)
SEED_MAX = 2**32 - 1
#: Largest gain exponent g of the encoders: a spike where u < count << g, i.e. P ≈ min(1, 2^g · count / M).
GAIN_LOG2_MAX = 4
MODES = ("lfsr", "ideal")


@dataclass(frozen=True)
class Limits:
    """Largest N, D_K and T an implementation accepts (all ranges start at 1).

    `n_tile` is the side of a kernel build's SAU array (docs/spec.md section 8): blocks of up to
    `n_max` tokens run on it in tiles of `n_tile` queries by `n_tile` keys. None means untiled
    (software backends, or a kernel whose array holds `n_max` tokens).
    """

    n_max: int
    dk_max: int
    t_max: int
    n_tile: int | None = None
    gain_log2_max: int = GAIN_LOG2_MAX

    def __post_init__(self) -> None:
        if self.n_tile is not None and not 1 <= self.n_tile <= self.n_max:
            raise ConfigError(f"n_tile={self.n_tile} must be 1..n_max={self.n_max}: the array cannot be larger than the block")
        if not 0 <= self.gain_log2_max <= GAIN_LOG2_MAX:
            raise ConfigError(f"gain_log2_max={self.gain_log2_max} must be 0..{GAIN_LOG2_MAX}")

    @property
    def array(self) -> int:
        """Side of the SAU array: n_tile, or n_max when untiled."""
        return self.n_max if self.n_tile is None else self.n_tile

    def tiled(self) -> "Limits":
        """The same limits with n_tile spelled out (as a kernel's probe reports them)."""
        return replace(self, n_tile=self.array)

    def fits(self, n: int, dk: int, t: int) -> bool:
        """Whether a block of (n, dk, t) fits these limits."""
        return 1 <= n <= self.n_max and 1 <= dk <= self.dk_max and 1 <= t <= self.t_max

    def check(self, n: int, dk: int, t: int, where: str) -> None:
        """Raise ConfigError if (n, dk, t) does not fit these limits."""
        for name, value, top in (("n", n, self.n_max), ("dk", dk, self.dk_max), ("t", t, self.t_max)):
            if not 1 <= value <= top:
                raise ConfigError(
                    f"{name}={value} is outside {where}'s range 1..{top}; "
                    f"choose {name} in that range" + (" or rebuild the kernel with a larger maximum" if where != "the contract" else "")
                )

    def check_gain(self, gain_log2: int, where: str, name: str = "gain_log2") -> None:
        """Raise ConfigError if the encoders' gain exponent is beyond what `where` implements."""
        if not 0 <= gain_log2 <= self.gain_log2_max:
            hint = ("it implements contract v1, which has no encoder gain: rebuild the kernel/overlay from this release"
                    if self.gain_log2_max == 0 else f"choose {name} in 0..{self.gain_log2_max}")
            raise ConfigError(f"{name}={gain_log2} is outside {where}'s range 0..{self.gain_log2_max}; {hint}")


#: The contract's own maxima: D_K ≤ 256 keeps the SAU counter at 9 bits.
CONTRACT_LIMITS = Limits(n_max=256, dk_max=256, t_max=1024)
#: Parameters of the default HLS build (hls/ssa_params.h): a 32 x 32 SAU array, blocks of up to 256 tokens.
DEFAULT_KERNEL_LIMITS = Limits(n_max=256, dk_max=64, t_max=32, n_tile=32)


def check_int(name: str, value: object) -> int:
    """Return value as int, refusing bools, floats, arrays and other non-integers."""
    if not isinstance(value, (bool, np.bool_)):
        try:
            return operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            pass
    raise ConfigError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")


def check_seed(seed: object) -> int:
    """Validate a user seed: an integer in 0..2^32-1, never wrapped."""
    value = check_int("seed", seed)
    if not 0 <= value <= SEED_MAX:
        raise ConfigError(f"seed={value} is outside 0..{SEED_MAX}; pass a non-negative 32-bit seed")
    return value


def check_gain_log2(value: object, name: str = "gain_log2") -> int:
    """Validate the encoders' gain exponent: an integer in 0..GAIN_LOG2_MAX (contract v2), never clipped."""
    gain = check_int(name, value)
    CONTRACT_LIMITS.check_gain(gain, "the contract", name)
    return gain


def check_config(config: object) -> SSAConfig:
    """Return config if it is an SSAConfig, else raise ConfigError naming how to build one."""
    if isinstance(config, SSAConfig):
        return config
    hint = "ssa.SSAConfig(**config)" if isinstance(config, dict) else "ssa.SSAConfig(n=16, dk=16, t=10, seed=0)"
    raise ConfigError(f"config must be an ssa.SSAConfig, got {type(config).__name__}; build one with {hint}")


@dataclass(frozen=True)
class SSAConfig:
    """One SSA block: N tokens, D_K key dimension, T time steps, a seed, an RNG mode and the encoders'
    gain exponent (contract v2: both encoders fire at ≈ min(1, 2^gain_log2 · count / M); 0 is v1)."""

    n: int
    dk: int
    t: int
    seed: int = 0
    mode: str = "lfsr"
    gain_log2: int = 0

    def __post_init__(self) -> None:
        for name in ("n", "dk", "t"):
            object.__setattr__(self, name, check_int(name, getattr(self, name)))
        object.__setattr__(self, "seed", check_seed(self.seed))
        if self.mode not in MODES:
            raise ConfigError(f"mode={self.mode!r} is unknown; use one of {', '.join(MODES)}")
        CONTRACT_LIMITS.check(self.n, self.dk, self.t, "the contract")
        object.__setattr__(self, "gain_log2", check_gain_log2(self.gain_log2))

    @classmethod
    def for_spikes(cls, q_shape: tuple[int, ...], seed: int = 0, mode: str = "lfsr", gain_log2: int = 0) -> "SSAConfig":
        """Config matching a spike tensor shaped [T, N, D_K] or [T, B, H, N, D_K]."""
        if len(q_shape) not in (3, 5):
            from ssa.errors import ShapeError

            raise ShapeError(f"spikes must be [T, N, D_K] or [T, B, H, N, D_K], got shape {tuple(q_shape)}")
        return cls(n=q_shape[-2], dk=q_shape[-1], t=q_shape[0], seed=seed, mode=mode, gain_log2=gain_log2)
