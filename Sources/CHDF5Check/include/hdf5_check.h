#ifndef TERRAIN_HDF5_CHECK_H
#define TERRAIN_HDF5_CHECK_H

#include <sys/types.h>

/* A damaged HDF5 file can make the HDF5 library crash (a bad variable-length string heap, an
   attribute table freed half-built) or loop for ever (a cycle in damaged metadata), and nothing
   in its API tells such a file apart before reading it; some of those crashes even depend on
   what the heap happened to hold. So TerrainIO never reads an existing file's content in its own
   process: a child process reads everything the readers can ask for (every group's links,
   every object's attributes, every dataset's type, shape and values) into a snapshot, with the
   library's reasons for whatever failed, and exits. If it crashed or did not finish in time, the
   file is refused; otherwise the readers answer from the snapshot. Written in C so that the child
   runs no Swift runtime code (another thread could have held one of its locks at the fork).

   The snapshot (native byte order; text: i64 length and bytes) is a sequence of records:
     'F' reason                      the file could not be opened (and nothing else)
     'N' object u8 listed            then i64 count and names, or (listed = 0) a reason
     'A' object name u8 state        0 absent; 1 a value; 2 lookup, 3 open, 4 type/shape failed + reason
     'G' group u8 listed             0: + reason (its links could not all be listed)
     'L' path u8 kind                0 group, 1 dataset, 2 other or unopenable
     'D' path u8 state               1 a value; 0 type/shape unreadable + reason
     'E'                             the walk finished
   A value: i64 type class (H5T_class_t), u8 variable-length string, i64 type size, i64 rank
   (-1 no data, -2 no readable shape) and its dimensions, then u8 status: 0 doubles (i64 count,
   values), 1 strings (i64 count, texts; fixed-length ones without padding), 2 one int64 (an
   integer scalar attribute), 3 the read failed + reason, 4 not read (empty, too large, or a
   class the readers refuse), 5 left for a later read of that dataset alone (`only`). */

/* What terrain_hdf5_check_finish found. */
enum terrain_hdf5_check_outcome {
    /* The child read the whole file, or found that it cannot be opened: the snapshot says which. */
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

/* Forks a child that reads the HDF5 file at `path` into a snapshot (*snapshot: an anonymous
   file, which the caller reads from its start and closes); values are read only up to
   `byte_limit` bytes per dataset or attribute, and a dataset's values only up to `inline_limit`
   bytes (larger ones are marked to be read later). With `only` (an absolute dataset path) the
   child reads that one dataset in full instead of walking the file. `seconds` is the time limit the caller will
   wait (the child stops itself a little after it, should the caller die first). Call while no other thread is inside the HDF5
   library (TerrainIO holds its library lock), so the child's copy of the library is consistent.
   Returns the child's process id, or -1 with errno set; *report receives the page where the child
   records what it is doing, for terrain_hdf5_check_finish. */
pid_t terrain_hdf5_check_start(const char *path, unsigned long long byte_limit, unsigned long long inline_limit,
                               const char *only, double seconds, int *snapshot, void **report);

/* Waits up to `seconds` for the child, kills it after that, reaps it and frees `report`.
   Returns an outcome; *detail receives the signal, exit status or errno it mentions, and
   `step` (capacity bytes) what the child was doing last, such as
   "reading attribute \"terrain.request\" of /". */
int terrain_hdf5_check_finish(pid_t child, void *report, double seconds, int *detail,
                              char *step, unsigned long capacity);

#endif
