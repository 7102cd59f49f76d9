#include <oneapi/dnnl/dnnl.h>

/* libgomp (oneDNN's Debian build threads with OpenMP). Terrain schedules its own threads and
   runs oneDNN single-threaded inside them, as it does OpenBLAS. The setting is per thread. */
void omp_set_num_threads(int num_threads);

/* dnnl_dims_t is a C array; these build descriptors from plain integers. */
static inline dnnl_status_t terrain_dnnl_tensor_desc(dnnl_memory_desc_t *md, int rank,
        int64_t d0, int64_t d1, int64_t d2, int64_t d3, dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {d0, d1, d2, d3};
    return dnnl_memory_desc_init_by_tag(md, rank, dims, dnnl_f32, tag);
}

/* kind: 0 forward (inference), 1 backward data, 2 backward weights, 3 forward (training: the hint
   that backward primitives are created from). Padding is symmetric on the
   left; the right padding makes the output size come out as given. winograd: 0 direct, 1 Winograd. */
static inline dnnl_status_t terrain_dnnl_convolution_desc_algorithm(dnnl_convolution_desc_t *cd, int kind, int winograd,
        const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *weights, const dnnl_memory_desc_t *bias,
        const dnnl_memory_desc_t *dst, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t prh, int64_t prw) {
    dnnl_dims_t strides = {sh, sw}, left = {ph, pw}, right = {prh, prw};
    dnnl_alg_kind_t alg = winograd ? dnnl_convolution_winograd : dnnl_convolution_direct;
    switch (kind) {
    case 0: return dnnl_convolution_forward_desc_init(cd, dnnl_forward_inference, alg,
                                                      src, weights, bias, dst, strides, left, right);
    case 3: return dnnl_convolution_forward_desc_init(cd, dnnl_forward_training, alg,
                                                      src, weights, bias, dst, strides, left, right);
    case 1: return dnnl_convolution_backward_data_desc_init(cd, alg, src, weights, dst,
                                                            strides, left, right);
    default: return dnnl_convolution_backward_weights_desc_init(cd, alg, src, weights, bias,
                                                                dst, strides, left, right);
    }
}

/* The same with the direct algorithm. */
static inline dnnl_status_t terrain_dnnl_convolution_desc(dnnl_convolution_desc_t *cd, int kind,
        const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *weights, const dnnl_memory_desc_t *bias,
        const dnnl_memory_desc_t *dst, int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t prh, int64_t prw) {
    return terrain_dnnl_convolution_desc_algorithm(cd, kind, 0, src, weights, bias, dst, sh, sw, ph, pw, prh, prw);
}

/* Pooling in evaluation mode; padding as for convolutions. */
static inline dnnl_status_t terrain_dnnl_pooling_desc(dnnl_pooling_desc_t *pd, dnnl_alg_kind_t alg,
        const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst, int64_t sh, int64_t sw,
        int64_t kh, int64_t kw, int64_t ph, int64_t pw, int64_t prh, int64_t prw) {
    dnnl_dims_t strides = {sh, sw}, kernel = {kh, kw}, left = {ph, pw}, right = {prh, prw};
    return dnnl_pooling_forward_desc_init(pd, dnnl_forward_inference, alg, src, dst, strides, kernel, left, right);
}
