/* The child process of TerrainIO's HDF5 check: see include/hdf5_check.h for why it exists.
   The walk mirrors HDF5File's readers: a group's links by name index (H5Gget_info,
   H5Lget_name_by_idx, H5Lexists, H5Oopen), every attribute read as the readers read it
   (numbers as doubles or int64, strings variable- or fixed-length), every dataset's type and
   shape, and its values: numbers read in full up to a million of them (else one element of a
   contiguous dataset, whose raw data the library only copies), strings always. */
#define _GNU_SOURCE
#include "hdf5_check.h"

#include <hdf5.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
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

enum { REPORT_SIZE = 4096, PATH_CAPACITY = 1024 };
/* Bounds of the walk, far beyond any file Terrain or the reference writes. */
enum { MAX_DEPTH = 64, MAX_OBJECTS = 200000 };
/* Numeric datasets up to this many values are read in full. */
static const hsize_t FULL_READ_LIMIT = (hsize_t)1 << 20;

/* The walk's state in the child. */
struct walk {
    char *report;                  /* the shared page: what the child is doing */
    unsigned long long byte_limit; /* the most bytes one read may take */
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

/* "/a" + "b" -> "/a/b", truncated to the buffer (only used for messages and nothing else). */
static void join(char *out, const char *parent, const char *name) {
    snprintf(out, PATH_CAPACITY, "%s%s%s", parent, strcmp(parent, "/") == 0 ? "" : "/", name);
}

/* The number of elements of a simple or scalar dataspace; 0 for a null one, -1 when unknown. */
static long long element_count(hid_t space) {
    H5S_class_t kind = H5Sget_simple_extent_type(space);
    if (kind == H5S_NULL) return 0;
    if (kind != H5S_SCALAR && kind != H5S_SIMPLE) return -1;
    hssize_t count = H5Sget_simple_extent_npoints(space);
    return count < 0 ? -1 : (long long)count;
}

/* A variable-length string memory type like `type`'s, as HDF5File.makeVariableStringType makes it. */
static hid_t variable_string_type(hid_t type) {
    hid_t memory = H5Tcopy(H5T_C_S1);
    if (memory < 0) return -1;
    if (H5Tset_size(memory, H5T_VARIABLE) < 0 || H5Tset_cset(memory, H5Tget_cset(type)) < 0 ||
        H5Tset_strpad(memory, H5Tget_strpad(type)) < 0) {
        H5Tclose(memory);
        return -1;
    }
    return memory;
}

/* Reads the strings of an attribute (dataset < 0) or a dataset (attribute < 0). */
static void read_strings(struct walk *w, hid_t attribute, hid_t dataset, hid_t type, hid_t space, long long count) {
    if (count <= 0) return;
    if (H5Tis_variable_str(type) > 0) {
        if ((unsigned long long)count > w->byte_limit / sizeof(char *)) return;
        hid_t memory = variable_string_type(type);
        if (memory < 0) return;
        char **strings = calloc((size_t)count, sizeof(char *));
        if (strings) {
            herr_t status = attribute >= 0 ? H5Aread(attribute, memory, strings)
                                           : H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, strings);
            if (status >= 0) {
                /* Touch every string, as the readers do when they copy it. */
                volatile size_t total = 0;
                for (long long i = 0; i < count; i++) if (strings[i]) total += strlen(strings[i]);
                H5Dvlen_reclaim(memory, space, H5P_DEFAULT, strings);
            }
            free(strings);
        }
        H5Tclose(memory);
        return;
    }
    size_t size = H5Tget_size(type);
    if (size == 0 || size > ((size_t)1 << 30) || (unsigned long long)count > w->byte_limit / size) return;
    hid_t memory = H5Tcopy(H5T_C_S1);
    if (memory < 0) return;
    if (H5Tset_size(memory, size) >= 0 && H5Tset_cset(memory, H5Tget_cset(type)) >= 0 &&
        H5Tset_strpad(memory, H5Tget_strpad(type)) >= 0) {
        char *bytes = malloc(size * (size_t)count);
        if (bytes) {
            if (attribute >= 0) H5Aread(attribute, memory, bytes);
            else H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes);
            free(bytes);
        }
    }
    H5Tclose(memory);
}

