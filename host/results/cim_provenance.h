/* cim_provenance.h -- where a result came from: the tool version, the git
 * revision it was built from, the exact command line, the OpenCL device and
 * the time it was made. Every results file (`cimgpu mvm --out`, the network
 * run's results.h5) records these as root attributes, so that a result can be
 * traced back to the code and the invocation that produced it.
 *
 * The struct is caller-owned: cim_provenance_init() fills it, the device is
 * added once it is open, cim_provenance_free() releases the command line.
 */
#ifndef CIM_PROVENANCE_H
#define CIM_PROVENANCE_H

#include "cim_error.h"
#include "cim_ocl.h"

#define CIM_PROVENANCE_TIME_MAX 32
#define CIM_PROVENANCE_DEVICE_MAX 700

typedef struct cim_provenance {
    const char *tool_version;               /* CIM_VERSION, e.g. "0.1.0" */
    const char *git_revision;               /* cim_git_revision: "<hash>[-dirty]" or "unknown" */
    char *command_line;                     /* argv joined, shell-quoted where needed */
    char device[CIM_PROVENANCE_DEVICE_MAX]; /* "platform / device (driver ...)"; "" until set */
    char created[CIM_PROVENANCE_TIME_MAX];  /* ISO-8601 UTC, "2025-01-31T12:00:00Z" */
} cim_provenance;

/* Captures the command line and the current time. 0 or CIM_ERR_NOMEM. */
int cim_provenance_init(cim_provenance *p, int argc, char *const *argv, cim_error *err);

/* Records the device an opened runtime uses. */
void cim_provenance_set_device(cim_provenance *p, const cim_ocl *ocl);

void cim_provenance_free(cim_provenance *p);

/* The command line as one string, each argument quoted for a POSIX shell when
 * it holds anything but [A-Za-z0-9_@%+=:,./-]; malloc'd, NULL when out of
 * memory. */
char *cim_provenance_join_argv(int argc, char *const *argv);

#endif /* CIM_PROVENANCE_H */
