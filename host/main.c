/* main.c -- cimgpu command-line entry point: picks the subcommand.
 *
 * `cimgpu SUBCOMMAND [options]`, each subcommand with its own getopt_long
 * options and --help (host/cli_*.c). `cimgpu --help` and `cimgpu --version`
 * answer here. The network Monte-Carlo, `cimgpu [run] [options]`, is the
 * default subcommand: `cimgpu` alone and a bare option such as `cimgpu
 * --trials 10` go to it. Every error is one line on stderr, "cimgpu:
 * <message>", with exit status 2 for bad usage.
 */
#include <stdio.h>
#include <string.h>
#if defined(__GLIBC__)
#endif

#include "cli.h"
#include "cim_build_info.h"
#include "cim_h5file.h"
#include "cim_ranks.h"

static void usage(FILE *out)
{
    fputs("Usage: cimgpu SUBCOMMAND [options]\n"
          "\n"
          "Monte-Carlo simulation of binary/ternary neural-network crossbars (RRAM) on\n"
          "OpenCL devices.\n"
          "\n"
          "Subcommands:\n"
          "  run     (the default) the network Monte-Carlo: --trials simulated chips classify\n"
          "          test images (`cimgpu run --help`); `cimgpu --trials 10000` runs the\n"
          "          shipped default model\n"
          "  mvm     the crossbar calculator: W.csv times the vectors of X.csv on\n"
          "          simulated tiles, per Monte-Carlo trial (`cimgpu mvm --help`)\n"
          "  calibrate  profiles the ADC inputs of a model's crossbar layers on training\n"
          "          images and writes the config that calibrates their ADC ranges\n"
          "          (`cimgpu calibrate --help`)\n"
          "  sweep   a design-space exploration: every configuration of a CIM-Explorer\n"
          "          experiment config, into one results file (`cimgpu sweep --help`)\n"
          "  export  a sweep results file as a CSV table (`cimgpu export --help`)\n"
          "  info    version, build features, OpenCL devices, shipped models\n"
          "  help    `cimgpu help SUBCOMMAND` prints what `cimgpu SUBCOMMAND --help` does\n"
          "\n"
          "Options:\n"
          "  -h, --help     show this help and exit\n"
          "  -V, --version  show the version and exit\n"
          "\n"
          "Environment: CIMGPU_DEVICE chooses the OpenCL device (see `cimgpu info`).\n"
          "Exit status: 0 success, 1 runtime failure, 2 bad usage or bad input.\n",
          out);
}

static int usage_error(const char *fmt, const char *arg)
{
    cim_error err;
    cim_error_clear(&err);
    cim_error_set(&err, CIM_ERR_USAGE, fmt, arg);
    return cim_cli_report(&err);
}

static int dispatch(int argc, char **argv);

/* Under an MPI launcher (cim_ranks.h) `run` and `sweep` split their work
 * over the ranks; a job of several ranks running any other subcommand would
 * do the same work once per rank, so it is refused. */
int main(int argc, char **argv)
{
    cim_error err;
    cim_cli_keep_freed_memory();
    cim_h5file_skip_exit_cleanup();
    cim_error_clear(&err);
    if (cim_ranks_init(&argc, &argv, &err) != 0) {
        const int status = cim_cli_report(&err);
        cim_ranks_finalize();
        return status;
    }
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int status;
    if (cim_ranks_many() && cmd && cmd[0] != '-' && strcmp(cmd, "run") != 0 &&
        strcmp(cmd, "sweep") != 0) {
        cim_error_set(&err, CIM_ERR_USAGE,
                      "%s: runs as one process; under an MPI launcher only `run` and `sweep` "
                      "share their work over ranks (this job has %d)",
                      cmd, cim_ranks_self()->size);
        status = cim_cli_report(&err);
    } else
        status = dispatch(argc, argv);
    cim_ranks_finalize();
    return status;
}

static int dispatch(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    if (!cmd)
        return cim_cli_run(argc, argv, 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("cimgpu %s (git %s)\n", CIM_VERSION, cim_git_revision);
        return 0;
    }
    if (strcmp(cmd, "mvm") == 0)
        return cim_cli_mvm(argc, argv);
    if (strcmp(cmd, "info") == 0)
        return cim_cli_info(argc, argv);
    if (strcmp(cmd, "calibrate") == 0)
        return cim_cli_calibrate(argc, argv);
    if (strcmp(cmd, "sweep") == 0)
        return cim_cli_sweep(argc, argv);
    if (strcmp(cmd, "export") == 0)
        return cim_cli_export(argc, argv);
    if (strcmp(cmd, "help") == 0 && (argc == 2 || (argc == 3 && strcmp(argv[2], "help") == 0))) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "help") == 0)
        return cim_cli_help(argc, argv);
    if (strcmp(cmd, "run") == 0)
        return cim_cli_run(argc, argv, 2);
    if (cmd[0] == '-')
        return cim_cli_run(argc, argv, 1);
    return usage_error("unknown subcommand '%s' (see `cimgpu --help`)", cmd);
}
