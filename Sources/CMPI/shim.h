/* OpenMPI's C API for Swift, used only when the package trait `MPI` is enabled
 * (`swift build --traits MPI`). pkg-config ("ompi-c") supplies the include and library paths
 * (Debian: libopenmpi-dev).
 *
 * MPI_COMM_WORLD, MPI_DOUBLE, MPI_INT64_T, MPI_THREAD_FUNNELED are macros over global structs
 * (or casts) that Swift cannot import; these functions return their values. */
#include <mpi.h>

static inline MPI_Comm shim_MPI_COMM_WORLD(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype shim_MPI_DOUBLE(void) { return MPI_DOUBLE; }
static inline MPI_Datatype shim_MPI_INT64_T(void) { return MPI_INT64_T; }
static inline MPI_Op shim_MPI_SUM(void) { return MPI_SUM; }
static inline int shim_MPI_ANY_SOURCE(void) { return MPI_ANY_SOURCE; }
static inline int shim_MPI_THREAD_FUNNELED(void) { return MPI_THREAD_FUNNELED; }
