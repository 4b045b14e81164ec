/* cim_netref.c -- a network on simulated crossbars, the slow and obvious way
 * (see cim_netref.h). Layers on crossbars turn their int32 input into int8
 * vectors (values -1, 0, +1 by the model's alphabet rules, or bit planes of
 * raw pixels), run the reference MVM for the given trial and write int32
 * outputs in the layer's output layout; everything else is cim_forward_layer. Two ping-pong tensors
 * of the model's largest size hold the activations.
 */
#include "cim_netref.h"

#include <stdlib.h>
#include <string.h>

#include "cim_forward.h"
#include "cim_mapping.h"
#include "cim_reference.h"
#include "cim_planes.h"

static int layer_on_crossbar(const cim_layer *L, cim_pixel_layers pixels)
{
    if (cim_layer_on_crossbar(L))
        return 1;
    return pixels == CIM_PIXELS_ON_CROSSBAR &&
           (L->type == CIM_LAYER_DENSE || L->type == CIM_LAYER_CONV2D) &&
           L->in_alphabet == CIM_ALPHABET_IMAGE;
}

int cim_netref_resolve(const cim_model *m, const cim_config *cfg, uint64_t seed,
                       cim_pixel_layers pixels, cim_xbar *xbars, cim_error *err)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(cfg->mapping);
    for (int32_t l = 0; l < m->num_layers; ++l) {
        const cim_layer *L = &m->layers[l];
        memset(&xbars[l], 0, sizeof xbars[l]);
        if (!layer_on_crossbar(L, pixels))
            continue;
        if (L->in_alphabet == CIM_ALPHABET_TERNARY && !d->ternary)
            return cim_error_set(err, CIM_ERR_CONFIG,
                                 "%s: layer %s has ternary inputs, mapping %s holds only {-1,+1} "
                                 "(use a TNN_* mapping)",
                                 m->path, L->name, cim_mapping_name(cfg->mapping));
        if (m->kind == CIM_MODEL_TNN && !d->ternary)
            return cim_error_set(err, CIM_ERR_CONFIG,
                                 "%s: layer %s has ternary weights, mapping %s holds only {-1,+1} "
                                 "(use a TNN_* mapping)",
                                 m->path, L->name, cim_mapping_name(cfg->mapping));
        int rc = cim_config_resolve(cfg, L->name, seed, (uint32_t)l, &xbars[l], err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int32_t cim_netref_crossbar_layers(const cim_model *m, const cim_xbar *xbars)
{
    int32_t n = 0;
    for (int32_t l = 0; l < m->num_layers; ++l)
        n += cim_netref_on_crossbar(&xbars[l]);
    return n;
}

int64_t cim_netref_vectors_per_image(const cim_model *m, const cim_xbar *xbars)
{
    int64_t most = 0;
    for (int32_t l = 0; l < m->num_layers; ++l) {
        if (!cim_netref_on_crossbar(&xbars[l]))
            continue;
        const cim_layer_mvm g = cim_netref_layer_mvm(&m->layers[l], &xbars[l]);
        const int64_t v = (int64_t)g.positions * g.planes;
        most = v > most ? v : most;
    }
    return most;
}

cim_layer_mvm cim_netref_layer_mvm(const cim_layer *L, const cim_xbar *xbar)
{
    cim_layer_mvm g;
    if (L->type == CIM_LAYER_DENSE) {
        g.rows = L->dense.out_features;
        g.cols = L->dense.in_features;
        g.positions = 1;
        g.pad_value = 0;
        g.weights = L->dense.weight;
    } else {
        g.rows = L->conv2d.out_channels;
        g.cols = L->conv2d.in_channels * L->conv2d.kernel[0] * L->conv2d.kernel[1];
        g.positions = L->out_shape.dim[1] * L->out_shape.dim[2];
        g.pad_value = L->conv2d.pad_value;
        g.weights = L->conv2d.weight;
    }
    g.planes = L->in_alphabet == CIM_ALPHABET_IMAGE ? CIM_PIXEL_PLANES : 1;
    g.plane_binary = g.planes > 1 && !cim_mapping_desc_of(xbar->mapping)->ternary;
    return g;
}

void cim_netref_gather(const cim_layer *L, const cim_layer_mvm *g, int32_t *gather)
{
    if (L->type == CIM_LAYER_DENSE) {
        for (int32_t n = 0; n < g->cols; ++n)
            gather[n] = n;
        return;
    }
    const cim_conv2d *c = &L->conv2d;
    const int32_t H = L->in_shape.dim[1], W = L->in_shape.dim[2];
    const int32_t Wo = L->out_shape.dim[2];
    const int32_t kh = c->kernel[0], kw = c->kernel[1];
    for (int32_t p = 0; p < g->positions; ++p) {
        const int32_t i = p / Wo, j = p % Wo;
        int32_t *at = gather + (size_t)p * g->cols;
        for (int32_t ch = 0; ch < c->in_channels; ++ch) {
            for (int32_t u = 0; u < kh; ++u) {
                for (int32_t w = 0; w < kw; ++w) {
                    const int32_t r = i * c->stride[0] + u - c->padding[0];
                    const int32_t s = j * c->stride[1] + w - c->padding[1];
                    const int inside = r >= 0 && r < H && s >= 0 && s < W;
                    *at++ = inside ? (ch * H + r) * W + s : -1;
                }
            }
        }
    }
}

void cim_netref_vectors(const cim_layer_mvm *g, const int32_t *gather, const int32_t *x,
                        int8_t *vectors)
{
    for (int32_t p = 0; p < g->positions; ++p) {
        const int32_t *src = gather + (size_t)p * g->cols;
        int8_t *v = vectors + (size_t)p * g->planes * g->cols;
        if (g->planes == 1) {
            for (int32_t n = 0; n < g->cols; ++n)
                v[n] = (int8_t)(src[n] >= 0 ? x[src[n]] : g->pad_value);
            continue;
        }
        for (int32_t n = 0; n < g->cols; ++n) {
            const int32_t value = src[n] >= 0 ? x[src[n]] : g->pad_value;
            for (int32_t b = 0; b < g->planes; ++b) {
                const int32_t bit = (value >> b) & 1;
                v[(size_t)b * g->cols + n] = (int8_t)(g->plane_binary ? 2 * bit - 1 : bit);
            }
        }
    }
}

void cim_netref_row_sums(const cim_layer_mvm *g, int64_t *sums)
{
    for (int32_t o = 0; o < g->rows; ++o) {
        int64_t s = 0;
        for (int32_t n = 0; n < g->cols; ++n)
            s += g->weights[(size_t)o * g->cols + n];
        sums[o] = s;
    }
}

void cim_netref_fold(const cim_layer_mvm *g, const int32_t *reads, int32_t *results)
{
    cim_fold_planes_host(reads, g->rows, g->positions, g->planes, results);
}

void cim_netref_outputs(const cim_layer_mvm *g, const int64_t *row_sums, const int32_t *results,
                        int32_t *y)
{
    for (int32_t p = 0; p < g->positions; ++p) {
        const int32_t *r = results + (size_t)p * g->rows;
        if (!g->plane_binary) { /* a transpose */
            for (int32_t o = 0; o < g->rows; ++o)
                y[(size_t)o * g->positions + p] = r[o];
            continue;
        }
        for (int32_t o = 0; o < g->rows; ++o)
            y[(size_t)o * g->positions + p] =
                cim_plane_output(r[o], row_sums[o], g->planes, g->plane_binary);
    }
}

/* One layer on its crossbar: x (int32, the layer's input) to y (int32). */
static int crossbar_layer(const cim_layer *L, const cim_xbar *xbar, const int32_t *x,
                          uint32_t image_index, uint32_t trial, int32_t *y, cim_error *err)
{
    const cim_layer_mvm g = cim_netref_layer_mvm(L, xbar);
    const int32_t n_vectors = g.positions * g.planes;
    int8_t *vectors = malloc((size_t)n_vectors * g.cols);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)n_vectors * g.rows);
    int32_t *folded = malloc(sizeof(int32_t) * (size_t)g.positions * g.rows);
    int64_t *row_sums = malloc(sizeof(int64_t) * (size_t)g.rows);
    int32_t *gather = malloc(sizeof(int32_t) * (size_t)g.positions * g.cols);
    int rc = 0;
    if (!vectors || !out || !folded || !row_sums || !gather) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", L->name);
        goto done;
    }
    cim_netref_gather(L, &g, gather);
    cim_netref_vectors(&g, gather, x, vectors);
    if (cim_reference_mvm(xbar, g.weights, g.rows, g.cols, vectors, n_vectors,
                          image_index * (uint32_t)n_vectors, trial, out, NULL) != 0) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", L->name);
        goto done;
    }
    cim_netref_fold(&g, out, folded);
    cim_netref_row_sums(&g, row_sums);
    cim_netref_outputs(&g, row_sums, folded, y);
