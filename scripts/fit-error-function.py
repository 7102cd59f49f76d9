#!/usr/bin/env python3
"""Derives the coefficients of Terrain's error functions (erf near 0, erfc everywhere).

The vectorized kernels in Sources/CTerrainKernels/elementwise_math.c compute, for u >= 0,

    erfc(u) = t * exp(-u^2 + P(t)),   t = 2 / (2 + u)  in (0, 1],

where P(t) = log(erfc(u) * exp(u^2) / t) is smooth on [0, 1] (P(1) = 0, P(0) = -log(2 sqrt(pi))).
This script evaluates P in 40-digit arithmetic (mpmath) at Chebyshev nodes, takes the Chebyshev
series of P in s = 2t - 1, keeps the terms down to a relative size of 1e-17 and writes them as a C
header. The same form holds the whole range, tails included, so GELU's x * Phi(x) keeps its
relative accuracy for large negative x, where 1 + erf(x / sqrt 2) would cancel.

Near 0 the kernels use a plain polynomial instead, with no division and no exp: for u^2 <= 4.5,

    erf(u) = u * Q(u^2),

Q of degree 16 in w = u^2, the Chebyshev series of erf(u)/u on [0, 4.5] converted to powers of w in
50-digit arithmetic; evaluated by Horner's rule in double it is within 2e-15 of erf (checked
here on a dense grid).

Run: python3 scripts/fit-error-function.py > Sources/CTerrainKernels/error_function_coefficients.h
"""
import mpmath as mp

mp.mp.dps = 40
NODES = 80
TOLERANCE = mp.mpf("1e-17")


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


ERF_RANGE = 4.5  # w = u^2 in [0, ERF_RANGE]: |x| <= 3 for GELU
ERF_DEGREE = 16


def erf_over_u(w: mp.mpf) -> mp.mpf:
    return 2 / mp.sqrt(mp.pi) if w == 0 else mp.erf(mp.sqrt(w)) / mp.sqrt(w)


def erf_power_coefficients() -> list:
    """Q's coefficients of w^0 ... w^ERF_DEGREE: the Chebyshev series of erf(u)/u in
    s = 2w/ERF_RANGE - 1, expanded into powers of s, then of w."""
    n = 120
    xs = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / n) for k in range(n)]
    values = [erf_over_u((1 + x) * ERF_RANGE / 2) for x in xs]
    cheb = [2 * sum(v * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / n) for k, v in enumerate(values)) / n
            for j in range(ERF_DEGREE + 1)]
    cheb[0] /= 2
    t = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
    for j in range(2, ERF_DEGREE + 1):
        doubled = [mp.mpf(0)] + [2 * x for x in t[j - 1]]
        previous = t[j - 2] + [mp.mpf(0)] * (len(doubled) - len(t[j - 2]))
        t.append([a - b for a, b in zip(doubled, previous)])
    in_s = [mp.mpf(0)] * (ERF_DEGREE + 1)
    for j, c in enumerate(cheb):
        for i, x in enumerate(t[j]):
            in_s[i] += c * x
    a, b = mp.mpf(2) / ERF_RANGE, mp.mpf(-1)
    in_w = [mp.mpf(0)] * (ERF_DEGREE + 1)
    for i, x in enumerate(in_s):
        for k in range(i + 1):
            in_w[k] += x * mp.binomial(i, k) * a**k * b ** (i - k)
    return in_w


def check_erf(coefficients: list) -> float:
    """The largest relative error of u * Q(u^2), evaluated in double, on a grid of w."""
    q = [float(c) for c in coefficients]
    worst = 0.0
    for i in range(1, 4001):
        w = ERF_RANGE * i / 4000
        acc = 0.0
        for c in reversed(q):
            acc = acc * w + c
        exact = mp.erf(mp.sqrt(mp.mpf(w)))
        worst = max(worst, float(abs((acc * w**0.5 - exact) / exact)))
    return worst


def main() -> None:
    c = chebyshev_coefficients()
    q = erf_power_coefficients()
    worst = check_erf(q)
    assert worst < 5e-15, f"erf polynomial off by {worst}"
    print("/* Written by scripts/fit-error-function.py. Do not edit. */")
    print("")
    print("/* The Chebyshev coefficients of P(t) = log(erfc(u) exp(u^2) / t), t = 2 / (2 + u), in s = 2t - 1. */")
    print(f"#define TERRAIN_ERFC_TERMS {len(c)}")
    print("static const double terrain_erfc_chebyshev[TERRAIN_ERFC_TERMS] = {")
    for v in c:
        print(f"    {mp.nstr(v, 20, min_fixed=0, max_fixed=0)},")
    print("};")
    print("")
    print(f"/* erf(u) = u Q(u^2) for u^2 <= {ERF_RANGE}: Q's coefficients of w^0, w^1, ... (within {worst:.1e} of erf). */")
    print(f"#define TERRAIN_ERF_RANGE {float(ERF_RANGE)!r}")
    print(f"#define TERRAIN_ERF_TERMS {len(q)}")
    print("static const double terrain_erf_powers[TERRAIN_ERF_TERMS] = {")
    for v in q:
        print(f"    {mp.nstr(v, 20, min_fixed=0, max_fixed=0)},")
    print("};")


if __name__ == "__main__":
    main()
