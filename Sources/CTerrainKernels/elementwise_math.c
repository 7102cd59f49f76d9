#include "elementwise_math.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "error_function_coefficients.h"

#pragma clang fp contract(off)

/* Explicit fma() is exact everywhere: one instruction in the two vector clones (Haswell's
   instruction set has FMA, AVX2 alone does not), glibc's exact fma elsewhere. */
#define CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#define INLINE static inline __attribute__((always_inline))

/* exp(x) in double, branch-free so that loops over it vectorize. x = k ln 2 + r with
   k = round(x / ln 2) and |r| <= ln(2)/2, ln 2 split in two parts (Cody and Waite) so that r is
   exact to double rounding; e^r by its Taylor series to r^13 (truncation below 5e-18) in Horner's
   form with fused multiply-adds, then scaled by 2^k built in the exponent bits. k is read from
   the bits of x / ln 2 + 1.5 * 2^52, whose last mantissa bits hold 2^51 + k, so no double is
   converted to an integer (AVX-512F has no vector instruction for that and the loop would fall
   back to scalar code). Below -708 (and -inf) the result is 0, which no float can tell from the
   double subnormals it skips; x is never above 0 here, but up to 709 is exact. NaN gives NaN. */
INLINE double vexp(double x) {
    const double log2e = 1.4426950408889634074, ln2hi = 6.93147180369123816490e-01,
                 ln2lo = 1.90821492927058770002e-10, shifter = 6755399441055744.0; /* 1.5 * 2^52 */
    const int64_t shifter_bits = 0x4338000000000000LL;
    double clamped = x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x);
    double shifted = clamped * log2e + shifter;
    double k = shifted - shifter;
    double r = (clamped - k * ln2hi) - k * ln2lo;
    double p = 1.0 / 6227020800.0;                                  /* 1/13! */
    p = fma(p, r, 1.0 / 479001600.0);  p = fma(p, r, 1.0 / 39916800.0);  p = fma(p, r, 1.0 / 3628800.0);
    p = fma(p, r, 1.0 / 362880.0);     p = fma(p, r, 1.0 / 40320.0);     p = fma(p, r, 1.0 / 5040.0);
    p = fma(p, r, 1.0 / 720.0);        p = fma(p, r, 1.0 / 120.0);       p = fma(p, r, 1.0 / 24.0);
    p = fma(p, r, 1.0 / 6.0);          p = fma(p, r, 0.5);               p = fma(p, r, 1.0);
    p = fma(p, r, 1.0);
    int64_t shifted_bits;
    memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
    int64_t bits = (shifted_bits - shifter_bits + 1023) << 52;
    double scale;
    memcpy(&scale, &bits, sizeof scale);
    double result = p * scale;
    result = x < -708.0 ? 0.0 : result;
    return x != x ? x : result;
}

/* erfc(u) for u >= 0 (or +inf), to about 1e-16 relative: t exp(-u^2 + P(t)), t = 2/(2 + u),
   P by its Chebyshev series (scripts/fit-error-function.py) summed by Clenshaw's recurrence. */
INLINE double verfc_nonnegative(double u) {
    double t = 2.0 / (2.0 + u);
    double s = 2.0 * t - 1.0, s2 = 2.0 * s;
    double b1 = 0.0, b2 = 0.0;
#pragma clang loop unroll(full)
    for (int j = TERRAIN_ERFC_TERMS - 1; j >= 1; j--) {
        double b0 = s2 * b1 - b2 + terrain_erfc_chebyshev[j];
        b2 = b1; b1 = b0;
    }
    double p = s * b1 - b2 + terrain_erfc_chebyshev[0];
    double u2 = u * u;
    return t * vexp(p - u2);
}

/* Phi(x) = erfc(-x/sqrt 2) / 2, from erfc of |x|/sqrt 2 on either side: any x, NaN and +-inf. */
INLINE double vnormal_cdf(double x) {
    const double inv_sqrt2 = 0.70710678118654752440;
    double e = verfc_nonnegative(fabs(x) * inv_sqrt2);
    return x >= 0 ? 1.0 - 0.5 * e : 0.5 * e;
}

