/* cim_model_writer.c -- writes the test models of cim_model_writer.h.
 *
 * Items are plain data until cim_mw_write() turns each into one HDF5
 * attribute or dataset: integers are passed to HDF5 as int64 (uint64 for
 * unsigned file types, so that a bit pattern such as 2^64-1 survives) and
 * HDF5 converts them to the item's file type; floats as double; enums as
 * int8 in the enum's own memory type (HDF5 does not convert integers to
 * enums); strings as one fixed-size buffer or one pointer per element.
 * Random weights and thresholds come from the suites' splitmix64 generator,
 * seeded per model, so every run writes the same files.
 */
#include "cim_model_writer.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_model.h"
#include "cim_test_util.h"

#define DEFAULT_THRESHOLD_SPREAD 3
#define DEFLATE_LEVEL 4
#define UNWRITTEN_CHUNK 4096 /* elements per chunk of an unwritten dataset */

/* ---------------------------------------------------------------------------
 * Items
 */

static cim_mw_object *object_of(cim_mw_model *m, int layer)
{
    if (layer == CIM_MW_ROOT)
        return &m->root;
    if (layer < 0 || layer >= m->n_layers)
        fail_msg("model writer: no layer %d", layer);
    return &m->layers[layer];
}

static int64_t element_count(const cim_mw_item *it)
{
    int64_t n = 1;
    if (it->rank < 0)
        return 0;
    for (int i = 0; i < it->rank; ++i)
        n *= it->dims[i];
    return n;
}

static void clear_item(cim_mw_item *it)
{
    free(it->values);
    free(it->text);
    memset(it, 0, sizeof *it);
}

static cim_mw_item *lookup(cim_mw_object *o, const char *name)
{
    for (int i = 0; i < o->n_items; ++i)
        if (strcmp(o->items[i].name, name) == 0)
            return &o->items[i];
    return NULL;
}

/* The item `name`, emptied, or a new one. */
static cim_mw_item *fresh_item(cim_mw_model *m, int layer, const char *name)
{
    cim_mw_object *o = object_of(m, layer);
    if (layer == CIM_MW_ROOT && strcmp(name, "num_layers") == 0)
        m->num_layers_auto = 0;
    cim_mw_item *it = lookup(o, name);
    if (!it) {
        if (o->n_items == CIM_MW_MAX_ITEMS)
            fail_msg("model writer: too many items in %s", layer == CIM_MW_ROOT ? "/" : o->name);
        it = &o->items[o->n_items++];
    }
    clear_item(it);
    snprintf(it->name, sizeof it->name, "%s", name);
    return it;
}

cim_mw_item *cim_mw_find(cim_mw_model *m, int layer, const char *name)
{
    cim_mw_item *it = lookup(object_of(m, layer), name);
    if (!it)
        fail_msg("model writer: layer %d has no item \"%s\"", layer, name);
    return it;
}

void cim_mw_remove(cim_mw_model *m, int layer, const char *name)
{
    cim_mw_object *o = object_of(m, layer);
    cim_mw_item *it = cim_mw_find(m, layer, name);
    if (layer == CIM_MW_ROOT && strcmp(name, "num_layers") == 0)
        m->num_layers_auto = 0;
    clear_item(it);
    int at = (int)(it - o->items);
    memmove(&o->items[at], &o->items[at + 1], (size_t)(o->n_items - at - 1) * sizeof *it);
    memset(&o->items[--o->n_items], 0, sizeof *it);
}

cim_mw_item *cim_mw_set_ints(cim_mw_model *m, int layer, const char *name, int is_dataset,
                             cim_mw_type type, int rank, const int64_t *dims, const int64_t *values)
{
    cim_mw_item *it = fresh_item(m, layer, name);
    it->is_dataset = is_dataset;
    it->type = type;
    it->rank = rank;
    for (int i = 0; i < rank; ++i)
        it->dims[i] = dims[i];
    int64_t n = element_count(it);
    it->values = calloc((size_t)(n > 0 ? n : 1), sizeof *it->values);
    assert_non_null(it->values);
    if (values)
        memcpy(it->values, values, (size_t)n * sizeof *values);
    return it;
}

