/* cim_forward.c -- the integer forward pass of model_format.md, one layer
 * type per function, each a direct transcription of the format's formula.
 *
 * A pass over one image is the layer walk (cim_walk.h) of the model's exact
 * plan over its n_slots int32 buffers of the largest tensor
 * (cim_model.max_tensor): the pixels are widened into the model input's,
 * each layer reads its inputs' buffers and writes its own, and the scores
 * are copied out of the last layer's. conv2d reads padded positions as
 * pad_value without building the padded tensor. Accumulators are int32:
 * rule R bounds every pre-activation by 2^28 and every threshold difference
 * by 2^30 + 2^28 for any model the loader accepted.
 */
#include "cim_forward.h"

#include <stdlib.h>
#include <string.h>

#include "cim_layer_ops.h"
#include "cim_parallel.h"
#include "cim_walk.h"

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

/* One pass of a pooling window's element (u, v) over an output row: yi[j]
 * takes the maximum (or with `sum` the sum) of itself and xr[j * sw]. The
 * strides 1 and 2 (nearly every model's) get loops of a constant stride,
 * which the compiler vectorises. */
#define CIM_POOL_MAX(a, b) ((b) > (a) ? (b) : (a))
#define CIM_POOL_ADD(a, b) ((a) + (b))
#define CIM_POOL_PASS(OP, STRIDE)                                                                  \
    for (int64_t j = 0; j < Wo; ++j)                                                               \
        yi[j] = OP(yi[j], xr[j * (STRIDE)]);
#define CIM_POOL_STRIDES(OP)                                                                       \
    if (sw == 1) {                                                                                 \
        CIM_POOL_PASS(OP, 1)                                                                       \
    } else if (sw == 2) {                                                                          \
        CIM_POOL_PASS(OP, 2)                                                                       \
    } else {                                                                                       \
        CIM_POOL_PASS(OP, sw)                                                                      \
    }
static void pool_pass(int sum, int64_t sw, int64_t Wo, const int32_t *restrict xr,
                      int32_t *restrict yi)
{
    if (sum) {
        CIM_POOL_STRIDES(CIM_POOL_ADD)
    } else {
        CIM_POOL_STRIDES(CIM_POOL_MAX)
    }
}