/* Phi(x) = (1 + erf(x/sqrt 2)) / 2 for |x| <= 3 (u^2 = x^2/2 <= TERRAIN_ERF_RANGE): erf by its
   polynomial (Horner's form, fused multiply-adds), no division and no exp, within 2e-15 (the cancellation at x = -3 costs no more
   than 5e-12 of Phi's relative accuracy). */
INLINE double vnormal_cdf_near_zero(double x) {
    const double inv_sqrt2 = 0.70710678118654752440;
    double w = 0.5 * (x * x), q = terrain_erf_powers[TERRAIN_ERF_TERMS - 1];
#pragma clang loop unroll(full)
    for (int j = TERRAIN_ERF_TERMS - 2; j >= 0; j--) q = fma(q, w, terrain_erf_powers[j]);
    return 0.5 + 0.5 * (x * inv_sqrt2 * q);
}

/* phi(x) = exp(-x^2/2) / sqrt(2 pi). */
INLINE double vnormal_density(double x) {
    const double inv_sqrt_2pi = 0.39894228040143267794;
    return inv_sqrt_2pi * vexp(-0.5 * (x * x));
}

/* The GELU kernels run in blocks of BLOCK values: a block whose every |x| <= 3 (nearly all of
   them in a network) takes the polynomial; any other block, and the last partial one, takes
   erfc. Which path a value takes depends only on its block's values, never on threads. */
#define BLOCK 16
INLINE int block_near_zero(const float *x) {
    int inside = 1;
    for (int l = 0; l < BLOCK; l++) inside &= fabsf(x[l]) <= 3.0f;
    return inside;
}

/* Runs AT(i, cdf) for every i < count, cdf = Phi(x[i]): by the polynomial for a block of BLOCK
   values whose every |x| <= 3, by erfc for any other block and for the last partial one. The one
   walk of every GELU kernel, so that each takes the same path for the same value. */
#define GELU_BLOCKS(x, count, AT)                                                                    \
    do {                                                                                             \
        long i_ = 0;                                                                                 \
        for (; i_ + BLOCK <= (count); i_ += BLOCK) {                                                 \
            if (block_near_zero((x) + i_)) {                                                         \
                for (int l_ = 0; l_ < BLOCK; l_++) AT(i_ + l_, vnormal_cdf_near_zero((x)[i_ + l_])); \
            } else {                                                                                 \
                for (int l_ = 0; l_ < BLOCK; l_++) AT(i_ + l_, vnormal_cdf((x)[i_ + l_]));           \
            }                                                                                        \
        }                                                                                            \
        for (; i_ < (count); i_++) AT(i_, vnormal_cdf((x)[i_]));                                     \
    } while (0)

/* GELU's slope Phi(x) + x phi(x) at x, given Phi(x). */
INLINE double gelu_slope(double v, double cdf) { return cdf + v * vnormal_density(v); }

CLONES void terrain_gelu_f32(const float *x, float *y, long count) {
#define AT(i, cdf) do { double c_ = (cdf); y[i] = (float)((double)x[i] * c_); } while (0)
    GELU_BLOCKS(x, count, AT);
#undef AT
}

CLONES void terrain_gelu_backward_f32(const float *x, const float *g, float *out, long count) {
#define AT(i, cdf) do { double c_ = (cdf); out[i] = (float)((double)g[i] * gelu_slope(x[i], c_)); } while (0)
    GELU_BLOCKS(x, count, AT);
#undef AT
}

CLONES void terrain_gelu_second_f32(const float *x, const float *t, float *out, long count) {
    for (long i = 0; i < count; i++) {
        double v = x[i];
        out[i] = (float)((double)t[i] * (vnormal_density(v) * (2.0 - v * v)));
    }
}

/* GELU's forward pass with its tangent, Phi computed once per value: y = x Phi(x) and
   y_dot = x_dot (Phi(x) + x phi(x)), the same bits as terrain_gelu_f32 and
   terrain_gelu_backward_f32 (GELU_BLOCKS takes the same path for the same value). */
