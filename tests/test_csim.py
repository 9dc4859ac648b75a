"""The C-simulated HLS kernel agrees with the emulator bit for bit (random blocks with encoder gains
0..4, every golden vector) and behaves like the board: status bits, TLAST framing, probe calls,
stalls on short input, a v1 kernel's refusal of a gain."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from ssa import run
from ssa.backends import csim, kernel_calls
from ssa.contract.config import DEFAULT_KERNEL_LIMITS, GAIN_LOG2_MAX, Limits, SSAConfig
from ssa.errors import BackendError, ConfigError, StreamError
from ssa.contract.packing import pack_input_stream, stream_word_counts, unpack_output_stream
from toolchain import require_csim_toolchain
from ssa.contract.registers import STATUS_CONFIG_MASK, encode_info, encode_tile
from ssa.contract.vectors import read_vector

DK256 = Limits(n_max=32, dk_max=256, t_max=32)
RANDOM_CASES = 300
MULTIWORD_EVERY = 5  # every 5th random case runs on the DK_MAX=256 build with D_K > 64
GAIN_EVERY = 3  # every 3rd random case (offset 1) has an encoder gain 1..4 (contract v2)
VECTORS = sorted((Path(__file__).parent / "vectors").glob("*.txt"))


@pytest.fixture(scope="module")
def backends() -> dict[Limits, csim.CSimBackend]:
    require_csim_toolchain()  # a compile error below fails every test that uses the kernel
    with ThreadPoolExecutor(max_workers=2) as pool:  # compile both builds at once
        list(pool.map(csim.build_library, (DEFAULT_KERNEL_LIMITS, DK256)))
    return {limits: csim.CSimBackend(limits) for limits in (DEFAULT_KERNEL_LIMITS, DK256)}


@pytest.fixture(scope="module")
def kernel(backends) -> csim.CSimKernel:
    return backends[DEFAULT_KERNEL_LIMITS].kernel


def random_case(case: int) -> tuple[Limits, np.ndarray, np.ndarray, np.ndarray, SSAConfig]:
    """Case `case` of the agreement test: sizes, densities (0, 1 or random), seeds, some batched.

    N stays within one tile (<= 32) here; tests/test_tiling.py covers N up to 256 on tiled builds."""
    rng = np.random.default_rng(1000 + case)
    limits = DK256 if case % MULTIWORD_EVERY == 0 else DEFAULT_KERNEL_LIMITS
    n = int(rng.integers(1, limits.array + 1))
    dk = int(rng.integers(65, 257)) if limits is DK256 else int(rng.integers(1, 65))
    t = int(rng.integers(1, 33 if limits is DEFAULT_KERNEL_LIMITS else 9))
    batch = tuple(int(x) for x in rng.integers(1, 4, size=2)) if case % 7 == 3 else ()
    density = {0: 0.0, 1: 1.0}.get(case % 11, None)
    shape = (t, *batch, n, dk)
    q, k, v = ((rng.random(shape) < (rng.random() if density is None else density)).astype(np.uint8) for _ in range(3))
    seed = int(rng.integers(0, 2**32)) if case % 13 else 2**32 - 1  # also wrap block seeds past 2^32
    gain = 1 + case // GAIN_EVERY % GAIN_LOG2_MAX if case % GAIN_EVERY == 1 else 0
    return limits, q, k, v, SSAConfig(n=n, dk=dk, t=t, seed=seed, gain_log2=gain)


@pytest.mark.parametrize("case", range(RANDOM_CASES))
def test_csim_matches_emulator(backends, case):
    limits, q, k, v, config = random_case(case)
    got = backends[limits].run(q, k, v, config)
    assert got.shape == q.shape and got.dtype == np.uint8
    np.testing.assert_array_equal(got, run(q, k, v, config))


def test_random_cases_cover_the_ranges():
    cases = [random_case(c) for c in range(RANDOM_CASES)]
    configs = [c[4] for c in cases]
    assert {1, 32} <= {c.n for c in configs}
    assert min(c.dk for c in configs) == 1 and max(c.dk for c in configs) > 200
    assert {1, 32} <= {c.t for c in configs}
    assert sum(c[1].ndim == 5 for c in cases) >= 30
    assert any(c[1].sum() == 0 for c in cases) and any(c[1].all() for c in cases)
    for gain in range(1, GAIN_LOG2_MAX + 1):  # every gain, on both builds, unbatched and batched
        gained = [c for c in cases if c[4].gain_log2 == gain]
        assert len(gained) >= 20 and {c[0] for c in gained} == {DK256, DEFAULT_KERNEL_LIMITS}
        assert {c[1].ndim for c in gained} == {3, 5}


def vector_backend(backends: dict[Limits, csim.CSimBackend], path: Path) -> csim.CSimBackend:
    """The first test build whose maxima hold the golden vector (every committed vector fits one)."""
    c = read_vector(path).config
    fitting = [b for limits, b in backends.items() if c.n <= limits.n_max and c.dk <= limits.dk_max and c.t <= limits.t_max]
    assert fitting, f"{path.name} fits none of the test builds {list(backends)}"
    return fitting[0]


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_golden_vectors_through_the_raw_kernel(backends, path):
    """Every golden vector (gains 0..4, tiled, multi-word, several blocks): the vector's registers and
    stream in, exactly its words out with TLAST on the last, status 0."""
    vec = read_vector(path)
    c = vec.config
    last = np.arange(vec.words_in.size) == vec.words_in.size - 1
    result = vector_backend(backends, path).kernel.call(vec.words_in, last, n=c.n, dk=c.dk, t_steps=c.t, seed=c.seed,
                                                        blocks=vec.blocks, gain_log2=c.gain_log2)
    assert (result.status, result.words_read) == (0, vec.words_in.size)
    np.testing.assert_array_equal(result.words_out, vec.words_out)
    assert result.last_out.tolist() == [False] * (vec.words_out.size - 1) + [True]


def test_gain_vectors_are_committed():
    configs = [read_vector(p).config for p in VECTORS]
    assert {c.gain_log2 for c in configs} == set(range(GAIN_LOG2_MAX + 1))
    assert any(c.gain_log2 and c.n > DEFAULT_KERNEL_LIMITS.array for c in configs), "no tiled gain vector"


# ---------------------------------------------------------------------------------------------
# The raw kernel, as the board sees it


def stream_for(blocks: int, t: int, n: int, dk: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    q, k, v = ((rng.random((t, blocks, n, dk)) < 0.5).astype(np.uint8) for _ in range(3))
    words = pack_input_stream(q, k, v)
    last = np.zeros(words.size, bool)
    last[-1] = True
    return words, last


def test_probe_reports_the_build(backends):
    for limits, backend in backends.items():
        result = backend.kernel.call(np.zeros(0, np.uint64), np.zeros(0, bool), n=1, dk=1, t_steps=1, seed=0, blocks=0)
        assert result.status == 0 and result.info == encode_info(limits) and result.tile == encode_tile(limits)
        assert result.words_out.size == 0 and result.words_read == 0
        assert backend.limits == limits.tiled()


def test_probe_ignores_other_registers(kernel):
    result = kernel.call(np.zeros(0, np.uint64), np.zeros(0, bool), n=5, dk=9, t_steps=3, seed=7, blocks=0)
    assert (result.status, result.words_out.size, result.info) == (0, 0, encode_info(DEFAULT_KERNEL_LIMITS))


@pytest.mark.parametrize("regs,bits", [
    (dict(n=0), 0x01), (dict(n=257), 0x01), (dict(dk=0), 0x02), (dict(dk=65), 0x02),
    (dict(t_steps=0), 0x04), (dict(t_steps=33), 0x04), (dict(blocks=65536), 0x08),
    (dict(gain_log2=GAIN_LOG2_MAX + 1), 0x80), (dict(gain_log2=2**32 - 1), 0x80), (dict(gain_log2=5, blocks=0), 0x80),
    (dict(n=2**32 - 1, dk=0, t_steps=1000, blocks=2**32 - 1), 0x0F),
    (dict(n=0, dk=0, t_steps=0, blocks=65536, gain_log2=8), STATUS_CONFIG_MASK),
])
def test_out_of_range_registers_set_status_and_touch_no_stream(kernel, regs, bits):
    words, last = stream_for(1, 2, 4, 8)
    call = dict(n=4, dk=8, t_steps=2, seed=1, blocks=1) | regs
    result = kernel.call(words, last, **call)
    assert result.status == bits
    assert result.words_read == 0 and result.words_out.size == 0
    assert result.info == encode_info(DEFAULT_KERNEL_LIMITS)


def test_register_wider_than_32_bits_is_refused(kernel):
    with pytest.raises(ConfigError, match="32-bit"):
        kernel.call(np.zeros(0, np.uint64), np.zeros(0, bool), n=1, dk=1, t_steps=1, seed=2**32, blocks=0)
    with pytest.raises(ConfigError, match="register gain_log2=-1 does not fit"):
        kernel.call(np.zeros(0, np.uint64), np.zeros(0, bool), n=1, dk=1, t_steps=1, seed=0, blocks=0, gain_log2=-1)


def test_gain_register_changes_the_spikes_and_saturates(kernel):
    """Same stream, seed and draws: each gain g gives the emulator's spikes for g; the rate grows with g,
    and all-one input spikes everywhere for every gain (count = M, so count << g >= M)."""
    rng = np.random.default_rng(8)
    q, k, v = ((rng.random((3, 2, 9, 24)) < 0.3).astype(np.uint8) for _ in range(3))
    words, last = pack_input_stream(q, k, v), np.arange(3 * 2 * 3 * 9) == 3 * 2 * 3 * 9 - 1
    rates = []
    for gain in range(GAIN_LOG2_MAX + 1):
        result = kernel.call(words, last, n=9, dk=24, t_steps=3, seed=5, blocks=2, gain_log2=gain)
        expected = run(*(x[:, None] for x in (q, k, v)), SSAConfig(9, 24, 3, seed=5, gain_log2=gain))
        attn = unpack_output_stream(result.words_out, 2, 3, 9, 24)
        np.testing.assert_array_equal(attn, expected[:, 0])
        rates.append(attn.mean())
    assert rates == sorted(rates) and rates[0] < rates[-1]
    ones = np.ones((2, 1, 4, 8), np.uint8)
    words, last = pack_input_stream(ones, ones, ones), np.arange(2 * 3 * 4) == 2 * 3 * 4 - 1
    for gain in range(GAIN_LOG2_MAX + 1):
        assert (kernel.call(words, last, n=4, dk=8, t_steps=2, seed=1, blocks=1, gain_log2=gain).words_out == 0xFF).all()


def test_nonzero_padding_is_flagged_after_a_full_run(kernel):
    words, last = stream_for(2, 3, 5, 13)
    clean = kernel.call(words, last, n=5, dk=13, t_steps=3, seed=4, blocks=2)
    words[7] |= np.uint64(1) << np.uint64(13)  # bit 13 of a 13-bit row is padding
    result = kernel.call(words, last, n=5, dk=13, t_steps=3, seed=4, blocks=2)
    assert result.status == 0x10
    assert result.words_read == words.size and result.words_out.size == clean.words_out.size
    assert result.last_out.tolist() == [False] * (result.words_out.size - 1) + [True]
    # docs/spec.md §7: padding bits never enter the counts; the output is that of the clean stream.
    assert clean.words_out.any()
    np.testing.assert_array_equal(result.words_out, clean.words_out)


def test_padding_check_uses_only_the_last_word_of_a_row(backends):
    kernel = backends[DK256].kernel
    words, last = stream_for(1, 1, 2, 100)  # two words per row, 36 padding bits in the second
    words[0] |= np.uint64(1) << np.uint64(63)  # a real bit of the first word
    assert kernel.call(words, last, n=2, dk=100, t_steps=1, seed=0, blocks=1).status == 0
    words[1] |= np.uint64(1) << np.uint64(36)
    assert kernel.call(words, last, n=2, dk=100, t_steps=1, seed=0, blocks=1).status == 0x10


@pytest.mark.parametrize("where,bits", [("early", 0x20), ("missing", 0x40), ("both", 0x60)])
def test_tlast_framing_errors(kernel, where, bits):
    words, last = stream_for(3, 2, 4, 8)
    clean = kernel.call(words, last, n=4, dk=8, t_steps=2, seed=0, blocks=3)
    if where in ("early", "both"):
        last[words.size // 3 - 1] = True  # on the final word of block 0
    if where in ("missing", "both"):
        last[-1] = False
    result = kernel.call(words, last, n=4, dk=8, t_steps=2, seed=0, blocks=3)
    assert result.status == bits
    assert result.words_read == words.size
    assert result.words_out.size == stream_word_counts(3, 2, 4, 8)[1] and result.last_out[-1]
    np.testing.assert_array_equal(result.words_out, clean.words_out)  # spec §7: TLAST does not change what is read


def test_status_bits_do_not_leak_into_the_next_call(kernel):
    words, last = stream_for(1, 2, 4, 8)
    bad = last.copy()
    bad[0] = True
    assert kernel.call(words, bad, n=4, dk=8, t_steps=2, seed=0, blocks=1).status == 0x20
    assert kernel.call(words, last, n=4, dk=8, t_steps=2, seed=0, blocks=1).status == 0


def test_longer_input_is_left_unread_and_flagged(kernel):
    words, last = stream_for(2, 2, 4, 8)
    result = kernel.call(words, last, n=4, dk=8, t_steps=2, seed=0, blocks=1)  # registers say one block
    assert result.words_read == words.size // 2
    assert result.status == 0x40  # the final word it reads has no TLAST


@pytest.mark.parametrize("keep", [0, 1, 23])
def test_short_input_raises_stream_error(kernel, keep):
    words, last = stream_for(1, 2, 4, 8)  # 24 words
    with pytest.raises(StreamError, match="ran out of input.*DMA stall"):
        kernel.call(words[:keep], last[:keep], n=4, dk=8, t_steps=2, seed=0, blocks=1)


def test_kernel_output_is_the_emulators_stream(kernel):
    rng = np.random.default_rng(5)
    q, k, v = ((rng.random((4, 3, 6, 20)) < 0.4).astype(np.uint8) for _ in range(3))
    words, last = pack_input_stream(q, k, v), np.zeros(3 * 4 * 3 * 6, bool)
    last[-1] = True
    result = kernel.call(words, last, n=6, dk=20, t_steps=4, seed=77, blocks=3)
    expected = run(q.reshape(4, 1, 3, 6, 20), k.reshape(4, 1, 3, 6, 20), v.reshape(4, 1, 3, 6, 20), SSAConfig(6, 20, 4, seed=77))
    np.testing.assert_array_equal(unpack_output_stream(result.words_out, 3, 4, 6, 20), expected.reshape(4, 3, 6, 20))


@pytest.mark.parametrize("words,last,match", [
    (np.zeros(3, np.int64), np.zeros(3, bool), "uint64"),
    (np.zeros(3, np.uint64), np.zeros(3, np.uint8), "bool"),
    (np.zeros(3, np.uint64), np.zeros(2, bool), "shaped like"),
])
def test_call_checks_its_buffers(kernel, words, last, match):
    with pytest.raises(StreamError, match=match):
        kernel.call(words, last, n=1, dk=1, t_steps=1, seed=0, blocks=1)


# ---------------------------------------------------------------------------------------------
# The backend


def spikes(shape, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.random(shape) < 0.5).astype(np.uint8) for _ in range(3)]


@pytest.mark.parametrize("limits,field,config,maximum", [
    (DK256, "n", SSAConfig(33, 8, 2), "1..32"), (DEFAULT_KERNEL_LIMITS, "dk", SSAConfig(4, 65, 2), "1..64"),
    (DEFAULT_KERNEL_LIMITS, "t", SSAConfig(4, 8, 33), "1..32"),
])
def test_backend_checks_config_against_the_kernel_before_calling(backends, monkeypatch, limits, field, config, maximum):
    backend = backends[limits]
    monkeypatch.setattr(backend.kernel, "call", lambda *a, **k: pytest.fail("kernel called"))
    q, k, v = spikes((config.t, config.n, config.dk))
    with pytest.raises(ConfigError, match=rf"{field}=\d+ is outside the C-simulated kernel's range {maximum}"):
        backend.run(q, k, v, config)


def test_a_v1_kernel_refuses_a_gain_before_any_call_and_runs_gain_0(backends):
    """Limits probed from a contract-v1 kernel (gain_log2_max 0): gain 1..4 is a ConfigError naming the
    fix before any kernel call; gain 0 runs, bit-exact."""
    backend = backends[DEFAULT_KERNEL_LIMITS]
    v1 = replace(backend.limits, gain_log2_max=0)
    q, k, v = spikes((2, 5, 12))
    for gain in range(1, GAIN_LOG2_MAX + 1):
        with pytest.raises(ConfigError, match=rf"gain_log2={gain} is outside a v1 kernel's range 0\.\.0; .*contract v1.*rebuild"):
            kernel_calls.run_on_kernel(q, k, v, SSAConfig(5, 12, 2, gain_log2=gain), limits=v1, where="a v1 kernel",
                                       call=lambda *a: pytest.fail("kernel called"))
    config = SSAConfig(5, 12, 2, seed=4)
    got = kernel_calls.run_on_kernel(q, k, v, config, limits=v1, where="a v1 kernel", call=partial(backend._call, config))
    np.testing.assert_array_equal(got, run(q, k, v, config))


def test_backend_refuses_ideal_mode(backends):
    q, k, v = spikes((2, 3, 4))
    with pytest.raises(ConfigError, match="lfsr"):
        backends[DEFAULT_KERNEL_LIMITS].run(q, k, v, SSAConfig(3, 4, 2, mode="ideal"))


def test_backend_checks_tlast_of_the_output(backends, monkeypatch):
    backend = backends[DEFAULT_KERNEL_LIMITS]
    real = backend.kernel.call

    def extra_tlast(*args, **kwargs):
        result = real(*args, **kwargs)
        result.last_out[0] = True
        return result

    monkeypatch.setattr(backend.kernel, "call", extra_tlast)
    q, k, v = spikes((2, 3, 4))
    with pytest.raises(StreamError, match="TLAST is set on words \\[0, 5\\]"):
        backend.run(q, k, v, SSAConfig(3, 4, 2))


def test_backend_raises_on_kernel_status(backends, monkeypatch):
    backend = backends[DEFAULT_KERNEL_LIMITS]
    real = backend.kernel.call
    monkeypatch.setattr(backend.kernel, "call", lambda *a, **k: real(*a, **k)._replace(status=0x10))
    q, k, v = spikes((2, 3, 4))
    with pytest.raises(BackendError, match="padding"):
        backend.run(q, k, v, SSAConfig(3, 4, 2))


def test_backend_splits_large_batches_into_calls(backends, monkeypatch):
    backend = backends[DEFAULT_KERNEL_LIMITS]
    calls = []
    real = backend.kernel.call
    monkeypatch.setattr(backend.kernel, "call", lambda *a, **k: calls.append(k) or real(*a, **k))
    monkeypatch.setattr(kernel_calls, "blocks_per_call", lambda config, max_bytes: 2)
    q, k, v = spikes((3, 5, 1, 4, 8), seed=3)  # B·H = 5 blocks -> calls of 2, 2, 1
    config = SSAConfig(4, 8, 3, seed=2**32 - 3)
    np.testing.assert_array_equal(backend.run(q, k, v, config), run(q, k, v, config))
    assert [(c["blocks"], c["seed"]) for c in calls] == [(2, 2**32 - 3), (2, 2**32 - 1), (1, 1)]


def test_blocks_per_call_respects_register_and_dma_limits():
    assert kernel_calls.blocks_per_call(SSAConfig(1, 1, 1)) == 65535
    big = SSAConfig(256, 256, 1024)  # 3·256·4·1024 words = 25 MB per block
    assert kernel_calls.blocks_per_call(big) == 2
    assert kernel_calls.blocks_per_call(SSAConfig(32, 64, 32)) * 8 * 3 * 32 * 32 <= kernel_calls.DMA_MAX_BYTES
    with pytest.raises(ConfigError, match="over the 1000-byte transfer limit"):
        kernel_calls.blocks_per_call(SSAConfig(32, 64, 32), max_bytes=1000)


# ---------------------------------------------------------------------------------------------
# Building


def test_build_is_cached(backends):
    assert csim.CSimKernel.build(DEFAULT_KERNEL_LIMITS) is backends[DEFAULT_KERNEL_LIMITS].kernel
    library = csim.build_library(DEFAULT_KERNEL_LIMITS)
    assert library.parent == csim.cache_dir() and library.name.startswith("ssa_csim_") and library.suffix == ".so"
    assert csim.build_library(DK256) != library


def test_incomplete_sources_are_a_clear_error(monkeypatch, tmp_path):
    (tmp_path / "ssa_top.cpp").write_text("")
    monkeypatch.setattr(csim.importlib.resources, "files", lambda package: tmp_path)
    with pytest.raises(BackendError, match="lack tb_ssa.cpp, csim/ssa_bridge.cpp.*hls/csim"):
        csim.hls_source_dir()


def test_cache_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SSA_CACHE_DIR", str(tmp_path))
    assert csim.cache_dir() == tmp_path


def test_missing_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("CXX", "/nonexistent/g++")
    with pytest.raises(BackendError, match="C\\+\\+17 compiler.*install g\\+\\+"):
        csim.find_compiler()
    monkeypatch.delenv("CXX")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BackendError, match="neither g\\+\\+ nor c\\+\\+"):
        csim.find_compiler()


def test_missing_hls4ml_is_a_clear_error(monkeypatch):
    real = csim.importlib.util.find_spec
    monkeypatch.setattr(csim.importlib.util, "find_spec", lambda name, *a: None if name == "hls4ml" else real(name, *a))
    with pytest.raises(BackendError, match=r"pip install ssa-fpga\[csim\]"):
        csim.ap_types_dir()


def test_compile_errors_are_reported(monkeypatch, tmp_path):
    sources, cache = tmp_path / "hls", tmp_path / "cache"
    (sources / "csim").mkdir(parents=True)
    (sources / "ssa_top.cpp").write_text("this is not C++;\n")
    (sources / "csim" / "ssa_bridge.cpp").write_text("")
    monkeypatch.setattr(csim, "hls_source_dir", lambda: sources)  # stands in for a broken checkout
    monkeypatch.setenv("SSA_CACHE_DIR", str(cache))
    with pytest.raises(BackendError, match="(?s)compiling the HLS kernel failed.*ssa_top.cpp:1"):
        csim.build_library(DEFAULT_KERNEL_LIMITS)
    assert list(cache.iterdir()) == []  # no half-written library left behind


def test_stream_flags_print_no_ap_int_warnings(kernel, capfd):
    """Setting the padding / early / missing TLAST flags mixes no ap_uint widths (ap_int warns at run time)."""
    n, dk = 2, 5
    words = np.full(3 * n, np.uint64(2**63 + 1), np.uint64)  # padding bit 63 set in every row
    last = np.zeros(words.size, bool)
    last[0] = True  # TLAST early, and missing on the final word
    capfd.readouterr()
    result = kernel.call(words, last, n=n, dk=dk, t_steps=1, seed=0, blocks=1)
    assert result.status == 0x70
    assert "WARNING" not in capfd.readouterr().err


@pytest.mark.skipif(shutil.which("clang++") is None, reason="clang++ is not installed (apt-get install clang)")
def test_clang_builds_the_kernel_and_agrees(monkeypatch):
    """C-simulation builds with CXX=clang++ as well as g++ and gives the same spikes."""
    monkeypatch.setenv("CXX", "clang++")
    require_csim_toolchain()
    assert csim.is_clang(csim.find_compiler())
    backend = csim.CSimBackend(DEFAULT_KERNEL_LIMITS)
    assert backend.kernel.library == csim.build_library(DEFAULT_KERNEL_LIMITS)
    assert "-fno-gnu-unique" not in csim.LIBRARY_FLAGS  # g++ only (csim.GCC_LIBRARY_FLAGS)
    rng = np.random.default_rng(12)
    q, k, v = ((rng.random((5, 2, 3, 17, 40)) < 0.4).astype(np.uint8) for _ in range(3))
    for gain in (0, 3):
        config = SSAConfig(n=17, dk=40, t=5, seed=2**32 - 3, gain_log2=gain)
        np.testing.assert_array_equal(backend.run(q, k, v, config), run(q, k, v, config))
    fits = [p for p in VECTORS if read_vector(p).config.dk <= DEFAULT_KERNEL_LIMITS.dk_max]
    for path in fits:  # the golden vectors that fit the default build, gains and tiling included
        vec = read_vector(path)
        c = vec.config
        out = backend._call(c, vec.words_in, vec.blocks, c.seed)
        np.testing.assert_array_equal(out, vec.words_out, err_msg=path.name)
    assert any(read_vector(p).config.gain_log2 for p in fits)


@pytest.mark.parametrize("where", ["file", "under_a_file"])
def test_cache_dir_that_is_not_a_folder_is_a_clear_error(monkeypatch, tmp_path, where):
    (tmp_path / "f").write_text("")
    monkeypatch.setenv("SSA_CACHE_DIR", str(tmp_path / "f" if where == "file" else tmp_path / "f" / "sub"))
    with pytest.raises(BackendError, match="(is a file, not a folder|cannot create SSA_CACHE_DIR).*writable folder"):
        csim.cache_dir()
