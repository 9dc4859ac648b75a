"""Names the training CLI offers as choices, importable without torch (so `ssa train --help` needs no torch)."""
ATTENTIONS = ("ssa", "spikformer", "a2os2a", "ann")
EVAL_MODES = ("ideal", "lfsr")
ONNX_FORMATS = ("qcdq", "qonnx")
BUNDLE_NAME = "bundle.npz"
CHECKPOINT = "checkpoint.pt"
SSA_GRADS = ("ste-draw", "expectation")
SURROGATES = ("atan", "sigmoid", "rect")
#: Default sharpness of the surrogate gradients (spikingjelly's ATan alpha).
ATAN_ALPHA = 2.0
#: Backbone sizes of ``ssa train --preset``; ``pad_to``/``patch`` None = no padding / image side // 4.
PRESETS: dict[str, dict] = {
    "small": dict(pad_to=None, patch=None, embed_dim=128, depth=6, heads=8, mlp_ratio=4),  # the bundled demo model
    "paper": dict(pad_to=32, patch=4, embed_dim=512, depth=6, heads=8, mlp_ratio=4),  # ViT-Small: N = 64, D_K = 64
}