CLONES void terrain_gelu_with_tangent_f32(const float *restrict x, const float *restrict x_dot, float *restrict y,
                                          float *restrict y_dot, long count) {
#define AT(i, cdf)                                                               \
    do {                                                                         \
        double c_ = (cdf), v_ = x[i];                                            \
        y[i] = (float)(v_ * c_);                                                 \
        y_dot[i] = (float)((double)x_dot[i] * gelu_slope(v_, c_));               \
    } while (0)
    GELU_BLOCKS(x, count, AT);
#undef AT
}

/* One value of GELU's backward pass and its R-operator (the flags are constants where it is
   inlined, so each combination is its own vector loop). */
INLINE void gelu_backward_tangent_at(long i, double cdf, const float *x, const float *g, const float *g_dot,
                                     const float *x_dot, float *gx, float *gx_dot, int has_g_dot, int has_x_dot) {
    double v = x[i], density = vnormal_density(v), slope = cdf + v * density;
    gx[i] = (float)((double)g[i] * slope);
    float along_g = has_g_dot ? (float)((double)g_dot[i] * slope) : 0.0f;
    float along_x = 0.0f;
    if (has_x_dot) {
        float t = x_dot[i] * g[i];
        along_x = (float)((double)t * (density * (2.0 - v * v)));
    }
    if (has_g_dot && has_x_dot) gx_dot[i] = along_g + along_x;
    else if (has_g_dot) gx_dot[i] = along_g;
    else if (has_x_dot) gx_dot[i] = along_x;
}

INLINE void gelu_backward_tangent(const float *restrict x, const float *restrict g, const float *restrict g_dot,
                                  const float *restrict x_dot, float *restrict gx, float *restrict gx_dot, long count,
                                  int has_g_dot, int has_x_dot) {
#define AT(i, cdf) gelu_backward_tangent_at(i, cdf, x, g, g_dot, x_dot, gx, gx_dot, has_g_dot, has_x_dot)
    GELU_BLOCKS(x, count, AT);
#undef AT
}

CLONES void terrain_gelu_backward_tangent_f32(const float *x, const float *g, const float *g_dot, const float *x_dot,
                                              float *gx, float *gx_dot, long count) {
    if (g_dot && x_dot) gelu_backward_tangent(x, g, g_dot, x_dot, gx, gx_dot, count, 1, 1);
    else if (g_dot) gelu_backward_tangent(x, g, g_dot, x_dot, gx, gx_dot, count, 1, 0);
    else if (x_dot) gelu_backward_tangent(x, g, g_dot, x_dot, gx, gx_dot, count, 0, 1);
    else gelu_backward_tangent(x, g, g_dot, x_dot, gx, gx_dot, count, 0, 0);
}

#define LANES 16
#define ROW_BUFFER 4096

/* Sums over a row of d elements, as every row kernel here takes them: `count` sums over the
   row's d elements, each in LANES interleaved double lanes (the last d % LANES elements into
   lane 0 in order) and the lanes added in a fixed order. ADD_TERMS(j, terms) fills terms[k]
   with the k-th summand at element j. */
#define MAX_ROW_SUMS 6
#define ROW_SUMS(count, d, totals, ADD_TERMS)                                                   \
    do {                                                                                        \
        double lanes_[MAX_ROW_SUMS][LANES];                                                      \
        for (int k_ = 0; k_ < (count); k_++)                                                    \
            for (int l_ = 0; l_ < LANES; l_++) lanes_[k_][l_] = 0.0;                            \
        long whole_ = (d) - (d) % LANES;                                                        \
        for (long j0_ = 0; j0_ < whole_; j0_ += LANES)                                          \
            for (int l_ = 0; l_ < LANES; l_++) {                                                \
                double terms_[MAX_ROW_SUMS];                                                     \
                ADD_TERMS(j0_ + l_, terms_);                                                    \
                for (int k_ = 0; k_ < (count); k_++) lanes_[k_][l_] += terms_[k_];              \
            }                                                                                   \
        for (long j_ = whole_; j_ < (d); j_++) {                                                \
            double terms_[MAX_ROW_SUMS];                                                         \
            ADD_TERMS(j_, terms_);                                                              \
            for (int k_ = 0; k_ < (count); k_++) lanes_[k_][0] += terms_[k_];                   \
        }                                                                                       \
        for (int k_ = 0; k_ < (count); k_++) {                                                  \
            double s_ = 0.0;                                                                    \
            for (int l_ = 0; l_ < LANES; l_++) s_ += lanes_[k_][l_];                            \
            (totals)[k_] = s_;                                                                  \
        }                                                                                       \
    } while (0)

