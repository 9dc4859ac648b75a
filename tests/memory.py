"""Peak Python memory of a call (tracemalloc), for the loaders' memory bounds."""
import tracemalloc

from ssa.errors import SSAError


def peak_bytes(fn) -> tuple[int, object]:
    """(peak traced bytes while fn ran, its result or the SSAError it raised)."""
    tracemalloc.start()
    try:
        result = fn()
    except SSAError as exc:
        result = exc
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, result
