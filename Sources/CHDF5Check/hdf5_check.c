/* The child process that reads an HDF5 file for TerrainIO: see include/hdf5_check.h for why.
   It walks the file as HDF5File's readers would (a group's links by name index with
   H5Gget_info, H5Lget_name_by_idx, H5Lexists and H5Oopen; attributes listed with H5Aiterate2
   and opened by name; datasets' types, shapes and values read as doubles or strings) and writes
   everything it finds, failures and the library's reasons included, to the snapshot file. */
#define _GNU_SOURCE
#include "hdf5_check.h"

#include <hdf5.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

enum { REPORT_SIZE = 4096, PATH_CAPACITY = 4096, BUFFER_SIZE = 1 << 16 };
/* Bounds of the walk, far beyond any file Terrain or the reference writes. */
enum { MAX_DEPTH = 64, MAX_OBJECTS = 200000 };

/* The walk's state in the child. */
struct walk {
    char *report;                  /* the shared page: what the child is doing */
    unsigned long long byte_limit; /* the most bytes one read may take */
    unsigned long long inline_limit; /* datasets larger than this are left for a later read */
    int out;                       /* the snapshot file */
    unsigned char buffer[BUFFER_SIZE];
    size_t used;
    haddr_t *visited;              /* addresses of the groups entered, against cycles */
    size_t visited_count, visited_capacity;
    size_t objects;
};

static void record(struct walk *w, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(w->report, REPORT_SIZE, format, arguments);
    va_end(arguments);
}

/* MARK: - The snapshot's encoding (hdf5_check.h describes it) */

static void flush_out(struct walk *w) {
    size_t done = 0;
    while (done < w->used) {
        ssize_t n = write(w->out, w->buffer + done, w->used - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(3); /* the snapshot cannot be written: the parent reports it */
        done += (size_t)n;
    }
    w->used = 0;
}

static void put(struct walk *w, const void *bytes, size_t count) {
    const unsigned char *p = bytes;
    while (count > 0) {
        if (w->used == BUFFER_SIZE) flush_out(w);
        size_t n = BUFFER_SIZE - w->used < count ? BUFFER_SIZE - w->used : count;
        memcpy(w->buffer + w->used, p, n);
        w->used += n;
        p += n;
        count -= n;
    }
}

static void put_u8(struct walk *w, uint8_t v) { put(w, &v, 1); }
static void put_i64(struct walk *w, int64_t v) { put(w, &v, 8); }
static void put_text(struct walk *w, const char *text, size_t length) {
    put_i64(w, (int64_t)length);
    put(w, text, length);
}
static void put_string(struct walk *w, const char *text) { put_text(w, text ? text : "", text ? strlen(text) : 0); }

/* The library's most specific reason for the last failure, as HDF5Library.lastFailureReason
   finds it; clears the error stack. */
static herr_t first_reason(unsigned n, const H5E_error2_t *error, void *data) {
    (void)n;
    char *reason = data;
    if (reason[0] == 0 && error && error->desc && error->desc[0]) snprintf(reason, 512, "%s", error->desc);
    return 0;
}

static void put_reason(struct walk *w) {
    char reason[512] = {0};
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_reason, reason);
    H5Eclear2(H5E_DEFAULT);
    put_string(w, reason);
}

/* Reads the open attribute (when there is one, else the dataset) whole into `buffer` as
   `memory`. On failure records status 3 and the library's reason, and returns 0. */
static int read_whole(struct walk *w, hid_t attribute, hid_t dataset, hid_t memory, void *buffer) {
    herr_t status = attribute >= 0 ? H5Aread(attribute, memory, buffer)
                                   : H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
    if (status >= 0) return 1;
    put_u8(w, 3);
    put_reason(w);
    return 0;
}

