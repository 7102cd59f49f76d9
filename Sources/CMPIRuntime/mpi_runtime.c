/* See include/mpi_runtime.h. The declarations below restate the parts of Open MPI's ABI that
 * these calls touch: handles are pointers to library objects, MPI_ANY_SOURCE is -1,
 * MPI_THREAD_FUNNELED is 1, and a status is a small struct that is only ever written by the
 * library here (a generously sized buffer stands in for it). */
#include "mpi_runtime.h"

#include <dlfcn.h>
#include <stdio.h>

typedef void *Handle;

enum { ANY_SOURCE = -1, THREAD_FUNNELED = 1 };

/* Open MPI's MPI_Status is 24 bytes (three ints, an int and a size_t); 64 leaves room. */
typedef struct { _Alignas(16) unsigned char bytes[64]; } Status;

static struct {
    int (*initialized)(int *);
    int (*finalized)(int *);
    int (*init_thread)(int *, char ***, int, int *);
    int (*finalize)(void);
    int (*comm_rank)(Handle, int *);
    int (*comm_size)(Handle, int *);
    int (*bcast)(void *, int, Handle, int, Handle);
    int (*send)(const void *, int, Handle, int, int, Handle);
    int (*iprobe)(int, int, Handle, int *, Status *);
    int (*recv)(void *, int, Handle, int, int, Handle, Status *);
    int (*barrier)(Handle);
    int (*abort)(Handle, int);
    Handle world, double_type, int64_type;
} mpi;

static int resolve(void *library, const char *name, void **slot, char *message, size_t capacity) {
    *slot = dlsym(library, name);
    if (*slot == NULL) {
        snprintf(message, capacity, "Open MPI's library has no symbol %s", name);
        return -1;
    }
    return 0;
}

int terrain_mpi_load(char *message, size_t capacity) {
    if (mpi.world != NULL) return 0;
    /* RTLD_GLOBAL: Open MPI's plug-ins, loaded later by the library itself, link against its
     * symbols. */
    const char *names[] = {"libmpi.so.40", "libmpi.so"};
    void *library = NULL;
    const char *reason = "";
    for (size_t i = 0; i < sizeof names / sizeof names[0] && library == NULL; i++) {
        library = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
        if (library == NULL) reason = dlerror();
    }
    if (library == NULL) {
        snprintf(message, capacity, "cannot load Open MPI's library libmpi.so.40 (%s); install Open MPI "
                 "(Debian: openmpi-bin)", reason ? reason : "not found");
        return -1;
    }
    struct { const char *name; void **slot; } symbols[] = {
        {"MPI_Initialized", (void **)&mpi.initialized}, {"MPI_Finalized", (void **)&mpi.finalized},
        {"MPI_Init_thread", (void **)&mpi.init_thread}, {"MPI_Finalize", (void **)&mpi.finalize},
        {"MPI_Comm_rank", (void **)&mpi.comm_rank}, {"MPI_Comm_size", (void **)&mpi.comm_size},
        {"MPI_Bcast", (void **)&mpi.bcast}, {"MPI_Send", (void **)&mpi.send},
        {"MPI_Iprobe", (void **)&mpi.iprobe}, {"MPI_Recv", (void **)&mpi.recv},
        {"MPI_Barrier", (void **)&mpi.barrier}, {"MPI_Abort", (void **)&mpi.abort},
        {"ompi_mpi_double", &mpi.double_type}, {"ompi_mpi_int64_t", &mpi.int64_type},
        /* Last: a non-NULL world marks the table complete. */
        {"ompi_mpi_comm_world", &mpi.world},
    };
    for (size_t i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
        if (resolve(library, symbols[i].name, symbols[i].slot, message, capacity) != 0) {
            mpi.world = NULL;
            return -1;
        }
    }
    return 0;
}

int terrain_mpi_initialize(void) {
    int initialized = 0, provided = 0;
    int status = mpi.initialized(&initialized);
    if (status != 0 || initialized) return status;
    return mpi.init_thread(NULL, NULL, THREAD_FUNNELED, &provided);
}

int terrain_mpi_finalize(void) {
    int finalized = 0;
    int status = mpi.finalized(&finalized);
    if (status != 0 || finalized) return status;
    return mpi.finalize();
}

int terrain_mpi_rank_and_size(int32_t *rank, int32_t *size) {
    int r = 0, s = 0;
    int status = mpi.comm_rank(mpi.world, &r);
    if (status == 0) status = mpi.comm_size(mpi.world, &s);
    *rank = r;
    *size = s;
    return status;
}

int terrain_mpi_broadcast_int64(int64_t *values, int32_t count, int32_t root) {
    return mpi.bcast(values, count, mpi.int64_type, root, mpi.world);
}

int terrain_mpi_send_doubles(const double *values, int32_t count, int32_t destination, int32_t tag) {
    return mpi.send(values, count, mpi.double_type, destination, tag, mpi.world);
}

int terrain_mpi_probe_any(int32_t tag, int32_t *arrived) {
    Status status;
    int flag = 0;
    int code = mpi.iprobe(ANY_SOURCE, tag, mpi.world, &flag, &status);
    *arrived = flag;
    return code;
}

int terrain_mpi_receive_doubles_any(double *values, int32_t count, int32_t tag) {
    Status status;
    return mpi.recv(values, count, mpi.double_type, ANY_SOURCE, tag, mpi.world, &status);
}

int terrain_mpi_barrier(void) { return mpi.barrier(mpi.world); }

void terrain_mpi_abort(int32_t code) { mpi.abort(mpi.world, code); }