cim_mw_item *cim_mw_set_unwritten(cim_mw_model *m, int layer, const char *name, cim_mw_type type,
                                  int rank, const int64_t *dims, int64_t fill)
{
    if (rank < 1 || rank > CIM_MW_MAX_RANK)
        fail_msg("model writer: an unwritten dataset needs rank 1..%d", CIM_MW_MAX_RANK);
    cim_mw_item *it = fresh_item(m, layer, name);
    it->is_dataset = 1;
    it->unwritten = 1;
    it->type = type;
    it->rank = rank;
    for (int i = 0; i < rank; ++i)
        it->dims[i] = dims[i];
    it->fill = fill;
    return it;
}

cim_mw_item *cim_mw_set_int(cim_mw_model *m, int layer, const char *name, int64_t value)
{
    return cim_mw_set_ints(m, layer, name, 0, CIM_MW_I32, 0, NULL, &value);
}

cim_mw_item *cim_mw_set_string(cim_mw_model *m, int layer, const char *name, const char *text)
{
    cim_mw_item *it = fresh_item(m, layer, name);
    it->type = CIM_MW_STR_NULLPAD;
    it->text = strdup(text);
    assert_non_null(it->text);
    return it;
}

cim_mw_item *cim_mw_set_float(cim_mw_model *m, int layer, const char *name, double value)
{
    cim_mw_item *it = fresh_item(m, layer, name);
    it->type = CIM_MW_F64;
    it->real = value;
    return it;
}

void cim_mw_set_value(cim_mw_model *m, int layer, const char *name, int64_t index, int64_t value)
{
    cim_mw_item *it = cim_mw_find(m, layer, name);
    if (!it->values || index < 0 || index >= element_count(it))
        fail_msg("model writer: item \"%s\" has no value %lld", name, (long long)index);
    it->values[index] = value;
}

void cim_mw_set_shape(cim_mw_model *m, int layer, const char *name, int rank, const int64_t *dims)
{
    cim_mw_item *it = cim_mw_find(m, layer, name);
    int64_t old = element_count(it);
    it->rank = rank;
    for (int i = 0; i < rank; ++i)
        it->dims[i] = dims[i];
    int64_t n = element_count(it);
    if (it->values) {
        it->values = realloc(it->values, (size_t)(n > 0 ? n : 1) * sizeof *it->values);
        assert_non_null(it->values);
        for (int64_t i = old; i < n; ++i)
            it->values[i] = 1;
    }
}

void cim_mw_rename(cim_mw_model *m, int layer, const char *name)
{
    snprintf(object_of(m, layer)->name, CIM_MW_NAME_MAX, "%s", name);
}

/* ---------------------------------------------------------------------------
 * Layers
 */

cim_mw_model *cim_mw_new(const char *kind, int32_t c, int32_t h, int32_t w, int32_t num_classes,
                         uint64_t seed)
{
    cim_mw_model *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->ternary = strcmp(kind, "tnn") == 0;
    m->seed = seed;
    const int64_t three = 3, shape[3] = {c, h, w};
    cim_mw_set_string(m, CIM_MW_ROOT, "format", "cimgpu-model");
    cim_mw_set_int(m, CIM_MW_ROOT, "format_version", 1);
    cim_mw_set_string(m, CIM_MW_ROOT, "name", m->ternary ? "test_tnn" : "test_bnn");
    cim_mw_set_string(m, CIM_MW_ROOT, "kind", kind);
    cim_mw_set_ints(m, CIM_MW_ROOT, "input_shape", 0, CIM_MW_I32, 1, &three, shape);
    cim_mw_set_string(m, CIM_MW_ROOT, "input_preprocessing", "raw_uint8");
    cim_mw_set_int(m, CIM_MW_ROOT, "num_classes", num_classes);
    cim_mw_set_int(m, CIM_MW_ROOT, "num_layers", 0);
    m->num_layers_auto = 1;
    return m;
}