/* "/a" + "b" -> "/a/b". */
static void join(char *out, const char *parent, const char *name) {
    snprintf(out, PATH_CAPACITY, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/", name);
}

/* MARK: - Values */

/* A string of `bytes` (at most `size`) as the readers keep it: space padding dropped from the
   end, or everything from the first NUL on. */
static size_t kept_length(const char *bytes, size_t size, H5T_str_t padding) {
    if (padding == H5T_STR_SPACEPAD) {
        while (size > 0 && bytes[size - 1] == ' ') size--;
        return size;
    }
    const char *end = memchr(bytes, 0, size);
    return end ? (size_t)(end - bytes) : size;
}

/* Reads the values of an attribute (dataset < 0) or a dataset (attribute < 0) of `type` and
   `space`, and writes the value block. */
static void put_value(struct walk *w, hid_t attribute, hid_t dataset, hid_t type, hid_t space) {
    H5T_class_t kind = H5Tget_class(type);
    int variable = kind == H5T_STRING && H5Tis_variable_str(type) > 0;
    size_t size = H5Tget_size(type);
    put_i64(w, (int64_t)kind);
    put_u8(w, (uint8_t)variable);
    put_i64(w, (int64_t)size);

    H5S_class_t space_kind = H5Sget_simple_extent_type(space);
    int rank = -1; /* -1: no data (null); -2: no readable shape */
    hsize_t dims[32];
    if (space_kind == H5S_SCALAR) {
        rank = 0;
    } else if (space_kind == H5S_SIMPLE) {
        int r = H5Sget_simple_extent_ndims(space);
        if (r >= 0 && r <= 32 && H5Sget_simple_extent_dims(space, dims, NULL) == r) rank = r;
        else rank = -2;
        for (int k = 0; k < rank; k++) if (dims[k] > (hsize_t)INT64_MAX) rank = -2;
    } else if (space_kind != H5S_NULL) {
        rank = -2;
    }
    put_i64(w, rank);
    unsigned long long count = 1;
    int overflow = 0;
    for (int k = 0; k < rank; k++) {
        put_i64(w, (int64_t)dims[k]);
        if (dims[k] != 0 && count > ULLONG_MAX / dims[k]) overflow = 1;
        else count *= dims[k];
    }
    if (rank < 0) count = 0;

    /* Status: 0 doubles, 1 strings, 2 one int64, 3 the read failed (a reason), 4 not read,
       5 left for a later read of this dataset alone (larger than the inline limit). */
    if (overflow || rank < 0 || count == 0) { put_u8(w, 4); return; }
    if (dataset >= 0 && (kind == H5T_FLOAT || kind == H5T_INTEGER || kind == H5T_STRING) &&
        count > w->inline_limit / 8) {
        put_u8(w, 5);
        return;
    }
    if (kind == H5T_FLOAT || kind == H5T_INTEGER) {
        if (count > w->byte_limit / 8) { put_u8(w, 4); return; }
        if (attribute >= 0 && kind == H5T_INTEGER && rank == 0) {
            long long value = 0;
            if (H5Aread(attribute, H5T_NATIVE_INT64, &value) < 0) { put_u8(w, 3); put_reason(w); return; }
            put_u8(w, 2);
            put_i64(w, value);
            return;
        }
        double *values = malloc((size_t)count * sizeof(double));
        if (!values) { put_u8(w, 4); return; }
        if (!read_whole(w, attribute, dataset, H5T_NATIVE_DOUBLE, values)) { free(values); return; }
        put_u8(w, 0);
        put_i64(w, (int64_t)count);
        put(w, values, (size_t)count * sizeof(double));
        free(values);
        return;
    }
    if (kind != H5T_STRING) { put_u8(w, 4); return; }
    H5T_str_t padding = H5Tget_strpad(type);
    hid_t memory = H5Tcopy(H5T_C_S1);
    if (memory < 0) { put_u8(w, 3); put_reason(w); return; }
    if ((variable ? H5Tset_size(memory, H5T_VARIABLE) : (size == 0 ? -1 : H5Tset_size(memory, size))) < 0 ||
        H5Tset_cset(memory, H5Tget_cset(type)) < 0 || H5Tset_strpad(memory, padding) < 0) {
        H5Tclose(memory);
        put_u8(w, 3);
        put_reason(w);
        return;
    }
    if (variable) {
        if (count > w->byte_limit / sizeof(char *)) { H5Tclose(memory); put_u8(w, 4); return; }
        char **strings = calloc((size_t)count, sizeof(char *));
        if (!strings) { H5Tclose(memory); put_u8(w, 4); return; }
        if (read_whole(w, attribute, dataset, memory, strings)) {
            put_u8(w, 1);
            put_i64(w, (int64_t)count);
            for (unsigned long long i = 0; i < count; i++) put_string(w, strings[i]);
            H5Dvlen_reclaim(memory, space, H5P_DEFAULT, strings);
        }
        free(strings);
        H5Tclose(memory);
        return;
    }
    if (size > ((size_t)1 << 30) || count > w->byte_limit / size) { H5Tclose(memory); put_u8(w, 4); return; }
    char *bytes = malloc(size * (size_t)count);
    if (!bytes) { H5Tclose(memory); put_u8(w, 4); return; }
    if (read_whole(w, attribute, dataset, memory, bytes)) {
        put_u8(w, 1);
        put_i64(w, (int64_t)count);
        for (unsigned long long i = 0; i < count; i++) {
            const char *one = bytes + i * size;
            put_text(w, one, kept_length(one, size, padding));
        }
    }
    free(bytes);
    H5Tclose(memory);
}

/* MARK: - The walk */

/* Collects attribute names for H5Aiterate2. */
struct attribute_names { char **names; size_t count, capacity; };

static herr_t collect_attribute(hid_t object, const char *name, const H5A_info_t *info, void *data) {
    (void)object; (void)info;
    struct attribute_names *list = data;
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? 2 * list->capacity : 16;
        char **grown = realloc(list->names, capacity * sizeof(char *));
        if (!grown) return -1;
        list->names = grown;
        list->capacity = capacity;
    }
    list->names[list->count] = strdup(name ? name : "");
    if (!list->names[list->count]) return -1;
    list->count++;
    return list->count > 100000 ? 1 : 0;
}

