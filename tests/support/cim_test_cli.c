/* cim_test_cli.c -- see cim_test_cli.h. */
#include "cim_test_cli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cim_build_info.h"
#include "cim_test_util.h"

extern char **environ;

#define POLL_NS 2000000L /* waitpid polling interval: 2 ms */
#define ENV_MAX 512

static void output_paths(const char *dir, const char *tag, char *out, char *err)
{
    assert_true(snprintf(out, CIM_TEST_PATH_MAX, "%s/%s.out", dir, tag) < CIM_TEST_PATH_MAX);
    assert_true(snprintf(err, CIM_TEST_PATH_MAX, "%s/%s.err", dir, tag) < CIM_TEST_PATH_MAX);
}

pid_t cim_test_cli_spawn(const char *dir, const char *tag, const char *const *args,
                         const char *const *env)
{
    char out_path[CIM_TEST_PATH_MAX], err_path[CIM_TEST_PATH_MAX];
    char *argv[CIM_TEST_CLI_MAX_ARGS + 2], *envp[ENV_MAX];
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int n = 0, e = 0;
    argv[n++] = (char *)CIMGPU_BIN;
    for (; args[n - 1] && n <= CIM_TEST_CLI_MAX_ARGS; ++n)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    for (char **v = environ; *v && e < ENV_MAX - 16; ++v)
        envp[e++] = *v;
    for (int i = 0; env && env[i] && e < ENV_MAX - 1; ++i)
        envp[e++] = (char *)env[i];
    envp[e] = NULL;
    output_paths(dir, tag, out_path, err_path);
    assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
    assert_int_equal(posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    assert_int_equal(
        posix_spawn_file_actions_addopen(&fa, 2, err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644), 0);
    assert_int_equal(posix_spawn(&pid, CIMGPU_BIN, &fa, NULL, argv, envp), 0);
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

void cim_test_cli_wait(const char *dir, const char *tag, pid_t pid, cim_cli_result *r)
{
    char out_path[CIM_TEST_PATH_MAX], err_path[CIM_TEST_PATH_MAX];
    struct timespec start, now, pause = {0, POLL_NS};
    int status = 0;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        assert_int_equal(w, 0);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > CIM_TEST_CLI_TIMEOUT_S) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            fail_msg("cimgpu (%s) did not finish within %d s", tag, CIM_TEST_CLI_TIMEOUT_S);
        }
        nanosleep(&pause, NULL);
    }
    r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    r->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + r->signal;
    output_paths(dir, tag, out_path, err_path);
    r->out = cim_test_read_file(out_path);
    r->err = cim_test_read_file(err_path);
}

void cim_test_cli_run(const char *dir, cim_cli_result *r, const char *const *args)
{
    cim_test_cli_wait(dir, "cimgpu", cim_test_cli_spawn(dir, "cimgpu", args, NULL), r);
    if (r->signal)
        fail_msg("cimgpu %s ... died with signal %d; stderr: %s", args[0] ? args[0] : "", r->signal,
                 r->err);
}

void cim_test_cli_free(cim_cli_result *r)
{
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}

static void assert_error_line_v(const cim_cli_result *r, int code, int after_banner, va_list ap)
{
    static const char start[] = "cimgpu " CIM_VERSION ": ";
    const char *nl = strchr(r->err, '\n');
    const char *want;
    if (r->exit_code != code)
        fail_msg("exit status %d, expected %d; stderr: %s", r->exit_code, code, r->err);
    if (after_banner) {
        if (strncmp(r->out, start, sizeof start - 1) != 0 || !strstr(r->out, "\ndevice: ") ||
            strstr(r->out, "mean accuracy"))
            fail_msg("stdout should be the start banner alone, got: \"%s\"", r->out);
    } else if (r->out[0] != '\0') {
        fail_msg("stdout should be empty on error, got: %s", r->out);
    }
    if (!nl || nl[1] != '\0' || strncmp(r->err, "cimgpu: ", 8) != 0)
        fail_msg("stderr should be one line \"cimgpu: ...\", got: \"%s\"", r->err);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (!strstr(r->err, want))
            fail_msg("stderr \"%s\" does not mention \"%s\"", r->err, want);
}

void cim_test_cli_assert_error_line(const cim_cli_result *r, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    assert_error_line_v(r, code, 0, ap);
    va_end(ap);
}

void cim_test_cli_assert_error_after_banner(const cim_cli_result *r, int code, ...)
{
    va_list ap;
    va_start(ap, code);
    assert_error_line_v(r, code, 1, ap);
    va_end(ap);
}

void cim_test_cli_assert_success(const cim_cli_result *r)
{
    if (r->exit_code != 0)
        fail_msg("exit status %d; stderr: %s", r->exit_code, r->err);
}

void cim_test_cli_kill9(pid_t pid)
{
    int status;
    kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
}
