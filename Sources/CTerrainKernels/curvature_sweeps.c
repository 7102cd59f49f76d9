#include "curvature_sweeps.h"

#pragma clang fp contract(off)

#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* One block of B lanes at offset o (B a constant in the callers below, so the lane loops become
   whole vectors). */
static inline __attribute__((always_inline)) void forward_block(
        const int B, long half, long o, const float *y, const float *a, const float *c, const float *ad,
        const float *cd, const float *addend, int relu, float *out) {
    float z[16], t[16];
    for (int l = 0; l < B; l++) {
        float yv = y[o + l], yd = y[half + o + l];
        z[l] = a[l] * yv + c[l];
        t[l] = a[l] * yd + ad[l] * yv + cd[l];
    }
    if (addend)
        for (int l = 0; l < B; l++) { z[l] += addend[o + l]; t[l] += addend[half + o + l]; }
    /* ReLU as PyTorch computes it: z <= 0 gives 0, anything else (NaN included) passes, so
       relu(NaN) = NaN and the tangent passes at NaN (the same single comparison as z > 0). */
    if (relu)
        for (int l = 0; l < B; l++) { t[l] = z[l] <= 0 ? 0 : t[l]; z[l] = z[l] <= 0 ? 0 : z[l]; }
    for (int l = 0; l < B; l++) { out[o + l] = z[l]; out[half + o + l] = t[l]; }
}

/* A group of B lanes: B neighbouring channels of one channel block of one sample. Its value at
   position s starts at base + s * block, and its first channel is ch. */
typedef struct { long base, ch; } lane_group;

/* Group g of the n * channels / B groups of a value in blocks of `block` channels, counted in the
   order they lie in memory (lanes fastest, then blocks, then samples): both sweeps walk them so.
   Its sample-and-block index is g / (block / B), its lane offset j = (g % (block / B)) * B. */
static inline __attribute__((always_inline)) lane_group lane_group_at(
        const int B, long g, long channels, long spatial, long block) {
    long per_block = block / B, sample_block = g / per_block, j = (g % per_block) * B;
    return (lane_group){ sample_block * spatial * block + j, sample_block % (channels / block) * block + j };
}

static inline __attribute__((always_inline)) void forward_all(
        const int B, long n, long channels, long spatial, long block, const float *y, const float *a, const float *c,
        const float *ad, const float *cd, const float *addend, int relu, float *out) {
    long half = n * channels * spatial;
    for (long g = 0; g < n * channels / B; g++) {
        lane_group q = lane_group_at(B, g, channels, spatial, block);
        for (long s = 0; s < spatial; s++)
            forward_block(B, half, q.base + s * block, y, a + q.ch, c + q.ch, ad + q.ch, cd + q.ch, addend, relu, out);
    }
}

CLONES void terrain_curvature_forward(long n, long channels, long spatial, long block,
                                      const float *y, const float *a, const float *c, const float *ad, const float *cd,
                                      const float *addend, int relu, float *out) {
    if (block % 16 == 0) forward_all(16, n, channels, spatial, block, y, a, c, ad, cd, addend, relu, out);
    else if (block % 8 == 0) forward_all(8, n, channels, spatial, block, y, a, c, ad, cd, addend, relu, out);
    else forward_all(1, n, channels, spatial, block, y, a, c, ad, cd, addend, relu, out);
}

static inline __attribute__((always_inline)) void backward_all(
        const int B, long n, long channels, long spatial, long block, const float *gradient, const float *output,
        const float *y, const float *a, const float *ad, double *totals, float *addend_gradient, int addend_accumulate,
        float *target, int accumulate) {
    long half = n * channels * spatial;
    for (long g = 0; g < n * channels / B; g++) {
        lane_group q = lane_group_at(B, g, channels, spatial, block);
        long ch = q.ch;
        float s1[16], s2[16], s3[16];
        for (int l = 0; l < B; l++) { s1[l] = 0; s2[l] = 0; s3[l] = 0; }
        for (long s = 0; s < spatial; s++) {
            long o = q.base + s * block;
            float gzd[16], gz[16];
            for (int l = 0; l < B; l++) { gzd[l] = gradient[o + l]; gz[l] = gradient[half + o + l]; }
            if (output)
                for (int l = 0; l < B; l++) {
                    /* threshold_backward: output <= 0 ? 0 : g (a NaN output passes g) */
                    int positive = !(output[o + l] <= 0);
                    gzd[l] = positive ? gzd[l] : 0;
                    gz[l] = positive ? gz[l] : 0;
                }
            if (addend_gradient) {
                if (addend_accumulate)
                    for (int l = 0; l < B; l++) { addend_gradient[o + l] += gzd[l]; addend_gradient[half + o + l] += gz[l]; }
                else
                    for (int l = 0; l < B; l++) { addend_gradient[o + l] = gzd[l]; addend_gradient[half + o + l] = gz[l]; }
            }
            if (y)
                for (int l = 0; l < B; l++) {
                    s1[l] += gzd[l] * y[o + l] + gz[l] * y[half + o + l];
                    s2[l] += gzd[l];
                    s3[l] += gz[l];
                }
            float td[16], tv[16];
            for (int l = 0; l < B; l++) { td[l] = a[ch + l] * gzd[l] + ad[ch + l] * gz[l]; tv[l] = a[ch + l] * gz[l]; }
            if (accumulate)
                for (int l = 0; l < B; l++) { target[o + l] += td[l]; target[half + o + l] += tv[l]; }
            else
                for (int l = 0; l < B; l++) { target[o + l] = td[l]; target[half + o + l] = tv[l]; }
        }
        if (y && totals)
            for (int l = 0; l < B; l++) {
                totals[ch + l] += s1[l];
                totals[channels + ch + l] += s2[l];
                totals[2 * channels + ch + l] += s3[l];
            }
    }
}

