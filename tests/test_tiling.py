"""Blocks larger than the SAU array: the C-simulated kernel tiles N up to N_LIMIT and stays bit-exact
with the untiled emulator, on a 16 x 16 and a 32 x 32 array (docs/spec.md section 8), for every
encoder gain of contract v2."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ssa import run
from ssa.contract.config import DEFAULT_KERNEL_LIMITS, GAIN_LOG2_MAX, Limits, SSAConfig
from ssa.contract.packing import pack_input_stream
from ssa.backends import kernel_calls
from ssa.cost.latency import estimate
from ssa.errors import BackendError, ConfigError

TILE16 = Limits(n_max=256, dk_max=64, t_max=32, n_tile=16)
#: Multi-word rows (D_K > 64) in tiles, and an N_LIMIT below the contract's 256.
NARROW = Limits(n_max=48, dk_max=128, t_max=8, n_tile=16)
BUILDS = {"tile32": DEFAULT_KERNEL_LIMITS, "tile16": TILE16, "narrow": NARROW}
#: Tile edges, the paper's N = 64, ViT-B's 197 and the limit; random N fill the rest.
EDGES = (1, 15, 16, 17, 31, 32, 33, 64, 197, 256)
RANDOM_N = 10
#: Array clocks x SAUs a case may cost (keeps every case well under a second of C-simulation).
SAU_STEPS_BUDGET = 2e7


@pytest.fixture(scope="module")
def backends():
    from ssa.backends import csim

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(csim.build_library, BUILDS.values()))
    except BackendError as exc:
        if "compiler" in str(exc) or "hls4ml" in str(exc):
            pytest.skip(f"C++ toolchain unavailable: {exc}")
        raise
    return {name: csim.CSimBackend(limits) for name, limits in BUILDS.items()}


def sizes(limits: Limits) -> list[int]:
    """The N values a build is tested at: every edge it holds, its N_LIMIT, and random N (seeded per build)."""
    rng = np.random.default_rng(limits.array * 1000 + limits.n_max)
    edges = sorted({n for n in EDGES if n <= limits.n_max} | {limits.n_max})
    return edges + sorted(int(n) for n in rng.choice(np.arange(2, limits.n_max), RANDOM_N, replace=False))


def case(limits: Limits, index: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, SSAConfig]:
    """Random Q, K, V and config for N = n: D_K up to DK_MAX (the maximum every third case), T and
    batch as large as the budget allows, density random (all-zero and all-one now and then), encoder
    gain 0..GAIN_LOG2_MAX in turn."""
    rng = np.random.default_rng([limits.array, limits.dk_max, index, n])
    dk = limits.dk_max if index % 3 == 0 else int(rng.integers(1, limits.dk_max + 1))
    tiles = -(-n // limits.array)
    affordable = int(SAU_STEPS_BUDGET // (tiles * tiles * dk * limits.array**2))
    t = int(rng.choice([x for x in (1, 2, 3, 5, 10) if x <= min(max(affordable, 1), limits.t_max)]))
    batch = (2, 2) if index % 4 == 1 and affordable >= 4 * t else ()
    density = {0: 0.0, 7: 1.0}.get(index % 11, float(rng.random()))
    q, k, v = ((rng.random((t, *batch, n, dk)) < density).astype(np.uint8) for _ in range(3))
    gain = index % (GAIN_LOG2_MAX + 1)
    return q, k, v, SSAConfig(n=n, dk=dk, t=t, seed=int(rng.integers(0, 2**32)), gain_log2=gain)


@pytest.mark.parametrize("build", BUILDS)
def test_tiled_blocks_match_the_untiled_emulator(backends, build):
    limits = BUILDS[build]
    for index, n in enumerate(sizes(limits)):
        q, k, v, config = case(limits, index, n)
        got = backends[build].run(q, k, v, config)
        np.testing.assert_array_equal(got, run(q, k, v, config), err_msg=f"{build}: {config}, shape {q.shape}")


def test_cases_cover_what_tiling_must_get_right():
    for limits in BUILDS.values():
        configs = [case(limits, i, n)[3] for i, n in enumerate(sizes(limits))]
        ns = {c.n for c in configs}
        assert {1, limits.array - 1, limits.array, limits.array + 1, limits.n_max} <= ns
        assert any(c.n % limits.array for c in configs if c.n > limits.array), "N not a multiple of the tile"
        assert max(c.dk for c in configs) == limits.dk_max and len({c.t for c in configs}) >= 3
        assert {c.gain_log2 for c in configs if c.n > limits.array} == set(range(GAIN_LOG2_MAX + 1)), "every gain tiled"
    assert {64, 197, 256} <= set(sizes(TILE16)) and case(NARROW, 0, 48)[3].dk == 128 > 64


def test_one_block_gives_the_same_spikes_on_every_build_that_holds_it(backends):
    """Stream ids do not depend on the build (spec section 4): N = 40 on 16 x 16, 32 x 32 and the narrow
    build, without and with a gain."""
    rng = np.random.default_rng(40)
    q, k, v = ((rng.random((3, 40, 64)) < 0.5).astype(np.uint8) for _ in range(3))
    for gain in (0, 2):
        config = SSAConfig(n=40, dk=64, t=3, seed=123, gain_log2=gain)
        outputs = [backends[name].run(q, k, v, config) for name in BUILDS]
        for out in outputs:
            np.testing.assert_array_equal(out, outputs[0])


def test_probe_reports_tile_and_limit(backends):
    for name, limits in BUILDS.items():
        assert backends[name].limits == limits
        assert (backends[name].limits.n_tile, backends[name].limits.n_max) == (limits.n_tile, limits.n_max)


def test_n_above_the_build_limit_is_refused(backends):
    """N_LIMIT = 48: the backend refuses N = 49 before any call; the raw kernel sets status bit 0."""
    backend = backends["narrow"]
    q = np.zeros((1, 49, 8), np.uint8)
    with pytest.raises(ConfigError, match=r"n=49 is outside the C-simulated kernel's range 1\.\.48"):
        backend.run(q, q, q, SSAConfig(n=49, dk=8, t=1))
    words = pack_input_stream(*(x[:, None] for x in (q, q, q)))
    last = np.zeros(words.size, bool)
    last[-1] = True
    result = backend.kernel.call(words, last, n=49, dk=8, t_steps=1, seed=0, blocks=1)
    assert (result.status, result.words_read, result.words_out.size) == (0x01, 0, 0)
    ok = backend.kernel.call(words[: 3 * 48], last[: 3 * 48] | (np.arange(3 * 48) == 3 * 48 - 1), n=48, dk=8,
                             t_steps=1, seed=0, blocks=1)
    assert ok.status == 0 and ok.words_out.size == 48


def test_cycle_budget_splits_calls_by_the_latency_model_of_the_probed_build(backends):
    """run_on_kernel(max_call_cycles=...) fits whole blocks into the budget with the build's own
    tiling: N = 64 costs 4 tile pairs on 32 x 32 and 16 on 16 x 16, so the same budget holds fewer."""
    config = SSAConfig(n=64, dk=32, t=2, seed=3)
    budget = estimate(64, 32, 2, blocks=3, limits=DEFAULT_KERNEL_LIMITS).kernel_cycles
    assert kernel_calls.blocks_within_cycles(config, DEFAULT_KERNEL_LIMITS, budget) == 3
    assert kernel_calls.blocks_within_cycles(config, TILE16, budget) == 1
    assert kernel_calls.blocks_within_cycles(config, TILE16, 0) == 1, "one block always goes"
    backend = backends["tile32"]
    calls = []
    rng = np.random.default_rng(64)
    q, k, v = ((rng.random((2, 7, 1, 64, 32)) < 0.4).astype(np.uint8) for _ in range(3))

    def call(words, blocks, seed):
        calls.append((blocks, seed))
        return backend._call(config, words, blocks, seed)

    got = kernel_calls.run_on_kernel(q, k, v, config, limits=backend.limits, where="csim", call=call,
                                     max_call_cycles=budget)
    np.testing.assert_array_equal(got, run(q, k, v, config))
    assert calls == [(3, 3), (3, 6), (1, 9)]
