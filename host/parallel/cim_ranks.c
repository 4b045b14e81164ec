/* cim_ranks.c -- see cim_ranks.h. */
#include "cim_ranks.h"

#include <errno.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cim_signal.h"

#ifdef CIM_HAVE_MPI
#include <mpi.h>
#include <openssl/evp.h>
#endif

static cim_ranks self = {.rank = 0, .size = 1, .local_rank = 0, .local_size = 1};
static char (*hosts)[CIM_RANKS_HOST_MAX]; /* [size], with MPI */
static int *pids;                         /* [size], with MPI */

/* The launchers' variables: a size, or only a rank (PMIx gives no size). */
static int launcher_int(const char *const *names, int n, int fallback)
{
    for (int i = 0; i < n; ++i) {
        const char *v = getenv(names[i]);
        char *end = NULL;
        if (v && *v) {
            const long x = strtol(v, &end, 10);
            if (end && *end == '\0' && x >= 0 && x < (1L << 30))
                return (int)x;
        }
    }
    return fallback;
}

#ifndef CIM_HAVE_MPI
static int launcher_size(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    return launcher_int(names, 2, 0);
}
#endif

int cim_ranks_launcher_rank(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"};
    return self.mpi ? self.rank : launcher_int(names, 3, 0);
}

static int launched(void)
{
    static const char *const names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMI_RANK",
                                        "PMIX_RANK"};
    for (int i = 0; i < 4; ++i)
        if (getenv(names[i]) && *getenv(names[i]))
            return 1;
    return 0;
}

#ifdef CIM_HAVE_MPI
/* "Open MPI v4.1.4" of "Open MPI v4.1.4, package: ..." (MPI_Get_library_version). */
static void library_version(char *out, size_t n)
{
    char version[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(version, &len);
    version[strcspn(version, ",\n")] = '\0';
    snprintf(out, n, "%.100s", version);
}
#endif

int cim_ranks_init(int *argc, char ***argv, cim_error *err)
{
    if (gethostname(self.host, sizeof self.host) != 0)
        snprintf(self.host, sizeof self.host, "unknown host");
    self.host[sizeof self.host - 1] = '\0';
    if (!launched())
        return 0;
#ifdef CIM_HAVE_MPI
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return cim_error_set(err, CIM_ERR_IO, "MPI_Init failed (started by an MPI launcher)");
    self.mpi = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &self.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &self.size);
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, self.rank, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &self.local_rank);
    MPI_Comm_size(local, &self.local_size);
    MPI_Comm_free(&local);
    library_version(self.library, sizeof self.library);
    hosts = calloc((size_t)self.size, sizeof *hosts);
    pids = calloc((size_t)self.size, sizeof *pids);
    int ok = hosts && pids, all_ok = 0; /* every rank goes on, or none */
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok)
        return cim_error_set(err, CIM_ERR_NOMEM, "out of memory for the table of %d ranks",
                             self.size);
    MPI_Allgather(self.host, CIM_RANKS_HOST_MAX, MPI_CHAR, hosts, CIM_RANKS_HOST_MAX, MPI_CHAR,
                  MPI_COMM_WORLD);
    const int pid = (int)getpid();
    MPI_Allgather(&pid, 1, MPI_INT, pids, 1, MPI_INT, MPI_COMM_WORLD);
    return 0;
#else
    (void)argc;
    (void)argv;
    /* PMIx gives no size: a rank above 0 says there are several */
    static const char *const pmix[] = {"PMIX_RANK"};
    const int pmix_rank = launcher_int(pmix, 1, 0);
    const int size = launcher_size() > 1 ? launcher_size() : pmix_rank > 0 ? pmix_rank + 1 : 1;
    if (size > 1)
        return cim_error_set(err, CIM_ERR_UNSUPPORTED,
                             "started as one of %s%d processes by an MPI launcher, but this cimgpu "
                             "was built without MPI (`cimgpu info` says so): run one process, or "
                             "rebuild with Open MPI installed (libopenmpi-dev, docs/mpi.md)",
                             launcher_size() > 1 ? "" : "at least ", size);
    return 0;