void cim_mw_free(cim_mw_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->root.n_items; ++i)
        clear_item(&m->root.items[i]);
    for (int l = 0; l < m->n_layers; ++l)
        for (int i = 0; i < m->layers[l].n_items; ++i)
            clear_item(&m->layers[l].items[i]);
    free(m);
}

int cim_mw_layer(cim_mw_model *m, const char *type)
{
    if (m->n_layers == CIM_MW_MAX_LAYERS)
        fail_msg("model writer: more than %d layers", CIM_MW_MAX_LAYERS);
    int index = m->n_layers++;
    snprintf(m->layers[index].name, CIM_MW_NAME_MAX, "%03d_%s", index, type);
    cim_mw_set_string(m, index, "type", type);
    if (m->num_layers_auto) {
        cim_mw_find(m, CIM_MW_ROOT, "num_layers")->values[0] = m->n_layers;
    }
    return index;
}

/* A dataset of `n` values from `given`, or drawn from the kind's alphabet. */
static void weight_dataset(cim_mw_model *m, int layer, int rank, const int64_t *dims,
                           const int8_t *given)
{
    cim_mw_item *it = cim_mw_set_ints(m, layer, "weight", 1, CIM_MW_I8, rank, dims, NULL);
    int64_t n = element_count(it);
    cim_test_rng rng = cim_test_rng_init(m->seed ^ (0x9e37u * (uint64_t)(layer + 1)));
    for (int64_t i = 0; i < n; ++i) {
        if (given)
            it->values[i] = given[i];
        else if (m->ternary)
            it->values[i] = cim_test_rng_int(&rng, -1, 1);
        else
            it->values[i] = cim_test_rng_int(&rng, 0, 1) ? 1 : -1;
    }
}

static void pair_attr(cim_mw_model *m, int layer, const char *name, int32_t a, int32_t b)
{
    const int64_t two = 2, v[2] = {a, b};
    cim_mw_set_ints(m, layer, name, 0, CIM_MW_I32, 1, &two, v);
}

int cim_mw_dense(cim_mw_model *m, int32_t in, int32_t out, const int8_t *weight)
{
    int l = cim_mw_layer(m, "dense");
    cim_mw_set_int(m, l, "in_features", in);
    cim_mw_set_int(m, l, "out_features", out);
    const int64_t dims[2] = {out, in};
    weight_dataset(m, l, 2, dims, weight);
    return l;
}

int cim_mw_conv2d(cim_mw_model *m, int32_t in_channels, int32_t out_channels, int32_t kh,
                  int32_t kw, int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t pad_value,
                  const int8_t *weight)
{
    int l = cim_mw_layer(m, "conv2d");
    cim_mw_set_int(m, l, "in_channels", in_channels);
    cim_mw_set_int(m, l, "out_channels", out_channels);
    pair_attr(m, l, "kernel", kh, kw);
    pair_attr(m, l, "stride", sh, sw);
    pair_attr(m, l, "padding", ph, pw);
    cim_mw_set_int(m, l, "pad_value", pad_value);
    const int64_t dims[4] = {out_channels, in_channels, kh, kw};
    weight_dataset(m, l, 4, dims, weight);
    return l;
}

/* maxpool2d or sumpool2d: a window and its stride. */
static int pool2d(cim_mw_model *m, const char *type, int32_t kh, int32_t kw, int32_t sh, int32_t sw)
{
    int l = cim_mw_layer(m, type);
    pair_attr(m, l, "kernel", kh, kw);
    pair_attr(m, l, "stride", sh, sw);
    return l;
}

