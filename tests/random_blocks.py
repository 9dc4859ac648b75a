"""Random SSA blocks for backend-agreement tests: sizes across word boundaries, densities 0/1/random."""
import numpy as np

from ssa import SSAConfig


def random_case(index: int, base: int, n_edges: list[int], dk_edges: list[int]):
    """Config and Q, K, V of random case `index` (seeded by base + index).

    Every 10th case takes N from `n_edges`, every 10th (offset 5) D_K from `dk_edges`; seeds 0 and
    2^32-1 and all-zero / all-one spikes recur regularly; a third of the cases are unbatched.
    """
    g = np.random.default_rng(base + index)
    n = int(g.choice(n_edges)) if index % 10 == 0 else int(g.integers(1, 40))
    dk = int(g.choice(dk_edges)) if index % 10 == 5 else int(g.integers(1, 40))
    t = int(g.integers(1, 4))
    seed = [0, 2**32 - 1][index % 2] if index % 7 == 0 else int(g.integers(0, 2**32))
    batch = () if index % 3 == 0 else (int(g.integers(1, 3)), int(g.integers(1, 3)))
    density = [0.0, 1.0][index % 2] if index % 11 == 0 else float(g.random())
    shape = (t,) + batch + (n, dk)
    q, k, v = ((g.random(shape) < density).astype(np.uint8) for _ in range(3))
    return SSAConfig(n=n, dk=dk, t=t, seed=seed), q, k, v
