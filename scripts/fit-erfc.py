#!/usr/bin/env python3
"""Derives the Chebyshev coefficients of Terrain's complementary error function.

The vectorized kernels in Sources/CTerrainKernels/elementwise_math.c compute, for u >= 0,

    erfc(u) = t * exp(-u^2 + P(t)),   t = 2 / (2 + u)  in (0, 1],

where P(t) = log(erfc(u) * exp(u^2) / t) is smooth on [0, 1] (P(1) = 0, P(0) = -log(2 sqrt(pi))).
This script evaluates P in 40-digit arithmetic (mpmath) at Chebyshev nodes, takes the Chebyshev
series of P in s = 2t - 1, keeps the terms down to a relative size of 1e-13 (far below a float's 6e-8) and writes them as a C
header. The same form holds the whole range, tails included, so GELU's x * Phi(x) keeps its
relative accuracy for large negative x, where 1 + erf(x / sqrt 2) would cancel.

Run: python3 scripts/fit-erfc.py > Sources/CTerrainKernels/erfc_coefficients.h
"""
import mpmath as mp

mp.mp.dps = 40
NODES = 80
TOLERANCE = mp.mpf("1e-13")


def p(t: mp.mpf) -> mp.mpf:
    u = 2 / t - 2
    return mp.log(mp.erfc(u) * mp.exp(u * u) / t)


def chebyshev_coefficients() -> list:
    xs = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / NODES) for k in range(NODES)]
    values = [p((1 + x) / 2) for x in xs]
    coefficients = []
    for j in range(NODES):
        total = sum(v * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / NODES) for k, v in enumerate(values))
        coefficients.append(2 * total / NODES)
    coefficients[0] /= 2
    last = max(j for j, c in enumerate(coefficients) if abs(c) > TOLERANCE)
    return coefficients[: last + 1]


def main() -> None:
    c = chebyshev_coefficients()
    print("/* Written by scripts/fit-erfc.py: the Chebyshev coefficients of")
    print("   P(t) = log(erfc(u) exp(u^2) / t), t = 2 / (2 + u), in s = 2t - 1. Do not edit. */")
    print(f"#define TERRAIN_ERFC_TERMS {len(c)}")
    print("static const double terrain_erfc_chebyshev[TERRAIN_ERFC_TERMS] = {")
    for v in c:
        print(f"    {mp.nstr(v, 20, min_fixed=0, max_fixed=0)},")
    print("};")


if __name__ == "__main__":
    main()
