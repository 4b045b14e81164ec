/* cli_info.c -- `cimgpu info`: what this build is and what it can run on.
 *
 * Four sections, in this order: the version line, the build features (the
 * library versions compiled in and, where the library can tell, the one
 * loaded at run time), every OpenCL device with the global index that
 * --device and CIMGPU_DEVICE accept, followed by the device a run would
 * choose by default (opening it also builds the kernels, so a broken OpenCL
 * install shows here), and the models: those in cim_cli_model_dir()
 * (data/models of the source tree, or $CIMGPU_MODEL_DIR).
 *
 * Exit status: 0 even when no device is usable (that is information, not a
 * failure); 1 only when the device listing itself fails.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <getopt.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_ocl.h"
#include "cli.h"
#include "cim_build_info.h"
#include "cim_ranks.h"

#define MODEL_SUFFIX ".h5"

static const struct option long_options[] = {
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
    fputs("Usage: cimgpu info\n"
          "\n"
          "Prints the version, the build features (OpenCL, HDF5, Random123, cJSON), every\n"
          "OpenCL platform and device with the index that --device and CIMGPU_DEVICE\n"
          "accept, the device a run would choose by default, and the shipped models\n"
          "(the folder $" MODEL_DIR_ENV " when set).\n"
          "\n"
          "Options:\n"
          "  -h, --help    show this help and exit\n",
          out);
}

static void print_build(void)
{
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    printf("Build features:\n");
    printf("  OpenCL     API %d.%d (CL_TARGET_OPENCL_VERSION %d), kernels embedded, "
           "built with -cl-std=CL1.2\n",
           CL_TARGET_OPENCL_VERSION / 100, CL_TARGET_OPENCL_VERSION / 10 % 10,
           CL_TARGET_OPENCL_VERSION);
    printf("  HDF5       %u.%u.%u (headers %d.%d.%d)\n", maj, min, rel, H5_VERS_MAJOR,
           H5_VERS_MINOR, H5_VERS_RELEASE);
    printf("  Random123  Philox4x32-10, header-only, shared by host and kernels\n");
    printf("  cJSON      %s (headers %d.%d.%d)\n", cJSON_Version(), CJSON_VERSION_MAJOR,
           CJSON_VERSION_MINOR, CJSON_VERSION_PATCH);
    char mpi[256];
    cim_ranks_build(mpi, (int)sizeof mpi);
    printf("  MPI        %s\n", mpi);
}

static void print_default_device(void)
{
    cim_ocl ocl;
    cim_error err;
    const char *env = getenv("CIMGPU_DEVICE");
    char origin[300] = "";
    cim_error_clear(&err);
    if (env && *env)
        snprintf(origin, sizeof origin, " (CIMGPU_DEVICE=%s)", env);
    if (cim_ocl_open(&ocl, NULL, &err) != 0) {
        printf("Default device%s: none: %s\n", origin, err.msg);
        return;
    }
    printf("Default device%s: %s / %s\n", origin, ocl.platform_name, ocl.device_name);
    cim_ocl_close(&ocl);
}

static int is_model(const struct dirent *e)
{
    size_t n = strlen(e->d_name), s = strlen(MODEL_SUFFIX);
    return n > s && strcmp(e->d_name + n - s, MODEL_SUFFIX) == 0;
}

static void print_models(void)
{
    const char *dir = cim_cli_model_dir();
    struct dirent **list = NULL;
    int n = scandir(dir, &list, is_model, alphasort);
    if (n < 0) {
        printf("Models: none (cannot read %s)\n", dir);
        return;
    }
    if (n == 0)
        printf("Models: none in %s\n", dir);
    else
        printf("Models (%s):\n", dir);
    for (int i = 0; i < n; ++i) {
        printf("  %s\n", list[i]->d_name);
        free(list[i]);
    }
    free(list);
}

/* Parses the subcommand's arguments (argv[0] is "info"): --help alone.
 * 0: no arguments; 1: --help shown; else CIM_ERR_USAGE. */
static int parse_options(int argc, char **argv, cim_error *err)
{
    cim_cli_getopt_start();
    int c = getopt_long(argc, argv, ":h", long_options, NULL);
    if (c == 'h') {
        usage(stdout);
        return 1;
    }
    if (c != -1)
        return cim_cli_bad_option(err, "info", c, optopt, argv[optind - 1]);
    if (optind < argc)
        return cim_cli_unexpected_argument(err, "info", argv[optind]);
    return 0;
}

int cim_cli_info(int argc, char **argv)
{
    cim_error err;
    int rc;
    cim_error_clear(&err);
    rc = parse_options(argc - 1, argv + 1, &err);
    if (rc == 1)
        return 0;
    if (rc != 0)
        return cim_cli_report(&err);
    printf("cimgpu %s (git %s)\n\n", CIM_VERSION, cim_git_revision);
    print_build();
    printf("\nOpenCL devices (the index or a name substring selects one with --device or "
           "CIMGPU_DEVICE):\n");
    fflush(stdout);
    if ((rc = cim_ocl_list(stdout, &err)) != 0)
        return cim_cli_report(&err);
    print_default_device();
    printf("\n");
    print_models();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cim_error_set(&err, CIM_ERR_IO, "info: writing to standard output failed");
        return cim_cli_report(&err);
    }
    return 0;
}
