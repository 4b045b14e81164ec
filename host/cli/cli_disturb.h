/* cli_disturb.h -- the read-disturb counters a command reports (`cimgpu
 * run`, `cimgpu mvm`): per crossbar layer, the MVMs each tile of a chip
 * reads, its tiles and their counters after the last read (the same for
 * every chip), for the results file (h5_disturb.h) and a line on stdout.
 */
#ifndef CIM_CLI_DISTURB_H
#define CIM_CLI_DISTURB_H

#include <stdint.h>
#include <stdio.h>

#include "cim_error.h"
#include "cim_plan.h"
#include "h5_disturb.h"

typedef struct cim_cli_disturb {
    cim_disturb_report report; /* n_layers 0: no read disturb */
    const char **names;
    int64_t *mvms, *tiles;
    cim_disturb_counters *counters;
    char image_order[256];
} cim_cli_disturb;

/* The crossbar layers of plan p, each chip reading `images` images (dataset
 * indices first_image ..) in order; n_layers 0 when p's crossbars have no
 * read disturb. 0 or CIM_ERR_NOMEM. */
int cim_cli_disturb_network(cim_cli_disturb *d, const cim_plan *p, int64_t images,
                            int64_t first_image, cim_error *err);

/* One crossbar (`cimgpu mvm`, layer "mvm"): matrix w read n_inputs times. */
int cim_cli_disturb_mvm(cim_cli_disturb *d, const cim_xbar *x, const int8_t *w, int32_t rows,
                        int32_t cols, int64_t n_inputs, cim_error *err);

/* "read disturb per chip: LAYER: ..." per layer on `out`; nothing without. */
void cim_cli_disturb_print(const cim_cli_disturb *d, FILE *out);

void cim_cli_disturb_free(cim_cli_disturb *d);

#endif /* CIM_CLI_DISTURB_H */