/* Reads one attribute as HDF5File.attribute(_:on:) does. */
static void check_attribute(struct walk *w, hid_t object, const char *name, const char *where) {
    record(w, "opening attribute \"%s\" of %s", name, where);
    if (H5Aexists(object, name) <= 0) return;
    hid_t attribute = H5Aopen(object, name, H5P_DEFAULT);
    if (attribute < 0) return;
    record(w, "reading attribute \"%s\" of %s", name, where);
    hid_t type = H5Aget_type(attribute), space = H5Aget_space(attribute);
    if (type >= 0 && space >= 0) {
        long long count = element_count(space);
        H5T_class_t kind = H5Tget_class(type);
        if (kind == H5T_STRING) {
            read_strings(w, attribute, -1, type, space, count);
        } else if ((kind == H5T_FLOAT || kind == H5T_INTEGER) && count > 0 &&
                   (unsigned long long)count <= w->byte_limit / 8) {
            if (kind == H5T_INTEGER && H5Sget_simple_extent_type(space) == H5S_SCALAR) {
                long long value = 0;
                H5Aread(attribute, H5T_NATIVE_INT64, &value);
            } else {
                double *values = malloc((size_t)count * sizeof(double));
                if (values) {
                    H5Aread(attribute, H5T_NATIVE_DOUBLE, values);
                    free(values);
                }
            }
        }
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Aclose(attribute);
}

/* Every attribute of `object`, by name in increasing order as HDF5File.attributeNames lists them. */
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

static void check_attributes(struct walk *w, hid_t object, const char *where) {
    record(w, "listing the attributes of %s", where);
    struct attribute_names list = {0};
    hsize_t position = 0;
    H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, &position, collect_attribute, &list);
    for (size_t i = 0; i < list.count; i++) {
        check_attribute(w, object, list.names[i], where);
        free(list.names[i]);
    }
    free(list.names);
}