#endif
}

static int lost;

void cim_ranks_lost(void)
{
    lost = 1;
}

void cim_ranks_finalize(void)
{
#ifdef CIM_HAVE_MPI
    if (self.mpi) {
        if (!lost)
            MPI_Finalize();
        self.mpi = 0;
    }
#endif
    free(hosts);
    free(pids);
    hosts = NULL;
    pids = NULL;
}

const cim_ranks *cim_ranks_self(void)
{
    return &self;
}

int cim_ranks_prints(void)
{
    return cim_ranks_launcher_rank() == 0;
}

int cim_ranks_many(void)
{
    return self.size > 1;
}

void cim_ranks_build(char *out, int n)
{
#ifdef CIM_HAVE_MPI
    char version[sizeof self.library];
    int major = 0, minor = 0;
    MPI_Get_version(&major, &minor); /* both may be called before MPI_Init */
    library_version(version, sizeof version);
    snprintf(out, (size_t)n, "MPI %d.%d, %s: `mpirun -np N cimgpu run|sweep ...` shares the work",
             major, minor, version);
#else
    snprintf(out, (size_t)n, "not built in (cimgpu runs as one process; docs/mpi.md)");
#endif
}

int cim_ranks_nodes(void)
{
    int nodes = 0;
    for (int k = 0; hosts && k < self.size; ++k) {
        int seen = 0;
        for (int j = 0; j < k && !seen; ++j)
            seen = strcmp(hosts[j], hosts[k]) == 0;
        nodes += !seen;
    }
    return nodes > 0 ? nodes : 1;
}

int cim_ranks_gone(int k)
{
    return pids && hosts && k > 0 && k < self.size && strcmp(hosts[k], self.host) == 0 &&
           kill(pids[k], 0) != 0 && errno == ESRCH;
}

const char *cim_ranks_name(int k)
{
    static char name[CIM_RANKS_HOST_MAX + 32];
    snprintf(name, sizeof name, "rank %d (%s)", k,
             hosts && k >= 0 && k < self.size ? hosts[k] : self.host);
    return name;
}

