#ifndef TERRAIN_HDF5_CHECK_H
#define TERRAIN_HDF5_CHECK_H

#include <sys/types.h>

/* A damaged HDF5 file can make the HDF5 library crash (a bad variable-length string heap) or
   loop for ever (a cycle in damaged metadata), and nothing in its API tells such a file apart
   before reading it. So TerrainIO first reads the file in a child process: the child walks
   every group, link, attribute and dataset the readers could touch, with the same library calls,
   and exits. If the child crashed or did not finish in time, the file is refused; otherwise the
   parent's own reads follow the same paths and are safe. Written in C so that the child runs no
   Swift runtime code (another thread could have held one of its locks at the fork). */

/* What terrain_hdf5_check_finish found. */
enum terrain_hdf5_check_outcome {
    /* The child walked the whole file (library errors included: the parent's reads report them). */
    TERRAIN_HDF5_CHECK_PASSED = 0,
    /* The child was killed by a signal (detail: its number). */
    TERRAIN_HDF5_CHECK_CRASHED = 1,
    /* The child did not finish within the time limit and was killed. */
    TERRAIN_HDF5_CHECK_TIMED_OUT = 2,
    /* The child exited with an unexpected status (detail: the status). */
    TERRAIN_HDF5_CHECK_FAILED = 3,
    /* The child could not be waited for (detail: errno); nothing is known about the file. */
    TERRAIN_HDF5_CHECK_UNKNOWN = 4
};

/* Forks a child that walks the HDF5 file at `path`; values are read in full only up to
   `byte_limit` bytes per dataset or attribute; `seconds` is the time limit the caller will
   wait (the child stops itself a little after it, should the caller die first). Call while no other thread is inside the HDF5
   library (TerrainIO holds its library lock), so the child's copy of the library is consistent.
   Returns the child's process id, or -1 with errno set; *report receives the page where the child
   records what it is doing, for terrain_hdf5_check_finish. */
pid_t terrain_hdf5_check_start(const char *path, unsigned long long byte_limit, double seconds, void **report);

/* Waits up to `seconds` for the child, kills it after that, reaps it and frees `report`.
   Returns an outcome; *detail receives the signal, exit status or errno it mentions, and
   `step` (capacity bytes) what the child was doing last, such as
   "reading attribute \"terrain.request\" of /". */
int terrain_hdf5_check_finish(pid_t child, void *report, double seconds, int *detail,
                              char *step, unsigned long capacity);

#endif