int cim_mw_maxpool2d(cim_mw_model *m, int32_t kh, int32_t kw, int32_t sh, int32_t sw)
{
    return pool2d(m, "maxpool2d", kh, kw, sh, sw);
}

int cim_mw_flatten(cim_mw_model *m)
{
    return cim_mw_layer(m, "flatten");
}

int cim_mw_activation(cim_mw_model *m)
{
    return cim_mw_layer(m, m->ternary ? "ternary" : "sign");
}

int cim_mw_batchnorm(cim_mw_model *m, int32_t channels, const int32_t *lo, const int32_t *hi,
                     const int8_t *flip)
{
    int l = cim_mw_layer(m, "batchnorm_threshold");
    cim_mw_set_int(m, l, "channels", channels);
    const int64_t c = channels;
    cim_mw_item *lo_item = cim_mw_set_ints(m, l, "threshold_lo", 1, CIM_MW_I32, 1, &c, NULL);
    cim_mw_item *hi_item = cim_mw_set_ints(m, l, "threshold_hi", 1, CIM_MW_I32, 1, &c, NULL);
    cim_mw_item *flip_item = cim_mw_set_ints(m, l, "flip", 1, CIM_MW_I8, 1, &c, NULL);
    cim_test_rng rng = cim_test_rng_init(m->seed ^ (0x7f4au * (uint64_t)(l + 1)));
    for (int32_t i = 0; i < channels; ++i) {
        int64_t a = cim_test_rng_int(&rng, -DEFAULT_THRESHOLD_SPREAD, DEFAULT_THRESHOLD_SPREAD);
        lo_item->values[i] = lo ? lo[i] : a;
        hi_item->values[i] = hi ? hi[i] : m->ternary ? a + cim_test_rng_int(&rng, -1, 2) : a;
        flip_item->values[i] = flip ? flip[i] : cim_test_rng_int(&rng, 0, 1) ? 1 : -1;
    }
    return l;
}

int cim_mw_batchnorm_random(cim_mw_model *m, int32_t channels, int32_t spread)
{
    int l = cim_mw_batchnorm(m, channels, NULL, NULL, NULL);
    cim_mw_item *lo = cim_mw_find(m, l, "threshold_lo"), *hi = cim_mw_find(m, l, "threshold_hi");
    cim_test_rng rng = cim_test_rng_init(m->seed ^ (0x51edu * (uint64_t)(l + 1)));
    for (int32_t i = 0; i < channels; ++i) {
        lo->values[i] = cim_test_rng_int(&rng, -spread, spread);
        hi->values[i] =
            m->ternary ? lo->values[i] + cim_test_rng_int(&rng, -1, spread / 2 + 1) : lo->values[i];
    }
    return l;
}

