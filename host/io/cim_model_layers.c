/* cim_model_layers.c -- one layer of each type: its attributes and datasets,
 * the rules of model_format.md §4-§5 that concern it, and the shape and
 * alphabet of the tensor it outputs.
 *
 * A tensor is tracked as (shape, alphabet, bound) from input_shape, "image"
 * and 255 on: dense and conv2d take the image or an activation output (in
 * version 2 also a pre-activation) and give a pre-activation;
 * batchnorm_threshold takes a pre-activation and must be followed by the
 * kind's activation; sign/ternary take a pre-activation or a batchnorm
 * output and give {-1,+1} or {-1,0,+1}; maxpool2d and flatten keep the
 * alphabet; add, sumpool2d and global_sumpool give a pre-activation, concat
 * keeps its inputs' common alphabet. Every bound stays within 2^28 - 1
 * (rule B). A layer of several inputs (add, concat) is judged against all
 * of them; every other layer against its one. Each loader reads all of its layer type's required
 * attributes first (so a missing one is reported as missing whatever else is
 * wrong), then judges them against the input in the order of the format's
 * tables, and reads its datasets last, once their expected shapes are known.
 *
 * Sizes are computed in int64 with every operand bounded first (fan-in at
 * most 2^20, tensors at most CIM_MODEL_MAX_TENSOR elements), so no product
 * overflows; output sizes use floor division on non-negative numerators only
 * (a window larger than its padded input is rejected before dividing).
 * Datasets are handled by pass (cim_model_internal.h): the check pass
 * checks their type and stored dimensions against the declared shape and
 * counts their values against CIM_MODEL_MAX_VALUES; the read pass reads
 * them. Memory: the weight and threshold arrays are malloc'd into the layer
 * by the read pass only, so neither a lying attribute nor a dataset whose
 * stored dimensions are huge can ask for an allocation beyond the limit, and
 * cim_model_free() releases them, also after a failure half-way through a
 * layer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cim_model_internal.h"

#define CONV_ATTR_PAIRS 3 /* kernel, stride, padding */

static const cim_value_rule bnn_weights = {-1, 1, 1, "-1 or +1 (kind \"bnn\")"};
static const cim_value_rule tnn_weights = {-1, 1, 0, "-1, 0 or +1 (kind \"tnn\")"};
static const cim_value_rule flip_values = {-1, 1, 1, "-1 or +1"};
static const cim_value_rule threshold_values = {-CIM_MODEL_THRESHOLD_LIMIT,
                                                CIM_MODEL_THRESHOLD_LIMIT, 0,
                                                "a value within [-2^30, 2^30] (rule R)"};

cim_layer_type cim_model_act_type(cim_model_kind kind)
{
    return kind == CIM_MODEL_BNN ? CIM_LAYER_SIGN : CIM_LAYER_TERNARY;
}

static cim_alphabet act_alphabet(cim_model_kind kind)
{
    return kind == CIM_MODEL_BNN ? CIM_ALPHABET_BINARY : CIM_ALPHABET_TERNARY;
}

static const cim_value_rule *weight_rule(cim_model_kind kind)
{
    return kind == CIM_MODEL_BNN ? &bnn_weights : &tnn_weights;
}

static void format_shape(char *buf, size_t n, const cim_shape *s)
{
    int64_t dims[3] = {s->dim[0], s->dim[1], s->dim[2]};
    cim_format_dims(buf, n, s->rank, dims);
}

static int32_t clamp_i32(int64_t v)
{
    return v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

/* ---------------------------------------------------------------------------
 * Messages shared by several layer types
 */

static int bad_value(const char *where, cim_error *err, const char *attr, int64_t got,
                     const char *expected)
{
    return cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" is %" PRId64 ", expected %s",
                         where, attr, got, expected);
}

static int bad_pair(const char *where, cim_error *err, const char *attr, const int64_t *got,
                    const char *expected)
{
    return cim_error_set(err, CIM_ERR_INPUT,
                         "%s: attribute \"%s\" is [%" PRId64 ",%" PRId64 "], expected %s", where,
                         attr, got[0], got[1], expected);
}