/* sum_j exp(scale * x[j] - m) over n scores, in LANES interleaved partial sums added in a fixed
   order (so the loop vectorizes and the bits depend on n only); each term is also stored in e
   unless e is NULL. */
INLINE double sum_of_exps(const float *x, float scale, double m, long n, double *e) {
    double lane_sum[LANES];
    for (int l = 0; l < LANES; l++) lane_sum[l] = 0.0;
    long whole = n - n % LANES;
    for (long j = 0; j < whole; j += LANES) {
        double term[LANES];
        for (int l = 0; l < LANES; l++) term[l] = vexp((double)(scale * x[j + l]) - m);
        for (int l = 0; l < LANES; l++) lane_sum[l] += term[l];
        if (e) for (int l = 0; l < LANES; l++) e[j + l] = term[l];
    }
    /* The last n % LANES scores: their exps computed as one padded vector (a causal row's tail is
       half a vector on average, and scalar exps took as long as the rest of the row), added to
       lane 0 one by one in index order. */
    if (whole < n) {
        float padded[LANES];
        double term[LANES];
        for (int l = 0; l < LANES; l++) padded[l] = whole + l < n ? x[whole + l] : 0.0f;
        for (int l = 0; l < LANES; l++) term[l] = vexp((double)(scale * padded[l]) - m);
        for (long j = whole; j < n; j++) {
            lane_sum[0] += term[j - whole];
            if (e) e[j] = term[j - whole];
        }
    }
    double sum = 0.0;
    for (int l = 0; l < LANES; l++) sum += lane_sum[l];
    return sum;
}

/* y[j] = exp(scale * x[j] - m) / sum for j < n, with sum = sum_of_exps(x, scale, m, n): one exp per
   score through a buffer when n <= ROW_BUFFER, else exp(scale * x[j] - log_z) in a second pass.
   Each y[j] is written as (y[j] - subtract_at(j)) * factor, where subtract_at is 1 at index
   `subtract` (-1 for none): cross-entropy's gradient comes out of the same pass. Returns
   log_z = m + log(sum). */
INLINE double write_softmax(const float *x, float scale, double m, long n, long subtract, double factor, float *y) {
    if (n <= ROW_BUFFER) {
        double e[ROW_BUFFER];
        double sum = sum_of_exps(x, scale, m, n, e);
        double inverse = 1.0 / sum;
        for (long j = 0; j < n; j++) y[j] = (float)((e[j] * inverse - (j == subtract ? 1.0 : 0.0)) * factor);
        return m + log(sum);
    }
    double log_z = m + log(sum_of_exps(x, scale, m, n, 0));
    for (long j = 0; j < n; j++)
        y[j] = (float)((vexp((double)(scale * x[j]) - log_z) - (j == subtract ? 1.0 : 0.0)) * factor);
    return log_z;
}

/* One row: the first `valid` scores are read, the rest of the row's probabilities are 0. The
   maximum runs in LANES interleaved partial results too. */