/* 'N' object, u8 listed, names or a reason; then for each name 'A' object name, u8 state
   (0 absent, 1 a value block follows, 2 lookup failed + reason, 3 open failed + reason,
   4 type or shape unreadable + reason). */
static void put_attributes(struct walk *w, hid_t object, const char *where) {
    record(w, "listing the attributes of %s", where);
    struct attribute_names list = {0};
    hsize_t position = 0;
    herr_t listed = H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &position, collect_attribute, &list);
    put_u8(w, 'N');
    put_string(w, where);
    if (listed < 0) {
        put_u8(w, 0);
        put_reason(w);
    } else {
        put_u8(w, 1);
        put_i64(w, (int64_t)list.count);
        for (size_t i = 0; i < list.count; i++) put_string(w, list.names[i]);
    }
    for (size_t i = 0; i < list.count; i++) {
        const char *name = list.names[i];
        record(w, "reading attribute \"%s\" of %s", name, where);
        put_u8(w, 'A');
        put_string(w, where);
        put_string(w, name);
        htri_t present = H5Aexists(object, name);
        if (present < 0) { put_u8(w, 2); put_reason(w); }
        else if (present == 0) put_u8(w, 0);
        else {
            hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
            if (attribute < 0) { put_u8(w, 3); put_reason(w); }
            else {
                hid_t type = H5Aget_type(attribute), space = H5Aget_space(attribute);
                if (type < 0 || space < 0) { put_u8(w, 4); put_reason(w); }
                else { put_u8(w, 1); put_value(w, attribute, -1, type, space); }
                if (type >= 0) H5Tclose(type);
                if (space >= 0) H5Sclose(space);
                H5Aclose(attribute);
            }
        }
        free(list.names[i]);
    }
    free(list.names);
}

/* 'D' path, u8 state (1 a value block follows, 0 the type or shape is unreadable + reason). */
static void put_dataset(struct walk *w, hid_t dataset, const char *where) {
    record(w, "reading dataset %s", where);
    put_u8(w, 'D');
    put_string(w, where);
    hid_t type = H5Dget_type(dataset), space = H5Dget_space(dataset);
    if (type < 0 || space < 0) { put_u8(w, 0); put_reason(w); }
    else { put_u8(w, 1); put_value(w, -1, dataset, type, space); }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
}

/* True the first time a group at `address` is entered. */
static int first_visit(struct walk *w, haddr_t address) {
    for (size_t i = 0; i < w->visited_count; i++) if (w->visited[i] == address) return 0;
    if (w->visited_count == w->visited_capacity) {
        size_t capacity = w->visited_capacity ? 2 * w->visited_capacity : 64;
        haddr_t *grown = realloc(w->visited, capacity * sizeof(haddr_t));
        if (!grown) return 0;
        w->visited = grown;
        w->visited_capacity = capacity;
    }
    w->visited[w->visited_count++] = address;
    return 1;
}