static int bad_input_alphabet(const char *where, cim_error *err, const cim_tensor_state *s,
                              const char *expected)
{
    return cim_error_set(err, CIM_ERR_INPUT, "%s: input is a %s tensor, expected %s", where,
                         cim_alphabet_name(s->alphabet), expected);
}

static int bad_input_rank(const char *where, cim_error *err, const cim_tensor_state *s,
                          const char *expected)
{
    char shape[64];
    format_shape(shape, sizeof shape, &s->shape);
    return cim_error_set(err, CIM_ERR_INPUT, "%s: input has shape %s, expected %s", where, shape,
                         expected);
}

static int too_large(const char *where, cim_error *err, const char *what, int64_t elements)
{
    return cim_error_set(err, CIM_ERR_INPUT,
                         "%s: %s has %" PRId64 " elements, expected at most %" PRId64
                         " (cimgpu's limit)",
                         where, what, elements, CIM_MODEL_MAX_TENSOR);
}

/* Dataset `name` of a layer, declared as `rank` x `dims`. Check pass: its
 * type and stored dimensions, then its values counted against the model's
 * CIM_MODEL_MAX_VALUES; nothing is allocated. Read pass: its values, checked
 * against `rule`, into *out (see cim_mh5_int_dataset). */
static int layer_dataset(cim_model_pass *pass, const char *where, hid_t g, const char *name,
                         int rank, const int64_t *dims, const cim_value_rule *rule,
                         size_t elem_size, void **out, cim_error *err)
{
    if (pass->read_values)
        return cim_mh5_int_dataset(where, g, name, rank, dims, rule, elem_size, out, err);
    int rc = cim_mh5_int_dataset_check(where, g, name, rank, dims, err);
    if (rc)
        return rc;
    int64_t count = 1; /* at most 2^31 outputs x 2^20 fan-in: no overflow */
    for (int i = 0; i < rank; ++i)
        count *= dims[i];
    if (count > CIM_MODEL_MAX_VALUES - pass->values) {
        char shape[96];
        cim_format_dims(shape, sizeof shape, rank, dims);
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: dataset \"%s\" of shape %s holds %" PRId64
                             " values, which bring the model's datasets to %" PRId64
                             ", expected at most %" PRId64 " in all (2^26, cimgpu's limit)",
                             where, name, shape, count, pass->values + count, CIM_MODEL_MAX_VALUES);
    }
    pass->values += count;
    return 0;
}

/* dense and conv2d: the image or an activation output; in version 2 also a
 * pre-activation (a pooled sum, a residual), never a batchnorm output. */
static int check_weight_layer_input(const char *where, cim_error *err, const cim_tensor_state *s,
                                    const cim_model *m)
{
    if (s->alphabet == CIM_ALPHABET_BN ||
        (s->alphabet == CIM_ALPHABET_PRE && m->format_version < 2)) {
        char expected[128];
        snprintf(expected, sizeof expected,
                 s->alphabet == CIM_ALPHABET_BN
                     ? "the image, a %s output or a pre-activation"
                     : "the image or a %s output (a linear layer on a pre-activation needs "
                       "format_version 2)",
                 cim_layer_type_name(cim_model_act_type(m->kind)));
        return bad_input_alphabet(where, err, s, expected);
    }
    return 0;
}

/* Rule B: an output whose values may exceed 2^28 - 1 in magnitude. */
static int check_bound(const char *where, cim_error *err, int64_t bound)
{
    if (bound <= CIM_MODEL_BOUND_MAX)
        return 0;
    return cim_error_set(err, CIM_ERR_INPUT,
                         "%s: output values may reach %" PRId64
                         " in magnitude, expected at most 2^28 - 1 (rule B)",
                         where, bound);
}

static int check_at_least_one(const char *where, cim_error *err, const char *attr, const int64_t *v,
                              int n)
{
    for (int i = 0; i < n; ++i)
        if (v[i] < 1)
            return n == 1 ? bad_value(where, err, attr, v[0], "at least 1")
                          : bad_pair(where, err, attr, v, "2 integers, each at least 1");
    return 0;
}

/* ---------------------------------------------------------------------------
 * dense
 */