INLINE void softmax_row(const float *x, float *y, long length, long valid, float scale) {
    float lane_max[LANES];
    int lane_nan[LANES];
    for (int l = 0; l < LANES; l++) { lane_max[l] = -INFINITY; lane_nan[l] = 0; }
    long whole = valid - valid % LANES;
    for (long j = 0; j < whole; j += LANES)
        for (int l = 0; l < LANES; l++) {
            float s = scale * x[j + l];
            lane_nan[l] |= s != s;
            lane_max[l] = s > lane_max[l] ? s : lane_max[l];
        }
    for (long j = whole; j < valid; j++) {
        float s = scale * x[j];
        lane_nan[0] |= s != s;
        lane_max[0] = s > lane_max[0] ? s : lane_max[0];
    }
    float maximum = -INFINITY;
    int has_nan = 0;
    for (int l = 0; l < LANES; l++) { maximum = lane_max[l] > maximum ? lane_max[l] : maximum; has_nan |= lane_nan[l]; }
    write_softmax(x, scale, has_nan ? NAN : maximum, valid, -1, 1.0, y);
    for (long j = valid; j < length; j++) y[j] = 0.0f;
}

CLONES void terrain_softmax_rows_f32(const float *x, float *y, long rows, long length, float scale,
                                     int causal, long first_row) {
    for (long r = 0; r < rows; r++) {
        long valid = causal ? (first_row + r) % length + 1 : length;
        softmax_row(x + r * length, y + r * length, length, valid, scale);
    }
}

CLONES void terrain_cross_entropy_rows_f32(const float *logits, const int *labels, long rows, long classes,
                                           double inverse_count, float *gradient, double *loss, long *argmax) {
    for (long r = 0; r < rows; r++) {
        const float *z = logits + r * classes;
        /* torch.max's arg-max: the first NaN if there is one, else the first largest value. */
        long arg = 0;
        for (long j = 1; j < classes; j++)
            if (z[j] > z[arg] || (z[j] != z[j] && z[arg] == z[arg])) arg = j;
        long label = labels[r];
        double log_z = write_softmax(z, 1.0f, (double)z[arg], classes, label, inverse_count, gradient + r * classes);
        loss[r] = log_z - (double)z[label];
        argmax[r] = arg;
    }
}

/* sum_j a[j] * b[j] in double, in LANES interleaved partial sums added in a fixed order. */
INLINE double dot_product(const float *a, const float *b, long n) {
    double total[1];
#define TERMS(j, t) ((t)[0] = (double)a[j] * (double)b[j])
    ROW_SUMS(1, n, total, TERMS);
#undef TERMS
    return total[0];
}

CLONES void terrain_softmax_jacobian_rows_f32(const float *y, const float *v, float *out, long rows, long length) {
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * length, *vr = v + r * length;
        float *o = out + r * length;
        double dot = dot_product(yr, vr, length);
        for (long j = 0; j < length; j++) o[j] = (float)((double)yr[j] * ((double)vr[j] - dot));
    }
}

CLONES void terrain_softmax_second_order_rows_f32(const float *y, const float *t, const float *g, float *out,
                                                  long rows, long length) {
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * length, *tr = t + r * length, *gr = g + r * length;
        float *o = out + r * length;
        double gy = dot_product(gr, yr, length), gt = dot_product(gr, tr, length);
        for (long j = 0; j < length; j++)
            o[j] = (float)((double)tr[j] * ((double)gr[j] - gy) - (double)yr[j] * gt);
    }
}

/* sum_j x[j] and sum_j (x[j] - mu)^2 in double, in LANES interleaved partial sums. */
INLINE double sum_of(const float *x, long n, double shift, int squares) {
    double total[1];
#define TERMS(j, t) do { double v_ = (double)x[j] - shift; (t)[0] = squares ? v_ * v_ : v_; } while (0)
    ROW_SUMS(1, n, total, TERMS);
#undef TERMS
    return total[0];
}

CLONES void terrain_layer_norm_rows_f32(const float *x, const float *gamma, const float *beta, float *y,
                                        float *mean, float *inv_std, long rows, long width, double epsilon) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * width;
        float *yr = y + r * width;
        double mu = sum_of(xr, width, 0.0, 0) / (double)width;
        double variance = sum_of(xr, width, mu, 1) / (double)width;
        float m = (float)mu, s = (float)(1.0 / sqrt(variance + epsilon));
        mean[r] = m;
        inv_std[r] = s;
        if (beta)
            for (long j = 0; j < width; j++) yr[j] = gamma[j] * ((xr[j] - m) * s) + beta[j];
        else
            for (long j = 0; j < width; j++) yr[j] = gamma[j] * ((xr[j] - m) * s);
    }
}

