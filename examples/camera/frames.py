#!/usr/bin/env python3
"""Renders the digits test set (examples/digits/digits_test_x.npy, float32 [N, 64] in 0..1) as raw gray8 8x8 frames,
one after another, as a camera would send them: python3 frames.py > digits_test.gray8 (standard library only)."""
import ast, struct, sys
from pathlib import Path

raw = (Path(__file__).parent / ".." / "digits" / "digits_test_x.npy").read_bytes()
header_len = struct.unpack("<H", raw[8:10])[0]
header = ast.literal_eval(raw[10:10 + header_len].decode("latin1"))
assert header["descr"] == "<f4" and not header["fortran_order"] and header["shape"][1] == 64
values = struct.unpack(f"<{header['shape'][0] * 64}f", raw[10 + header_len:])
sys.stdout.buffer.write(bytes(round(min(max(v, 0.0), 1.0) * 255) for v in values))