static int load_dense(const char *where, hid_t g, const cim_model *m, cim_model_pass *pass,
                      cim_tensor_state *s, cim_layer *L, cim_error *err)
{
    int64_t in = 0, out = 0;
    int rc;
    if ((rc = cim_mh5_int_attr(where, g, "in_features", 0, 1, &in, NULL, err)) ||
        (rc = cim_mh5_int_attr(where, g, "out_features", 0, 1, &out, NULL, err)) ||
        (rc = check_weight_layer_input(where, err, s, m)))
        return rc;
    if (s->shape.rank != 1)
        return bad_input_rank(where, err, s, "a 1-D input (insert a flatten layer)");
    if (in != s->shape.dim[0]) {
        char expected[64];
        snprintf(expected, sizeof expected, "%d (the input's length)", s->shape.dim[0]);
        return bad_value(where, err, "in_features", in, expected);
    }
    if (in > CIM_MODEL_MAX_FAN_IN)
        return bad_value(where, err, "in_features", in, "at most 2^20 (rule R)");
    if ((rc = check_at_least_one(where, err, "out_features", &out, 1)) ||
        (rc = check_bound(where, err, in * s->bound)))
        return rc;
    if (out > CIM_MODEL_MAX_TENSOR)
        return too_large(where, err, "the output", out);

    L->dense.in_features = (int32_t)in;
    L->dense.out_features = (int32_t)out;
    int64_t dims[2] = {out, in};
    rc = layer_dataset(pass, where, g, "weight", 2, dims, weight_rule(m->kind), 1,
                       (void **)&L->dense.weight, err);
    if (rc)
        return rc;
    s->shape = (cim_shape){1, {(int32_t)out, 1, 1}};
    s->alphabet = CIM_ALPHABET_PRE;
    s->bound *= in;
    return 0;
}

/* ---------------------------------------------------------------------------
 * conv2d
 */

/* pad_value must be a value of the input's alphabet when padding is used
 * (for a pre-activation input: within its bound). */
static int check_pad_value(const char *where, cim_error *err, const cim_tensor_state *s, int64_t v)
{
    char expected[96];
    switch (s->alphabet) {
    case CIM_ALPHABET_PRE:
        snprintf(expected, sizeof expected,
                 "a value within [-%" PRId64 ", %" PRId64 "] (the input's bound, rule B)", s->bound,
                 s->bound);
        return v >= -s->bound && v <= s->bound ? 0
                                               : bad_value(where, err, "pad_value", v, expected);
    case CIM_ALPHABET_IMAGE:
        return v >= 0 && v <= CIM_MODEL_PIXEL_MAX
                   ? 0
                   : bad_value(where, err, "pad_value", v, "0..255 (a pixel value of the input)");
    case CIM_ALPHABET_BINARY:
        return v == -1 || v == 1
                   ? 0
                   : bad_value(where, err, "pad_value", v, "-1 or +1 (a value of the sign input)");
    default:
        return v >= -1 && v <= 1 ? 0
                                 : bad_value(where, err, "pad_value", v,
                                             "-1, 0 or +1 (a value of the ternary input)");
    }
}

/* Output size of one axis of a window of `k` with stride `s` over `n` (padded). */
static int64_t window_count(int64_t n, int64_t k, int64_t s)
{
    return (n - k) / s + 1; /* n >= k checked by the caller: floor of a non-negative quotient */
}

