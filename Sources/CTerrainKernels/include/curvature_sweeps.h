#ifndef TERRAIN_CURVATURE_SWEEPS_H
#define TERRAIN_CURVATURE_SWEEPS_H

/* The memory sweeps of Terrain's compiled Hessian-vector products (TerrainTensor's
   OneDNNCurvatureProgram and CurvatureSweeps say what they compute). Values of n samples lie in
   blocked channels: sample i, channel cb*block + lane, position s at
   ((i*channels/block + cb)*spatial + s)*block + lane; a pair is the value (or R{dL/d.}) for n
   samples followed by its tangent (or dL/d.) for n samples. Written in C so that the compiler
   vectorizes them for the machine it runs on (one clone per instruction set, chosen at load
   time); floating-point contraction is off, so every clone gives the same bits. */

/* z = a*y + c (+ r), t = a*yd + ad*y + cd (+ rd); with relu, z > 0 ? z : 0 and z > 0 ? t : 0.
   addend may be NULL. */
void terrain_curvature_forward(long n, long channels, long spatial, long block,
                               const float *y, const float *a, const float *c, const float *ad, const float *cd,
                               const float *addend, int relu, float *out);

/* The adjoint of the forward sweep; see CurvatureSweeps.backward. output (the ReLU mask's
   source) is NULL without relu; y, totals (3*channels doubles, added to) and addend_gradient
   may be NULL. target may equal gradient. */
void terrain_curvature_backward(long n, long channels, long spatial, long block,
                                const float *gradient, const float *output, const float *y,
                                const float *a, const float *ad, double *totals,
                                float *addend_gradient, int addend_accumulate,
                                float *target, int accumulate);

/* into[i] += from[i]. */
void terrain_add(const float *from, float *into, long count);

/* The block program's sweeps: the value and one probe's tangent in separate buffers (see
   curvature_sweeps.c). */
void terrain_curvature_forward_value(long n, long channels, long spatial, long block, const float *y,
                                     const float *a, const float *c, const float *addend, int relu, float *out);
void terrain_curvature_forward_tangent(long n, long channels, long spatial, long block, const float *y,
                                       const float *yd, const float *a, const float *ad, const float *cd,
                                       const float *addend_tangent, const float *out_value, int relu, float *out);
void terrain_curvature_backward_value(long n, long channels, long spatial, long block, const float *gradient,
                                      const float *output, const float *a, float *addend_gradient,
                                      int addend_accumulate, float *target, int accumulate);
void terrain_curvature_backward_tangent(long n, long channels, long spatial, long block,
                                        const float *gradient_tangent, const float *gradient, const float *output,
                                        const float *y, const float *yd, const float *a, const float *ad,
                                        double *totals, float *addend_gradient, int addend_accumulate,
                                        float *target, int accumulate);

#endif