done:
    free(vectors);
    free(out);
    free(folded);
    free(row_sums);
    free(gather);
    return rc;
}

int cim_netref_image(const cim_model *m, const cim_xbar *xbars, const uint8_t *pixels,
                     uint32_t image_index, uint32_t trial, int32_t *scores, cim_error *err)
{
    int32_t *a = malloc(sizeof(int32_t) * (size_t)m->max_tensor);
    int32_t *b = malloc(sizeof(int32_t) * (size_t)m->max_tensor);
    int rc = 0;
    if (!a || !b) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for activations", m->path);
        goto done;
    }
    for (int64_t k = 0; k < cim_shape_size(&m->input_shape); ++k)
        a[k] = pixels[k];
    for (int32_t l = 0; l < m->num_layers; ++l) {
        const cim_layer *L = &m->layers[l];
        if (cim_netref_on_crossbar(&xbars[l]))
            rc = crossbar_layer(L, &xbars[l], a, image_index, trial, b, err);
        else
            cim_forward_layer(L, a, b);
        if (rc != 0)
            goto done;
        int32_t *t = a;
        a = b;
        b = t;
    }
    memcpy(scores, a, sizeof(int32_t) * (size_t)m->num_classes);
    rc = cim_forward_argmax(scores, m->num_classes);
done:
    free(a);
    free(b);
    return rc;
}
