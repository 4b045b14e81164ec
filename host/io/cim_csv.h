/* cim_csv.h -- matrices of small integers from comma-separated text files
 * (the weights and inputs of `cimgpu mvm`).
 *
 * Format: one row per line, values separated by commas, each an optional sign
 * and decimal digits with spaces or tabs around it. Every row has the same
 * number of values. A trailing newline is optional, CRLF line ends and a
 * UTF-8 byte-order mark are tolerated, blank lines before the first row and
 * after the last are ignored.
 */
#ifndef CIM_CSV_H
#define CIM_CSV_H

#include <stdint.h>

#include "cim_error.h"

#define CIM_CSV_MAX_VALUES ((int64_t)1 << 26) /* larger files are rejected */

/* Reads `path` into a malloc'd row-major matrix *data of *rows x *cols values
 * in -128..127 (the caller frees it). 0, or CIM_ERR_INPUT (CIM_ERR_NOMEM) with
 * a one-line message naming the path and the line (and column) at fault; on
 * error *data is NULL and *rows, *cols are 0. */
int cim_csv_read_int8(const char *path, int8_t **data, int32_t *rows, int32_t *cols,
                      cim_error *err);

#endif /* CIM_CSV_H */