cim_mw_model *cim_mw_mlp(const char *kind, uint64_t seed)
{
    cim_mw_model *m = cim_mw_new(kind, 1, 4, 4, 3, seed);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_batchnorm(m, 8, NULL, NULL, NULL);
    cim_mw_activation(m);
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

cim_mw_model *cim_mw_cnn(const char *kind, uint64_t seed)
{
    cim_mw_model *m = cim_mw_new(kind, 1, 6, 6, 4, seed);
    cim_mw_conv2d(m, 1, 2, 3, 3, 1, 1, 1, 1, 0, NULL); /* -> [2,6,6] */
    cim_mw_batchnorm(m, 2, NULL, NULL, NULL);
    cim_mw_activation(m);
    cim_mw_maxpool2d(m, 2, 2, 2, 2);                                     /* -> [2,3,3] */
    cim_mw_conv2d(m, 2, 3, 3, 3, 2, 2, 1, 1, m->ternary ? 0 : -1, NULL); /* -> [3,2,2] */
    cim_mw_batchnorm(m, 3, NULL, NULL, NULL);
    cim_mw_activation(m);
    cim_mw_flatten(m);
    cim_mw_dense(m, 12, 4, NULL);
    return m;
}

/* ---------------------------------------------------------------------------
 * Version 2: the layer graph
 */

void cim_mw_set_inputs(cim_mw_model *m, int layer, int n, const int32_t *inputs)
{
    int64_t values[CIM_MW_MAX_LAYERS];
    const int64_t count = n;
    if (n < 1 || n > CIM_MW_MAX_LAYERS)
        fail_msg("model writer: %d inputs", n);
    for (int j = 0; j < n; ++j)
        values[j] = inputs[j];
    cim_mw_set_int(m, CIM_MW_ROOT, "format_version", 2);
    cim_mw_set_ints(m, layer, "inputs", 0, CIM_MW_I32, 1, &count, values);
}

int cim_mw_add(cim_mw_model *m, int n, const int32_t *inputs, const int32_t *scale)
{
    int l = cim_mw_layer(m, "add");
    cim_mw_set_inputs(m, l, n, inputs);
    if (scale) {
        int64_t values[CIM_MW_MAX_LAYERS];
        const int64_t count = n;
        for (int j = 0; j < n; ++j)
            values[j] = scale[j];
        cim_mw_set_ints(m, l, "scale", 0, CIM_MW_I32, 1, &count, values);
    }
    return l;
}

int cim_mw_concat(cim_mw_model *m, int n, const int32_t *inputs)
{
    int l = cim_mw_layer(m, "concat");
    cim_mw_set_inputs(m, l, n, inputs);
    return l;
}

int cim_mw_sumpool2d(cim_mw_model *m, int32_t kh, int32_t kw, int32_t sh, int32_t sw)
{
    return pool2d(m, "sumpool2d", kh, kw, sh, sw);
}

int cim_mw_global_sumpool(cim_mw_model *m)
{
    return cim_mw_layer(m, "global_sumpool");
}

/* The one-input layer just added takes tensor `input`. */
static void from(cim_mw_model *m, int layer, int32_t input)
{
    cim_mw_set_inputs(m, layer, 1, &input);
}

cim_mw_model *cim_mw_graph(const char *kind, uint64_t seed)
{
    cim_mw_model *m = cim_mw_new(kind, 1, 6, 6, 13, seed);
    const int32_t pad = m->ternary ? 0 : -1;
    cim_mw_conv2d(m, 1, 4, 3, 3, 1, 1, 1, 1, 0, NULL);   /* 0: [4,6,6] on the pixels */
    cim_mw_batchnorm_random(m, 4, 300);                  /* 1 */
    cim_mw_activation(m);                                /* 2 */
    cim_mw_conv2d(m, 4, 4, 3, 3, 1, 1, 1, 1, pad, NULL); /* 3: the first crossbar layer */
    cim_mw_batchnorm(m, 4, NULL, NULL, NULL);            /* 4 */
    int a = cim_mw_activation(m);                        /* 5: A */
    cim_mw_conv2d(m, 4, 4, 3, 3, 1, 1, 1, 1, pad, NULL); /* 6 */
    const int32_t res[2] = {6, 3}, res_scale[2] = {1, 2};
    cim_mw_add(m, 2, res, res_scale); /* 7: z6 + 2 z3 */
    cim_mw_batchnorm_random(m, 4, 6); /* 8 */
    int b = cim_mw_activation(m);     /* 9: B */
    const int32_t both[2] = {b, a};
    cim_mw_concat(m, 2, both);            /* 10: [8,6,6] */
    cim_mw_sumpool2d(m, 2, 2, 2, 2);      /* 11: [8,3,3] */
    cim_mw_batchnorm_random(m, 8, 3);     /* 12 */
    int c = cim_mw_activation(m);         /* 13 */
    cim_mw_flatten(m);                    /* 14: 72 */
    int d = cim_mw_dense(m, 72, 5, NULL); /* 15 */
    from(m, cim_mw_global_sumpool(m), c); /* 16: [8] */
    const int32_t out[2] = {d, 16};
    cim_mw_concat(m, 2, out); /* 17: [13] */
    return m;
}

cim_mw_model *cim_mw_graph_host(const char *kind, uint64_t seed)
{
    cim_mw_model *m = cim_mw_new(kind, 1, 6, 6, 6, seed);
    const int32_t pad = m->ternary ? 0 : -1;
    cim_mw_conv2d(m, 1, 4, 3, 3, 1, 1, 1, 1, 0, NULL);   /* 0: [4,6,6] on the pixels */
    cim_mw_batchnorm_random(m, 4, 300);                  /* 1 */
    cim_mw_activation(m);                                /* 2 */
    cim_mw_conv2d(m, 4, 4, 3, 3, 1, 1, 1, 1, pad, NULL); /* 3: crossbar */
    const int32_t res[2] = {3, 0};
    cim_mw_add(m, 2, res, NULL);           /* 4: per chip + shared */
    cim_mw_batchnorm_random(m, 4, 300);    /* 5 */
    int a = cim_mw_activation(m);          /* 6 */
    cim_mw_global_sumpool(m);              /* 7: [4] */
    int d = cim_mw_dense(m, 4, 6, NULL);   /* 8: on a pre-activation: host */
    from(m, cim_mw_flatten(m), a);         /* 9: 144 */
    int e = cim_mw_dense(m, 144, 6, NULL); /* 10: crossbar */
    const int32_t out[2] = {d, e}, out_scale[2] = {3, -1};
    cim_mw_add(m, 2, out, out_scale); /* 11: [6] */
    return m;
}

cim_mw_model *cim_mw_generated(int shape, const char *kind, uint64_t seed)
{
    switch (shape) {
    case CIM_MW_MLP:
        return cim_mw_mlp(kind, seed);
    case CIM_MW_CNN:
        return cim_mw_cnn(kind, seed);
    case CIM_MW_GRAPH:
        return cim_mw_graph(kind, seed);
    case CIM_MW_GRAPH_HOST:
        return cim_mw_graph_host(kind, seed);
    }
    fail_msg("model writer: no model shape %d", shape);
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Writing
 */

static hid_t file_type_of(const cim_mw_item *it)
{
    switch (it->type) {
    case CIM_MW_I8:
        return H5Tcopy(H5T_STD_I8LE);
    case CIM_MW_I16BE:
        return H5Tcopy(H5T_STD_I16BE);
    case CIM_MW_I32:
        return H5Tcopy(H5T_STD_I32LE);
    case CIM_MW_I64:
        return H5Tcopy(H5T_STD_I64LE);
    case CIM_MW_U8:
        return H5Tcopy(H5T_STD_U8LE);
    case CIM_MW_U64:
        return H5Tcopy(H5T_STD_U64LE);
    case CIM_MW_F32:
        return H5Tcopy(H5T_IEEE_F32LE);
    case CIM_MW_F64:
        return H5Tcopy(H5T_IEEE_F64LE);
    case CIM_MW_ENUM8: {
        hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
        const int8_t minus = -1, zero = 0, plus = 1;
        H5Tenum_insert(t, "MINUS", &minus);
        H5Tenum_insert(t, "ZERO", &zero);
        H5Tenum_insert(t, "PLUS", &plus);
        return t;
    }
    case CIM_MW_STR_NULLPAD:
    case CIM_MW_STR_NULLTERM: {
        hid_t t = H5Tcopy(H5T_C_S1);
        size_t size =
            strlen(it->text) + (size_t)it->extra_nuls + (it->type == CIM_MW_STR_NULLTERM ? 1 : 0);
        H5Tset_size(t, size > 0 ? size : 1);
        H5Tset_strpad(t, it->type == CIM_MW_STR_NULLTERM ? H5T_STR_NULLTERM : H5T_STR_NULLPAD);
        return t;
    }
    case CIM_MW_STR_VLEN_UTF8:
    case CIM_MW_STR_VLEN_ASCII: {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        H5Tset_cset(t, it->type == CIM_MW_STR_VLEN_UTF8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII);
        return t;
    }
    }
    return -1;
}

static int is_string(const cim_mw_item *it)
{
    return it->type >= CIM_MW_STR_NULLPAD;
}

/* The memory buffer and memory type for an item's values; *buf malloc'd. */
static hid_t memory_values(const cim_mw_item *it, hid_t file_type, void **buf)
{
    int64_t n = element_count(it);
    size_t count = (size_t)(n > 0 ? n : 1);
    if (is_string(it)) {
        if (H5Tis_variable_str(file_type)) {
            const char **p = malloc(count * sizeof *p);
            for (size_t i = 0; i < count; ++i)
                p[i] = it->text;
            *buf = p;
        } else {
            size_t size = H5Tget_size(file_type);
            char *p = calloc(count, size);
            for (size_t i = 0; i < count; ++i)
                memcpy(p + i * size, it->text, strlen(it->text) < size ? strlen(it->text) : size);
            *buf = p;
        }
        return H5Tcopy(file_type);
    }
    if (it->type == CIM_MW_F32 || it->type == CIM_MW_F64) {
        double *p = malloc(count * sizeof *p);
        for (size_t i = 0; i < count; ++i)
            p[i] = it->values ? (double)it->values[i] : it->real;
        *buf = p;
        return H5Tcopy(H5T_NATIVE_DOUBLE);
    }
    if (it->type == CIM_MW_ENUM8) {
        int8_t *p = malloc(count);
        for (size_t i = 0; i < count; ++i)
            p[i] = (int8_t)it->values[i];
        *buf = p;
        return H5Tcopy(file_type);
    }
    int64_t *p = malloc(count * sizeof *p);
    memcpy(p, it->values, count * sizeof *p);
    *buf = p;
    int is_unsigned = it->type == CIM_MW_U8 || it->type == CIM_MW_U64;
    return H5Tcopy(is_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64);
}

static hid_t dataspace_of(const cim_mw_item *it)
{
    if (it->rank < 0)
        return H5Screate(H5S_NULL);
    if (it->rank == 0)
        return H5Screate(H5S_SCALAR);
    hsize_t dims[CIM_MW_MAX_RANK];
    for (int i = 0; i < it->rank; ++i)
        dims[i] = (hsize_t)it->dims[i];
    return H5Screate_simple(it->rank, dims, NULL);
}

/* A dataset without values: chunks of one row of the last dimension (at most
 * UNWRITTEN_CHUNK elements), none of them written, so every element reads as
 * the fill value. */
static int write_unwritten(hid_t loc, const cim_mw_item *it)
{
    hsize_t dims[CIM_MW_MAX_RANK], chunk[CIM_MW_MAX_RANK];
    for (int i = 0; i < it->rank; ++i) {
        dims[i] = (hsize_t)it->dims[i];
        chunk[i] = 1;
    }
    const int last = it->rank - 1;
    chunk[last] = dims[last] < UNWRITTEN_CHUNK ? dims[last] : UNWRITTEN_CHUNK;
    hid_t ftype = file_type_of(it), space = H5Screate_simple(it->rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    herr_t st = ftype < 0 || space < 0 || dcpl < 0 ? -1 : H5Pset_chunk(dcpl, it->rank, chunk);
    if (st >= 0)
        st = H5Pset_fill_value(dcpl, H5T_NATIVE_INT64, &it->fill);
    hid_t ds =
        st < 0 ? -1 : H5Dcreate2(loc, it->name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0)
        st = -1;
    else if (H5Dclose(ds) < 0)
        st = -1;
    if (dcpl >= 0)
        H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
    if (ftype >= 0)
        H5Tclose(ftype);
    return st < 0 ? -1 : 0;
}

static int write_item(hid_t loc, const cim_mw_item *it)
{
    if (it->as_group) {
        hid_t g = H5Gcreate2(loc, it->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        return g < 0 || H5Gclose(g) < 0 ? -1 : 0;
    }
    if (it->unwritten)
        return write_unwritten(loc, it);
    hid_t ftype = file_type_of(it), space = dataspace_of(it), dcpl = H5P_DEFAULT, obj = -1;
    void *buf = NULL;
    hid_t mtype = memory_values(it, ftype, &buf);
    herr_t st = -1;
    if (it->is_dataset) {
        if (it->chunked && it->rank > 0) {
            hsize_t chunk[CIM_MW_MAX_RANK];
            for (int i = 0; i < it->rank; ++i)
                chunk[i] = (hsize_t)it->dims[i];
            dcpl = H5Pcreate(H5P_DATASET_CREATE);
            H5Pset_chunk(dcpl, it->rank, chunk);
            H5Pset_deflate(dcpl, DEFLATE_LEVEL);
        }
        obj = H5Dcreate2(loc, it->name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        st = obj < 0        ? -1
             : it->rank < 0 ? 0
                            : H5Dwrite(obj, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        if (obj >= 0)
            H5Dclose(obj);
        if (dcpl != H5P_DEFAULT)
            H5Pclose(dcpl);
    } else {
        obj = H5Acreate2(loc, it->name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
        st = obj < 0 ? -1 : it->rank < 0 ? 0 : H5Awrite(obj, mtype, buf);
        if (obj >= 0)
            H5Aclose(obj);
    }
    free(buf);
    H5Tclose(mtype);
    H5Tclose(ftype);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

static int write_items(hid_t loc, const cim_mw_object *o)
{
    for (int i = 0; i < o->n_items; ++i)
        if (write_item(loc, &o->items[i]) < 0)
            return -1;
    return 0;
}

static int write_scalar_dataset(hid_t loc, const char *name)
{
    const int32_t zero = 0;
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t ds = H5Dcreate2(loc, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t st = ds < 0 ? -1 : H5Dwrite(ds, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, &zero);
    if (ds >= 0)
        H5Dclose(ds);
    H5Sclose(space);
    return st < 0 ? -1 : 0;
}

static int write_layers(hid_t file, const cim_mw_model *m)
{
    if (m->layers_missing)
        return 0;
    if (m->layers_as_dataset)
        return write_scalar_dataset(file, "layers");
    hid_t layers = H5Gcreate2(file, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (layers < 0)
        return -1;
    int rc = 0;
    for (int l = 0; l < m->n_layers && rc == 0; ++l) {
        const cim_mw_object *o = &m->layers[l];
        if (o->as_dataset) {
            rc = write_scalar_dataset(layers, o->name);
            continue;
        }
        hid_t g = H5Gcreate2(layers, o->name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        rc = g < 0 ? -1 : write_items(g, o);
        if (g >= 0)
            H5Gclose(g);
    }
    H5Gclose(layers);
    return rc;
}

int cim_mw_write(const cim_mw_model *m, const char *path)
{
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int rc = file < 0 ? -1 : write_items(file, &m->root);
    if (rc == 0)
        rc = write_layers(file, m);
    if (file >= 0 && H5Fclose(file) < 0)
        rc = -1;
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return rc;
}

void cim_mw_load_scratch(cim_mw_model *w, const char *suite, const char *name, cim_model *m)
{
    char dir[CIM_TEST_PATH_MAX], path[CIM_TEST_PATH_MAX + 32];
    cim_error err = {0, ""};
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, suite), 0);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    assert_int_equal(cim_mw_write(w, path), 0);
    cim_mw_free(w);
    if (cim_model_load(path, m, &err) != 0)
        fail_msg("%s", err.msg);
    cim_test_remove_tree(dir);
}
