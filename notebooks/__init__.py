"""The Jupyter notebooks, shipped as package data `ssa.notebooks` (copy them with `ssa notebooks DEST`)."""