int cim_ranks_same(const cim_ranks_part *parts, int n, cim_error *err)
{
#ifdef CIM_HAVE_MPI
    if (!self.mpi || self.size == 1)
        return 0;
    int rc = 0;
    for (int i = 0; i < n; ++i) {
        unsigned char mine[EVP_MAX_MD_SIZE], first[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (EVP_Digest(parts[i].bytes, parts[i].n, mine, &len, EVP_sha256(), NULL) != 1)
            len = 0;
        memset(mine + len, 0, sizeof mine - len);
        memcpy(first, mine, sizeof first);
        MPI_Bcast(first, (int)sizeof first, MPI_UNSIGNED_CHAR, 0, MPI_COMM_WORLD);
        if (rc == 0 && (len == 0 || memcmp(first, mine, sizeof mine) != 0))
            rc = cim_error_set(err, CIM_ERR_INPUT,
                               "%s differs from rank 0's (every rank must read the same inputs: "
                               "the same files on every node)",
                               parts[i].what);
    }
    return cim_ranks_agree(rc, err);
#else
    (void)parts;
    (void)n;
    (void)err;
    return 0;
#endif
}

int cim_ranks_agree(int rc, cim_error *err)
{
#ifdef CIM_HAVE_MPI
    if (!self.mpi || self.size == 1)
        return rc;
    cim_error scratch;
    err = cim_error_or(err, &scratch);
    int worst = rc, mine = rc != 0 ? self.rank : self.size, failed;
    MPI_Allreduce(&mine, &failed, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (failed == self.size)
        return 0;
    /* the first failing rank's code and message, to everyone */
    char msg[CIM_ERROR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    MPI_Bcast(&worst, 1, MPI_INT, failed, MPI_COMM_WORLD);
    MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, failed, MPI_COMM_WORLD);
    if (self.rank == 0 && failed != 0) {
        const char *who = cim_ranks_name(failed);
        cim_error_clear(err);
        cim_error_set(err, worst, "%s: %.*s", who, (int)(sizeof msg - strlen(who) - 3), msg);
    }
    return worst;
#else
    (void)err;
    return rc;
#endif
}

/* ---- the writer's line from the signal handler -------------------------
 *
 * The line counts what the results file keeps, so it must not be written
 * while the main thread appends, and nothing may be appended after it. A
 * signal may be handled on any thread (MPI's and OpenCL's too), so the two
 * sides meet through sequentially consistent atomics: the handler raises
 * `claimed`, then writes the line unless a write is under way; a write
 * raises `appending`, then gives up if `claimed` is up, and on its end
 * writes the line if `claimed` rose meanwhile. Each side stores before it
 * loads the other's flag, so at least one sees the other; whoever wins the
 * exchange on `line_done` writes the line, once. */

static const char *notice_head, *notice_tail;
static const volatile int64_t *notice_count;
static atomic_int claimed, appending, line_done, claimed_sig;

/* Appends text to buf[*len..] (at most n), as a signal handler may. */
static void put(char *buf, size_t *len, size_t n, const char *text)
{
    while (*text && *len + 1 < n)
        buf[(*len)++] = *text++;
}

static void put_int(char *buf, size_t *len, size_t n, int64_t v)
{
    char digits[24];
    int k = 0;
    uint64_t u = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
    if (v < 0)
        put(buf, len, n, "-");
    do
        digits[k++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    while (k > 0 && *len + 1 < n)
        buf[(*len)++] = digits[--k];
}

/* The line, once, by whoever gets here first (handler or writer). */
static void write_notice(void)
{
    int expected = 0;
    if (!notice_head || !atomic_compare_exchange_strong(&line_done, &expected, 1))
        return;
    const int saved_errno = errno, sig = atomic_load(&claimed_sig);
    char line[2048];
    size_t len = 0;
    int ended = 0;
    static const char *const names[] = {
        [SIGINT] = "SIGINT", [SIGTERM] = "SIGTERM", [SIGHUP] = "SIGHUP"};
    put(line, &len, sizeof line, notice_head);
    if (sig > 0 && sig < (int)(sizeof names / sizeof *names) && names[sig])
        put(line, &len, sizeof line, names[sig]);
    else {
        put(line, &len, sizeof line, "signal ");
        put_int(line, &len, sizeof line, sig);
    }
    put(line, &len, sizeof line, " after ");
    put_int(line, &len, sizeof line, *notice_count);
    put(line, &len, sizeof line, notice_tail);
    for (int k = 1; pids && k < self.size; ++k) /* the ranks of this node that are gone */
        if (cim_ranks_gone(k)) {
            put(line, &len, sizeof line, ended++ ? ", rank " : "; rank ");
            put_int(line, &len, sizeof line, k);
            put(line, &len, sizeof line, " (process ");
            put_int(line, &len, sizeof line, pids[k]);
            put(line, &len, sizeof line, ")");
        }
    put(line, &len, sizeof line,
        ended ? " had ended"
              : "; the MPI launcher stopped the job (a rank ended or the job was cancelled: its "
                "report names the rank)");
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
    errno = saved_errno;
}

static void on_first_signal(int sig)
{
    atomic_store(&claimed_sig, sig);
    atomic_store(&claimed, 1);
    if (!atomic_load(&appending))
        write_notice();
}

void cim_ranks_stop_notice(const char *head, const volatile int64_t *count, const char *tail)
{
    if (!cim_ranks_many() || self.rank != 0)
        return;
    if (!head) { /* disarm: unhook first; what was written stays written */
        cim_signal_on_first(NULL);
        return;
    }
    notice_head = head;
    notice_count = count;
    notice_tail = tail;
    cim_signal_on_first(on_first_signal);
}

int cim_ranks_write_begin(void)
{
    atomic_store(&appending, 1);
    if (!atomic_load(&claimed))
        return 1;
    atomic_store(&appending, 0);
    write_notice();
    return 0;
}

void cim_ranks_write_end(void)
{
    atomic_store(&appending, 0);
    if (atomic_load(&claimed))
        write_notice();
}

int cim_ranks_stop_noticed(void)
{
    return atomic_load(&line_done);
}
