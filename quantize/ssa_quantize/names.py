"""Names the training CLI offers as choices, importable without torch (so `ssa train --help` needs no torch)."""

ATTENTIONS = ("ssa", "spikformer", "ann")
EVAL_MODES = ("ideal", "lfsr")
ONNX_FORMATS = ("qcdq", "qonnx")
BUNDLE_NAME = "bundle.npz"
CHECKPOINT = "checkpoint.pt"
