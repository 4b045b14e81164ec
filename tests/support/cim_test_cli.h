/* cim_test_cli.h -- running the cimgpu binary (CIMGPU_BIN) as a user does,
 * for the suites that test it end to end (test_cli, test_run_file).
 *
 * A run's stdout and stderr go to files in the caller's scratch folder and
 * come back as strings; every run is under a timeout, so a hang fails the
 * test instead of stalling ctest. A run started in the background (spawn)
 * can be signalled or killed while it works, then waited for.
 */
#ifndef CIM_TEST_CLI_H
#define CIM_TEST_CLI_H

#include <sys/types.h>

#define CIM_TEST_CLI_TIMEOUT_S 300 /* a first PoCL kernel build can take a while */
#define CIM_TEST_CLI_MAX_ARGS 40

/* In a test that runs the engine: skip() when the suite found no device. */
#define CIM_TEST_CLI_NEED_DEVICE(have_device)                                                      \
    do {                                                                                           \
        if (!(have_device))                                                                        \
            skip();                                                                                \
    } while (0)

typedef struct cim_cli_result {
    int exit_code; /* 0..255, or 128 + the signal when a signal ended it */
    int signal;    /* the signal that ended it, or 0 */
    char *out;
    char *err;
} cim_cli_result;

/* Starts CIMGPU_BIN with the NULL-terminated args (argv[1] on), stdin
 * /dev/null, stdout/stderr into `dir`/<tag>.out and .err; `env` (NULL or
 * NULL-terminated "NAME=value" entries) is added to the environment. */
pid_t cim_test_cli_spawn(const char *dir, const char *tag, const char *const *args,
                         const char *const *env);

/* Waits for pid (at most the timeout: then kills it and fails the test) and
 * reads its output. */
void cim_test_cli_wait(const char *dir, const char *tag, pid_t pid, cim_cli_result *r);

/* SIGKILL to pid, then reaps it. */
void cim_test_cli_kill9(pid_t pid);

/* spawn + wait; fails the test if a signal ended the run. */
void cim_test_cli_run(const char *dir, cim_cli_result *r, const char *const *args);

void cim_test_cli_free(cim_cli_result *r);

/* Exit status `code`, nothing on stdout, and exactly one line on stderr,
 * "cimgpu: ...", containing every string of the NULL-terminated list. */
void cim_test_cli_assert_error_line(const cim_cli_result *r, int code, ...);

/* The same for a `cimgpu run` that fails once it has started: stdout holds
 * the start banner (what runs) and no results. */
void cim_test_cli_assert_error_after_banner(const cim_cli_result *r, int code, ...);

/* Exit status 0, or the test fails showing stderr. */
void cim_test_cli_assert_success(const cim_cli_result *r);

#endif /* CIM_TEST_CLI_H */
