#include "fma_peak.h"
#include <immintrin.h>
#include <pthread.h>
#include <time.h>

// Twelve independent accumulators hide the FMA latency (4 cycles) on two FMA units; each step is
// a = a * m + c with m and c read from volatile memory, so the compiler can neither fold the
// multiplication away nor remove the loop (the sums are returned).
#define STEPS 12
static volatile float multiplier = 0.999999f, addend = 1e-9f;

__attribute__((target("avx512f"))) static float run_avx512(long iterations) {
    __m512 acc[STEPS];
    for (int k = 0; k < STEPS; k++) acc[k] = _mm512_set1_ps((float)k);
    const __m512 one = _mm512_set1_ps(multiplier), tiny = _mm512_set1_ps(addend);
    for (long i = 0; i < iterations; i++)
        for (int k = 0; k < STEPS; k++) acc[k] = _mm512_fmadd_ps(acc[k], one, tiny);
    __m512 sum = acc[0];
    for (int k = 1; k < STEPS; k++) sum = _mm512_add_ps(sum, acc[k]);
    return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static float run_avx2(long iterations) {
    __m256 acc[STEPS];
    for (int k = 0; k < STEPS; k++) acc[k] = _mm256_set1_ps((float)k);
    const __m256 one = _mm256_set1_ps(multiplier), tiny = _mm256_set1_ps(addend);
    for (long i = 0; i < iterations; i++)
        for (int k = 0; k < STEPS; k++) acc[k] = _mm256_fmadd_ps(acc[k], one, tiny);
    __m256 sum = acc[0];
    for (int k = 1; k < STEPS; k++) sum = _mm256_add_ps(sum, acc[k]);
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    return lanes[0] + lanes[7];
}

static float run_sse(long iterations) {
    __m128 acc[STEPS];
    for (int k = 0; k < STEPS; k++) acc[k] = _mm_set1_ps((float)k);
    const __m128 one = _mm_set1_ps(multiplier), tiny = _mm_set1_ps(addend);
    for (long i = 0; i < iterations; i++)
        for (int k = 0; k < STEPS; k++) acc[k] = _mm_add_ps(_mm_mul_ps(acc[k], one), tiny);
    float lanes[4];
    _mm_storeu_ps(lanes, acc[0]);
    return lanes[0];
}

static int lanes(void) {
    if (__builtin_cpu_supports("avx512f")) return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 8;
    return 4;
}

const char *terrain_fma_peak_isa(void) {
    switch (lanes()) {
    case 16: return "AVX-512";
    case 8: return "AVX2+FMA";
    default: return "SSE";
    }
}

static const long iterations = 40000000;
static volatile float sink;

static void *worker(void *unused) {
    (void)unused;
    switch (lanes()) {
    case 16: sink = run_avx512(iterations); break;
    case 8: sink = run_avx2(iterations); break;
    default: sink = run_sse(iterations); break;
    }
    return 0;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double terrain_fma_peak_gflops(int threads) {
    if (threads < 1) threads = 1;
    if (threads > 256) threads = 256;
    worker(0);  // warm-up: the clock ramps up under vector load
    pthread_t ids[256];
    double start = now();
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], 0, worker, 0);
    for (int t = 0; t < threads; t++) pthread_join(ids[t], 0);
    double seconds = now() - start;
    // SSE runs a multiply and an add per lane: also 2 flops.
    return (double)threads * iterations * STEPS * lanes() * 2.0 / seconds / 1e9;
}