CLONES void terrain_curvature_backward(long n, long channels, long spatial, long block,
                                       const float *gradient, const float *output, const float *y,
                                       const float *a, const float *ad, double *totals,
                                       float *addend_gradient, int addend_accumulate,
                                       float *target, int accumulate) {
    if (block % 16 == 0)
        backward_all(16, n, channels, spatial, block, gradient, output, y, a, ad, totals, addend_gradient, addend_accumulate, target, accumulate);
    else if (block % 8 == 0)
        backward_all(8, n, channels, spatial, block, gradient, output, y, a, ad, totals, addend_gradient, addend_accumulate, target, accumulate);
    else
        backward_all(1, n, channels, spatial, block, gradient, output, y, a, ad, totals, addend_gradient, addend_accumulate, target, accumulate);
}

CLONES void terrain_add(const float *from, float *into, long count) {
    for (long i = 0; i < count; i++) into[i] += from[i];
}

/* ---- The block program's sweeps (OneDNNCurvatureBlockProgram): the value (θ only) and each
   probe's tangent in separate buffers, so that the value's pass runs once for a block of probes
   (or once for every product at one θ, when kept). The arithmetic of each output is that of the
   pair sweeps above, term by term; ReLU's mask is read from the output value (out <= 0 exactly
   where z <= 0, NaN passing in both). */

static inline __attribute__((always_inline)) void forward_value_all(
        const int B, long n, long channels, long spatial, long block, const float *y, const float *a, const float *c,
        const float *addend, int relu, float *out) {
    for (long g = 0; g < n * channels / B; g++) {
        lane_group q = lane_group_at(B, g, channels, spatial, block);
        const float *aq = a + q.ch, *cq = c + q.ch;
        for (long s = 0; s < spatial; s++) {
            long o = q.base + s * block;
            float z[16];
            for (int l = 0; l < B; l++) z[l] = aq[l] * y[o + l] + cq[l];
            if (addend) for (int l = 0; l < B; l++) z[l] += addend[o + l];
            if (relu) for (int l = 0; l < B; l++) z[l] = z[l] <= 0 ? 0 : z[l];
            for (int l = 0; l < B; l++) out[o + l] = z[l];
        }
    }
}

CLONES void terrain_curvature_forward_value(long n, long channels, long spatial, long block, const float *y,
                                            const float *a, const float *c, const float *addend, int relu, float *out) {
    if (block % 16 == 0) forward_value_all(16, n, channels, spatial, block, y, a, c, addend, relu, out);
    else if (block % 8 == 0) forward_value_all(8, n, channels, spatial, block, y, a, c, addend, relu, out);
    else forward_value_all(1, n, channels, spatial, block, y, a, c, addend, relu, out);
}

static inline __attribute__((always_inline)) void forward_tangent_all(
        const int B, long n, long channels, long spatial, long block, const float *y, const float *yd, const float *a,
        const float *ad, const float *cd, const float *addend_tangent, const float *out_value, int relu, float *out) {
    for (long g = 0; g < n * channels / B; g++) {
        lane_group q = lane_group_at(B, g, channels, spatial, block);
        const float *aq = a + q.ch, *adq = ad + q.ch, *cdq = cd + q.ch;
        for (long s = 0; s < spatial; s++) {
            long o = q.base + s * block;
            float t[16];
            for (int l = 0; l < B; l++) t[l] = aq[l] * yd[o + l] + adq[l] * y[o + l] + cdq[l];
            if (addend_tangent) for (int l = 0; l < B; l++) t[l] += addend_tangent[o + l];
            if (relu) for (int l = 0; l < B; l++) t[l] = out_value[o + l] <= 0 ? 0 : t[l];
            for (int l = 0; l < B; l++) out[o + l] = t[l];
        }
    }
}

CLONES void terrain_curvature_forward_tangent(long n, long channels, long spatial, long block, const float *y,
                                              const float *yd, const float *a, const float *ad, const float *cd,
                                              const float *addend_tangent, const float *out_value, int relu, float *out) {
    if (block % 16 == 0) forward_tangent_all(16, n, channels, spatial, block, y, yd, a, ad, cd, addend_tangent, out_value, relu, out);
    else if (block % 8 == 0) forward_tangent_all(8, n, channels, spatial, block, y, yd, a, ad, cd, addend_tangent, out_value, relu, out);
    else forward_tangent_all(1, n, channels, spatial, block, y, yd, a, ad, cd, addend_tangent, out_value, relu, out);
}

