/* h5_disturb.c -- the /read_disturb group of results files (h5_disturb.h):
 * one int64 [L] dataset per quantity, each with attribute dims "layer",
 * and the group's attributes, all written with the file's layout (SWMR
 * allows no new objects later; the counts are known before any trial runs).
 */
#include "h5_disturb.h"

#include <stdlib.h>

#include "cim_h5util.h"

#define DISTURB_DESCRIPTION                                                                        \
    "per chip (every chip of the run has the same counts: the schedule depends on neither the "    \
    "data nor the D2D draws), for each crossbar layer its tiles' counters after the last read, "   \
    "summed: write = programmings, refresh_xbar = SOFTWARE refreshes, refresh_cell = cell "        \
    "refreshes, cycles = write cycles of every cell (the initial cycles included); mvms = the "    \
    "reads each tile makes"

int cim_h5_disturb_write(cim_h5file *f, const cim_disturb_report *r, cim_error *err)
{
    const int32_t L = r->n_layers;
    if (L < 1 || !r->names || !r->mvms || !r->tiles || !r->counters)
        return cim_error_set(err, CIM_ERR_USAGE, "%s: read-disturb report without layers",
                             cim_h5file_path(f));
    int64_t *cols[4];
    for (int k = 0; k < 4; ++k)
        cols[k] = malloc(sizeof(int64_t) * (size_t)L);
    if (!cols[0] || !cols[1] || !cols[2] || !cols[3]) {
        for (int k = 0; k < 4; ++k)
            free(cols[k]);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for the read-disturb counts",
                             cim_h5file_path(f));
    }
    for (int32_t c = 0; c < L; ++c) {
        cols[0][c] = r->counters[c].write;
        cols[1][c] = r->counters[c].refresh_xbar;
        cols[2][c] = r->counters[c].refresh_cell;
        cols[3][c] = r->counters[c].cycles;
    }
    const struct {
        const char *name;
        const int64_t *data;
    } sets[] = {{"mvms", r->mvms},         {"tiles", r->tiles},       {"write", cols[0]},
                {"refresh_xbar", cols[1]}, {"refresh_cell", cols[2]}, {"cycles", cols[3]}};
    const cim_h5_value attrs[] = {
        {"layers", CIM_H5_STRINGS, r->names, (hsize_t)L, NULL},
        {"image_order", CIM_H5_STRING, r->image_order ? r->image_order : "", 0, NULL},
        {"description", CIM_H5_STRING, DISTURB_DESCRIPTION, 0, NULL},
    };
    const cim_h5_value dims_attr[] = {{"dims", CIM_H5_STRING, "layer", 0, NULL}};
    const hsize_t n = (hsize_t)L;
    hid_t g;
    int rc = cim_h5file_group(f, "read_disturb", &g, err);
    if (rc == 0) {
        rc = cim_h5file_attrs(f, g, attrs, sizeof attrs / sizeof *attrs, err);
        for (size_t k = 0; rc == 0 && k < sizeof sets / sizeof *sets; ++k)
            rc = cim_h5file_write_dataset(f, g, sets[k].name, H5T_STD_I64LE, 1, &n,
                                          H5T_NATIVE_INT64, sets[k].data, dims_attr, 1, err);
        rc = cim_h5file_close_group(f, g, rc, err);
    }
    for (int k = 0; k < 4; ++k)
        free(cols[k]);
    return rc;
}