static int load_conv2d(const char *where, hid_t g, const cim_model *m, cim_model_pass *pass,
                       cim_tensor_state *s, cim_layer *L, cim_error *err)
{
    int64_t in = 0, out = 0, pad_value = 0, pair[CONV_ATTR_PAIRS][2];
    static const char *const pair_names[CONV_ATTR_PAIRS] = {"kernel", "stride", "padding"};
    int rc;
    if ((rc = cim_mh5_int_attr(where, g, "in_channels", 0, 1, &in, NULL, err)) ||
        (rc = cim_mh5_int_attr(where, g, "out_channels", 0, 1, &out, NULL, err)))
        return rc;
    for (int i = 0; i < CONV_ATTR_PAIRS; ++i)
        if ((rc = cim_mh5_int_attr(where, g, pair_names[i], 2, 1, pair[i], NULL, err)))
            return rc;
    if ((rc = cim_mh5_int_attr(where, g, "pad_value", 0, 1, &pad_value, NULL, err)) ||
        (rc = check_weight_layer_input(where, err, s, m)))
        return rc;
    const int64_t *k = pair[0], *stride = pair[1], *pad = pair[2];
    if (s->shape.rank != 3)
        return bad_input_rank(where, err, s, "a 3-D [C,H,W] input");
    if (in != s->shape.dim[0]) {
        char expected[64];
        snprintf(expected, sizeof expected, "%d (the input's channels)", s->shape.dim[0]);
        return bad_value(where, err, "in_channels", in, expected);
    }
    if ((rc = check_at_least_one(where, err, "out_channels", &out, 1)) ||
        (rc = check_at_least_one(where, err, "kernel", k, 2)) ||
        (rc = check_at_least_one(where, err, "stride", stride, 2)))
        return rc;
    if (pad[0] < 0 || pad[1] < 0 || pad[0] >= k[0] || pad[1] >= k[1]) {
        char expected[96];
        snprintf(expected, sizeof expected, "0 <= padding < kernel [%" PRId64 ",%" PRId64 "]", k[0],
                 k[1]);
        return bad_pair(where, err, "padding", pad, expected);
    }
    /* kh, kw <= 2^20 before multiplying, so the fan-in product cannot overflow */
    if (k[0] > CIM_MODEL_MAX_FAN_IN || k[1] > CIM_MODEL_MAX_FAN_IN ||
        k[0] * k[1] > CIM_MODEL_MAX_FAN_IN || in * k[0] * k[1] > CIM_MODEL_MAX_FAN_IN)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: in_channels*kh*kw is above 2^20 (rule R): in_channels %" PRId64
                             ", kernel [%" PRId64 ",%" PRId64 "]",
                             where, in, k[0], k[1]);
    int padded = pad[0] != 0 || pad[1] != 0;
    if (padded && (rc = check_pad_value(where, err, s, pad_value)))
        return rc;
    if ((rc = check_bound(where, err, in * k[0] * k[1] * s->bound)))
        return rc;
    int64_t c = s->shape.dim[0], hp = s->shape.dim[1] + 2 * pad[0],
            wp = s->shape.dim[2] + 2 * pad[1];
    if (c * hp * wp > CIM_MODEL_MAX_TENSOR)
        return too_large(where, err, "the padded input", c * hp * wp);
    if (hp < k[0] || wp < k[1])
        return bad_pair(where, err, "kernel", k,
                        padded ? "a window that fits the padded input"
                               : "a window that fits the input");
    int64_t ho = window_count(hp, k[0], stride[0]), wo = window_count(wp, k[1], stride[1]);
    if (out > CIM_MODEL_MAX_TENSOR || out * ho * wo > CIM_MODEL_MAX_TENSOR)
        return too_large(where, err, "the output", out * ho * wo);

    cim_conv2d *cv = &L->conv2d;
    cv->in_channels = (int32_t)in;
    cv->out_channels = (int32_t)out;
    for (int i = 0; i < 2; ++i) {
        cv->kernel[i] = (int32_t)k[i];
        cv->stride[i] = clamp_i32(stride[i]); /* a stride past int32 leaves one window */
        cv->padding[i] = (int32_t)pad[i];
    }
    cv->pad_value = padded ? (int32_t)pad_value : 0;
    int64_t dims[4] = {out, in, k[0], k[1]};
    rc = layer_dataset(pass, where, g, "weight", 4, dims, weight_rule(m->kind), 1,
                       (void **)&cv->weight, err);
    if (rc)
        return rc;
    s->shape = (cim_shape){3, {(int32_t)out, (int32_t)ho, (int32_t)wo}};
    s->alphabet = CIM_ALPHABET_PRE;
    s->bound *= in * k[0] * k[1];
    return 0;
}

/* ---------------------------------------------------------------------------
 * maxpool2d, flatten
 */

