#!/usr/bin/env python3
"""Projected weak-scaling efficiency of data-parallel AlexNet (issue 17), from a measured compute
time per step and a ring-allreduce model of the gradient exchange:

    t_allreduce(N) = 2 (N - 1) alpha + 2 (N - 1) / N * S / B

(each rank sends and receives 2 (N - 1) / N of the S gradient bytes; 2 (N - 1) messages of
latency alpha). Efficiency = t_compute / (t_compute + t_exposed), with t_exposed the allreduce
time without overlap, and max(0, t_allreduce - t_hide) with ideal overlap, t_hide being the
backward time left after the fully connected layers' gradients are ready.

usage: bench/mpi/scaling.py T_COMPUTE_S HIDE_FRACTION [BYTES] [ALPHA_S] [LINK_EFFICIENCY]
"""
import sys

t_compute = float(sys.argv[1])                              # s per step, one rank, measured
hide = float(sys.argv[2])                                   # fraction of the step after fc's backward
size = float(sys.argv[3]) if len(sys.argv) > 3 else 228179240.0   # AlexNet modern, 10 classes: 57,044,810 floats
alpha = float(sys.argv[4]) if len(sys.argv) > 4 else 50e-6       # s per message (an assumption: TCP on Ethernet)
efficiency = float(sys.argv[5]) if len(sys.argv) > 5 else 0.9    # share of the line rate TCP achieves (an assumption)

print(f"compute {t_compute * 1e3:.0f} ms per step, {size / 1e6:.1f} MB of gradients, alpha {alpha * 1e6:.0f} us, "
      f"links at {efficiency:.0%} of line rate, overlap window {hide:.0%} of the step")
print("| link | ranks | allreduce (ms) | efficiency, no overlap | efficiency, ideal overlap |")
print("|---|---:|---:|---:|---:|")
for name, gbit in (("10 GbE", 10), ("100 GbE", 100)):
    bandwidth = gbit / 8 * 1e9 * efficiency
    for n in (4, 16, 64):
        t = 2 * (n - 1) * alpha + 2 * (n - 1) / n * size / bandwidth
        none = t_compute / (t_compute + t)
        ideal = t_compute / (t_compute + max(0.0, t - hide * t_compute))
        print(f"| {name} | {n} | {t * 1e3:.0f} = 2x{n - 1}x{alpha * 1e6:.0f} us + 2x{n - 1}/{n}x{size / 1e6:.0f} MB / "
              f"{bandwidth / 1e9:.3g} GB/s | {none:.0%} | {ideal:.0%} |")
