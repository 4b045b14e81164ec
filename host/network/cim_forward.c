/* cim_forward.c -- the integer forward pass of model_format.md, one layer
 * type per function, each a direct transcription of the format's formula.
 *
 * A pass over one image ping-pongs between two int32 buffers of the model's
 * largest tensor (cim_model.max_tensor): the pixels are widened into the
 * first, each layer reads one buffer and writes the other, and the last
 * (dense) layer writes the scores. conv2d reads padded positions as
 * pad_value without building the padded tensor. Accumulators are int32:
 * rule R bounds every pre-activation by 2^28 and every threshold difference
 * by 2^30 + 2^28 for any model the loader accepted.
 */
#include "cim_forward.h"

#include <stdlib.h>
#include <string.h>

#include "cim_layer_ops.h"
#include "cim_parallel.h"

static void dense(const cim_dense *d, const int32_t *x, int32_t *z)
{
    for (int32_t o = 0; o < d->out_features; ++o) {
        const int8_t *w = d->weight + (int64_t)o * d->in_features;
        int32_t acc = 0;
        for (int32_t i = 0; i < d->in_features; ++i)
            acc += w[i] * x[i];
        z[o] = acc;
    }
}

/* z[o, i, j] = sum over c, u, v of w[o, c, u, v] * xp[c, i*sh + u - ph, j*sw + v - pw],
 * xp being the input padded with pad_value. Summed one weight at a time over
 * all output positions (the order of integer additions does not change the
 * result), so the inner loop runs along an input row. */
static void conv2d(const cim_conv2d *cv, const cim_shape *in, const cim_shape *out,
                   const int32_t *x, int32_t *z)
{
    const int64_t C = in->dim[0], H = in->dim[1], W = in->dim[2];
    const int64_t Ho = out->dim[1], Wo = out->dim[2];
    const int64_t kh = cv->kernel[0], kw = cv->kernel[1], sh = cv->stride[0], sw = cv->stride[1],
                  ph = cv->padding[0], pw = cv->padding[1];
    const int32_t pad = cv->pad_value;
    for (int64_t o = 0; o < cv->out_channels; ++o) {
        int32_t *zo = z + o * Ho * Wo;
        memset(zo, 0, sizeof(int32_t) * (size_t)(Ho * Wo));
        for (int64_t c = 0; c < C; ++c)
            for (int64_t u = 0; u < kh; ++u)
                for (int64_t v = 0; v < kw; ++v) {
                    const int32_t wt = cv->weight[((o * C + c) * kh + u) * kw + v];
                    if (wt == 0)
                        continue;
                    /* output columns j whose input column j*sw + v - pw is inside */
                    int64_t j0 = 0, j1 = Wo;
                    while (j0 < Wo && j0 * sw + v - pw < 0)
                        ++j0;
                    while (j1 > j0 && (j1 - 1) * sw + v - pw >= W)
                        --j1;
                    for (int64_t i = 0; i < Ho; ++i) {
                        const int64_t r = i * sh + u - ph;
                        int32_t *zi = zo + i * Wo;
                        if (r < 0 || r >= H) {
                            for (int64_t j = 0; j < Wo; ++j)
                                zi[j] += wt * pad;
                            continue;
                        }
                        const int32_t *xr = x + (c * H + r) * W + v - pw;
                        for (int64_t j = 0; j < j0; ++j)
                            zi[j] += wt * pad;
                        for (int64_t j = j0; j < j1; ++j)
                            zi[j] += wt * xr[j * sw];
                        for (int64_t j = j1; j < Wo; ++j)
                            zi[j] += wt * pad;
                    }
                }
    }
}

static void maxpool2d(const cim_maxpool2d *mp, const cim_shape *in, const cim_shape *out,
                      const int32_t *x, int32_t *y)
{
    const int64_t C = in->dim[0], H = in->dim[1], W = in->dim[2];
    const int64_t Ho = out->dim[1], Wo = out->dim[2];
    const int64_t kh = mp->kernel[0], kw = mp->kernel[1], sh = mp->stride[0], sw = mp->stride[1];
    for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < Ho; ++i) {
            int32_t *yi = y + (c * Ho + i) * Wo;
            for (int64_t j = 0; j < Wo; ++j)
                yi[j] = INT32_MIN;
            for (int64_t u = 0; u < kh; ++u) {
                const int32_t *xr = x + (c * H + i * sh + u) * W;
                for (int64_t v = 0; v < kw; ++v)
                    for (int64_t j = 0; j < Wo; ++j) {
                        const int32_t value = xr[j * sw + v];
                        yi[j] = value > yi[j] ? value : yi[j];
                    }
            }
        }
}