/* maxpool2d and sumpool2d: the same window; a sum is a pre-activation. */
static int load_pool2d(const char *where, hid_t g, cim_tensor_state *s, cim_layer *L,
                       cim_error *err)
{
    int64_t k[2], stride[2];
    int rc;
    if ((rc = cim_mh5_int_attr(where, g, "kernel", 2, 1, k, NULL, err)) ||
        (rc = cim_mh5_int_attr(where, g, "stride", 2, 1, stride, NULL, err)))
        return rc;
    if (s->shape.rank != 3)
        return bad_input_rank(where, err, s, "a 3-D [C,H,W] input");
    if (s->alphabet == CIM_ALPHABET_BN)
        return bad_input_alphabet(where, err, s, "the image, a pre-activation or an activation");
    if ((rc = check_at_least_one(where, err, "kernel", k, 2)) ||
        (rc = check_at_least_one(where, err, "stride", stride, 2)))
        return rc;
    if (s->shape.dim[1] < k[0] || s->shape.dim[2] < k[1])
        return bad_pair(where, err, "kernel", k, "a window that fits the input");
    int64_t ho = window_count(s->shape.dim[1], k[0], stride[0]);
    int64_t wo = window_count(s->shape.dim[2], k[1], stride[1]);
    if (L->type == CIM_LAYER_SUMPOOL2D && (rc = check_bound(where, err, k[0] * k[1] * s->bound)))
        return rc;
    for (int i = 0; i < 2; ++i) {
        L->maxpool2d.kernel[i] = (int32_t)k[i];
        L->maxpool2d.stride[i] = clamp_i32(stride[i]);
    }
    s->shape.dim[1] = (int32_t)ho;
    s->shape.dim[2] = (int32_t)wo;
    if (L->type == CIM_LAYER_SUMPOOL2D) {
        s->alphabet = CIM_ALPHABET_PRE;
        s->bound *= k[0] * k[1];
    }
    return 0;
}

static int load_global_sumpool(const char *where, cim_tensor_state *s, cim_error *err)
{
    if (s->shape.rank != 3)
        return bad_input_rank(where, err, s, "a 3-D [C,H,W] input");
    if (s->alphabet == CIM_ALPHABET_BN)
        return bad_input_alphabet(where, err, s, "the image, a pre-activation or an activation");
    const int64_t area = (int64_t)s->shape.dim[1] * s->shape.dim[2];
    int rc = check_bound(where, err, area * s->bound);
    if (rc)
        return rc;
    s->shape = (cim_shape){1, {s->shape.dim[0], 1, 1}};
    s->alphabet = CIM_ALPHABET_PRE;
    s->bound *= area;
    return 0;
}

static int load_flatten(const char *where, cim_tensor_state *s, cim_error *err)
{
    if (s->shape.rank != 3)
        return bad_input_rank(where, err, s, "a 3-D [C,H,W] input");
    if (s->alphabet == CIM_ALPHABET_BN)
        return bad_input_alphabet(where, err, s, "the image, a pre-activation or an activation");
    s->shape = (cim_shape){1, {(int32_t)cim_shape_size(&s->shape), 1, 1}};
    return 0;
}

/* ---------------------------------------------------------------------------
 * batchnorm_threshold, sign, ternary
 */

static int load_batchnorm(const char *where, hid_t g, cim_model_kind kind, int next_type,
                          cim_model_pass *pass, cim_tensor_state *s, cim_layer *L, cim_error *err)
{
    int64_t channels = 0;
    int rc;
    if ((rc = cim_mh5_int_attr(where, g, "channels", 0, 1, &channels, NULL, err)))
        return rc;
    if (s->alphabet != CIM_ALPHABET_PRE)
        return bad_input_alphabet(where, err, s, "the output of a dense or conv2d layer");
    int64_t c = s->shape.dim[0];
    if (channels != c) {
        char expected[64];
        snprintf(expected, sizeof expected, "%" PRId64 " (the input's %s)", c,
                 s->shape.rank == 3 ? "channels" : "length");
        return bad_value(where, err, "channels", channels, expected);
    }
    cim_layer_type act = cim_model_act_type(kind);
    if (next_type != (int)act)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: the next layer must be a \"%s\" layer (kind \"%s\")", where,
                             cim_layer_type_name(act), cim_model_kind_name(kind));
    cim_batchnorm_threshold *bn = &L->bn;
    bn->channels = (int32_t)c;
    if ((rc = layer_dataset(pass, where, g, "threshold_lo", 1, &c, &threshold_values,
                            sizeof(int32_t), (void **)&bn->threshold_lo, err)) ||
        (rc = layer_dataset(pass, where, g, "threshold_hi", 1, &c, &threshold_values,
                            sizeof(int32_t), (void **)&bn->threshold_hi, err)) ||
        (rc = layer_dataset(pass, where, g, "flip", 1, &c, &flip_values, 1, (void **)&bn->flip,
                            err)))
        return rc;
    for (int64_t i = 0; pass->read_values && i < c; ++i)
        if ((int64_t)bn->threshold_lo[i] > (int64_t)bn->threshold_hi[i] + 1)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: threshold_lo[%" PRId64 "] = %d is above threshold_hi[%" PRId64
                                 "] + 1 = %" PRId64 ", expected threshold_lo <= threshold_hi + 1",
                                 where, i, bn->threshold_lo[i], i,
                                 (int64_t)bn->threshold_hi[i] + 1);
    s->alphabet = CIM_ALPHABET_BN;
    s->bound += CIM_MODEL_THRESHOLD_LIMIT; /* |z - lo|, |z - hi|; only an activation reads it */
    return 0;
}

