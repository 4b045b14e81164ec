/* h5_disturb.h -- the /read_disturb group of `cimgpu run --out` and `cimgpu
 * mvm --out` results files when the config has read disturb on
 * (docs/physics/read_disturb.md).
 *
 * Layout (L crossbar layers; "mvm" for `cimgpu mvm`), written whole with the
 * file's layout:
 *   /read_disturb (group), attributes
 *     layers       string [L]   the crossbar layers' names, in order
 *     image_order  string       which reads a chip makes, in which order
 *     description  string       what the counters count
 *   /read_disturb/{mvms, tiles, write, refresh_xbar, refresh_cell, cycles}
 *     int64 [L] (attribute dims "layer"): per chip, for each layer, the MVMs
 *     each of its tiles reads, its tiles, and the tiles' counters after the
 *     last read summed (cim_disturb_counters: programmings, SOFTWARE
 *     refreshes, cell refreshes, cycles of every cell).
 * The counters are the same for every chip of a run -- the schedule depends
 * on neither the data nor the D2D draws -- so they are stored once per
 * layer, not per trial.
 */
#ifndef H5_DISTURB_H
#define H5_DISTURB_H

#include <stdint.h>

#include "cim_disturb.h"
#include "cim_error.h"
#include "cim_h5file.h"

typedef struct cim_disturb_report {
    int32_t n_layers;
    const char *const *names;             /* [L] */
    const int64_t *mvms;                  /* [L] MVMs each tile reads per chip */
    const int64_t *tiles;                 /* [L] */
    const cim_disturb_counters *counters; /* [L] per chip, the layer's tiles summed */
    const char *image_order;              /* the image_order attribute */
} cim_disturb_report;

/* Writes the group; 0 or CIM_ERR_IO / CIM_ERR_USAGE (n_layers < 1). */
int cim_h5_disturb_write(cim_h5file *f, const cim_disturb_report *r, cim_error *err);

#endif /* H5_DISTURB_H */