/* A dataset's type, shape and values, as readDoubles, readString and readStrings read them. */
static void check_dataset(struct walk *w, hid_t dataset, const char *where) {
    record(w, "reading the type and shape of dataset %s", where);
    hid_t type = H5Dget_type(dataset), space = H5Dget_space(dataset);
    if (type >= 0 && space >= 0) {
        long long count = element_count(space);
        H5T_class_t kind = H5Tget_class(type);
        record(w, "reading dataset %s", where);
        if (kind == H5T_STRING) {
            read_strings(w, -1, dataset, type, space, count);
        } else if ((kind == H5T_FLOAT || kind == H5T_INTEGER) && count > 0 &&
                   (unsigned long long)count <= w->byte_limit / 8) {
            hid_t plist = H5Dget_create_plist(dataset);
            H5D_layout_t layout = plist >= 0 ? H5Pget_layout(plist) : H5D_LAYOUT_ERROR;
            if (plist >= 0) H5Pclose(plist);
            if ((hsize_t)count <= FULL_READ_LIMIT || layout != H5D_CONTIGUOUS) {
                double *values = malloc((size_t)count * sizeof(double));
                if (values) {
                    H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
                    free(values);
                }
            } else {
                /* Contiguous raw data is only copied: one element exercises the conversion. */
                int rank = H5Sget_simple_extent_ndims(space);
                hid_t selection = H5Scopy(space), one = H5Screate(H5S_SCALAR);
                if (rank > 0 && rank <= 32 && selection >= 0 && one >= 0) {
                    hsize_t start[32] = {0}, size[32];
                    for (int k = 0; k < rank; k++) size[k] = 1;
                    double value = 0;
                    if (H5Sselect_hyperslab(selection, H5S_SELECT_SET, start, NULL, size, NULL) >= 0)
                        H5Dread(dataset, H5T_NATIVE_DOUBLE, one, selection, H5P_DEFAULT, &value);
                }
                if (selection >= 0) H5Sclose(selection);
                if (one >= 0) H5Sclose(one);
            }
        }
    }
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

static void check_group(struct walk *w, hid_t group, const char *where, int depth) {
    check_attributes(w, group, where);
    if (depth >= MAX_DEPTH) return;
    record(w, "listing group %s", where);
    H5G_info_t info;
    if (H5Gget_info(group, &info) < 0) return;
    for (hsize_t index = 0; index < info.nlinks && w->objects < MAX_OBJECTS; index++) {
        record(w, "listing group %s", where);
        ssize_t length = H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, NULL, 0, H5P_DEFAULT);
        if (length < 0 || length > 65535) continue;
        /* On the heap: the walk may run on a thread with a small stack. */
        char *name = malloc((size_t)length + 1), *path = malloc(PATH_CAPACITY);
        if (!name || !path ||
            H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, index, name, (size_t)length + 1, H5P_DEFAULT) < 0) {
            free(name);
            free(path);
            continue;
        }
        join(path, where, name);
        w->objects++;
        record(w, "opening %s", path);
        hid_t object = H5Lexists(group, name, H5P_DEFAULT) > 0 ? H5Oopen(group, name, H5P_DEFAULT) : -1;
        if (object < 0) {
            free(name);
            free(path);
            continue;
        }
        H5I_type_t kind = H5Iget_type(object);
        if (kind == H5I_GROUP) {
            H5O_info_t object_info;
            if (H5Oget_info2(object, &object_info, H5O_INFO_BASIC) >= 0 && first_visit(w, object_info.addr))
                check_group(w, object, path, depth + 1);
        } else if (kind == H5I_DATASET) {
            check_attributes(w, object, path);
            check_dataset(w, object, path);
        }
        H5Oclose(object);
        free(name);
        free(path);
    }
}

/* The child: walk the file and exit; a crash or a loop is what the parent watches for. */
static void run_child(const char *path, unsigned long long byte_limit, double seconds, char *report) {
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
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    /* The parent kills the child when its time is up; this covers a parent that died first. */
    alarm((unsigned)(seconds < 1 ? 1 : seconds > 86400 ? 86400 : seconds) + 2);

    struct walk w = {.report = report, .byte_limit = byte_limit};
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    record(&w, "opening the file");
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file >= 0) {
        hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
        if (root >= 0) {
            H5O_info_t info;
            if (H5Oget_info2(root, &info, H5O_INFO_BASIC) >= 0) first_visit(&w, info.addr);
            check_group(&w, root, "/", 0);
        }
    }
    record(&w, "finished");
    /* No H5Fclose, no exit handlers: the parent's open files are the parent's. */
    _exit(0);
}

pid_t terrain_hdf5_check_start(const char *path, unsigned long long byte_limit, double seconds, void **report) {
    char *page = mmap(NULL, REPORT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) return -1;
    snprintf(page, REPORT_SIZE, "starting");
    pid_t child = fork();
    if (child == 0) run_child(path, byte_limit, seconds, page);
    if (child < 0) {
        int code = errno;
        munmap(page, REPORT_SIZE);
        errno = code;
        return -1;
    }
    *report = page;
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
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        outcome = TERRAIN_HDF5_CHECK_PASSED;
    } else {
        outcome = TERRAIN_HDF5_CHECK_FAILED;
        *detail = WIFEXITED(status) ? WEXITSTATUS(status) : status;
    }
out:
    if (capacity > 0) {
        snprintf(step, capacity, "%s", (const char *)report);
    }
    munmap(report, REPORT_SIZE);
    return outcome;
}
