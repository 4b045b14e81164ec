/* cli_export.c -- `cimgpu export S.h5 --csv S.csv`: a sweep results file
 * (finished, or a growing S.h5.partial) as one CSV table (cim_sweep_csv.h),
 * the table `cimgpu sweep --csv` writes.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cim_outfile.h"
#include "cim_sweep_csv.h"
#include "cli.h"

static void usage(FILE *out)
{
    fputs("Usage: cimgpu export S.h5 --csv S.csv\n"
          "\n"
          "Writes a sweep results file (`cimgpu sweep --out S.h5`, also an unfinished\n"
          "S.h5.partial) as a CSV table: one row per configuration, its keys (pairs split\n"
          "into two columns, e.g. xbar_size_M, xbar_size_N), the reference flow's columns\n"
          "top1, top5, top1_baseline, top5_baseline in percent, then every summary\n"
          "statistic as a fraction. Plain numbers, never lists; empty where a configuration\n"
          "is not done yet.\n"
          "\n"
          "Options:\n"
          "  --csv S.csv   the table to write (replaced whole when complete)\n"
          "  -h, --help    show this help and exit (also `cimgpu help export`)\n",
          out);
}

enum { OPT_CSV = CIM_CLI_LONG_ONLY };

int cim_cli_export(int argc, char **argv)
{
    static const struct option opts[] = {
        {"csv", required_argument, 0, OPT_CSV}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *csv = NULL, *h5 = NULL;
    cim_error err;
    int c, rc;
    cim_error_clear(&err);
    cim_cli_getopt_start();
    optind = 2;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == OPT_CSV) {
            csv = optarg;
            continue;
        }
        rc = cim_cli_other_option(&err, "export", c, argv, usage);
        return rc == 1 ? 0 : cim_cli_report(&err);
    }
    if (optind < argc)
        h5 = argv[optind++];
    if (optind < argc)
        return (cim_cli_unexpected_argument(&err, "export", argv[optind]), cim_cli_report(&err));
    if (!h5 || !csv) {
        cim_error_set(&err, CIM_ERR_USAGE, "export: %s (usage: cimgpu export S.h5 --csv S.csv)",
                      h5 ? "no --csv S.csv" : "no results file");
        return cim_cli_report(&err);
    }
    const cim_outfile_input input = {"S.h5", h5};
    if ((rc = cim_outfile_check_not_input("--csv", csv, NULL, &input, 1, &err)) != 0 ||
        (rc = cim_sweep_export_csv(h5, csv, &err)) != 0)
        return cim_cli_report(&err);
    return 0;
}
