/* cim_geometry.c -- see cim_geometry.h. Plain loops over the definitions;
 * the executors call them per image or per set of images, in parallel where
 * the work is large (cim_parallel.h). Nothing here allocates.
 */
#include "cim_geometry.h"

#include "cim_mapping.h"
#include "cim_planes.h"

cim_layer_mvm cim_geometry_layer_mvm(const cim_layer *L, const cim_xbar *xbar)
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

void cim_geometry_gather(const cim_layer *L, const cim_layer_mvm *g, int32_t *gather)
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

void cim_geometry_vectors(const cim_layer_mvm *g, const int32_t *gather, const int32_t *x,
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
            for (int32_t b = 0; b < g->planes; ++b)
                v[(size_t)b * g->cols + n] = (int8_t)cim_plane_input(value, b, g->plane_binary);
        }
    }
}

void cim_geometry_row_sums(const cim_layer_mvm *g, int64_t *sums)
{
    for (int32_t o = 0; o < g->rows; ++o) {
        int64_t s = 0;
        for (int32_t n = 0; n < g->cols; ++n)
            s += g->weights[(size_t)o * g->cols + n];
        sums[o] = s;
    }
}

void cim_geometry_fold(const cim_layer_mvm *g, const int32_t *reads, int32_t *results)
{
    cim_fold_planes_host(reads, g->rows, g->positions, g->planes, results);
}

void cim_geometry_outputs(const cim_layer_mvm *g, const int64_t *row_sums, const int32_t *results,
                          int32_t *y)
{
    if (!g->plane_binary) { /* a transpose, written row by row */
        const int64_t rows = g->rows, positions = g->positions;
        for (int64_t o = 0; o < rows; ++o) {
            int32_t *restrict yo = y + o * positions;
            const int32_t *restrict r = results + o;
            for (int64_t p = 0; p < positions; ++p)
                yo[p] = r[p * rows];
        }
        return;
    }
    for (int32_t p = 0; p < g->positions; ++p) {
        const int32_t *r = results + (size_t)p * g->rows;
        for (int32_t o = 0; o < g->rows; ++o)
            y[(size_t)o * g->positions + p] =
                cim_plane_output(r[o], row_sums[o], g->planes, g->plane_binary);
    }
}