static int load_activation(const char *where, cim_model_kind kind, cim_tensor_state *s,
                           const cim_layer *L, cim_error *err)
{
    cim_layer_type act = cim_model_act_type(kind);
    if (L->type != act)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: a \"%s\" model's activation layers are \"%s\", not \"%s\"", where,
                             cim_model_kind_name(kind), cim_layer_type_name(act),
                             cim_layer_type_name(L->type));
    if (s->alphabet != CIM_ALPHABET_PRE && s->alphabet != CIM_ALPHABET_BN)
        return bad_input_alphabet(where, err, s,
                                  "the output of a dense, conv2d or batchnorm_threshold layer");
    s->alphabet = act_alphabet(kind);
    s->bound = 1;
    return 0;
}

/* ---------------------------------------------------------------------------
 * add, concat (version 2)
 */

static void describe_input(char *buf, size_t n, const cim_layer *L, int j,
                           const cim_tensor_state *s)
{
    char shape[64];
    format_shape(shape, sizeof shape, &s->shape);
    if (L->inputs[j] == CIM_MODEL_INPUT)
        snprintf(buf, n, "input %d (the model input) is a %s tensor of shape %s", j,
                 cim_alphabet_name(s->alphabet), shape);
    else
        snprintf(buf, n, "input %d (layer %03d) is a %s tensor of shape %s", j, L->inputs[j],
                 cim_alphabet_name(s->alphabet), shape);
}

static int bad_operand(const char *where, cim_error *err, const cim_layer *L, int j,
                       const cim_tensor_state *s, const char *expected)
{
    char got[160];
    describe_input(got, sizeof got, L, j, s);
    return cim_error_set(err, CIM_ERR_INPUT, "%s: %s, expected %s", where, got, expected);
}

static int same_shape(const cim_shape *a, const cim_shape *b)
{
    return a->rank == b->rank && a->dim[0] == b->dim[0] && a->dim[1] == b->dim[1] &&
           a->dim[2] == b->dim[2];
}

static int load_add(const char *where, hid_t g, const cim_tensor_state *in, cim_tensor_state *s,
                    cim_layer *L, cim_error *err)
{
    int64_t scale[CIM_MODEL_MAX_INPUTS];
    int present = 0, rc;
    for (int j = 0; j < L->n_inputs; ++j)
        scale[j] = 1;
    if ((rc = cim_mh5_int_attr(where, g, "scale", L->n_inputs, 0, scale, &present, err)))
        return rc;
    int64_t bound = 0;
    for (int j = 0; j < L->n_inputs; ++j) {
        if (in[j].alphabet == CIM_ALPHABET_BN)
            return bad_operand(where, err, L, j, &in[j],
                               "the image, a pre-activation or an activation");
        if (!same_shape(&in[j].shape, &in[0].shape))
            return bad_operand(where, err, L, j, &in[j], "the shape of input 0");
        if (scale[j] == 0 || scale[j] < -CIM_MODEL_SCALE_MAX || scale[j] > CIM_MODEL_SCALE_MAX)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: attribute \"scale\"[%d] is %" PRId64
                                 ", expected a nonzero integer within [-2^15, 2^15]",
                                 where, j, scale[j]);
        bound += (scale[j] < 0 ? -scale[j] : scale[j]) * in[j].bound;
    }
    if ((rc = check_bound(where, err, bound)))
        return rc;
    for (int j = 0; j < L->n_inputs; ++j)
        L->add.scale[j] = (int32_t)scale[j];
    *s = in[0];
    s->alphabet = CIM_ALPHABET_PRE;
    s->bound = bound;
    return 0;
}

