/* cim_error.h -- error codes and the one-line message that travels with them.
 *
 * Every function that can fail returns 0 or a negative CIM_ERR_* code and,
 * given a cim_error, fills it with one human-readable line naming the file,
 * the field and what was expected. The CLI prints that line on stderr and
 * exits with cim_error_exit_code(): 2 for bad usage or bad input, 1 for
 * runtime failures. One X-macro list generates the enum, the names and the
 * exit codes so they cannot drift apart.
 */
#ifndef CIM_ERROR_H
#define CIM_ERROR_H

#include <stddef.h>

/* XX(name, value, exit_code, description) */
#define CIM_ERR_MAP(XX)                                                                            \
    XX(USAGE, -1, 2, "bad command-line usage")                                                     \
    XX(INPUT, -2, 2, "bad input file or value")                                                    \
    XX(CONFIG, -3, 2, "invalid crossbar configuration")                                            \
    XX(IO, -4, 1, "file system or HDF5 failure")                                                   \
    XX(NOMEM, -5, 1, "out of memory")                                                              \
    XX(OPENCL, -6, 1, "OpenCL failure")                                                            \
    XX(NODEVICE, -7, 1, "no usable OpenCL device")                                                 \
    XX(UNSUPPORTED, -8, 2, "feature not supported yet")                                            \
    XX(INTERRUPTED, -9, 130, "stopped by a signal (the exit status is 128 + the signal)")

typedef enum cim_err_code {
    CIM_OK = 0,
#define CIM_ERR_ENUM(name, value, exit_code, desc) CIM_ERR_##name = value,
    CIM_ERR_MAP(CIM_ERR_ENUM)
#undef CIM_ERR_ENUM
} cim_err_code;

#define CIM_ERROR_MSG_MAX 512

typedef struct cim_error {
    int code;
    char msg[CIM_ERROR_MSG_MAX];
} cim_error;

/* Records code and a printf-style message (if err is not NULL); returns code,
 * so that `return cim_error_set(err, CIM_ERR_INPUT, "...")` reads naturally.
 * The first error set wins: callers up the stack keep the precise message. */
int cim_error_set(cim_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void cim_error_clear(cim_error *err);

/* err itself, or `scratch` (cleared) when err is NULL: a function that must
 * read back the code its callees recorded (rc = err->code after a call that
 * returned a pointer) starts with `err = cim_error_or(err, &scratch);`, so
 * every caller may pass NULL. */
static inline cim_error *cim_error_or(cim_error *err, cim_error *scratch)
{
    if (err)
        return err;
    scratch->code = CIM_OK;
    scratch->msg[0] = '\0';
    return scratch;
}

/* "CIM_ERR_INPUT" etc. */
const char *cim_error_name(int code);

/* Process exit status for a code: 0, 1 or 2. */
int cim_error_exit_code(int code);

#endif /* CIM_ERROR_H */
