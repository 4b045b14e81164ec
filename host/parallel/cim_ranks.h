/* cim_ranks.h -- the processes of one job: a single process, or the ranks
 * an MPI launcher (mpirun, srun) started (docs/mpi.md).
 *
 * cimgpu joins MPI only when a launcher started it: it looks for the
 * variables launchers give their processes (OMPI_COMM_WORLD_SIZE of Open
 * MPI, PMI_SIZE / PMI_RANK of MPICH's Hydra and Slurm's PMI-2, PMIX_RANK of
 * PMIx); without them it is one process and never touches MPI, so a plain
 * `cimgpu` is the same program with or without MPI built in. A build
 * without MPI (CMake found none, or -DCIM_MPI=OFF) refuses a launch of
 * more than one process with one line.
 *
 * Rank 0 is the writer: it alone prints (cim_ranks_prints), claims and
 * writes results files, and reports errors, also those of other ranks,
 * which reach it through cim_ranks_agree or the work distribution
 * (cim_mc_work.h).
 */
#ifndef CIM_RANKS_H
#define CIM_RANKS_H

#include <stddef.h>
#include <stdint.h>

#include "cim_error.h"

#define CIM_RANKS_HOST_MAX 64

typedef struct cim_ranks {
    int rank, size;             /* this process's rank and the job's ranks; 0 and 1 alone */
    int local_rank, local_size; /* among the ranks on this node (an MPI-3 shared-memory split) */
    int mpi;                    /* 1: MPI is initialised (a launcher started this process) */
    char host[CIM_RANKS_HOST_MAX];
    char library[128]; /* "Open MPI v4.1.4 ..." (MPI_Get_library_version); "" without MPI */
} cim_ranks;

/* Joins the launcher's job, if one started this process. Errors: a launch
 * of several processes in a build without MPI, or MPI_Init failing. */
int cim_ranks_init(int *argc, char ***argv, cim_error *err);

/* Leaves MPI (MPI_Finalize) when cim_ranks_init joined it; after
 * cim_ranks_lost, without it (its closing fence would wait for the dead). */
void cim_ranks_finalize(void);

/* A rank of the job is gone: this process leaves without MPI_Finalize. */
void cim_ranks_lost(void);

/* This process (rank 0 of 1 before cim_ranks_init). */
const cim_ranks *cim_ranks_self(void);

/* 1 when this process prints and writes: rank 0, or the only process. */
int cim_ranks_prints(void);

/* 1 in a job of several ranks. */
int cim_ranks_many(void);

/* The rank the launcher gave this process, read from its environment
 * before (or without) MPI; 0 when none. */
int cim_ranks_launcher_rank(void);

/* Every rank calls it at the same point with its own status rc (0 or a
 * CIM_ERR_* code, err its message). Returns 0 on every rank when all
 * succeeded, else the first failure's code on every rank; on rank 0, err
 * then holds that failure's line, prefixed with "rank K (HOST): " when it
 * is another rank's (rank 0's own message wins). Without MPI: rc. */
int cim_ranks_agree(int rc, cim_error *err);

/* The build's MPI for `cimgpu info`: "MPI 3.1, Open MPI v4.1.4 ..." or
 * "not built in ...". */
void cim_ranks_build(char *out, int n);

/* Rank 0 of a job of several ranks: the line it writes from the signal
 * handler on the first signal (cim_signal_on_first), since the launcher
 * that sends SIGTERM when a rank ends kills the job a second later:
 * "HEAD<signal> after <*count>TAIL", then which ranks on this node had
 * ended (by their process ids), or that the launcher's report names it.
 * Nothing for one process. */
void cim_ranks_stop_notice(const char *head, const volatile int64_t *count, const char *tail);

/* Around each write of the results file, so that the line counts exactly
 * what the file keeps: _begin returns 0 when a signal has claimed the line
 * (then nothing may be written), 1 to go on; _end after the write and the
 * count's update. Without an armed notice: always 1. */
int cim_ranks_write_begin(void);
void cim_ranks_write_end(void);

/* 1 once that line was written (the ordinary error line is then left out). */
int cim_ranks_stop_noticed(void);

/* The job's nodes: distinct host names among the ranks (1 alone). */
int cim_ranks_nodes(void);

/* One input every rank must have read alike: what it is, and its bytes. */
typedef struct cim_ranks_part {
    const char *what; /* "the model", "the images" ... */
    const void *bytes;
    size_t n;
} cim_ranks_part;

/* Every rank calls it after a successful cim_ranks_agree: the SHA-256 of
 * each part is compared with rank 0's, so that no rank computes from other
 * inputs (another model folder, another dataset on its node). Returns 0 on
 * every rank, or on every rank the error; on rank 0 err names the first
 * rank and part that differ. Without MPI, or alone: 0. */
int cim_ranks_same(const cim_ranks_part *parts, int n, cim_error *err);

/* 1 when rank k runs on this node and its process is gone (a launcher
 * that does not stop the job when a rank dies leaves the others waiting
 * for it); 0 when it lives or runs elsewhere. */
int cim_ranks_gone(int k);

/* "rank K (HOST)" of rank k, for messages about it. */
const char *cim_ranks_name(int k);

#endif /* CIM_RANKS_H */
