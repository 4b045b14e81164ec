/* cim_netref.c -- a network on simulated crossbars, the slow and obvious way
 * (see cim_netref.h). Layers on crossbars turn their int32 input into int8
 * vectors (values are -1, 0, +1 by the model's alphabet rules), run the
 * reference MVM for the given trial and write int32 outputs in the layer's
 * output layout; everything else is cim_forward_layer. Two ping-pong tensors
 * of the model's largest size hold the activations.
 */
#include "cim_netref.h"

#include <stdlib.h>
#include <string.h>

#include "cim_forward.h"
#include "cim_mapping.h"
#include "cim_reference.h"

int cim_netref_resolve(const cim_model *m, const cim_config *cfg, uint64_t seed, cim_xbar *xbars,
                       cim_error *err)
{
    const cim_mapping_desc *d = cim_mapping_desc_of(cfg->mapping);
    for (int32_t l = 0; l < m->num_layers; ++l) {
        const cim_layer *L = &m->layers[l];
        memset(&xbars[l], 0, sizeof xbars[l]);
        if (!cim_layer_on_crossbar(L))
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

void cim_netref_im2col(const cim_layer *L, const int32_t *x, int8_t *vectors)
{
    const cim_conv2d *c = &L->conv2d;
    const int32_t H = L->in_shape.dim[1], W = L->in_shape.dim[2];
    const int32_t Ho = L->out_shape.dim[1], Wo = L->out_shape.dim[2];
    const int32_t kh = c->kernel[0], kw = c->kernel[1];
    const int32_t fan_in = c->in_channels * kh * kw;
    for (int32_t i = 0; i < Ho; ++i) {
        for (int32_t j = 0; j < Wo; ++j) {
            int8_t *v = vectors + ((size_t)i * Wo + j) * fan_in;
            for (int32_t ch = 0; ch < c->in_channels; ++ch) {
                for (int32_t u = 0; u < kh; ++u) {
                    for (int32_t w = 0; w < kw; ++w) {
                        const int32_t r = i * c->stride[0] + u - c->padding[0];
                        const int32_t s = j * c->stride[1] + w - c->padding[1];
                        const int inside = r >= 0 && r < H && s >= 0 && s < W;
                        *v++ = (int8_t)(inside ? x[((size_t)ch * H + r) * W + s] : c->pad_value);
                    }
                }
            }
        }
    }
}

/* One layer on its crossbar: x (int32, the layer's input) to y (int32). */
static int crossbar_layer(const cim_layer *L, const cim_xbar *xbar, const int32_t *x,
                          uint32_t image_index, uint32_t trial, int32_t *y, cim_error *err)
{
    const int dense = L->type == CIM_LAYER_DENSE;
    const int32_t rows = dense ? L->dense.out_features : L->conv2d.out_channels;
    const int32_t cols = dense ? L->dense.in_features
                               : L->conv2d.in_channels * L->conv2d.kernel[0] * L->conv2d.kernel[1];
    const int32_t positions = dense ? 1 : L->out_shape.dim[1] * L->out_shape.dim[2];
    const int8_t *w = dense ? L->dense.weight : L->conv2d.weight;
    int8_t *vectors = malloc((size_t)positions * cols);
    int32_t *out = malloc(sizeof(int32_t) * (size_t)positions * rows);
    int rc = 0;
    if (!vectors || !out) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", L->name);
        goto done;
    }
    if (dense) {
        for (int32_t n = 0; n < cols; ++n)
            vectors[n] = (int8_t)x[n];
    } else {
        cim_netref_im2col(L, x, vectors);
    }
    if (cim_reference_mvm(xbar, w, rows, cols, vectors, positions,
                          image_index * (uint32_t)positions, trial, out, NULL) != 0) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "layer %s: out of memory", L->name);
        goto done;
    }
    /* out is [position][channel]; the layer's output is [channel][position] */
    for (int32_t p = 0; p < positions; ++p)
        for (int32_t o = 0; o < rows; ++o)
            y[(size_t)o * positions + p] = out[(size_t)p * rows + o];
done:
    free(vectors);
    free(out);
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
        if (cim_layer_on_crossbar(L))
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
