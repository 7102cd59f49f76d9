/* Open MPI loaded at run time, so that the ordinary `terrain` binary runs under `mpirun -n N`
 * without being built against MPI's headers or libraries.
 *
 * Only the dozen calls the distributed surface needs are resolved, with `dlopen`/`dlsym`, from
 * Open MPI's libmpi.so.40 (the soname of Open MPI 3.x to 5.x). Open MPI's predefined handles
 * (MPI_COMM_WORLD, MPI_DOUBLE, MPI_INT64_T) are the addresses of global objects, so they are
 * resolved the same way. Every function returns MPI's error code (0 = MPI_SUCCESS). */
#ifndef TERRAIN_MPI_RUNTIME_H
#define TERRAIN_MPI_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* Loads the library and resolves every symbol. Returns 0, or -1 with a reason in `message`. */
int terrain_mpi_load(char *message, size_t capacity);
/* MPI_Init_thread(MPI_THREAD_FUNNELED) unless MPI is initialized already. */
int terrain_mpi_initialize(void);
/* MPI_Finalize unless MPI is finalized already. */
int terrain_mpi_finalize(void);
int terrain_mpi_rank_and_size(int32_t *rank, int32_t *size);
int terrain_mpi_broadcast_int64(int64_t *values, int32_t count, int32_t root);
int terrain_mpi_send_doubles(const double *values, int32_t count, int32_t destination, int32_t tag);
/* Whether a message with `tag` from any source has arrived (MPI_Iprobe). */
int terrain_mpi_probe_any(int32_t tag, int32_t *arrived);
/* Receives `count` doubles with `tag` from any source, waiting for them. */
int terrain_mpi_receive_doubles_any(double *values, int32_t count, int32_t tag);
int terrain_mpi_barrier(void);
void terrain_mpi_abort(int32_t code);

#endif
