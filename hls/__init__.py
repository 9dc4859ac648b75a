"""The HLS kernel sources (this folder), shipped as package data of `ssa._hls`.

Not Python code: host/ssa/backends/csim.py compiles these files with g++ for C-simulation, from a
checkout or from an installed wheel. See README.md here for the Vitis HLS flow.
"""