static void batchnorm_threshold(const cim_batchnorm_threshold *bn, const cim_shape *in,
                                const int32_t *x, int32_t *y)
{
    const int64_t per_channel = in->rank == 3 ? (int64_t)in->dim[1] * in->dim[2] : 1;
    for (int64_t c = 0; c < bn->channels; ++c)
        for (int64_t k = 0; k < per_channel; ++k) {
            int64_t at = c * per_channel + k;
            y[at] = cim_op_threshold(x[at], bn->threshold_lo[c], bn->threshold_hi[c], bn->flip[c]);
        }
}

void cim_forward_layer(const cim_layer *L, const int32_t *x, int32_t *y)
{
    const int64_t n = cim_shape_size(&L->in_shape);
    switch (L->type) {
    case CIM_LAYER_DENSE:
        dense(&L->dense, x, y);
        break;
    case CIM_LAYER_CONV2D:
        conv2d(&L->conv2d, &L->in_shape, &L->out_shape, x, y);
        break;
    case CIM_LAYER_MAXPOOL2D:
        maxpool2d(&L->maxpool2d, &L->in_shape, &L->out_shape, x, y);
        break;
    case CIM_LAYER_FLATTEN: /* [C][H][W] in C order is already c*H*W + h*W + w */
        memcpy(y, x, (size_t)n * sizeof *y);
        break;
    case CIM_LAYER_BATCHNORM_THRESHOLD:
        batchnorm_threshold(&L->bn, &L->in_shape, x, y);
        break;
    case CIM_LAYER_SIGN: /* sign(0) = +1 */
        for (int64_t i = 0; i < n; ++i)
            y[i] = cim_op_sign(x[i]);
        break;
    case CIM_LAYER_TERNARY:
        for (int64_t i = 0; i < n; ++i)
            y[i] = cim_op_ternary(x[i]);
        break;
    default:
        break;
    }
}

void cim_forward_layer_each(const cim_layer *L, int64_t tensors, const int32_t *x, int32_t *y)
{
    const int64_t in = cim_shape_size(&L->in_shape), out = cim_shape_size(&L->out_shape);
#pragma omp parallel for schedule(static) if ((int64_t)(tensors * in) >= CIM_PARALLEL_MIN_WORK)
    for (int64_t t = 0; t < tensors; ++t)
        cim_forward_layer(L, x + t * in, y + t * out);
}

int32_t cim_forward_argmax(const int32_t *scores, int32_t n)
{
    int32_t best = 0;
    for (int32_t k = 1; k < n; ++k)
        if (scores[k] > scores[best])
            best = k;
    return best;
}

/* One image through all layers; a and b hold m->max_tensor values each. */
static int32_t run_image(const cim_model *m, const uint8_t *pixels, int32_t *a, int32_t *b,
                         int32_t *scores)
{
    const int64_t n = cim_shape_size(&m->input_shape);
    for (int64_t i = 0; i < n; ++i)
        a[i] = pixels[i];
    for (int32_t l = 0; l < m->num_layers; ++l) {
        int last = l == m->num_layers - 1;
        cim_forward_layer(&m->layers[l], a, last ? scores : b);
        int32_t *t = a;
        a = b;
        b = t;
    }
    return cim_forward_argmax(scores, m->num_classes);
}

static int alloc_buffers(const cim_model *m, int32_t **a, int32_t **b, cim_error *err)
{
    *a = malloc((size_t)m->max_tensor * sizeof **a);
    *b = malloc((size_t)m->max_tensor * sizeof **b);
    if (*a && *b)
        return 0;
    free(*a);
    free(*b);
    return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for the forward pass (%lld values)",
                         m->path ? m->path : "model", (long long)m->max_tensor);
}

int cim_forward_image(const cim_model *m, const uint8_t *pixels, int32_t *scores, cim_error *err)
{
    int32_t *a, *b;
    int rc = alloc_buffers(m, &a, &b, err);
    if (rc)
        return rc;
    int32_t predicted = run_image(m, pixels, a, b, scores);
    free(a);
    free(b);
    return predicted;
}

int cim_forward_count_correct(const cim_model *m, const uint8_t *images, const uint8_t *labels,
                              int64_t n_images, int32_t *predictions, int64_t *correct,
                              cim_error *err)
{
    *correct = 0;
    int32_t *a, *b;
    int rc = alloc_buffers(m, &a, &b, err);
    if (rc)
        return rc;
    int32_t *scores = malloc((size_t)m->num_classes * sizeof *scores);
    if (!scores) {
        free(a);
        free(b);
        return cim_error_set(err, CIM_ERR_NOMEM, "out of memory for %d class scores",
                             m->num_classes);
    }
    const int64_t image_bytes = cim_shape_size(&m->input_shape);
    for (int64_t i = 0; i < n_images; ++i) {
        int32_t predicted = run_image(m, images + i * image_bytes, a, b, scores);
        if (predictions)
            predictions[i] = predicted;
        *correct += predicted == labels[i];
    }
    free(scores);
    free(a);
    free(b);
    return 0;
}
