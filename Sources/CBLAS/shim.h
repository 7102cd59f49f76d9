#include <cblas.h>
/* OpenBLAS extension: Terrain schedules its own threads and runs BLAS single-threaded inside them. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
