/* cim_provenance.c -- see cim_provenance.h.
 *
 * The command line is stored so that pasting it into a shell repeats the run:
 * arguments made only of characters a POSIX shell leaves alone are written as
 * they are, anything else is wrapped in single quotes, with an embedded single
 * quote written as '\''. The version and git revision are those of the
 * build (cim_build_info.h), so they describe the binary, not the folder it
 * runs in. Time is UTC with a trailing Z, second resolution.
 */
#include "cim_provenance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cim_build_info.h"

static int shell_safe(const char *arg)
{
    if (!*arg)
        return 0;
    for (const char *c = arg; *c; ++c)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-", *c))
            return 0;
    return 1;
}

/* Bytes arg takes once quoted (without separator or NUL). */
static size_t quoted_len(const char *arg)
{
    size_t n = 2;
    if (shell_safe(arg))
        return strlen(arg);
    for (const char *c = arg; *c; ++c)
        n += *c == '\'' ? 4 : 1;
    return n;
}

static char *append_quoted(char *at, const char *arg)
{
    if (shell_safe(arg)) {
        size_t n = strlen(arg);
        memcpy(at, arg, n);
        return at + n;
    }
    *at++ = '\'';
    for (const char *c = arg; *c; ++c) {
        if (*c == '\'') {
            memcpy(at, "'\\''", 4);
            at += 4;
        } else {
            *at++ = *c;
        }
    }
    *at++ = '\'';
    return at;
}

char *cim_provenance_join_argv(int argc, char *const *argv)
{
    size_t total = 1;
    char *line, *at;
    for (int i = 0; i < argc; ++i)
        total += quoted_len(argv[i]) + 1;
    line = malloc(total);
    if (!line)
        return NULL;
    at = line;
    for (int i = 0; i < argc; ++i) {
        if (i > 0)
            *at++ = ' ';
        at = append_quoted(at, argv[i]);
    }
    *at = '\0';
    return line;
}

int cim_provenance_init(cim_provenance *p, int argc, char *const *argv, cim_error *err)
{
    time_t now = time(NULL);
    struct tm utc;
    memset(p, 0, sizeof *p);
    p->tool_version = CIM_VERSION;
    p->git_revision = cim_git_revision;
    if (now == (time_t)-1 || !gmtime_r(&now, &utc) ||
        strftime(p->created, sizeof p->created, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0)
        snprintf(p->created, sizeof p->created, "unknown");
    p->command_line = cim_provenance_join_argv(argc, argv);
    if (!p->command_line)
        return cim_error_set(err, CIM_ERR_NOMEM, "out of memory recording the command line");
    return 0;
}

void cim_provenance_set_device(cim_provenance *p, const cim_ocl *ocl)
{
    snprintf(p->device, sizeof p->device, "%s / %s (driver %s)", ocl->platform_name,
             ocl->device_name, ocl->driver_version);
}

void cim_provenance_free(cim_provenance *p)
{
    free(p->command_line);
    p->command_line = NULL;
}