/* maxpool2d, or with `sum` sumpool2d: the maximum or the sum of a window. */
static void pool2d(const cim_maxpool2d *mp, int sum, const cim_shape *in, const cim_shape *out,
                   const int32_t *x, int32_t *y)
{
    const int64_t C = in->dim[0], H = in->dim[1], W = in->dim[2];
    const int64_t Ho = out->dim[1], Wo = out->dim[2];
    const int64_t kh = mp->kernel[0], kw = mp->kernel[1], sh = mp->stride[0], sw = mp->stride[1];
    for (int64_t c = 0; c < C; ++c)
        for (int64_t i = 0; i < Ho; ++i) {
            int32_t *yi = y + (c * Ho + i) * Wo;
            for (int64_t j = 0; j < Wo; ++j)
                yi[j] = sum ? 0 : INT32_MIN;
            for (int64_t u = 0; u < kh; ++u) {
                const int32_t *xr = x + (c * H + i * sh + u) * W;
                for (int64_t v = 0; v < kw; ++v)
                    pool_pass(sum, sw, Wo, xr + v, yi);
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

/* global_sumpool: y[c] = the sum of channel c. */
static void global_sumpool(const cim_shape *in, const int32_t *x, int32_t *y)
{
    const int64_t area = (int64_t)in->dim[1] * in->dim[2];
    for (int64_t c = 0; c < in->dim[0]; ++c) {
        int32_t acc = 0;
        for (int64_t k = 0; k < area; ++k)
            acc += x[c * area + k];
        y[c] = acc;
    }
}

/* add: y = sum over inputs j of scale[j] * x_j. */
static void add(const cim_layer *L, const int32_t *const *x, int32_t *y)
{
    const int64_t n = cim_shape_size(&L->out_shape);
    for (int64_t i = 0; i < n; ++i) {
        int32_t acc = 0;
        for (int j = 0; j < L->n_inputs; ++j)
            acc += L->add.scale[j] * x[j][i];
        y[i] = acc;
    }
}

/* concat along axis 0: each input's C-order block after the previous one. */
static void concat(const cim_layer *L, const int64_t *sizes, const int32_t *const *x, int32_t *y)
{
    for (int j = 0; j < L->n_inputs; ++j) {
        memcpy(y, x[j], sizeof *y * (size_t)sizes[j]);
        y += sizes[j];
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
    case CIM_LAYER_SUMPOOL2D:
        pool2d(&L->maxpool2d, L->type == CIM_LAYER_SUMPOOL2D, &L->in_shape, &L->out_shape, x, y);
        break;
    case CIM_LAYER_GLOBAL_SUMPOOL:
        global_sumpool(&L->in_shape, x, y);
        break;
    case CIM_LAYER_ADD:
    case CIM_LAYER_CONCAT:  /* several inputs: cim_forward_node */
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

/* The sizes of L's input tensors. */
static void input_sizes(const cim_model *m, const cim_layer *L, int64_t *sizes)
{
    for (int j = 0; j < L->n_inputs; ++j)
        sizes[j] = cim_shape_size(cim_model_tensor_shape(m, L->inputs[j]));
}

static void node(const cim_layer *L, const int64_t *sizes, const int32_t *const *x, int32_t *y)
{
    if (L->type == CIM_LAYER_ADD)
        add(L, x, y);
    else if (L->type == CIM_LAYER_CONCAT)
        concat(L, sizes, x, y);
    else
        cim_forward_layer(L, x[0], y);
}

void cim_forward_node(const cim_model *m, const cim_layer *L, const int32_t *const *x, int32_t *y)
{
    int64_t sizes[CIM_MODEL_MAX_INPUTS];
    input_sizes(m, L, sizes);
    node(L, sizes, x, y);
}

void cim_forward_node_each(const cim_model *m, const cim_layer *L, int64_t tensors,
                           const int32_t *const *x, int32_t *y)
{
    int64_t sizes[CIM_MODEL_MAX_INPUTS];
    input_sizes(m, L, sizes);
    const int64_t out = cim_shape_size(&L->out_shape);
#pragma omp parallel for schedule(static) if ((int64_t)(tensors * out) >= CIM_PARALLEL_MIN_WORK)
    for (int64_t t = 0; t < tensors; ++t) {
        const int32_t *xt[CIM_MODEL_MAX_INPUTS];
        for (int j = 0; j < L->n_inputs; ++j)
            xt[j] = x[j] + t * sizes[j];
        node(L, sizes, xt, y + t * out);
    }
}

int32_t cim_forward_argmax(const int32_t *scores, int32_t n)
{
    int32_t best = 0;
    for (int32_t k = 1; k < n; ++k)
        if (scores[k] > scores[best])
            best = k;
    return best;
}

int32_t cim_forward_label_rank(const int32_t *scores, int32_t n, int32_t label)
{
    int32_t rank = 0;
    for (int32_t k = 0; k < n; ++k)
        rank += scores[k] > scores[label] || (scores[k] == scores[label] && k < label);
    return rank;
}

/* Pixels widened into the model input's buffer; every layer exact. */
static int32_t run_image(const cim_plan *p, const uint8_t *pixels, int32_t *const *act,
                         int32_t *scores)
{
    const cim_model *m = p->model;
    static const cim_walk_steps exact = {cim_walk_exact_one, cim_walk_exact_one};
    const int64_t n = cim_shape_size(&m->input_shape);
    int32_t *x = cim_walk_tensor(p, (void *const *)act, CIM_MODEL_INPUT);
    for (int64_t i = 0; i < n; ++i)
        x[i] = pixels[i];
    (void)cim_walk(p, 0, m->num_layers, &exact, NULL, (void *const *)act, NULL);
    memcpy(scores, cim_walk_tensor(p, (void *const *)act, m->num_layers - 1),
           sizeof(int32_t) * (size_t)m->num_classes);
    return cim_forward_argmax(scores, m->num_classes);
}

/* The exact plan of m and the walk's buffers of its largest tensor. */
static int forward_init(const cim_model *m, cim_plan *p, int32_t ***act, cim_error *err)
{
    int rc = cim_plan_init(p, m, NULL, 0, CIM_PIXELS_ON_HOST, err);
    if (rc != 0)
        return rc;
    if ((*act = cim_forward_buffers(p, 1, err)) != NULL)
        return 0;
    cim_plan_free(p);
    return CIM_ERR_NOMEM;
}

static void forward_free(cim_plan *p, int32_t **act)
{
    cim_forward_buffers_free(p, act);
    cim_plan_free(p);
}

int32_t **cim_forward_buffers(const cim_plan *p, int64_t tensors, cim_error *err)
{
    const cim_model *m = p->model;
    int32_t **act = calloc((size_t)p->n_slots, sizeof *act);
    int ok = act != NULL;
    for (int32_t s = 0; ok && s < p->n_slots; ++s)
        ok = (act[s] = malloc((size_t)m->max_tensor * (size_t)tensors * sizeof **act)) != NULL;
    if (ok)
        return act;
    cim_forward_buffers_free(p, act);
    cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for the activations of %lld images",
                  m->path ? m->path : "model", (long long)tensors);
    return NULL;
}

void cim_forward_buffers_free(const cim_plan *p, int32_t **act)
{
    for (int32_t s = 0; act && s < p->n_slots; ++s)
        free(act[s]);
    free(act);
}

int cim_forward_image(const cim_model *m, const uint8_t *pixels, int32_t *scores, cim_error *err)
{
    cim_plan p;
    int32_t **act;
    int rc = forward_init(m, &p, &act, err);
    if (rc)
        return rc;
    int32_t predicted = run_image(&p, pixels, act, scores);
    forward_free(&p, act);
    return predicted;
}

int cim_forward_count_correct(const cim_model *m, const uint8_t *images, const uint8_t *labels,
                              int64_t n_images, int32_t *predictions, int64_t *correct,
                              cim_error *err)
{
    *correct = 0;
    cim_plan p;
    int32_t **act;
    int rc = forward_init(m, &p, &act, err);
    if (rc)
        return rc;
    int32_t *scores = malloc((size_t)m->num_classes * sizeof *scores);
    if (!scores) {
        forward_free(&p, act);
        return cim_error_set(err, CIM_ERR_NOMEM, "out of memory for %d class scores",
                             m->num_classes);
    }
    const int64_t image_bytes = cim_shape_size(&m->input_shape);
    for (int64_t i = 0; i < n_images; ++i) {
        int32_t predicted = run_image(&p, images + i * image_bytes, act, scores);
        if (predictions)
            predictions[i] = predicted;
        *correct += predicted == labels[i];
    }
    free(scores);
    forward_free(&p, act);
    return 0;
}