CLONES void terrain_layer_norm_backward_rows_f32(const float *restrict x, const float *restrict g, const float *restrict mean,
                                                 const float *restrict inv_std, const float *restrict gamma, float *restrict gx,
                                                 double *restrict sums, long rows, long d) {
    double inv_d = 1.0 / (double)d;
    for (long row = 0; row < rows; row++) {
        const float *xr = x + row * d, *gr = g + row * d;
        float *gxr = gx + row * d;
        float m = mean[row], r = inv_std[row];
        double totals[2];
#define TERMS(j, t)                                                  \
        do {                                                         \
            float xhat_ = (xr[j] - m) * r, u_ = gamma[j] * gr[j];    \
            (t)[0] = (double)u_; (t)[1] = (double)(xhat_ * u_);      \
        } while (0)
        ROW_SUMS(2, d, totals, TERMS);
#undef TERMS
        float u_mean = (float)(totals[0] * inv_d), xhat_u_mean = (float)(totals[1] * inv_d);
        for (long j = 0; j < d; j++) {
            float xhat = (xr[j] - m) * r;
            gxr[j] = r * (gamma[j] * gr[j] - u_mean - xhat * xhat_u_mean);
            if (sums) { sums[j] += (double)(gr[j] * xhat); sums[d + j] += (double)gr[j]; }
        }
    }
}

CLONES void terrain_layer_norm_tangent_rows_f32(const float *restrict x, const float *restrict x_dot, const float *restrict mean,
                                                const float *restrict inv_std, const float *restrict gamma, const float *restrict gamma_dot,
                                                const float *restrict beta_dot, float *restrict y_dot, long rows, long d) {
    double inv_d = 1.0 / (double)d;
    for (long row = 0; row < rows; row++) {
        const float *xr = x + row * d, *dr = x_dot ? x_dot + row * d : 0;
        float *yr = y_dot + row * d;
        float m = mean[row], r = inv_std[row];
        float dot_mean = 0.0f, a = 0.0f;
        if (dr) {
            double totals[2];
#define TERMS(j, t)                                                                   \
            do { (t)[0] = (double)dr[j]; (t)[1] = (double)((xr[j] - m) * r * dr[j]); } while (0)
            ROW_SUMS(2, d, totals, TERMS);
#undef TERMS
            dot_mean = (float)(totals[0] * inv_d);
            a = (float)(totals[1] * inv_d);
        }
        for (long j = 0; j < d; j++) {
            float xhat = (xr[j] - m) * r, v = 0.0f;
            if (dr) v = gamma[j] * (r * (dr[j] - dot_mean - xhat * a));
            if (gamma_dot) v += gamma_dot[j] * xhat;
            if (beta_dot) v += beta_dot[j];
            yr[j] = v;
        }
    }
}

/* The flags say which tangents are present; they are constants where this is inlined, so each
   combination compiles to its own vector loops (with run-time tests inside, the compiler left
   the second sweep scalar). */
