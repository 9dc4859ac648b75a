"""What SSA costs: the kernel's cycle model, per-stage board timing and the `ssa bench` benchmarks."""
