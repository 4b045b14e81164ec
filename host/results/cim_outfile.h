/* cim_outfile.h -- the file-system side of producing a results file R.h5:
 * which files a run may create, replace or remove, and how two runs (or a
 * run and its own interrupted predecessor) keep out of each other's way.
 * The HDF5 side is cim_h5file.h, which works on the file this module hands
 * it.
 *
 * Names. R.h5 is the finished file, "R.h5.partial" the one being written.
 * A run only ever removes or renames files it created itself (or, with
 * --force, an R.h5.partial no live run holds, or an R.h5).
 *
 * Claim (before any slow work, so that a bad --out fails in the first
 * second): refuses an --out that is one of the run's inputs (or whose
 * partial name is), a directory, an existing R.h5 without force, and an
 * existing R.h5.partial without resume or force; refuses a partial another
 * live run holds in every case; makes and removes a file beside R.h5 to
 * see that it can. An existing partial to be resumed or replaced is locked
 * (an exclusive open file description lock, F_OFD_SETLK, which a live run
 * holds on its file and the kernel drops when it dies) and kept open.
 *
 * Make (late, when the results are about to be written): the new file, under
 * a temporary name "R.h5.partial.XXXXXX" beside R.h5, locked. It holds no
 * work of its own until it is published (the copies a resumed run makes are
 * still in the old partial), so a run killed in that short window leaves at
 * most this empty-looking name behind.
 *
 * Publish the partial: once the new file holds its layout (and, resuming,
 * every trial the old partial finished), it gets the name R.h5.partial:
 * linked where none exists (atomic: if another run linked one meanwhile,
 * this fails), renamed over the old one where it replaces it.
 *
 * Publish the result: fsync, then rename R.h5.partial onto R.h5 -- without
 * replacing an R.h5 that appeared meanwhile unless force (renameat2
 * RENAME_NOREPLACE).
 *
 * Release: unlinks a temporary name never published, and R.h5.partial if it
 * is this run's and keep is 0; closes (and so unlocks) everything. Where the
 * file system cannot lock (some network file systems: ENOLCK), runs go on
 * unlocked.
 */
#ifndef CIM_OUTFILE_H
#define CIM_OUTFILE_H

#include "cim_error.h"

#define CIM_OUTFILE_PARTIAL_SUFFIX ".partial"
#define CIM_OUTFILE_NAME_MAX 4200

typedef struct cim_outfile_input {
    const char *option; /* "--model" */
    const char *path;   /* NULL: skipped */
} cim_outfile_input;

typedef struct cim_outfile_spec {
    const char *path;                /* R.h5 */
    const cim_outfile_input *inputs; /* n_inputs files the run reads */
    int n_inputs;
    int force;  /* may replace R.h5, and an R.h5.partial no run holds */
    int resume; /* continues R.h5.partial (the caller reads it: old_partial) */
} cim_outfile_spec;

typedef struct cim_outfile {
    char *path;    /* R.h5 */
    char *partial; /* R.h5.partial */
    int force;
    int new_fd;                          /* the new file, locked; -1 */
    char new_name[CIM_OUTFILE_NAME_MAX]; /* its temporary name */
    int new_named;                       /* new_name is a directory entry of ours */
    int old_fd;                          /* the existing partial (resume, force), locked; -1 */
    int partial_ours;                    /* R.h5.partial is the new file */
    int resume_found;                    /* resume: an old partial exists */
} cim_outfile;

/* The claim (see above). CIM_ERR_USAGE for every refusal (the message says
 * what to do), CIM_ERR_IO where the folder is missing or unwritable,
 * CIM_ERR_NOMEM. On failure nothing is left on disk and o holds nothing to
 * release (release is still allowed). */
int cim_outfile_claim(const cim_outfile_spec *spec, cim_outfile *o, cim_error *err);

/* Another output file (e.g. a CSV table) that must be none of the inputs:
 * CIM_ERR_USAGE "<option> <shown or path>: that is the run's input ..."
 * when `path` is one of them under any name, else 0. */
int cim_outfile_check_not_input(const char *option, const char *path, const char *shown,
                                const cim_outfile_input *inputs, int n, cim_error *err);

/* With resume: the old partial to read, or NULL when none existed (the run
 * then starts from its first trial). */
const char *cim_outfile_old_partial(const cim_outfile *o);

/* Makes the new file (see Make). 0, CIM_ERR_IO. */
int cim_outfile_make(cim_outfile *o, cim_error *err);

/* Where HDF5 creates the new file (its temporary name). */
const char *cim_outfile_new_name(const cim_outfile *o);

/* Gives the new file the name R.h5.partial. 0, CIM_ERR_USAGE (another run
 * made one meanwhile), CIM_ERR_IO. */
int cim_outfile_publish_partial(cim_outfile *o, cim_error *err);

/* fsync and rename R.h5.partial onto R.h5. 0, CIM_ERR_USAGE (R.h5 appeared
 * meanwhile and force is off: the results stay in R.h5.partial), CIM_ERR_IO. */
int cim_outfile_publish(cim_outfile *o, cim_error *err);

/* Removes what is this run's and unpublished (R.h5.partial too unless
 * keep_partial), closes the files and frees the names. Safe on a zeroed or
 * released o. */
void cim_outfile_release(cim_outfile *o, int keep_partial);

#endif /* CIM_OUTFILE_H */
