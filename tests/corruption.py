"""One hypothesis-driven way to damage a file's bytes, shared by the bundle and data-set property tests."""
from hypothesis import strategies as st

KINDS = ("flip", "truncate", "prepend", "append", "zero-run")


def corrupt(blob: bytes, data, kind: str, flips: int = 4, extra: int = 64) -> bytearray:
    """`blob` with up to `flips` bytes flipped, truncated, up to `extra` bytes prepended or appended, or 64 zeroed."""
    out = bytearray(blob)
    if kind == "flip":
        for at in data.draw(st.lists(st.integers(0, len(out) - 1), min_size=1, max_size=flips)):
            out[at] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        out = out[: data.draw(st.integers(0, len(out) - 1))]
    elif kind == "prepend":
        out = bytearray(data.draw(st.binary(min_size=1, max_size=extra))) + out
    elif kind == "append":
        out += data.draw(st.binary(min_size=1, max_size=extra))
    elif kind == "zero-run":
        at = data.draw(st.integers(0, len(out) - 1))
        out[at : at + 64] = bytes(len(out[at : at + 64]))
    else:
        raise ValueError(f"unknown corruption {kind!r}")
    return out
