#!/usr/bin/env python3
"""Writes MNIST test digit N (default 0) as an 8-bit grayscale PNG, white ink on black as in the
IDX file, with only the standard library: the request body of bench/serve/wrk.sh and the README."""
import gzip, struct, sys, zlib

def main():
    if len(sys.argv) < 3:
        sys.exit("usage: digit_png.py t10k-images-idx3-ubyte.gz OUT.png [INDEX]")
    images, out = sys.argv[1], sys.argv[2]
    index = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    opener = gzip.open if images.endswith(".gz") else open
    with opener(images, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 2051 or not 0 <= index < count:
            sys.exit(f"{images}: not an IDX image file, or index {index} not in [0, {count})")
        f.seek(16 + index * rows * cols)
        pixels = f.read(rows * cols)
    raw = b"".join(b"\x00" + pixels[y * cols:(y + 1) * cols] for y in range(rows))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", cols, rows, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    with open(out, "wb") as f:
        f.write(png)

main()
