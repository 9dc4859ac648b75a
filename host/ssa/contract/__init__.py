"""The bit-exact contract of docs/spec.md in code: configuration, generators, encoders, packing, registers, golden vectors — what every backend shares."""
