#pragma once

/// The fp32 FMA throughput these cores reach, in GFLOP/s: `threads` threads each run chains of
/// independent fused multiply-adds on the widest vectors the CPU has (AVX-512, AVX2 + FMA, or
/// plain SSE multiply and add), counted as 2 flops per lane. This is the peak that
/// `make bench` sets throughputs against: measured, so turbo clocks and units that split wide
/// vectors (AMD Zen 4 runs AVX-512 on 256-bit units) are accounted for.
double terrain_fma_peak_gflops(int threads);

/// The instruction set the measurement used: "AVX-512", "AVX2+FMA" or "SSE".
const char *terrain_fma_peak_isa(void);