static int load_concat(const char *where, hid_t g, const cim_tensor_state *in, cim_tensor_state *s,
                       cim_layer *L, cim_error *err)
{
    int64_t axis = 0;
    int present = 0, rc;
    if ((rc = cim_mh5_int_attr(where, g, "axis", 0, 0, &axis, &present, err)))
        return rc;
    if (axis != 0)
        return bad_value(where, err, "axis", axis, "0 (channels of a 3-D input, or a 1-D input)");
    int64_t total = 0, bound = 0;
    for (int j = 0; j < L->n_inputs; ++j) {
        const cim_shape *a = &in[j].shape, *a0 = &in[0].shape;
        if (in[j].alphabet == CIM_ALPHABET_BN)
            return bad_operand(where, err, L, j, &in[j],
                               "the image, a pre-activation or an activation");
        if (in[j].alphabet != in[0].alphabet)
            return bad_operand(where, err, L, j, &in[j], "the alphabet of input 0");
        if (a->rank != a0->rank ||
            (a->rank == 3 && (a->dim[1] != a0->dim[1] || a->dim[2] != a0->dim[2])))
            return bad_operand(where, err, L, j, &in[j],
                               a0->rank == 3 ? "a 3-D input of input 0's height and width"
                                             : "a 1-D input, as input 0");
        total += cim_shape_size(a);
        bound = in[j].bound > bound ? in[j].bound : bound;
    }
    if (total > CIM_MODEL_MAX_TENSOR)
        return too_large(where, err, "the output", total);
    *s = in[0];
    s->bound = bound;
    s->shape.dim[0] = (int32_t)(total / ((int64_t)in[0].shape.dim[1] * in[0].shape.dim[2]));
    return 0;
}

/* ---------------------------------------------------------------------------
 * One layer
 */

int cim_model_load_layer(const char *where, hid_t g, const cim_model *m, int next_type,
                         cim_model_pass *pass, const cim_tensor_state *in, cim_tensor_state *out,
                         cim_layer *L, cim_error *err)
{
    const cim_model_kind kind = m->kind;
    cim_tensor_state *state = out;
    *state = in[0];
    L->in_shape = state->shape;
    L->in_alphabet = state->alphabet;
    int rc = 0;
    switch (L->type) {
    case CIM_LAYER_DENSE:
        rc = load_dense(where, g, m, pass, state, L, err);
        break;
    case CIM_LAYER_CONV2D:
        rc = load_conv2d(where, g, m, pass, state, L, err);
        break;
    case CIM_LAYER_BATCHNORM_THRESHOLD:
        rc = load_batchnorm(where, g, kind, next_type, pass, state, L, err);
        break;
    case CIM_LAYER_MAXPOOL2D:
    case CIM_LAYER_SUMPOOL2D:
        rc = load_pool2d(where, g, state, L, err);
        break;
    case CIM_LAYER_GLOBAL_SUMPOOL:
        rc = load_global_sumpool(where, state, err);
        break;
    case CIM_LAYER_ADD:
        rc = load_add(where, g, in, state, L, err);
        break;
    case CIM_LAYER_CONCAT:
        rc = load_concat(where, g, in, state, L, err);
        break;
    case CIM_LAYER_FLATTEN:
        rc = load_flatten(where, state, err);
        break;
    case CIM_LAYER_SIGN:
    case CIM_LAYER_TERNARY:
        rc = load_activation(where, kind, state, L, err);
        break;
    default:
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: unknown layer type", where);
    }
    if (rc)
        return rc;
    L->out_shape = state->shape;
    L->out_alphabet = state->alphabet;
    L->out_bound = state->bound;
    return 0;
}