/* 'G' path, u8 listed (0: + reason); then 'L' path kind (0 group, 1 dataset, 2 other) per
   link, each followed by what lies below it. */
static void put_group(struct walk *w, hid_t group, const char *where, int depth) {
    put_attributes(w, group, where);
    record(w, "listing group %s", where);
    H5G_info_t info;
    put_u8(w, 'G');
    put_string(w, where);
    if (depth >= MAX_DEPTH || H5Gget_info(group, &info) < 0) {
        put_u8(w, 0);
        put_reason(w);
        return;
    }
    put_u8(w, 1);
    for (hsize_t index = 0; index < info.nlinks && w->objects < MAX_OBJECTS; index++) {
        record(w, "listing group %s", where);
        ssize_t length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, NULL, 0, H5P_DEFAULT);
        /* On the heap: the walk may run on a thread with a small stack. */
        char *name = length >= 0 && length < 65536 ? malloc((size_t)length + 1) : NULL;
        char *path = malloc(PATH_CAPACITY);
        if (!name || !path ||
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, name, (size_t)length + 1, H5P_DEFAULT) < 0) {
            /* The readers fail listing this group: say so, with the reason. */
            put_u8(w, 'G');
            put_string(w, where);
            put_u8(w, 0);
            put_reason(w);
            free(name);
            free(path);
            return;
        }
        join(path, where, name);
        w->objects++;
        record(w, "opening %s", path);
        hid_t object = H5Lexists(group, name, H5P_DEFAULT) > 0 ? H5Oopen(group, name, H5P_DEFAULT) : -1;
        H5I_type_t kind = object >= 0 ? H5Iget_type(object) : H5I_BADID;
        H5Eclear2(H5E_DEFAULT);
        put_u8(w, 'L');
        put_string(w, path);
        put_u8(w, kind == H5I_GROUP ? 0 : kind == H5I_DATASET ? 1 : 2);
        if (kind == H5I_GROUP) {
            H5O_info_t object_info;
            if (H5Oget_info2(object, &object_info, H5O_INFO_BASIC) >= 0 && first_visit(w, object_info.addr))
                put_group(w, object, path, depth + 1);
        } else if (kind == H5I_DATASET) {
            put_attributes(w, object, path);
            put_dataset(w, object, path);
        }
        if (object >= 0) H5Oclose(object);
        free(name);
        free(path);
    }
}

/* Ends the walk: the end mark, the last bytes out, and the exit. No H5Fclose, no exit handlers:
   the parent's open files are the parent's. */
static void finish(struct walk *w) {
    put_u8(w, 'E');
    flush_out(w);
    record(w, "finished");
    _exit(0);
}

/* The child: walk the file into the snapshot and exit; a crash or a loop is what the parent
   watches for. Exit status 0: the walk ended ('E' written); 2: the file could not be opened
   ('F' and the reason written). */