INLINE void layer_norm_tangent_backward_rows(
    const float *restrict x, const float *restrict x_dot, const float *restrict g, const float *restrict g_dot, const float *restrict mean,
    const float *restrict inv_std, const float *restrict gamma, const float *restrict gamma_dot, float *restrict gx, float *restrict gx_dot,
    double *restrict sums, long rows, long d, int has_x_dot, int has_g_dot, int has_gamma_dot, int has_gx_dot, int has_parameters) {
    double inv_d = 1.0 / (double)d;
    for (long row = 0; row < rows; row++) {
        long off = row * d;
        const float *xr = x + off, *gr = g + off;
        const float *dr = x_dot ? x_dot + off : 0, *gdr = g_dot ? g_dot + off : 0;
        float m = mean[row], r = inv_std[row];
        /* First sweep: the row means that every element's terms need. */
        double totals[6];
#define TERMS(j, t)                                                                   \
        do {                                                                          \
            float xhat_ = (xr[j] - m) * r, gv_ = gr[j], u_ = gamma[j] * gv_, w_ = 0.0f; \
            if (has_gamma_dot) w_ += gamma_dot[j] * gv_;                                  \
            if (has_g_dot) w_ += gamma[j] * gdr[j];                                         \
            (t)[0] = (double)u_; (t)[1] = (double)(xhat_ * u_);                       \
            (t)[2] = (double)w_; (t)[3] = (double)(xhat_ * w_);                       \
            (t)[4] = has_x_dot ? (double)dr[j] : 0.0; (t)[5] = has_x_dot ? (double)(xhat_ * dr[j]) : 0.0; \
        } while (0)
        ROW_SUMS(6, d, totals, TERMS);
#undef TERMS
        float u_mean = (float)(totals[0] * inv_d), m_u = (float)(totals[1] * inv_d);
        float w_mean = (float)(totals[2] * inv_d), m_w = (float)(totals[3] * inv_d);
        float dot_mean = (float)(totals[4] * inv_d), a = (float)(totals[5] * inv_d);
        /* m-dot = mean(R{x-hat} * u) needs R{x-hat}, known only now. */
        float m_dot = 0.0f;
        if (has_x_dot) {
            double total[1];
#define TERMS(j, t)                                                                         \
            do {                                                                            \
                float xhat_ = (xr[j] - m) * r;                                              \
                (t)[0] = (double)(r * (dr[j] - dot_mean - xhat_ * a) * gamma[j] * gr[j]);   \
            } while (0)
            ROW_SUMS(1, d, total, TERMS);
#undef TERMS
            m_dot = (float)(total[0] * inv_d);
        }
        /* Second sweep: every element's values and the per-feature sums. */
        for (long j = 0; j < d; j++) {
            float xhat = (xr[j] - m) * r, gv = gr[j];
            float dx = r * (gamma[j] * gv - u_mean - xhat * m_u);
            gx[off + j] = dx;
            if (has_parameters) { sums[j] += (double)(gv * xhat); sums[d + j] += (double)gv; }
            float w = 0.0f;
            if (has_gamma_dot) w += gamma_dot[j] * gv;
            if (has_g_dot) {
                float gd = gdr[j];
                w += gamma[j] * gd;
                sums[2 * d + j] += (double)(gd * xhat);
                sums[3 * d + j] += (double)gd;
            }
            float rdx = r * (w - w_mean - xhat * m_w);
            if (has_x_dot) {
                float xhat_dot = r * (dr[j] - dot_mean - xhat * a);
                rdx += -r * a * dx - r * (xhat_dot * m_u + xhat * m_dot);
                sums[2 * d + j] += (double)(gv * xhat_dot);
            }
            if (has_gx_dot) gx_dot[off + j] = rdx;
        }
    }
}

CLONES void terrain_layer_norm_tangent_backward_rows_f32(
    const float *x, const float *x_dot, const float *g, const float *g_dot, const float *mean, const float *inv_std,
    const float *gamma, const float *gamma_dot, float *gx, float *gx_dot, double *sums, int parameter_gradients,
    long rows, long d) {
    int all = x_dot && g_dot && gamma_dot && gx_dot;
    if (all && parameter_gradients)
        layer_norm_tangent_backward_rows(x, x_dot, g, g_dot, mean, inv_std, gamma, gamma_dot, gx, gx_dot, sums, rows, d,
                                         1, 1, 1, 1, 1);
    else if (all)
        layer_norm_tangent_backward_rows(x, x_dot, g, g_dot, mean, inv_std, gamma, gamma_dot, gx, gx_dot, sums, rows, d,
                                         1, 1, 1, 1, 0);
    else
        layer_norm_tangent_backward_rows(x, x_dot, g, g_dot, mean, inv_std, gamma, gamma_dot, gx, gx_dot, sums, rows, d,
                                         x_dot != 0, g_dot != 0, gamma_dot != 0, gx_dot != 0, parameter_gradients != 0);
}