static inline __attribute__((always_inline)) void backward_value_all(
        const int B, long n, long channels, long spatial, long block, const float *gradient, const float *output,
        const float *a, float *addend_gradient, int addend_accumulate, float *target, int accumulate) {
    for (long g = 0; g < n * channels / B; g++) {
        lane_group q = lane_group_at(B, g, channels, spatial, block);
        const float *aq = a + q.ch;
        for (long s = 0; s < spatial; s++) {
            long o = q.base + s * block;
            float gz[16];
            for (int l = 0; l < B; l++) gz[l] = gradient[o + l];
            if (output) for (int l = 0; l < B; l++) gz[l] = !(output[o + l] <= 0) ? gz[l] : 0;
            if (addend_gradient) {
                if (addend_accumulate) for (int l = 0; l < B; l++) addend_gradient[o + l] += gz[l];
                else for (int l = 0; l < B; l++) addend_gradient[o + l] = gz[l];
            }
            if (accumulate) for (int l = 0; l < B; l++) target[o + l] += aq[l] * gz[l];
            else for (int l = 0; l < B; l++) target[o + l] = aq[l] * gz[l];
        }
    }
}

CLONES void terrain_curvature_backward_value(long n, long channels, long spatial, long block, const float *gradient,
                                             const float *output, const float *a, float *addend_gradient,
                                             int addend_accumulate, float *target, int accumulate) {
    if (block % 16 == 0) backward_value_all(16, n, channels, spatial, block, gradient, output, a, addend_gradient, addend_accumulate, target, accumulate);
    else if (block % 8 == 0) backward_value_all(8, n, channels, spatial, block, gradient, output, a, addend_gradient, addend_accumulate, target, accumulate);
    else backward_value_all(1, n, channels, spatial, block, gradient, output, a, addend_gradient, addend_accumulate, target, accumulate);
}

static inline __attribute__((always_inline)) void backward_tangent_all(
        const int B, long n, long channels, long spatial, long block, const float *gradient_tangent, const float *gradient,
        const float *output, const float *y, const float *yd, const float *a, const float *ad, double *totals,
        float *addend_gradient, int addend_accumulate, float *target, int accumulate) {
    for (long g = 0; g < n * channels / B; g++) {
        lane_group q = lane_group_at(B, g, channels, spatial, block);
        long ch = q.ch;
        float s1[16], s2[16], s3[16];
        for (int l = 0; l < B; l++) { s1[l] = 0; s2[l] = 0; s3[l] = 0; }
        for (long s = 0; s < spatial; s++) {
            long o = q.base + s * block;
            float gzd[16], gz[16];
            for (int l = 0; l < B; l++) { gzd[l] = gradient_tangent[o + l]; gz[l] = gradient[o + l]; }
            if (output)
                for (int l = 0; l < B; l++) {
                    int positive = !(output[o + l] <= 0);
                    gzd[l] = positive ? gzd[l] : 0;
                    gz[l] = positive ? gz[l] : 0;
                }
            if (addend_gradient) {
                if (addend_accumulate) for (int l = 0; l < B; l++) addend_gradient[o + l] += gzd[l];
                else for (int l = 0; l < B; l++) addend_gradient[o + l] = gzd[l];
            }
            if (y)
                for (int l = 0; l < B; l++) {
                    s1[l] += gzd[l] * y[o + l] + gz[l] * yd[o + l];
                    s2[l] += gzd[l];
                    s3[l] += gz[l];
                }
            float td[16];
            for (int l = 0; l < B; l++) td[l] = a[ch + l] * gzd[l] + ad[ch + l] * gz[l];
            if (accumulate) for (int l = 0; l < B; l++) target[o + l] += td[l];
            else for (int l = 0; l < B; l++) target[o + l] = td[l];
        }
        if (y && totals)
            for (int l = 0; l < B; l++) {
                totals[ch + l] += s1[l];
                totals[channels + ch + l] += s2[l];
                totals[2 * channels + ch + l] += s3[l];
            }
    }
}

CLONES void terrain_curvature_backward_tangent(long n, long channels, long spatial, long block,
                                               const float *gradient_tangent, const float *gradient, const float *output,
                                               const float *y, const float *yd, const float *a, const float *ad,
                                               double *totals, float *addend_gradient, int addend_accumulate,
                                               float *target, int accumulate) {
    if (block % 16 == 0)
        backward_tangent_all(16, n, channels, spatial, block, gradient_tangent, gradient, output, y, yd, a, ad, totals, addend_gradient, addend_accumulate, target, accumulate);
    else if (block % 8 == 0)
        backward_tangent_all(8, n, channels, spatial, block, gradient_tangent, gradient, output, y, yd, a, ad, totals, addend_gradient, addend_accumulate, target, accumulate);
    else
        backward_tangent_all(1, n, channels, spatial, block, gradient_tangent, gradient, output, y, yd, a, ad, totals, addend_gradient, addend_accumulate, target, accumulate);
}