static void run_child(const char *path, unsigned long long byte_limit, unsigned long long inline_limit,
                      const char *only, double seconds, char *report, int out) {
    static const int crashes[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE, SIGTRAP, SIGSYS};
    sigset_t unblocked;
    sigemptyset(&unblocked);
    for (size_t i = 0; i < sizeof crashes / sizeof *crashes; i++) {
        /* The program's crash handlers (Swift's backtracer) would take seconds to report. */
        signal(crashes[i], SIG_DFL);
        sigaddset(&unblocked, crashes[i]);
    }
    signal(SIGALRM, SIG_DFL);
    sigaddset(&unblocked, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &unblocked, NULL);
    /* glibc's and the library's last words on a crash would be the parent's noise. */
    int quiet = open("/dev/null", O_WRONLY);
    if (quiet >= 0) {
        dup2(quiet, STDOUT_FILENO);
        dup2(quiet, STDERR_FILENO);
        close(quiet);
    }
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    /* The parent kills the child when its time is up; this covers a parent that died first. */
    alarm((unsigned)(seconds < 1 ? 1 : seconds > 86400 ? 86400 : seconds) + 2);

    static struct walk w;
    w.report = report;
    w.byte_limit = byte_limit;
    w.inline_limit = only ? ULLONG_MAX : inline_limit;
    w.out = out;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    record(&w, "opening the file");
    /* No file locking: a child forked by another thread may hold an inherited descriptor of a
       file being written (its exclusive lock with it) for the few milliseconds it lives, and
       this read would fail with EAGAIN; Terrain's writers replace files by renaming instead. */
    hid_t access = H5Pcreate(H5P_FILE_ACCESS);
    if (access >= 0) H5Pset_file_locking(access, 0, 1);
    hid_t file = access >= 0 ? H5Fopen(path, H5F_ACC_RDONLY, access) : -1;
    if (file < 0) {
        /* A file this process (the parent, before the fork) has open with locking on refuses
           another flag: open it as the parent did. */
        H5Eclear2(H5E_DEFAULT);
        file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    }
    if (file < 0) {
        put_u8(&w, 'F');
        put_reason(&w);
        flush_out(&w);
        _exit(2);
    }
    if (only) {
        record(&w, "opening dataset %s", only);
        hid_t dataset = H5Dopen2(file, only, H5P_DEFAULT);
        if (dataset >= 0) {
            put_dataset(&w, dataset, only);
        } else {
            put_u8(&w, 'D');
            put_string(&w, only);
            put_u8(&w, 0);
            put_reason(&w);
        }
        finish(&w);
    }
    hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
    if (root >= 0) {
        H5O_info_t info;
        if (H5Oget_info2(root, &info, H5O_INFO_BASIC) >= 0) first_visit(&w, info.addr);
        put_group(&w, root, "/", 0);
    } else {
        put_u8(&w, 'G');
        put_string(&w, "/");
        put_u8(&w, 0);
        put_reason(&w);
    }
    finish(&w);
}

pid_t terrain_hdf5_check_start(const char *path, unsigned long long byte_limit, unsigned long long inline_limit,
                               const char *only, double seconds, int *snapshot, void **report) {
#ifdef __linux__
    int out = memfd_create("terrain-hdf5-snapshot", MFD_CLOEXEC);
#else
    char name[] = "/tmp/terrain-hdf5-snapshot-XXXXXX";
    int out = mkstemp(name);
    if (out >= 0) unlink(name);
#endif
    if (out < 0) return -1;
    char *page = mmap(NULL, REPORT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        int code = errno;
        close(out);
        errno = code;
        return -1;
    }
    snprintf(page, REPORT_SIZE, "starting");
    pid_t child = fork();
    if (child == 0) run_child(path, byte_limit, inline_limit, only, seconds, page, out);
    if (child < 0) {
        int code = errno;
        munmap(page, REPORT_SIZE);
        close(out);
        errno = code;
        return -1;
    }
    *report = page;
    *snapshot = out;
    return child;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int terrain_hdf5_check_finish(pid_t child, void *report, double seconds, int *detail, char *step, unsigned long capacity) {
    double deadline = now() + seconds;
    long pause = 20000; /* nanoseconds, doubled up to 5 ms: small files finish in a millisecond */
    int status = 0, outcome = TERRAIN_HDF5_CHECK_UNKNOWN;
    *detail = 0;
    for (;;) {
        pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child) break;
        if (done < 0) {
            if (errno == EINTR) continue;
            *detail = errno;
            kill(child, SIGKILL);
            goto out;
        }
        if (now() >= deadline) {
            kill(child, SIGKILL);
            while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
            outcome = TERRAIN_HDF5_CHECK_TIMED_OUT;
            goto out;
        }
        struct timespec interval = {0, pause};
        nanosleep(&interval, NULL);
        if (pause < 5000000) pause *= 2;
    }
    if (WIFSIGNALED(status)) {
        outcome = TERRAIN_HDF5_CHECK_CRASHED;
        *detail = WTERMSIG(status);
    } else if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 2)) {
        outcome = TERRAIN_HDF5_CHECK_PASSED;
    } else {
        outcome = TERRAIN_HDF5_CHECK_FAILED;
        *detail = WIFEXITED(status) ? WEXITSTATUS(status) : status;
    }
out:
    if (capacity > 0) snprintf(step, capacity, "%s", (const char *)report);
    munmap(report, REPORT_SIZE);
    return outcome;
}
