#ifndef TERRAIN_ELEMENTWISE_MATH_H
#define TERRAIN_ELEMENTWISE_MATH_H

/* Float kernels of transformers whose cost is transcendental functions: GELU's normal CDF and
   attention's softmax. Each is computed in double with vectorizable exp and erfc (see
   elementwise_math.c), then rounded once to float, so results match the scalar Double formulas
   to the float's last bit in all but rare ties. One clone per instruction set, picked at load
   time; floating-point contraction is off, so every clone gives the same bits. Each call is
   single-threaded: callers cut the work by size only. */

/* y = x * Phi(x), Phi the standard normal CDF (exact GELU). y may equal x. */
void terrain_gelu_f32(const float *x, float *y, long count);

/* out = g * (Phi(x) + x * phi(x)): GELU's derivative times the gradient g. */
void terrain_gelu_backward_f32(const float *x, const float *g, float *out, long count);

/* out = t * phi(x) * (2 - x^2): GELU's second derivative times t. */
void terrain_gelu_second_f32(const float *x, const float *t, float *out, long count);

/* GELU with its tangent in one pass: y = x * Phi(x), y_dot = x_dot * (Phi(x) + x * phi(x)), the
   same bits as terrain_gelu_f32 and terrain_gelu_backward_f32. */
void terrain_gelu_with_tangent_f32(const float *x, const float *x_dot, float *y, float *y_dot, long count);

/* GELU's backward pass and its R-operator in one pass, f' = Phi + x phi and f'' = phi (2 - x^2)
   computed once per value: gx = g * f'(x) and gx_dot = (g_dot * f') + (f'' * (x_dot * g)), each
   product rounded to float as terrain_gelu_backward_f32 and terrain_gelu_second_f32 round it
   (x_dot * g in float first), then added in float. g_dot or x_dot may be NULL (that term
   vanishes; with both NULL gx_dot is not written). */
void terrain_gelu_backward_tangent_f32(const float *x, const float *g, const float *g_dot, const float *x_dot,
                                       float *gx, float *gx_dot, long count);

/* Softmax along rows of `length` contiguous scores, of the scaled scores s[j] = (float)(scale * x[j]):
   y[j] = e[j] / sum_k e[k] with e[j] = exp(s[j] - max_k s[k]), all in double (rows longer than
   4096: exp(s[j] - log sum_k e[k])). With `causal`, row r holds the query at position
   i = (first_row + r) % length and sees keys j <= i only: the scores above the diagonal are never
   read and their probabilities are exactly 0, as a causal mask of -inf added before the softmax
   gives. A NaN among the scores a row reads makes that row's read part NaN (its masked part
   stays 0). */
void terrain_softmax_rows_f32(const float *x, float *y, long rows, long length, float scale,
                              int causal, long first_row);

/* Softmax cross-entropy of `rows` rows of logits [rows, classes] against labels (each inside
   0..<classes, checked by the caller): loss[r] = log sum_j exp(z_j) - z_label in double (the
   sum as softmax's, from the row's maximum), argmax[r] = the first NaN's index if there is one,
   else the first largest value's (torch.max), and the gradient row
   (softmax(z)_j - [j = label]) * inverse_count, rounded to float. */
void terrain_cross_entropy_rows_f32(const float *logits, const int *labels, long rows, long classes,
                                    double inverse_count, float *gradient, double *loss, long *argmax);

/* Softmax's Jacobian along rows of `length` contiguous values, at the output y (symmetric):
   out = y * (v - <y, v>), the dot product in double. */
void terrain_softmax_jacobian_rows_f32(const float *y, const float *v, float *out, long rows, long length);

/* The second-order term of a Hessian-vector product through softmax, along rows: given the
   output y, its tangent t and the output gradient g, out = t * (g - <g, y>) - y * <g, t>. */
void terrain_softmax_second_order_rows_f32(const float *y, const float *t, const float *g, float *out,
                                           long rows, long length);

/* Layer normalization of `rows` rows of `width` values: mean and variance (biased) in double, in
   interleaved partial sums; mean[r] and inv_std[r] = 1/sqrt(variance + epsilon) rounded to float,
   then y = gamma * ((x - mean) * inv_std) + beta in float (beta may be NULL). */
void terrain_layer_norm_rows_f32(const float *x, const float *gamma, const float *beta, float *y,
                                 float *mean, float *inv_std, long rows, long width, double epsilon);

/* Layer normalization's passes over `rows` rows of d values with the forward pass's float mean
   and inv_std (CPUBackend's LayerNorm.swift gives the formulas, derived there). Each row's sums
   run in double in interleaved partial sums; every element's arithmetic is the float arithmetic
   of the Swift formulas. Per-feature sums over the rows are added (+=) to `sums`, row by row in
   order: [sum g x-hat, sum g] for the backward pass (NULL: none), and for the tangent backward pass
   [sum g x-hat, sum g] (when parameter_gradients), then sum (g-dot x-hat + g R{x-hat}), sum g-dot.
   Tangent pointers may be NULL (zero tangents); gx_dot may be NULL when no tangent is asked. */
void terrain_layer_norm_backward_rows_f32(const float *x, const float *g, const float *mean,
                                          const float *inv_std, const float *gamma, float *gx,
                                          double *sums, long rows, long d);
void terrain_layer_norm_tangent_rows_f32(const float *x, const float *x_dot, const float *mean,
                                         const float *inv_std, const float *gamma, const float *gamma_dot,
                                         const float *beta_dot, float *y_dot, long rows, long d);
void terrain_layer_norm_tangent_backward_rows_f32(
    const float *x, const float *x_dot, const float *g, const float *g_dot, const float *mean,
    const float *inv_std, const float *gamma, const float *gamma_dot, float *gx, float *gx_dot,
    double *sums, int parameter_gradients, long rows, long d);

#endif
