"""Training side of the SSA stack: spiking ViT with Brevitas INT8 projections, SSA/Spikformer/ANN
attention, data loaders, training CLI and export. Never imported by the board runtime (``ssa``)."""
