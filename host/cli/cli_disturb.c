/* cli_disturb.c -- a command's read-disturb report (cli_disturb.h): the
 * counters of every crossbar layer's tiles from its schedule
 * (cim_reference_disturb_counters), owned here until cim_cli_disturb_free.
 */
#include "cli_disturb.h"

#include <stdlib.h>
#include <string.h>

#include "cim_reference.h"

static int alloc_layers(cim_cli_disturb *d, int32_t n, cim_error *err)
{
    d->names = calloc((size_t)n, sizeof *d->names);
    d->mvms = calloc((size_t)n, sizeof *d->mvms);
    d->tiles = calloc((size_t)n, sizeof *d->tiles);
    d->counters = calloc((size_t)n, sizeof *d->counters);
    if (!d->names || !d->mvms || !d->tiles || !d->counters) {
        cim_cli_disturb_free(d);
        return cim_error_set(err, CIM_ERR_NOMEM, "read disturb: out of memory");
    }
    d->report = (cim_disturb_report){n, d->names, d->mvms, d->tiles, d->counters, d->image_order};
    return 0;
}

static int layer(cim_cli_disturb *d, int32_t c, const char *name, const cim_xbar *x,
                 const int8_t *w, int32_t rows, int32_t cols, int64_t mvms, cim_error *err)
{
    d->names[c] = name;
    d->mvms[c] = mvms;
    if (cim_reference_disturb_counters(x, w, rows, cols, mvms, &d->counters[c], &d->tiles[c]) != 0)
        return cim_error_set(err, CIM_ERR_NOMEM, "read disturb: out of memory for layer %s", name);
    return 0;
}

int cim_cli_disturb_network(cim_cli_disturb *d, const cim_plan *p, int64_t images,
                            int64_t first_image, cim_error *err)
{
    memset(d, 0, sizeof *d);
    int32_t n = 0;
    for (int32_t l = 0; l < p->num_layers; ++l)
        n += cim_plan_on_crossbar(&p->layers[l]) && cim_xbar_has_disturb(&p->layers[l].xbar);
    if (n == 0)
        return 0;
    snprintf(d->image_order, sizeof d->image_order,
             "every chip reads images %lld .. %lld of the dataset in this order from its "
             "programming; image k is MVMs k * V .. k * V + V - 1 of each tile of a layer "
             "with V input vectors per image",
             (long long)first_image, (long long)(first_image + images - 1));
    int rc = alloc_layers(d, n, err);
    for (int32_t l = 0, c = 0; rc == 0 && l < p->num_layers; ++l) {
        const cim_layer_plan *lp = &p->layers[l];
        if (!cim_plan_on_crossbar(lp) || !cim_xbar_has_disturb(&lp->xbar))
            continue;
        const cim_layer_mvm *g = &lp->mvm;
        rc = layer(d, c++, lp->layer->name, &lp->xbar, g->weights, g->rows, g->cols,
                   images * g->positions * g->planes, err);
    }
    if (rc)
        cim_cli_disturb_free(d);
    return rc;
}

int cim_cli_disturb_mvm(cim_cli_disturb *d, const cim_xbar *x, const int8_t *w, int32_t rows,
                        int32_t cols, int64_t n_inputs, cim_error *err)
{
    memset(d, 0, sizeof *d);
    if (!cim_xbar_has_disturb(x))
        return 0;
    snprintf(d->image_order, sizeof d->image_order,
             "every chip reads the input lines in file order from its programming: line k is "
             "MVM k of each tile");
    int rc = alloc_layers(d, 1, err);
    if (rc == 0 && (rc = layer(d, 0, "mvm", x, w, rows, cols, n_inputs, err)) != 0)
        cim_cli_disturb_free(d);
    return rc;
}

void cim_cli_disturb_print(const cim_cli_disturb *d, FILE *out)
{
    for (int32_t c = 0; c < d->report.n_layers; ++c) {
        const cim_disturb_counters *k = &d->counters[c];
        fprintf(out,
                "read disturb per chip, %s: %lld reads per tile, %lld tiles: %lld programmings, "
                "%lld crossbar refreshes, %lld cell refreshes, %lld cycles\n",
                d->names[c], (long long)d->mvms[c], (long long)d->tiles[c], (long long)k->write,
                (long long)k->refresh_xbar, (long long)k->refresh_cell, (long long)k->cycles);
    }
}

void cim_cli_disturb_free(cim_cli_disturb *d)
{
    free(d->names);
    free(d->mvms);
    free(d->tiles);
    free(d->counters);
    memset(d, 0, sizeof *d);
}
