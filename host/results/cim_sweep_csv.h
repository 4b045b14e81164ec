/* cim_sweep_csv.h -- a sweep results file (h5_sweep.h) as one CSV table:
 * one row per configuration, for spreadsheets and for scripts written for
 * the CIM-Explorer flow's result tables.
 *
 * Columns, in order: config_idx; every /configs column except config_json
 * (pairs and triples split into <key>_<part>: xbar_size_M, xbar_size_N,
 * hrs_lrs_HRS, ...; booleans as True/False, as pandas writes them); then the
 * reference flow's four accuracy columns in percent -- top1, top5,
 * top1_baseline, top5_baseline (top1 = 100 x top1_mean) -- and then every
 * other /summary statistic under its own name, as fractions. Numbers are
 * plain, in the shortest text that reads back to the same double
 * (cim_text_double); a configuration not done yet
 * has empty statistics. Texts are quoted where they hold a comma, quote or
 * line break (RFC 4180).
 *
 * The CSV is written to a temporary file in the same folder and renamed
 * onto csv_path once complete, so a failure never leaves a half-written
 * table under that name.
 */
#ifndef CIM_SWEEP_CSV_H
#define CIM_SWEEP_CSV_H

#include "cim_error.h"

/* 0; CIM_ERR_INPUT (h5_path is no sweep results file, or unreadable),
 * CIM_ERR_IO (csv_path cannot be written), CIM_ERR_NOMEM. */
int cim_sweep_export_csv(const char *h5_path, const char *csv_path, cim_error *err);

#endif /* CIM_SWEEP_CSV_H */
