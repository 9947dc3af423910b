"""Backends: the HLS C++ project (and csim), the RTL design (and cosim)."""
