/* test_model.c -- the model loader (host/io/cim_model.h) against every rule of
 * data/model_format.md, one broken item at a time.
 *
 * Each case starts from a small valid model of tests/support/cim_model_writer
 * (an MLP or a CNN, bnn or tnn, or a purpose-built layer sequence), applies
 * a few edits described as data (set, remove, retype, reshape, rename), writes
 * the file into the suite's scratch folder and loads it. A case with expected
 * substrings must fail with CIM_ERR_INPUT (exit code 2), a message that starts
 * with the file's path and contains every substring (the layer and the item at
 * fault), and a zeroed struct; a case without them must load.
 *
 * Every case file is remembered, and the last test hands them all to
 * data/cimgpu_model.py (IntModel, the executable form of the format) in one
 * Python run: it must accept and reject exactly the same files, except where
 * a case is marked as a known difference (listed in the report of that test).
 * It is skipped when /usr/bin/python3 lacks numpy or h5py.
 *
 * Also here: small files that declare a model beyond cimgpu's size limit
 * (unwritten datasets of huge declared shapes), loaded in a child process
 * under an address-space cap so that allocating what they declare fails
 * (no cap under ASan/TSan, whose shadow memory needs the address space);
 * files that are not models at all (missing, empty, text, a folder,
 * truncated at several lengths), the SHA-256 known answers, the values a
 * valid model loads into, and the shipped models (data/models).
 */
#include "cim_test_util.h"

#include <dirent.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cim_model.h"
#include "cim_model_writer.h"
#include "cim_plan.h"

#define PYTHON CIM_PYTHON /* Debian's python3, found by CMake */
#define SEED 20240611u
#define MAX_EDITS 4
#define MAX_WANT 3
#define MAX_CASE_FILES 512
#define ROOT CIM_MW_ROOT
#define TWO_30 ((int64_t)1 << 30)

/* ---------------------------------------------------------------------------
 * Fixture: a scratch folder and the list of case files for the Python check
 */

typedef struct case_file {
    char path[CIM_TEST_PATH_MAX];
    const char *what;
    int c_accepts;
    int python_differs;
} case_file;

typedef struct fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX]; /* first: cim_test_scratch */
    case_file files[MAX_CASE_FILES];
    int n_files;
} fixture;

static int setup(void **state)
{
    return cim_test_scratch_setup(state, sizeof(fixture), "model");
}

static void path_in(const fixture *fx, const char *name, char *path)
{
    snprintf(path, CIM_TEST_PATH_MAX, "%s/%s", fx->dir, name);
}

/* ---------------------------------------------------------------------------
 * Edits as data
 */

typedef enum edit_op {
    NO_EDIT,
    SET_INT,      /* item = a, a scalar I32 attribute */
    SET_PAIR,     /* item = [a, b] */
    SET_STRING,   /* item = text */
    SET_FLOAT,    /* item = a, a scalar F64 attribute */
    REMOVE,       /* item removed */
    SET_VALUE,    /* item[a] = b */
    SET_TYPE,     /* item's file type = a (cim_mw_type) */
    SHAPE_SCALAR, /* item's dataspace: SCALAR */
    SHAPE_1,      /* item's dataspace: [a] */
    SHAPE_2,      /* item's dataspace: [a, b] */
    EXTRA_NULS,   /* a fixed-length string item gets a trailing NULs */
    CHUNKED,      /* a dataset item is chunked and deflated */
    AS_GROUP,     /* item written as an empty group */
    RENAME,       /* layer's group name = text */
    LAYER_AS_DATASET,
    NO_LAYERS_GROUP,
    LAYERS_AS_DATASET,
} edit_op;

typedef struct edit {
    edit_op op;
    int layer; /* ROOT or a layer index */
    const char *item;
    int64_t a, b;
    const char *text;
} edit;

typedef struct model_case {
    const char *what;
    cim_mw_model *(*build)(void);
    edit edits[MAX_EDITS];
    const char *want[MAX_WANT]; /* none: the file must load */
    int python_differs;         /* a documented difference with data/cimgpu_model.py */
} model_case;

/* Edits as designated initializers (so unset fields are zero without warnings). */
#define E_NONE                                                                                     \
    {                                                                                              \
        .op = NO_EDIT                                                                              \
    }
#define E_INT(l, it, v)                                                                            \
    {                                                                                              \
        .op = SET_INT, .layer = (l), .item = (it), .a = (v)                                        \
    }
#define E_PAIR(l, it, x, y)                                                                        \
    {                                                                                              \
        .op = SET_PAIR, .layer = (l), .item = (it), .a = (x), .b = (y)                             \
    }
#define E_STR(l, it, s)                                                                            \
    {                                                                                              \
        .op = SET_STRING, .layer = (l), .item = (it), .text = (s)                                  \
    }
#define E_FLOAT(l, it, v)                                                                          \
    {                                                                                              \
        .op = SET_FLOAT, .layer = (l), .item = (it), .a = (v)                                      \
    }
#define E_REMOVE(l, it)                                                                            \
    {                                                                                              \
        .op = REMOVE, .layer = (l), .item = (it)                                                   \
    }
#define E_VALUE(l, it, i, v)                                                                       \
    {                                                                                              \
        .op = SET_VALUE, .layer = (l), .item = (it), .a = (i), .b = (v)                            \
    }
#define E_TYPE(l, it, t)                                                                           \
    {                                                                                              \
        .op = SET_TYPE, .layer = (l), .item = (it), .a = (t)                                       \
    }
#define E_SCALAR(l, it)                                                                            \
    {                                                                                              \
        .op = SHAPE_SCALAR, .layer = (l), .item = (it)                                             \
    }
#define E_SHAPE1(l, it, x)                                                                         \
    {                                                                                              \
        .op = SHAPE_1, .layer = (l), .item = (it), .a = (x)                                        \
    }
#define E_SHAPE2(l, it, x, y)                                                                      \
    {                                                                                              \
        .op = SHAPE_2, .layer = (l), .item = (it), .a = (x), .b = (y)                              \
    }
#define E_NULS(l, it, n)                                                                           \
    {                                                                                              \
        .op = EXTRA_NULS, .layer = (l), .item = (it), .a = (n)                                     \
    }
#define E_CHUNKED(l, it)                                                                           \
    {                                                                                              \
        .op = CHUNKED, .layer = (l), .item = (it)                                                  \
    }
#define E_AS_GROUP(l, it)                                                                          \
    {                                                                                              \
        .op = AS_GROUP, .layer = (l), .item = (it)                                                 \
    }
#define E_RENAME(l, s)                                                                             \
    {                                                                                              \
        .op = RENAME, .layer = (l), .text = (s)                                                    \
    }
#define E_LAYER_AS_DATASET(l)                                                                      \
    {                                                                                              \
        .op = LAYER_AS_DATASET, .layer = (l)                                                       \
    }
#define E_NO_LAYERS                                                                                \
    {                                                                                              \
        .op = NO_LAYERS_GROUP                                                                      \
    }
#define E_LAYERS_AS_DATASET                                                                        \
    {                                                                                              \
        .op = LAYERS_AS_DATASET                                                                    \
    }

static void apply(cim_mw_model *m, const edit *e)
{
    switch (e->op) {
    case NO_EDIT:
        break;
    case SET_INT:
        cim_mw_set_int(m, e->layer, e->item, e->a);
        break;
    case SET_PAIR: {
        const int64_t two = 2, v[2] = {e->a, e->b};
        cim_mw_set_ints(m, e->layer, e->item, 0, CIM_MW_I32, 1, &two, v);
        break;
    }
    case SET_STRING:
        cim_mw_set_string(m, e->layer, e->item, e->text);
        break;
    case SET_FLOAT:
        cim_mw_set_float(m, e->layer, e->item, (double)e->a);
        break;
    case REMOVE:
        cim_mw_remove(m, e->layer, e->item);
        break;
    case SET_VALUE:
        cim_mw_set_value(m, e->layer, e->item, e->a, e->b);
        break;
    case SET_TYPE:
        cim_mw_find(m, e->layer, e->item)->type = (cim_mw_type)e->a;
        break;
    case SHAPE_SCALAR:
        cim_mw_set_shape(m, e->layer, e->item, 0, NULL);
        break;
    case SHAPE_1:
        cim_mw_set_shape(m, e->layer, e->item, 1, &e->a);
        break;
    case SHAPE_2: {
        const int64_t dims[2] = {e->a, e->b};
        cim_mw_set_shape(m, e->layer, e->item, 2, dims);
        break;
    }
    case EXTRA_NULS:
        cim_mw_find(m, e->layer, e->item)->extra_nuls = (int)e->a;
        break;
    case CHUNKED:
        cim_mw_find(m, e->layer, e->item)->chunked = 1;
        break;
    case AS_GROUP:
        cim_mw_find(m, e->layer, e->item)->as_group = 1;
        break;
    case RENAME:
        cim_mw_rename(m, e->layer, e->text);
        break;
    case LAYER_AS_DATASET:
        m->layers[e->layer].as_dataset = 1;
        break;
    case NO_LAYERS_GROUP:
        m->layers_missing = 1;
        break;
    case LAYERS_AS_DATASET:
        m->layers_as_dataset = 1;
        break;
    }
}

static int has_substring(const char *msg, const char *want)
{
    return strstr(msg, want) != NULL;
}

/* Loads `path` and checks the outcome `want` asks for; returns 1 if it loaded. */
static int check_load(const char *path, const char *what, const char *const *want)
{
    cim_model m;
    cim_error err = {0};
    int rc = cim_model_load(path, &m, &err);
    if (!want[0]) {
        if (rc != 0)
            fail_msg("%s: expected to load, got %s: %s", what, cim_error_name(rc), err.msg);
        cim_model_free(&m);
        return 1;
    }
    if (rc == 0) {
        cim_model_free(&m);
        fail_msg("%s: expected an error containing '%s', but the file loaded", what, want[0]);
    }
    if (rc != CIM_ERR_INPUT || cim_error_exit_code(rc) != 2)
        fail_msg("%s: expected CIM_ERR_INPUT, got %s: %s", what, cim_error_name(rc), err.msg);
    if (strncmp(err.msg, path, strlen(path)) != 0)
        fail_msg("%s: message does not start with the path: %s", what, err.msg);
    if (strchr(err.msg, '\n'))
        fail_msg("%s: message is not one line: %s", what, err.msg);
    for (int i = 0; i < MAX_WANT && want[i]; ++i)
        if (!has_substring(err.msg, want[i]))
            fail_msg("%s: message lacks '%s': %s", what, want[i], err.msg);
    static const cim_model zero;
    if (memcmp(&m, &zero, sizeof m) != 0)
        fail_msg("%s: the struct is not zeroed after the failure", what);
    return 0;
}

static void run_cases(void **state, const char *group, const model_case *cases, int n)
{
    fixture *fx = *state;
    for (int i = 0; i < n; ++i) {
        const model_case *c = &cases[i];
        cim_mw_model *m = c->build();
        for (int e = 0; e < MAX_EDITS; ++e)
            apply(m, &c->edits[e]);
        if (fx->n_files == MAX_CASE_FILES)
            fail_msg("more than %d case files", MAX_CASE_FILES);
        case_file *cf = &fx->files[fx->n_files++];
        char name[64];
        snprintf(name, sizeof name, "%s_%02d.h5", group, i);
        char path[CIM_TEST_PATH_MAX];
        path_in(fx, name, path);
        memcpy(cf->path, path, sizeof path);
        cf->what = c->what;
        cf->python_differs = c->python_differs;
        if (cim_mw_write(m, cf->path) != 0)
            fail_msg("%s: the writer failed", c->what);
        cim_mw_free(m);
        cf->c_accepts = check_load(cf->path, c->what, c->want);
    }
}

#define RUN_CASES(state, cases)                                                                    \
    run_cases(state, #cases, cases, (int)(sizeof cases / sizeof cases[0]))

/* ---------------------------------------------------------------------------
 * Models the cases start from
 */

/* MLP: 0 flatten, 1 dense 16->8, 2 batchnorm_threshold, 3 act, 4 dense 8->3 */
static cim_mw_model *mlp_bnn(void)
{
    return cim_mw_mlp("bnn", SEED);
}

static cim_mw_model *mlp_tnn(void)
{
    return cim_mw_mlp("tnn", SEED);
}

/* CNN: 0 conv2d 1->2 k3 p1 [1,6,6]->[2,6,6], 1 batchnorm_threshold, 2 act,
 * 3 maxpool2d k2 s2 ->[2,3,3], 4 conv2d 2->3 k3 s2 p1 ->[3,2,2],
 * 5 batchnorm_threshold, 6 act, 7 flatten, 8 dense 12->4 */
static cim_mw_model *cnn_bnn(void)
{
    return cim_mw_cnn("bnn", SEED);
}

static cim_mw_model *cnn_tnn(void)
{
    return cim_mw_cnn("tnn", SEED);
}

static cim_mw_model *dense_on_image(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_dense(m, 16, 3, NULL);
    return m;
}

static cim_mw_model *dense_after_dense(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

/* dense with in_features 2^20 + 1 (its weight is never read) */
static cim_mw_model *dense_fan_in(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 1, (1 << 20) + 1, 3, SEED);
    cim_mw_flatten(m);
    int l = cim_mw_layer(m, "dense");
    cim_mw_set_int(m, l, "in_features", (1 << 20) + 1);
    cim_mw_set_int(m, l, "out_features", 3);
    return m;
}

static cim_mw_model *conv_on_vector(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_conv2d(m, 1, 1, 1, 1, 1, 1, 0, 0, 0, NULL);
    cim_mw_dense(m, 16, 3, NULL);
    return m;
}

static cim_mw_model *conv_after_conv(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 4, 4, 3, SEED);
    cim_mw_conv2d(m, 1, 2, 3, 3, 1, 1, 0, 0, 0, NULL);
    cim_mw_conv2d(m, 2, 1, 2, 2, 1, 1, 0, 0, 0, NULL);
    cim_mw_flatten(m);
    cim_mw_dense(m, 1, 3, NULL);
    return m;
}

static cim_mw_model *maxpool_on_vector(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_maxpool2d(m, 1, 1, 1, 1);
    cim_mw_dense(m, 16, 3, NULL);
    return m;
}

static cim_mw_model *flatten_twice(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 3, NULL);
    return m;
}

static cim_mw_model *bn_then_dense(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_batchnorm(m, 8, NULL, NULL, NULL);
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

static cim_mw_model *bn_last(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 3, NULL);
    cim_mw_batchnorm(m, 3, NULL, NULL, NULL);
    return m;
}

static cim_mw_model *bn_then_wrong_act(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_batchnorm(m, 8, NULL, NULL, NULL);
    cim_mw_layer(m, "ternary");
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

static cim_mw_model *bn_on_image(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_batchnorm(m, 1, NULL, NULL, NULL);
    cim_mw_activation(m);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 3, NULL);
    return m;
}

static cim_mw_model *bn_after_act(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_activation(m);
    cim_mw_batchnorm(m, 8, NULL, NULL, NULL);
    cim_mw_activation(m);
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

static cim_mw_model *ternary_in_bnn(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_layer(m, "ternary");
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

static cim_mw_model *sign_in_tnn(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_layer(m, "sign");
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

static cim_mw_model *sign_on_image(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_activation(m);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 3, NULL);
    return m;
}

static cim_mw_model *sign_after_sign(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 8, NULL);
    cim_mw_activation(m);
    cim_mw_activation(m);
    cim_mw_dense(m, 8, 3, NULL);
    return m;
}

static cim_mw_model *ends_with_sign(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 4, 4, 3, SEED);
    cim_mw_flatten(m);
    cim_mw_dense(m, 16, 3, NULL);
    cim_mw_activation(m);
    return m;
}

/* Valid: dense straight into an activation (no batchnorm), maxpool on the
 * image and on a pre-activation, conv with padding [0,0] on a ternary input. */
static cim_mw_model *unusual_but_valid(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 2, 7, 5, 2, SEED);
    cim_mw_maxpool2d(m, 2, 1, 1, 2);                   /* [2,6,3] */
    cim_mw_conv2d(m, 2, 3, 2, 2, 1, 1, 0, 0, 0, NULL); /* [3,5,2] */
    cim_mw_maxpool2d(m, 2, 2, 2, 1);                   /* [3,2,1] */
    cim_mw_activation(m);
    cim_mw_conv2d(m, 3, 2, 1, 1, 1, 1, 0, 0, 77, NULL); /* pad_value ignored: no padding */
    cim_mw_activation(m);
    cim_mw_flatten(m);
    cim_mw_dense(m, 4, 2, NULL);
    return m;
}

/* Valid: a kernel exactly the size of the padded input, strides far beyond
 * the input (one window per axis), one of them past int32. */
static cim_mw_model *one_window(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 5, 5, 2, SEED);
    int l = cim_mw_conv2d(m, 1, 2, 7, 7, 1, 1, 1, 1, 9, NULL); /* padded 7x7 -> [2,1,1] */
    const int64_t two = 2, big[2] = {100, ((int64_t)1 << 31) + 5};
    cim_mw_set_ints(m, l, "stride", 0, CIM_MW_I64, 1, &two, big);
    cim_mw_batchnorm(m, 2, NULL, NULL, NULL);
    cim_mw_activation(m);
    cim_mw_flatten(m);
    cim_mw_dense(m, 2, 2, NULL);
    return m;
}

static cim_mw_model *graph_bnn(void)
{
    return cim_mw_graph("bnn", SEED);
}

static cim_mw_model *graph_tnn(void)
{
    return cim_mw_graph("tnn", SEED);
}

static cim_mw_model *graph_host_bnn(void)
{
    return cim_mw_graph_host("bnn", SEED);
}

static cim_mw_model *graph_host_tnn(void)
{
    return cim_mw_graph_host("tnn", SEED);
}

/* A version-1 chain declared as version 2 (every `inputs` left out). */
static cim_mw_model *cnn_v2(void)
{
    cim_mw_model *m = cim_mw_cnn("tnn", SEED);
    cim_mw_set_int(m, CIM_MW_ROOT, "format_version", 2);
    return m;
}

/* Rule B at its edge: two 64x64 windows of pixels (|z| <= 4096 * 255 =
 * 1 044 480) added with scales 128 and 129, |sum| <= 268 431 360, just
 * under 2^28 - 1; a case raises the second scale. */
static cim_mw_model *bound_edge(void)
{
    cim_mw_model *m = cim_mw_new("bnn", 1, 64, 64, 2, SEED);
    const int32_t image = -1, both[2] = {0, 1}, scale[2] = {128, 129};
    cim_mw_conv2d(m, 1, 1, 64, 64, 1, 1, 0, 0, 0, NULL);
    cim_mw_set_inputs(m, cim_mw_conv2d(m, 1, 1, 64, 64, 1, 1, 0, 0, 0, NULL), 1, &image);
    cim_mw_add(m, 2, both, scale);
    cim_mw_activation(m);
    cim_mw_flatten(m);
    cim_mw_dense(m, 1, 2, NULL);
    return m;
}

/* ---------------------------------------------------------------------------
 * Cases
 */

static const model_case root_cases[] = {
    {.what = "format missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "format")},
     .want = {"attribute \"format\" is missing"}},
    {.what = "format wrong",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "format", "cimgpu-modl")},
     .want = {"attribute \"format\" is \"cimgpu-modl\", expected \"cimgpu-model\""}},
    {.what = "format an integer",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "format", 1)},
     .want = {"attribute \"format\" has type integer, expected a string"}},
    {.what = "format an array of strings",
     .build = mlp_bnn,
     .edits = {E_SHAPE1(ROOT, "format", 1)},
     .want = {"attribute \"format\" has shape [1], expected a scalar string"}},
    {.what = "format_version 3",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "format_version", 3)},
     .want = {"attribute \"format_version\" is 3, expected 1 or 2"}},
    {.what = "format_version 0",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "format_version", 0)},
     .want = {"attribute \"format_version\" is 0, expected 1 or 2"}},
    {.what = "format_version a float",
     .build = mlp_bnn,
     .edits = {E_FLOAT(ROOT, "format_version", 1)},
     .want = {"attribute \"format_version\" has type float, expected an integer"}},
    {.what = "format_version missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "format_version")},
     .want = {"attribute \"format_version\" is missing"}},
    {.what = "name missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "name")},
     .want = {"attribute \"name\" is missing"}},
    {.what = "name an integer",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "name", 3)},
     .want = {"attribute \"name\" has type integer"}},
    {.what = "kind unknown",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "kind", "xnn")},
     .want = {"attribute \"kind\" is \"xnn\", expected \"bnn\" or \"tnn\""}},
    {.what = "kind in capitals",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "kind", "BNN")},
     .want = {"attribute \"kind\" is \"BNN\""}},
    {.what = "kind missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "kind")},
     .want = {"attribute \"kind\" is missing"}},
    {.what = "input_preprocessing other",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "input_preprocessing", "scaled_float")},
     .want = {"attribute \"input_preprocessing\" is \"scaled_float\", expected \"raw_uint8\""}},
    {.what = "input_preprocessing missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "input_preprocessing")},
     .want = {"attribute \"input_preprocessing\" is missing"}},
    {.what = "input_shape of 2",
     .build = mlp_bnn,
     .edits = {E_SHAPE1(ROOT, "input_shape", 2)},
     .want = {"attribute \"input_shape\" has shape [2], expected 3 integers"}},
    {.what = "input_shape a scalar",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "input_shape", 16)},
     .want = {"attribute \"input_shape\" is a scalar, expected 3 integers"}},
    {.what = "input_shape with a zero",
     .build = mlp_bnn,
     .edits = {E_VALUE(ROOT, "input_shape", 1, 0)},
     .want = {"attribute \"input_shape\" is [1,0,4], expected [C,H,W], each at least 1"}},
    {.what = "input_shape floats",
     .build = mlp_bnn,
     .edits = {E_TYPE(ROOT, "input_shape", CIM_MW_F32)},
     .want = {"attribute \"input_shape\" has type float"}},
    {.what = "input_shape missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "input_shape")},
     .want = {"attribute \"input_shape\" is missing, expected 3 integers"}},
    {.what = "input_shape too large for cimgpu",
     .build = mlp_bnn,
     .edits = {E_VALUE(ROOT, "input_shape", 1, 65536), E_VALUE(ROOT, "input_shape", 2, 65536)},
     .want = {"attribute \"input_shape\" is [1,65536,65536]", "cimgpu's limit"}},
    {.what = "input_shape disagrees with the first dense",
     .build = mlp_bnn,
     .edits = {E_VALUE(ROOT, "input_shape", 2, 5)},
     .want =
         {"layer 001_dense: attribute \"in_features\" is 16, expected 20 (the input's length)"}},
    {.what = "num_classes 1",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "num_classes", 1)},
     .want = {"attribute \"num_classes\" is 1, expected at least 2"}},
    {.what = "num_classes of shape [1,1]",
     .build = mlp_bnn,
     .edits = {E_SHAPE2(ROOT, "num_classes", 1, 1)},
     .want = {"attribute \"num_classes\" has shape [1,1], expected a scalar integer"}},
    {.what = "num_classes a string",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "num_classes", "3")},
     .want = {"attribute \"num_classes\" has type string, expected an integer"}},
    {.what = "num_classes not the last layer's width",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "num_classes", 4)},
     .want = {"layer 004_dense: the last layer must be dense with out_features = num_classes (4)"}},
    {.what = "num_classes missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "num_classes")},
     .want = {"attribute \"num_classes\" is missing"}},
    {.what = "num_layers 0",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "num_layers", 0)},
     .want = {"attribute \"num_layers\" is 0, expected 1 ... 1000"}},
    {.what = "num_layers 1001",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "num_layers", 1001)},
     .want = {"attribute \"num_layers\" is 1001, expected 1 ... 1000"}},
    {.what = "num_layers above the members",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "num_layers", 6)},
     .want = {"group \"layers\" has 5 members, expected 6 (attribute \"num_layers\")"}},
    {.what = "num_layers below the members",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "num_layers", 4)},
     .want = {"group \"layers\" has 5 members, expected 4"}},
    {.what = "num_layers missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(ROOT, "num_layers")},
     .want = {"attribute \"num_layers\" is missing"}},
    {.what = "no /layers",
     .build = mlp_bnn,
     .edits = {E_NO_LAYERS},
     .want = {"group \"layers\" is missing"}},
    {.what = "/layers a dataset",
     .build = mlp_bnn,
     .edits = {E_LAYERS_AS_DATASET},
     .want = {"\"layers\" is not a group"}},
    {.what = "description an integer",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "description", 7)},
     .want = {"attribute \"description\" has type integer, expected a string"}},
    {.what = "training_config an array of strings",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "training_config", "{}"), E_SHAPE1(ROOT, "training_config", 2)},
     .want = {"attribute \"training_config\" has shape [2], expected a scalar string"}},
    {.what = "digital_test_accuracy an integer",
     .build = mlp_bnn,
     .edits = {E_INT(ROOT, "digital_test_accuracy", 1)},
     .want = {"attribute \"digital_test_accuracy\" has type integer, expected a scalar float"}},
    {.what = "digital_test_accuracy two floats",
     .build = mlp_bnn,
     .edits = {E_FLOAT(ROOT, "digital_test_accuracy", 1),
               E_SHAPE1(ROOT, "digital_test_accuracy", 2)},
     .want = {"attribute \"digital_test_accuracy\" has shape [2], expected a scalar float"}},
    {.what = "train_seed a float",
     .build = mlp_bnn,
     .edits = {E_FLOAT(ROOT, "train_seed", 1)},
     .want = {"attribute \"train_seed\" has type float, expected an integer"}},
    {.what = "digital_test_correct a string",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "digital_test_correct", "9")},
     .want = {"attribute \"digital_test_correct\" has type string"}},
    {.what = "digital_test_images an array",
     .build = mlp_bnn,
     .edits = {E_PAIR(ROOT, "digital_test_images", 1, 2)},
     .want = {"attribute \"digital_test_images\" has shape [2], expected a scalar integer"}},
    {.what = "input_shape an enum (h5py reads enums as integers)",
     .build = mlp_bnn,
     .edits = {E_VALUE(ROOT, "input_shape", 0, 1), E_VALUE(ROOT, "input_shape", 1, 1),
               E_VALUE(ROOT, "input_shape", 2, 16), E_TYPE(ROOT, "input_shape", CIM_MW_ENUM8)},
     .want = {"attribute \"input_shape\" has type enum"},
     .python_differs = 1},
};

static const model_case naming_cases[] = {
    {.what = "two-digit index",
     .build = mlp_bnn,
     .edits = {E_RENAME(0, "00_flatten")},
     .want =
         {"member \"001_dense\" is badly named or out of order, expected \"000_<type>\" (member 0 "
          "in name order)"}},
    {.what = "a gap in the indices",
     .build = mlp_bnn,
     .edits = {E_RENAME(1, "002_dense")},
     .want = {"member \"002_batchnorm_threshold\" is badly named or out of order, expected "
              "\"001_<type>\""}},
    {.what = "capitals in the name",
     .build = mlp_bnn,
     .edits = {E_RENAME(0, "000_Flatten"), E_STR(0, "type", "Flatten")},
     .want = {"member \"000_Flatten\" is badly named"}},
    {.what = "no type in the name",
     .build = mlp_bnn,
     .edits = {E_RENAME(0, "000_")},
     .want = {"member \"000_\" is badly named"}},
    {.what = "type attribute differs from the name",
     .build = mlp_bnn,
     .edits = {E_STR(0, "type", "dense")},
     .want = {"layer 000_flatten: attribute \"type\" is \"dense\", expected \"flatten\""}},
    {.what = "unknown layer type",
     .build = mlp_bnn,
     .edits = {E_RENAME(0, "000_relu"), E_STR(0, "type", "relu")},
     .want = {"layer 000_relu: attribute \"type\" is \"relu\", an unknown layer type"}},
    {.what = "type missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(0, "type")},
     .want = {"layer 000_flatten: attribute \"type\" is missing"}},
    {.what = "type an integer",
     .build = mlp_bnn,
     .edits = {E_INT(2, "type", 1)},
     .want = {"layer 002_batchnorm_threshold: attribute \"type\" has type integer"}},
    {.what = "a layer that is a dataset",
     .build = mlp_bnn,
     .edits = {E_LAYER_AS_DATASET(3)},
     .want = {"layer 003_sign: is not a group"}},
};

static const model_case dense_cases[] = {
    {.what = "in_features differs from the input",
     .build = mlp_bnn,
     .edits = {E_INT(1, "in_features", 15)},
     .want =
         {"layer 001_dense: attribute \"in_features\" is 15, expected 16 (the input's length)"}},
    {.what = "in_features missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(1, "in_features")},
     .want = {"layer 001_dense: attribute \"in_features\" is missing, expected an integer"}},
    {.what = "in_features an array",
     .build = mlp_bnn,
     .edits = {E_PAIR(1, "in_features", 16, 16)},
     .want =
         {"layer 001_dense: attribute \"in_features\" has shape [2], expected a scalar integer"}},
    {.what = "in_features a float",
     .build = mlp_tnn,
     .edits = {E_FLOAT(4, "in_features", 8)},
     .want = {"layer 004_dense: attribute \"in_features\" has type float"}},
    {.what = "in_features above 2^20",
     .build = dense_fan_in,
     .edits = {E_NONE},
     .want =
         {"layer 001_dense: attribute \"in_features\" is 1048577, expected at most 2^20 (rule R)"}},
    {.what = "out_features 0",
     .build = mlp_bnn,
     .edits = {E_INT(1, "out_features", 0)},
     .want = {"layer 001_dense: attribute \"out_features\" is 0, expected at least 1"}},
    {.what = "out_features differs from the weight",
     .build = mlp_bnn,
     .edits = {E_INT(1, "out_features", 9)},
     .want = {"layer 001_dense: dataset \"weight\" has shape [8,16], expected [9,16]"}},
    {.what = "weight missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(4, "weight")},
     .want = {"layer 004_dense: dataset \"weight\" is missing, expected integers of shape [3,8]"}},
    {.what = "weight a group",
     .build = mlp_bnn,
     .edits = {E_AS_GROUP(4, "weight")},
     .want = {"layer 004_dense: \"weight\" is not a dataset"}},
    {.what = "weight an attribute",
     .build = mlp_bnn,
     .edits = {E_PAIR(4, "weight", 1, 1)},
     .want = {"layer 004_dense: dataset \"weight\" is missing"}},
    {.what = "weight floats",
     .build = mlp_bnn,
     .edits = {E_TYPE(1, "weight", CIM_MW_F32)},
     .want =
         {"layer 001_dense: dataset \"weight\" has type float, expected integers of shape [8,16]"}},
    {.what = "weight an enum (h5py reads enums as integers)",
     .build = mlp_tnn,
     .edits = {E_TYPE(1, "weight", CIM_MW_ENUM8)},
     .want = {"layer 001_dense: dataset \"weight\" has type enum"},
     .python_differs = 1},
    {.what = "weight flattened",
     .build = mlp_bnn,
     .edits = {E_SHAPE1(1, "weight", 128)},
     .want = {"layer 001_dense: dataset \"weight\" has shape [128], expected [8,16]"}},
    {.what = "weight transposed",
     .build = mlp_bnn,
     .edits = {E_SHAPE2(4, "weight", 8, 3)},
     .want = {"layer 004_dense: dataset \"weight\" has shape [8,3], expected [3,8]"}},
    {.what = "weight with a unit dimension",
     .build = mlp_bnn,
     .edits = {E_INT(4, "out_features", 1), E_INT(ROOT, "num_classes", 2),
               E_SHAPE1(4, "weight", 8)},
     .want = {"layer 004_dense: dataset \"weight\" has shape [8], expected [1,8]"}},
    {.what = "weight a scalar",
     .build = mlp_bnn,
     .edits = {E_SCALAR(4, "weight")},
     .want = {"layer 004_dense: dataset \"weight\" is a scalar, expected [3,8]"}},
    {.what = "bnn weight 2",
     .build = mlp_bnn,
     .edits = {E_VALUE(1, "weight", 3 * 16 + 5, 2)},
     .want = {"layer 001_dense: dataset \"weight\" has value 2 at [3,5], expected -1 or +1 (kind "
              "\"bnn\")"}},
    {.what = "bnn weight 0",
     .build = mlp_bnn,
     .edits = {E_VALUE(4, "weight", 23, 0)},
     .want = {"layer 004_dense: dataset \"weight\" has value 0 at [2,7], expected -1 or +1"}},
    {.what = "tnn weight -2",
     .build = mlp_tnn,
     .edits = {E_VALUE(1, "weight", 127, -2)},
     .want =
         {"layer 001_dense: dataset \"weight\" has value -2 at [7,15], expected -1, 0 or +1 (kind "
          "\"tnn\")"}},
    {.what = "tnn weight 2^64-1 as uint64",
     .build = mlp_tnn,
     .edits = {E_TYPE(1, "weight", CIM_MW_U64), E_VALUE(1, "weight", 0, -1)},
     .want = {"layer 001_dense: dataset \"weight\" has value 9223372036854775807 or more at [0,0]"},
     .python_differs = 1},
    {.what = "dense on a 3-D input",
     .build = dense_on_image,
     .edits = {E_NONE},
     .want = {"layer 000_dense: input has shape [1,4,4], expected a 1-D input (insert a flatten "
              "layer)"}},
    {.what = "dense after dense",
     .build = dense_after_dense,
     .edits = {E_NONE},
     .want = {"layer 002_dense: input is a pre-activation tensor, expected the image or a sign "
              "output"}},
    {.what = "a later layer's shape is judged before an earlier layer's weights are read",
     .build = mlp_bnn,
     .edits = {E_VALUE(1, "weight", 0, 2), E_INT(4, "in_features", 7)},
     .want = {"layer 004_dense: attribute \"in_features\" is 7, expected 8 (the input's length)"}},
};

static const model_case conv_cases[] = {
    {.what = "in_channels differs from the input",
     .build = cnn_bnn,
     .edits = {E_INT(0, "in_channels", 2)},
     .want =
         {"layer 000_conv2d: attribute \"in_channels\" is 2, expected 1 (the input's channels)"}},
    {.what = "in_channels of the second conv",
     .build = cnn_tnn,
     .edits = {E_INT(4, "in_channels", 3)},
     .want = {"layer 004_conv2d: attribute \"in_channels\" is 3, expected 2"}},
    {.what = "out_channels 0",
     .build = cnn_bnn,
     .edits = {E_INT(0, "out_channels", 0)},
     .want = {"layer 000_conv2d: attribute \"out_channels\" is 0, expected at least 1"}},
    {.what = "out_channels differs from the weight",
     .build = cnn_bnn,
     .edits = {E_INT(0, "out_channels", 3)},
     .want = {"layer 000_conv2d: dataset \"weight\" has shape [2,1,3,3], expected [3,1,3,3]"}},
    {.what = "kernel with a zero",
     .build = cnn_bnn,
     .edits = {E_PAIR(0, "kernel", 0, 3)},
     .want =
         {"layer 000_conv2d: attribute \"kernel\" is [0,3], expected 2 integers, each at least 1"}},
    {.what = "kernel of 3",
     .build = cnn_bnn,
     .edits = {E_SHAPE1(0, "kernel", 3)},
     .want = {"layer 000_conv2d: attribute \"kernel\" has shape [3], expected 2 integers"}},
    {.what = "kernel a scalar",
     .build = cnn_bnn,
     .edits = {E_INT(4, "kernel", 3)},
     .want = {"layer 004_conv2d: attribute \"kernel\" is a scalar, expected 2 integers"}},
    {.what = "kernel missing",
     .build = cnn_tnn,
     .edits = {E_REMOVE(0, "kernel")},
     .want = {"layer 000_conv2d: attribute \"kernel\" is missing, expected 2 integers"}},
    {.what = "kernel differs from the weight",
     .build = cnn_bnn,
     .edits = {E_PAIR(0, "kernel", 3, 2)},
     .want = {"layer 000_conv2d: dataset \"weight\" has shape [2,1,3,3], expected [2,1,3,2]"}},
    {.what = "stride with a zero",
     .build = cnn_bnn,
     .edits = {E_PAIR(4, "stride", 1, 0)},
     .want =
         {"layer 004_conv2d: attribute \"stride\" is [1,0], expected 2 integers, each at least 1"}},
    {.what = "stride missing",
     .build = cnn_bnn,
     .edits = {E_REMOVE(4, "stride")},
     .want = {"layer 004_conv2d: attribute \"stride\" is missing"}},
    {.what = "padding equal to the kernel",
     .build = cnn_bnn,
     .edits = {E_PAIR(0, "padding", 3, 1)},
     .want = {"layer 000_conv2d: attribute \"padding\" is [3,1], expected 0 <= padding < kernel "
              "[3,3]"}},
    {.what = "padding negative",
     .build = cnn_tnn,
     .edits = {E_PAIR(0, "padding", 1, -1)},
     .want = {"layer 000_conv2d: attribute \"padding\" is [1,-1], expected 0 <= padding < kernel"}},
    {.what = "padding missing",
     .build = cnn_tnn,
     .edits = {E_REMOVE(4, "padding")},
     .want = {"layer 004_conv2d: attribute \"padding\" is missing"}},
    {.what = "pad_value 256 on the image",
     .build = cnn_bnn,
     .edits = {E_INT(0, "pad_value", 256)},
     .want = {"layer 000_conv2d: attribute \"pad_value\" is 256, expected 0..255"}},
    {.what = "pad_value -1 on the image",
     .build = cnn_tnn,
     .edits = {E_INT(0, "pad_value", -1)},
     .want = {"layer 000_conv2d: attribute \"pad_value\" is -1, expected 0..255"}},
    {.what = "pad_value 0 on a sign input",
     .build = cnn_bnn,
     .edits = {E_INT(4, "pad_value", 0)},
     .want = {"layer 004_conv2d: attribute \"pad_value\" is 0, expected -1 or +1"}},
    {.what = "pad_value 2 on a ternary input",
     .build = cnn_tnn,
     .edits = {E_INT(4, "pad_value", 2)},
     .want = {"layer 004_conv2d: attribute \"pad_value\" is 2, expected -1, 0 or +1"}},
    {.what = "pad_value missing without padding",
     .build = cnn_bnn,
     .edits = {E_PAIR(4, "padding", 0, 0), E_REMOVE(4, "pad_value")},
     .want = {"layer 004_conv2d: attribute \"pad_value\" is missing"}},
    {.what = "kernel larger than the padded input",
     .build = cnn_bnn,
     .edits = {E_PAIR(0, "kernel", 9, 9)},
     .want =
         {"layer 000_conv2d: attribute \"kernel\" is [9,9], expected a window that fits the padded "
          "input"}},
    {.what = "fan-in above 2^20",
     .build = cnn_bnn,
     .edits = {E_PAIR(0, "kernel", 1025, 1025), E_PAIR(0, "padding", 0, 0)},
     .want = {"layer 000_conv2d: in_channels*kh*kw is above 2^20 (rule R)"}},
    {.what = "weight value 5",
     .build = cnn_bnn,
     .edits = {E_VALUE(4, "weight", 25, 5)},
     .want = {"layer 004_conv2d: dataset \"weight\" has value 5 at [1,0,2,1], expected -1 or +1"}},
    {.what = "weight missing",
     .build = cnn_tnn,
     .edits = {E_REMOVE(4, "weight")},
     .want =
         {"layer 004_conv2d: dataset \"weight\" is missing, expected integers of shape [3,2,3,3]"}},
    {.what = "weight in HWIO order",
     .build = cnn_tnn,
     .edits = {E_PAIR(0, "kernel", 3, 3), E_SHAPE2(0, "weight", 9, 2)},
     .want = {"layer 000_conv2d: dataset \"weight\" has shape [9,2], expected [2,1,3,3]"}},
    {.what = "conv on a 1-D input",
     .build = conv_on_vector,
     .edits = {E_NONE},
     .want = {"layer 001_conv2d: input has shape [16], expected a 3-D [C,H,W] input"}},
    {.what = "conv after conv",
     .build = conv_after_conv,
     .edits = {E_NONE},
     .want = {"layer 001_conv2d: input is a pre-activation tensor, expected the image or a ternary "
              "output"}},
};

static const model_case pool_flatten_cases[] = {
    {.what = "maxpool kernel with a zero",
     .build = cnn_bnn,
     .edits = {E_PAIR(3, "kernel", 2, 0)},
     .want = {"layer 003_maxpool2d: attribute \"kernel\" is [2,0], expected 2 integers, each at "
              "least 1"}},
    {.what = "maxpool stride with a zero",
     .build = cnn_tnn,
     .edits = {E_PAIR(3, "stride", 0, 2)},
     .want = {"layer 003_maxpool2d: attribute \"stride\" is [0,2]"}},
    {.what = "maxpool kernel larger than the input",
     .build = cnn_bnn,
     .edits = {E_PAIR(3, "kernel", 7, 2)},
     .want = {"layer 003_maxpool2d: attribute \"kernel\" is [7,2], expected a window that fits the "
              "input"}},
    {.what = "maxpool kernel missing",
     .build = cnn_bnn,
     .edits = {E_REMOVE(3, "kernel")},
     .want = {"layer 003_maxpool2d: attribute \"kernel\" is missing"}},
    {.what = "maxpool stride of 1",
     .build = cnn_bnn,
     .edits = {E_SHAPE1(3, "stride", 1)},
     .want = {"layer 003_maxpool2d: attribute \"stride\" has shape [1], expected 2 integers"}},
    {.what = "maxpool stride changes every later shape",
     .build = cnn_bnn,
     .edits = {E_PAIR(3, "stride", 1, 1)},
     .want =
         {"layer 008_dense: attribute \"in_features\" is 12, expected 27 (the input's length)"}},
    {.what = "maxpool on a 1-D input",
     .build = maxpool_on_vector,
     .edits = {E_NONE},
     .want = {"layer 001_maxpool2d: input has shape [16], expected a 3-D [C,H,W] input"}},
    {.what = "flatten on a 1-D input",
     .build = flatten_twice,
     .edits = {E_NONE},
     .want = {"layer 001_flatten: input has shape [16], expected a 3-D [C,H,W] input"}},
};

static const model_case batchnorm_cases[] = {
    {.what = "channels differs from a 1-D input",
     .build = mlp_bnn,
     .edits = {E_INT(2, "channels", 7)},
     .want = {"layer 002_batchnorm_threshold: attribute \"channels\" is 7, expected 8 (the input's "
              "length)"}},
    {.what = "channels differs from a 3-D input",
     .build = cnn_tnn,
     .edits = {E_INT(1, "channels", 6)},
     .want = {"layer 001_batchnorm_threshold: attribute \"channels\" is 6, expected 2 (the input's "
              "channels)"}},
    {.what = "channels missing",
     .build = mlp_tnn,
     .edits = {E_REMOVE(2, "channels")},
     .want = {"layer 002_batchnorm_threshold: attribute \"channels\" is missing"}},
    {.what = "threshold_lo too short",
     .build = mlp_bnn,
     .edits = {E_SHAPE1(2, "threshold_lo", 7)},
     .want =
         {"layer 002_batchnorm_threshold: dataset \"threshold_lo\" has shape [7], expected [8]"}},
    {.what = "threshold_hi of shape [8,1]",
     .build = mlp_bnn,
     .edits = {E_SHAPE2(2, "threshold_hi", 8, 1)},
     .want =
         {"layer 002_batchnorm_threshold: dataset \"threshold_hi\" has shape [8,1], expected [8]"}},
    {.what = "threshold_lo above 2^30",
     .build = mlp_tnn,
     .edits = {E_TYPE(2, "threshold_lo", CIM_MW_I64), E_VALUE(2, "threshold_lo", 2, TWO_30 + 1),
               E_TYPE(2, "threshold_hi", CIM_MW_I64), E_VALUE(2, "threshold_hi", 2, TWO_30 + 1)},
     .want =
         {"layer 002_batchnorm_threshold: dataset \"threshold_lo\" has value 1073741825 at [2], "
          "expected a value within [-2^30, 2^30]"}},
    {.what = "threshold_hi below -2^30",
     .build = mlp_tnn,
     .edits = {E_VALUE(2, "threshold_hi", 5, -TWO_30 - 1), E_VALUE(2, "threshold_lo", 5, -TWO_30)},
     .want = {"dataset \"threshold_hi\" has value -1073741825 at [5]"}},
    {.what = "threshold_lo above threshold_hi + 1",
     .build = mlp_tnn,
     .edits = {E_VALUE(2, "threshold_lo", 1, 5), E_VALUE(2, "threshold_hi", 1, 3)},
     .want =
         {"layer 002_batchnorm_threshold: threshold_lo[1] = 5 is above threshold_hi[1] + 1 = 4"}},
    {.what = "threshold_lo floats",
     .build = mlp_bnn,
     .edits = {E_TYPE(2, "threshold_lo", CIM_MW_F64)},
     .want = {"dataset \"threshold_lo\" has type float"}},
    {.what = "threshold_hi missing",
     .build = mlp_bnn,
     .edits = {E_REMOVE(2, "threshold_hi")},
     .want = {"layer 002_batchnorm_threshold: dataset \"threshold_hi\" is missing"}},
    {.what = "flip 0",
     .build = mlp_bnn,
     .edits = {E_VALUE(2, "flip", 0, 0)},
     .want =
         {"layer 002_batchnorm_threshold: dataset \"flip\" has value 0 at [0], expected -1 or +1"}},
    {.what = "flip 2",
     .build = cnn_tnn,
     .edits = {E_VALUE(5, "flip", 2, 2)},
     .want = {"layer 005_batchnorm_threshold: dataset \"flip\" has value 2 at [2]"}},
    {.what = "flip missing",
     .build = cnn_bnn,
     .edits = {E_REMOVE(1, "flip")},
     .want = {"layer 001_batchnorm_threshold: dataset \"flip\" is missing"}},
    {.what = "batchnorm followed by dense",
     .build = bn_then_dense,
     .edits = {E_NONE},
     .want =
         {"layer 002_batchnorm_threshold: the next layer must be a \"sign\" layer (kind \"bnn\")"}},
    {.what = "batchnorm as the last layer",
     .build = bn_last,
     .edits = {E_NONE},
     .want = {"layer 002_batchnorm_threshold: the next layer must be a \"ternary\" layer (kind "
              "\"tnn\")"}},
    {.what = "batchnorm followed by the other kind's activation",
     .build = bn_then_wrong_act,
     .edits = {E_NONE},
     .want = {"layer 002_batchnorm_threshold: the next layer must be a \"sign\" layer"}},
    {.what = "batchnorm on the image",
     .build = bn_on_image,
     .edits = {E_NONE},
     .want =
         {"layer 000_batchnorm_threshold: input is a raw uint8 tensor, expected the output of a "
          "dense or conv2d layer"}},
    {.what = "batchnorm after an activation",
     .build = bn_after_act,
     .edits = {E_NONE},
     .want = {"layer 003_batchnorm_threshold: input is a {-1,+1} tensor"}},
};

static const model_case activation_cases[] = {
    {.what = "ternary in a bnn model",
     .build = ternary_in_bnn,
     .edits = {E_NONE},
     .want =
         {"layer 002_ternary: a \"bnn\" model's activation layers are \"sign\", not \"ternary\""}},
    {.what = "sign in a tnn model",
     .build = sign_in_tnn,
     .edits = {E_NONE},
     .want = {"layer 002_sign: a \"tnn\" model's activation layers are \"ternary\", not \"sign\""}},
    {.what = "sign on the image",
     .build = sign_on_image,
     .edits = {E_NONE},
     .want =
         {"layer 000_sign: input is a raw uint8 tensor, expected the output of a dense, conv2d or "
          "batchnorm_threshold layer"}},
    {.what = "sign after sign",
     .build = sign_after_sign,
     .edits = {E_NONE},
     .want = {"layer 003_sign: input is a {-1,+1} tensor"}},
    {.what = "the last layer is not dense",
     .build = ends_with_sign,
     .edits = {E_NONE},
     .want = {"layer 002_sign: the last layer must be dense with out_features = num_classes (3)"}},
};

/* Files that must load: each stresses one thing the format allows. */
static const model_case graph_cases[] = {
    {.what = "graph bnn", .build = graph_bnn, .edits = {E_NONE}},
    {.what = "graph tnn", .build = graph_tnn, .edits = {E_NONE}},
    {.what = "host graph bnn", .build = graph_host_bnn, .edits = {E_NONE}},
    {.what = "host graph tnn", .build = graph_host_tnn, .edits = {E_NONE}},
    {.what = "a version-1 chain as version 2", .build = cnn_v2, .edits = {E_NONE}},
    {.what = "explicit inputs of a chain", .build = cnn_v2, .edits = {E_INT(4, "inputs", 3)}},
    {.what = "rule B at its edge", .build = bound_edge, .edits = {E_NONE}},
    {.what = "rule B past its edge",
     .build = bound_edge,
     .edits = {E_PAIR(2, "scale", 128, 130)},
     .want = {"layer 002_add: output values may reach 269475840 in magnitude, expected at most "
              "2^28 - 1 (rule B)"}},
    {.what = "inputs in a version-1 file",
     .build = cnn_bnn,
     .edits = {E_INT(1, "inputs", 0)},
     .want = {"layer 001_batchnorm_threshold: attribute \"inputs\" needs format_version 2"}},
    {.what = "add in a version-1 file",
     .build = graph_bnn,
     .edits = {E_INT(ROOT, "format_version", 1)},
     .want = {"layer 007_add: layer type \"add\" needs format_version 2"}},
    {.what = "an input after the layer",
     .build = graph_bnn,
     .edits = {E_PAIR(7, "inputs", 6, 7)},
     .want = {"layer 007_add: attribute \"inputs\"[1] is 7, expected -1 (the model input) or an "
              "earlier layer's index (0 .. 6)"}},
    {.what = "an input below -1",
     .build = graph_bnn,
     .edits = {E_PAIR(7, "inputs", -2, 3)},
     .want = {"layer 007_add: attribute \"inputs\"[0] is -2"}},
    {.what = "an input named twice",
     .build = graph_tnn,
     .edits = {E_PAIR(7, "inputs", 6, 6)},
     .want = {"layer 007_add: attribute \"inputs\" names 6 twice"}},
    {.what = "add of one input",
     .build = graph_tnn,
     .edits = {E_INT(7, "inputs", 6)},
     .want = {"layer 007_add: attribute \"inputs\" lists 1 layer, expected 2 to 16"}},
    {.what = "add without inputs",
     .build = graph_tnn,
     .edits = {E_REMOVE(7, "inputs")},
     .want = {"layer 007_add: attribute \"inputs\" is missing"}},
    {.what = "inputs a float",
     .build = graph_tnn,
     .edits = {E_TYPE(7, "inputs", CIM_MW_F64)},
     .want = {"layer 007_add: attribute \"inputs\" has type float, expected 1 to 16 integers"}},
    {.what = "dense of two inputs",
     .build = graph_bnn,
     .edits = {E_PAIR(15, "inputs", 14, 13)},
     .want = {"layer 015_dense: attribute \"inputs\" lists 2 layers, expected 1"}},
    {.what = "add of two shapes",
     .build = graph_host_tnn,
     .edits = {E_PAIR(11, "inputs", 8, 3)},
     .want = {"layer 011_add: input 1 (layer 003) is a pre-activation tensor of shape [4,6,6], "
              "expected the shape of input 0"}},
    {.what = "add of a batchnorm output",
     .build = graph_bnn,
     .edits = {E_PAIR(7, "inputs", 6, 4)},
     .want = {"layer 007_add: input 1 (layer 004) is a batchnorm output tensor of shape [4,6,6], "
              "expected the image, a pre-activation or an activation"}},
    {.what = "add scale 0",
     .build = graph_bnn,
     .edits = {E_PAIR(7, "scale", 1, 0)},
     .want = {"layer 007_add: attribute \"scale\"[1] is 0, expected a nonzero integer within "
              "[-2^15, 2^15]"}},
    {.what = "add scale past 2^15",
     .build = graph_bnn,
     .edits = {E_PAIR(7, "scale", 40000, 1)},
     .want = {"layer 007_add: attribute \"scale\"[0] is 40000"}},
    {.what = "add scale of the wrong length",
     .build = graph_bnn,
     .edits = {E_INT(7, "scale", 2)},
     .want = {"layer 007_add: attribute \"scale\" is a scalar, expected 2 integers"}},
    {.what = "concat of two alphabets",
     .build = graph_tnn,
     .edits = {E_PAIR(17, "inputs", 15, 14)},
     .want = {"layer 017_concat: input 1 (layer 014) is a {-1,0,+1} tensor of shape [72], "
              "expected the alphabet of input 0"}},
    {.what = "concat of the image and an activation",
     .build = graph_tnn,
     .edits = {E_PAIR(10, "inputs", 9, -1)},
     .want = {"layer 010_concat: input 1 (the model input) is a raw uint8 tensor of shape "
              "[1,6,6], expected the alphabet of input 0"}},
    {.what = "concat axis 1",
     .build = graph_tnn,
     .edits = {E_INT(10, "axis", 1)},
     .want = {"layer 010_concat: attribute \"axis\" is 1, expected 0"}},
    {.what = "a batchnorm output read further on",
     .build = graph_bnn,
     .edits = {E_INT(9, "inputs", 4)},
     .want = {"layer 008_batchnorm_threshold: its output must be the input of the activation "
              "layer 009_sign right after it"}},
    {.what = "an activation after a batchnorm that reads something else",
     .build = graph_tnn,
     .edits = {E_INT(9, "inputs", 7)},
     .want = {"layer 008_batchnorm_threshold: its output must be the input of the activation "
              "layer 009_ternary right after it"}},
    {.what = "an unused layer",
     .build = graph_host_tnn,
     .edits = {E_INT(7, "inputs", 2), E_INT(9, "inputs", 2)},
     .want = {"layer 006_ternary: no later layer takes its output"}},
    {.what = "a last layer of another size",
     .build = graph_bnn,
     .edits = {E_INT(ROOT, "num_classes", 12)},
     .want = {"layer 017_concat: the last layer's output must be a 1-D pre-activation of "
              "num_classes (12) values"}},
    {.what = "global_sumpool of a batchnorm output",
     .build = graph_bnn,
     .edits = {E_INT(16, "inputs", 12)},
     .want = {"layer 016_global_sumpool: input is a batchnorm output tensor"}},
    {.what = "sumpool2d window past the input",
     .build = graph_bnn,
     .edits = {E_PAIR(11, "kernel", 7, 2)},
     .want = {"layer 011_sumpool2d: attribute \"kernel\" is [7,2], expected a window that fits "
              "the input"}},
    {.what = "a pad_value past a pre-activation's bound",
     .build = graph_host_bnn,
     .edits = {E_INT(3, "inputs", 0), E_INT(3, "pad_value", 3000)},
     .want = {"layer 003_conv2d: attribute \"pad_value\" is 3000, expected a value within "
              "[-2295, 2295]"}},
};

static const model_case valid_cases[] = {
    {.what = "MLP bnn", .build = mlp_bnn, .edits = {E_NONE}},
    {.what = "MLP tnn", .build = mlp_tnn, .edits = {E_NONE}},
    {.what = "CNN bnn", .build = cnn_bnn, .edits = {E_NONE}},
    {.what = "CNN tnn", .build = cnn_tnn, .edits = {E_NONE}},
    {.what = "maxpool on image and pre-activation, activation without batchnorm, unused pad_value",
     .build = unusual_but_valid,
     .edits = {E_NONE}},
    {.what = "integer attributes of other widths, signs and byte orders",
     .build = cnn_bnn,
     .edits = {E_TYPE(ROOT, "format_version", CIM_MW_U8), E_TYPE(ROOT, "input_shape", CIM_MW_I16BE),
               E_TYPE(0, "kernel", CIM_MW_U64), E_TYPE(ROOT, "num_classes", CIM_MW_I64)}},
    {.what = "integer datasets of other widths, chunked and deflated",
     .build = cnn_tnn,
     .edits = {E_TYPE(0, "weight", CIM_MW_I16BE), E_CHUNKED(0, "weight"),
               E_TYPE(1, "threshold_lo", CIM_MW_I64), E_TYPE(1, "flip", CIM_MW_I64)}},
    {.what = "scalars stored as [1]",
     .build = mlp_bnn,
     .edits = {E_SHAPE1(ROOT, "num_classes", 1), E_SHAPE1(1, "in_features", 1),
               E_SHAPE1(2, "channels", 1)}},
    {.what = "variable-length UTF-8 and ASCII strings",
     .build = mlp_tnn,
     .edits = {E_TYPE(ROOT, "kind", CIM_MW_STR_VLEN_UTF8),
               E_TYPE(ROOT, "format", CIM_MW_STR_VLEN_ASCII),
               E_TYPE(1, "type", CIM_MW_STR_VLEN_UTF8),
               E_TYPE(ROOT, "name", CIM_MW_STR_VLEN_UTF8)}},
    {.what = "NUL-terminated strings and trailing NULs",
     .build = mlp_bnn,
     .edits = {E_TYPE(ROOT, "input_preprocessing", CIM_MW_STR_NULLTERM), E_NULS(ROOT, "kind", 5),
               E_TYPE(3, "type", CIM_MW_STR_NULLTERM), E_NULS(3, "type", 2)}},
    {.what = "unknown attributes and datasets are ignored",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "comment", "anything"), E_FLOAT(1, "bias_note", 3),
               E_TYPE(1, "bias_note", CIM_MW_F32), E_INT(4, "extra", 9)}},
    {.what = "optional root attributes",
     .build = mlp_bnn,
     .edits = {E_STR(ROOT, "description", "a test model"), E_INT(ROOT, "train_seed", 7),
               E_FLOAT(ROOT, "digital_test_accuracy", 1), E_INT(ROOT, "digital_test_correct", 10)}},
    {.what = "empty dead zone lo = hi + 1",
     .build = mlp_tnn,
     .edits = {E_VALUE(2, "threshold_lo", 0, 4), E_VALUE(2, "threshold_hi", 0, 3)}},
    {.what = "thresholds at +-2^30",
     .build = mlp_tnn,
     .edits = {E_VALUE(2, "threshold_lo", 0, -TWO_30), E_VALUE(2, "threshold_hi", 0, TWO_30),
               E_VALUE(2, "threshold_lo", 1, TWO_30), E_VALUE(2, "threshold_hi", 1, TWO_30)}},
    {.what = "bnn thresholds with a dead zone (sign ignores it)",
     .build = mlp_bnn,
     .edits = {E_VALUE(2, "threshold_lo", 0, -2), E_VALUE(2, "threshold_hi", 0, 9)}},
    {.what = "pad_value 255 on the image, +1 on a sign input",
     .build = cnn_bnn,
     .edits = {E_INT(0, "pad_value", 255), E_INT(4, "pad_value", 1)}},
    {.what = "pad_value beyond any alphabet without padding",
     .build = cnn_tnn,
     .edits = {E_PAIR(4, "padding", 0, 0), E_INT(4, "pad_value", -1000), E_INT(8, "in_features", 3),
               E_SHAPE2(8, "weight", 4, 3)}},
    {.what = "a kernel the size of the padded input, strides beyond the input and int32",
     .build = one_window,
     .edits = {E_NONE}},
};

static void test_root_attributes(void **state)
{
    RUN_CASES(state, root_cases);
}

static void test_layer_names(void **state)
{
    RUN_CASES(state, naming_cases);
}

static void test_dense_rules(void **state)
{
    RUN_CASES(state, dense_cases);
}

static void test_conv2d_rules(void **state)
{
    RUN_CASES(state, conv_cases);
}

static void test_maxpool_and_flatten_rules(void **state)
{
    RUN_CASES(state, pool_flatten_cases);
}

static void test_batchnorm_rules(void **state)
{
    RUN_CASES(state, batchnorm_cases);
}

static void test_activation_and_last_layer_rules(void **state)
{
    RUN_CASES(state, activation_cases);
}

static void test_graph_rules(void **state)
{
    RUN_CASES(state, graph_cases);
}

/* The graph model's tensors: inputs, shapes, alphabets, bounds, last users. */
static void test_graph_loads_inputs_bounds_and_uses(void **state)
{
    cim_model m;
    (void)state;
    cim_mw_load_scratch(cim_mw_graph("bnn", SEED), "model", "graph.h5", &m);
    assert_int_equal(m.format_version, 2);
    assert_int_equal(m.num_layers, 18);
    assert_int_equal(m.input_last_use, 0);
    const cim_layer *add = &m.layers[7], *cat = &m.layers[10], *out = &m.layers[17];
    assert_int_equal(add->type, CIM_LAYER_ADD);
    assert_int_equal(add->n_inputs, 2);
    assert_int_equal(add->inputs[0], 6);
    assert_int_equal(add->inputs[1], 3);
    assert_int_equal(add->add.scale[1], 2);
    CIM_ASSERT_I64_EQ(add->out_bound, 36 + 2 * 36);
    assert_int_equal(m.layers[3].last_use, 7);
    assert_int_equal(m.layers[5].last_use, 10);
    assert_int_equal(m.layers[13].last_use, 16);
    assert_int_equal(cat->type, CIM_LAYER_CONCAT);
    assert_int_equal(cat->out_shape.rank, 3);
    assert_int_equal(cat->out_shape.dim[0], 8);
    assert_int_equal(cat->out_alphabet, CIM_ALPHABET_BINARY);
    assert_int_equal(m.layers[11].out_alphabet, CIM_ALPHABET_PRE);
    CIM_ASSERT_I64_EQ(m.layers[11].out_bound, 4);
    assert_int_equal(m.layers[16].out_shape.rank, 1);
    assert_int_equal(m.layers[16].out_shape.dim[0], 8);
    CIM_ASSERT_I64_EQ(m.layers[16].out_bound, 9);
    assert_int_equal(out->out_shape.dim[0], 13);
    assert_int_equal(out->last_use, m.num_layers);
    for (int32_t l = 0; l < m.num_layers; ++l)
        if (m.layers[l].type != CIM_LAYER_ADD && m.layers[l].type != CIM_LAYER_CONCAT)
            assert_int_equal(m.layers[l].n_inputs, 1);
    cim_model_free(&m);
    /* a version-1 file: every layer takes the one before */
    cim_mw_load_scratch(cim_mw_cnn("tnn", SEED), "model", "cnn.h5", &m);
    assert_int_equal(m.format_version, 1);
    for (int32_t l = 0; l < m.num_layers; ++l) {
        assert_int_equal(m.layers[l].n_inputs, 1);
        assert_int_equal(m.layers[l].inputs[0], l - 1);
        assert_int_equal(m.layers[l].last_use, l + 1);
    }
    cim_model_free(&m);
}

static void test_valid_variants_load(void **state)
{
    RUN_CASES(state, valid_cases);
}

/* ---------------------------------------------------------------------------
 * What a valid model loads into
 */

static void write_model(void **state, cim_mw_model *m, const char *name, char *path)
{
    path_in(*state, name, path);
    if (cim_mw_write(m, path) != 0)
        fail_msg("cannot write %s", path);
}

static void load_ok(const char *path, cim_model *model)
{
    cim_error err = {0};
    int rc = cim_model_load(path, model, &err);
    if (rc)
        fail_msg("%s did not load: %s", path, err.msg);
}

static void assert_shape(const cim_shape *s, int rank, int32_t d0, int32_t d1, int32_t d2)
{
    CIM_ASSERT_I64_EQ(s->rank, rank);
    CIM_ASSERT_I64_EQ(s->dim[0], d0);
    CIM_ASSERT_I64_EQ(s->dim[1], d1);
    CIM_ASSERT_I64_EQ(s->dim[2], d2);
}

static void test_cnn_loads_shapes_alphabets_and_values(void **state)
{
    cim_mw_model *w = cim_mw_cnn("bnn", SEED);
    cim_mw_set_string(w, ROOT, "dataset", "unit-test");
    cim_mw_set_string(w, ROOT, "training_tool", "tests/support/cim_model_writer.c");
    cim_mw_set_int(w, ROOT, "train_seed", -5);
    cim_mw_find(w, ROOT, "train_seed")->type = CIM_MW_I64;
    cim_mw_set_float(w, ROOT, "digital_test_accuracy", 0.875);
    cim_mw_set_int(w, ROOT, "digital_test_correct", 875);
    cim_mw_set_int(w, ROOT, "digital_test_images", 1000);
    char path[CIM_TEST_PATH_MAX];
    write_model(state, w, "cnn_values.h5", path);

    cim_model m;
    load_ok(path, &m);
    assert_string_equal(m.path, path);
    assert_string_equal(m.name, "test_bnn");
    assert_int_equal(m.kind, CIM_MODEL_BNN);
    assert_shape(&m.input_shape, 3, 1, 6, 6);
    CIM_ASSERT_I64_EQ(m.num_classes, 4);
    CIM_ASSERT_I64_EQ(m.num_layers, 9);
    assert_string_equal(m.dataset, "unit-test");
    assert_string_equal(m.training_tool, "tests/support/cim_model_writer.c");
    assert_null(m.description);
    assert_null(m.training_config);
    assert_true(m.has_train_seed && m.has_digital_test_accuracy && m.has_digital_test_correct &&
                m.has_digital_test_images);
    CIM_ASSERT_I64_EQ(m.train_seed, -5);
    CIM_ASSERT_NEAR(m.digital_test_accuracy, 0.875, 0);
    CIM_ASSERT_I64_EQ(m.digital_test_correct, 875);
    CIM_ASSERT_I64_EQ(m.digital_test_images, 1000);

    /* types, shapes and alphabets along the network (see cim_mw_cnn) */
    static const struct {
        cim_layer_type type;
        cim_alphabet in;
        int out_rank;
        int32_t out[3];
        int crossbar;
    } want[] = {
        {CIM_LAYER_CONV2D, CIM_ALPHABET_IMAGE, 3, {2, 6, 6}, 0},
        {CIM_LAYER_BATCHNORM_THRESHOLD, CIM_ALPHABET_PRE, 3, {2, 6, 6}, 0},
        {CIM_LAYER_SIGN, CIM_ALPHABET_BN, 3, {2, 6, 6}, 0},
        {CIM_LAYER_MAXPOOL2D, CIM_ALPHABET_BINARY, 3, {2, 3, 3}, 0},
        {CIM_LAYER_CONV2D, CIM_ALPHABET_BINARY, 3, {3, 2, 2}, 1},
        {CIM_LAYER_BATCHNORM_THRESHOLD, CIM_ALPHABET_PRE, 3, {3, 2, 2}, 0},
        {CIM_LAYER_SIGN, CIM_ALPHABET_BN, 3, {3, 2, 2}, 0},
        {CIM_LAYER_FLATTEN, CIM_ALPHABET_BINARY, 1, {12, 1, 1}, 0},
        {CIM_LAYER_DENSE, CIM_ALPHABET_BINARY, 1, {4, 1, 1}, 1},
    };
    for (int i = 0; i < m.num_layers; ++i) {
        const cim_layer *L = &m.layers[i];
        char name[32];
        snprintf(name, sizeof name, "%03d_%s", i, cim_layer_type_name(want[i].type));
        assert_string_equal(L->name, name);
        assert_int_equal(L->type, want[i].type);
        assert_int_equal(L->in_alphabet, want[i].in);
        assert_shape(&L->out_shape, want[i].out_rank, want[i].out[0], want[i].out[1],
                     want[i].out[2]);
        assert_int_equal(cim_plan_places_on_crossbar(L, CIM_PIXELS_ON_HOST), want[i].crossbar);
        if (i > 0) {
            assert_memory_equal(&L->in_shape, &m.layers[i - 1].out_shape, sizeof L->in_shape);
            assert_int_equal(L->in_alphabet, m.layers[i - 1].out_alphabet);
        }
    }
    const cim_conv2d *c4 = &m.layers[4].conv2d;
    CIM_ASSERT_I64_EQ(c4->stride[0], 2);
    CIM_ASSERT_I64_EQ(c4->padding[1], 1);
    CIM_ASSERT_I64_EQ(c4->pad_value, -1);
    const cim_mw_item *wt = cim_mw_find(w, 4, "weight");
    for (int i = 0; i < 3 * 2 * 3 * 3; ++i)
        CIM_ASSERT_I64_EQ(c4->weight[i], wt->values[i]);
    const cim_batchnorm_threshold *bn = &m.layers[5].bn;
    for (int c = 0; c < 3; ++c) {
        CIM_ASSERT_I64_EQ(bn->threshold_lo[c], cim_mw_find(w, 5, "threshold_lo")->values[c]);
        CIM_ASSERT_I64_EQ(bn->threshold_hi[c], cim_mw_find(w, 5, "threshold_hi")->values[c]);
        CIM_ASSERT_I64_EQ(bn->flip[c], cim_mw_find(w, 5, "flip")->values[c]);
    }
    /* weights: 2*1*9 + 3*2*9 + 4*12; MACs: 18*36 + 54*4 + 48 */
    CIM_ASSERT_I64_EQ(m.weight_count, 18 + 54 + 48);
    CIM_ASSERT_I64_EQ(m.macs_per_image, 18 * 36 + 54 * 4 + 48);
    CIM_ASSERT_I64_EQ(m.max_tensor, 72);
    assert_int_equal(strlen(m.sha256_hex), CIM_MODEL_SHA256_HEX_LEN);
    cim_model_free(&m);
    cim_model_free(&m); /* freeing twice is harmless: the struct is zeroed */
    cim_mw_free(w);
}

/* ---------------------------------------------------------------------------
 * Limits: a small file that declares a huge model fails before any allocation
 */

/* Address-space limits and sanitizers' shadow memory do not mix. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

#define LOAD_HEADROOM ((rlim_t)32 << 20) /* bytes of address space a capped load may add */

/* Loads `path` (and frees the model) in a child process whose address space
 * may grow by at most LOAD_HEADROOM beyond what it has after fork(), so that
 * a loader that allocates what the file declares gets CIM_ERR_NOMEM (or
 * dies) instead of the memory. Under a sanitizer the load runs here without
 * the cap. Returns the loader's code; its message in *err. */
static int load_capped(const char *path, cim_error *err)
{
    cim_error_clear(err);
    if (UNDER_SANITIZER) {
        cim_model m;
        int rc = cim_model_load(path, &m, err);
        cim_model_free(&m);
        return rc;
    }
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        cim_error e = {0, ""};
        int rc = CIM_ERR_IO;
        unsigned long pages = 0;
        struct rlimit lim;
        FILE *statm = fopen("/proc/self/statm", "r");
        int have_size = statm && fscanf(statm, "%lu", &pages) == 1;
        if (statm)
            fclose(statm);
        if (have_size && getrlimit(RLIMIT_AS, &lim) == 0) {
            lim.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + LOAD_HEADROOM;
            if (setrlimit(RLIMIT_AS, &lim) == 0) {
                cim_model m;
                rc = cim_model_load(path, &m, &e);
                cim_model_free(&m);
            } else {
                snprintf(e.msg, sizeof e.msg, "setrlimit(RLIMIT_AS) failed");
            }
        } else {
            snprintf(e.msg, sizeof e.msg, "cannot read the process size");
        }
        ssize_t n = write(fds[1], &rc, sizeof rc);
        n += write(fds[1], e.msg, sizeof e.msg);
        _exit(n == (ssize_t)(sizeof rc + sizeof e.msg) ? 0 : 1);
    }
    close(fds[1]);
    int rc = 0;
    size_t got = 0;
    char buf[sizeof rc + sizeof err->msg];
    for (ssize_t n; got < sizeof buf && (n = read(fds[0], buf + got, sizeof buf - got)) > 0;)
        got += (size_t)n;
    close(fds[0]);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (got != sizeof buf || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s: the capped load died (%s %d) without a result", path,
                 WIFSIGNALED(status) ? "signal" : "exit status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
    memcpy(&rc, buf, sizeof rc);
    memcpy(err->msg, buf + sizeof rc, sizeof err->msg);
    err->msg[sizeof err->msg - 1] = '\0';
    err->code = rc;
    return rc;
}

/* A dense layer in -> out whose weight is declared but unwritten (zeros: a
 * valid tnn weight); returns its index. */
static int unwritten_dense(cim_mw_model *m, int64_t in, int64_t out)
{
    int l = cim_mw_layer(m, "dense");
    cim_mw_set_int(m, l, "in_features", in);
    cim_mw_set_int(m, l, "out_features", out);
    const int64_t dims[2] = {out, in};
    cim_mw_set_unwritten(m, l, "weight", CIM_MW_I8, 2, dims, 0);
    return l;
}

/* A batchnorm_threshold layer of `channels` whose datasets are unwritten
 * (thresholds 0, flips +1). */
static int unwritten_batchnorm(cim_mw_model *m, int64_t channels)
{
    int l = cim_mw_layer(m, "batchnorm_threshold");
    cim_mw_set_int(m, l, "channels", channels);
    cim_mw_set_unwritten(m, l, "threshold_lo", CIM_MW_I32, 1, &channels, 0);
    cim_mw_set_unwritten(m, l, "threshold_hi", CIM_MW_I32, 1, &channels, 0);
    cim_mw_set_unwritten(m, l, "flip", CIM_MW_I8, 1, &channels, 1);
    return l;
}

/* [1,28,28] flatten, dense 784 -> 2^28: 210 G weights in a few kilobytes. */
static cim_mw_model *huge_dense(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 28, 28, 10, SEED);
    cim_mw_flatten(m);
    unwritten_dense(m, 784, (int64_t)1 << 28);
    unwritten_dense(m, (int64_t)1 << 28, 10);
    return m;
}

/* [1,28,28] conv 1 -> 2^21 channels of 28x28 kernels: 1.6 G weights. */
static cim_mw_model *huge_conv(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 28, 28, 10, SEED);
    int l = cim_mw_conv2d(m, 1, 1, 28, 28, 1, 1, 0, 0, 0, NULL);
    cim_mw_set_int(m, l, "out_channels", (int64_t)1 << 21);
    const int64_t dims[4] = {(int64_t)1 << 21, 1, 28, 28};
    cim_mw_set_unwritten(m, l, "weight", CIM_MW_I8, 4, dims, 0);
    cim_mw_activation(m);
    cim_mw_flatten(m);
    unwritten_dense(m, (int64_t)1 << 21, 10);
    return m;
}

/* [1,8192,8192] conv 1x1, flatten, batchnorm of 2^26 channels: one weight,
 * but 3 x 2^26 threshold and flip values. */
static cim_mw_model *huge_batchnorm(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 8192, 8192, 10, SEED);
    const int8_t one = 1;
    cim_mw_conv2d(m, 1, 1, 1, 1, 1, 1, 0, 0, 0, &one);
    cim_mw_flatten(m);
    unwritten_batchnorm(m, (int64_t)1 << 26);
    cim_mw_activation(m);
    unwritten_dense(m, (int64_t)1 << 26, 10);
    return m;
}

/* Every dataset within the limit, but not all of them together: 784 x 84500
 * weights, 3 x 84500 thresholds and flips, 84500 x 10 weights = 67 346 500
 * values > 2^26 = 67 108 864. */
static cim_mw_model *over_budget_in_all(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 28, 28, 10, SEED);
    cim_mw_flatten(m);
    unwritten_dense(m, 784, 84500);
    unwritten_batchnorm(m, 84500);
    cim_mw_activation(m);
    unwritten_dense(m, 84500, 10);
    return m;
}

/* A large first layer (784 x 65536 weights, 51 MB, within the limit) and a
 * next layer that does not fit it: rejected before the first is allocated. */
static cim_mw_model *large_then_mismatch(void)
{
    cim_mw_model *m = cim_mw_new("tnn", 1, 28, 28, 10, SEED);
    cim_mw_flatten(m);
    unwritten_dense(m, 784, 65536);
    cim_mw_activation(m);
    unwritten_dense(m, 65535, 10);
    return m;
}

static void test_huge_declared_models_fail_before_allocating(void **state)
{
    static const struct {
        const char *what;
        cim_mw_model *(*build)(void);
        const char *want[3];
    } cases[] = {
        {"dense 784 -> 2^28",
         huge_dense,
         {"layer 001_dense: dataset \"weight\" of shape [268435456,784] holds 210453397504 values",
          "expected at most 67108864 in all", "cimgpu's limit"}},
        {"conv2d 1 -> 2^21",
         huge_conv,
         {"layer 000_conv2d: dataset \"weight\" of shape [2097152,1,28,28] holds 1644167168",
          "expected at most 67108864 in all"}},
        {"batchnorm of 2^26 channels",
         huge_batchnorm,
         {"layer 002_batchnorm_threshold: dataset \"threshold_lo\" of shape [67108864] holds "
          "67108864 values, which bring the model's datasets to 67108865"}},
        {"every layer fits, the model does not",
         over_budget_in_all,
         {"layer 004_dense: dataset \"weight\" of shape [10,84500] holds 845000 values, which "
          "bring the model's datasets to 67346500, expected at most 67108864 in all"}},
        {"a large layer, then one that does not fit it",
         large_then_mismatch,
         {"layer 003_dense: attribute \"in_features\" is 65535, expected 65536 (the input's "
          "length)"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char name[32], path[CIM_TEST_PATH_MAX];
        snprintf(name, sizeof name, "huge_%zu.h5", i);
        cim_mw_model *w = cases[i].build();
        write_model(state, w, name, path);
        cim_mw_free(w);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        if (st.st_size > 64 * 1024)
            fail_msg("%s: the file has %lld bytes, expected a small one", cases[i].what,
                     (long long)st.st_size);
        cim_error err;
        int rc = load_capped(path, &err);
        if (rc != CIM_ERR_INPUT)
            fail_msg("%s: expected CIM_ERR_INPUT, got %s: %s", cases[i].what, cim_error_name(rc),
                     err.msg);
        if (strncmp(err.msg, path, strlen(path)) != 0 || strchr(err.msg, '\n'))
            fail_msg("%s: not one line starting with the path: %s", cases[i].what, err.msg);
        for (int k = 0; k < 3 && cases[i].want[k]; ++k)
            if (!has_substring(err.msg, cases[i].want[k]))
                fail_msg("%s: message lacks '%s': %s", cases[i].what, cases[i].want[k], err.msg);
        assert_int_equal(remove(path), 0);
    }
}

/* ---------------------------------------------------------------------------
 * Files that are not models
 */

static void expect_file_error(const char *path, const char *want)
{
    cim_model m;
    cim_error err = {0};
    int rc = cim_model_load(path, &m, &err);
    if (rc != CIM_ERR_INPUT)
        fail_msg("%s: expected CIM_ERR_INPUT, got %s: %s", path, cim_error_name(rc), err.msg);
    if (strncmp(err.msg, path, strlen(path)) != 0 || !has_substring(err.msg, want))
        fail_msg("%s: expected a message with '%s', got: %s", path, want, err.msg);
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_missing_empty_text_and_folder(void **state)
{
    char path[CIM_TEST_PATH_MAX];
    path_in(*state, "does_not_exist.h5", path);
    expect_file_error(path, "cannot open: No such file or directory");
    path_in(*state, "empty.h5", path);
    write_bytes(path, "", 0);
    expect_file_error(path, "not an HDF5 file");
    path_in(*state, "text.h5", path);
    const char text[] = "format=cimgpu-model\n";
    write_bytes(path, text, sizeof text - 1);
    expect_file_error(path, "not an HDF5 file");
    expect_file_error("/dev/zero", "not a regular file");
    path_in(*state, "folder.h5", path);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_file_error(path, "not a regular file");
}

static void test_hdf5_file_that_is_not_a_model(void **state)
{
    char path[CIM_TEST_PATH_MAX];
    path_in(*state, "plain.h5", path);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Fclose(f);
    expect_file_error(path, "attribute \"format\" is missing");
}

/* A valid model cut at many lengths: every prefix is rejected with a clear
 * message and no crash; HDF5 prints nothing, and its error printing is
 * restored afterwards. */
static void test_truncated_files(void **state)
{
    cim_mw_model *w = cim_mw_cnn("tnn", SEED);
    char path[CIM_TEST_PATH_MAX], cut[CIM_TEST_PATH_MAX];
    write_model(state, w, "whole.h5", path);
    cim_mw_free(w);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long size = ftell(f);
    rewind(f);
    unsigned char *bytes = malloc((size_t)size);
    assert_non_null(bytes);
    assert_int_equal(fread(bytes, 1, (size_t)size, f), (size_t)size);
    fclose(f);

    H5E_auto2_t before_func = NULL, after_func = NULL;
    void *before_data = NULL, *after_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &before_func, &before_data);
    const long lengths[] = {1,    7,    8,    64,   96,       200,        512,     800,
                            1024, 1400, 2048, 3000, size / 2, size - 100, size - 1};
    path_in(*state, "cut.h5", cut);
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; ++i) {
        if (lengths[i] <= 0 || lengths[i] >= size)
            continue;
        write_bytes(cut, bytes, (size_t)lengths[i]);
        cim_model m;
        cim_error err = {0};
        int rc = cim_model_load(cut, &m, &err);
        if (rc != CIM_ERR_INPUT || strncmp(err.msg, cut, strlen(cut)) != 0)
            fail_msg("cut at %ld of %ld bytes: got %s: %s", lengths[i], size, cim_error_name(rc),
                     err.msg);
    }
    H5Eget_auto2(H5E_DEFAULT, &after_func, &after_data);
    assert_ptr_equal(before_func, after_func);
    assert_ptr_equal(before_data, after_data);
    free(bytes);
}

/* ---------------------------------------------------------------------------
 * SHA-256 (known answers of FIPS 180-2, appendix B.1, and of the empty message)
 */

static void test_sha256_known_answers(void **state)
{
    char path[CIM_TEST_PATH_MAX], hex[CIM_MODEL_SHA256_HEX_LEN + 1];
    cim_error err = {0};
    path_in(*state, "abc.bin", path);
    write_bytes(path, "abc", 3);
    assert_int_equal(cim_file_sha256_hex(path, hex, &err), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    path_in(*state, "nothing.bin", path);
    write_bytes(path, "", 0);
    assert_int_equal(cim_file_sha256_hex(path, hex, &err), 0);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    /* a million 'a' (FIPS 180-2, B.3): more than one read chunk */
    char *million = malloc(1000000);
    assert_non_null(million);
    memset(million, 'a', 1000000);
    path_in(*state, "million.bin", path);
    write_bytes(path, million, 1000000);
    free(million);
    assert_int_equal(cim_file_sha256_hex(path, hex, &err), 0);
    assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    path_in(*state, "absent.bin", path);
    assert_int_equal(cim_file_sha256_hex(path, hex, &err), CIM_ERR_INPUT);
}

/* ---------------------------------------------------------------------------
 * Shipped models
 */

static void test_shipped_models_load(void **state)
{
    (void)state;
    const char *folder = CIM_SOURCE_DIR "/data/models";
    DIR *d = opendir(folder);
    int loaded = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 3, ".h5") != 0)
            continue;
        char path[CIM_TEST_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        cim_model m;
        load_ok(path, &m);
        assert_true(m.num_layers >= 2);
        assert_true(m.has_digital_test_correct && m.has_digital_test_images);
        assert_true(m.digital_test_correct <= m.digital_test_images);
        int crossbar_layers = 0;
        for (int i = 0; i < m.num_layers; ++i)
            crossbar_layers += cim_plan_places_on_crossbar(&m.layers[i], CIM_PIXELS_ON_HOST);
        assert_true(crossbar_layers >= 1);
        cim_model_free(&m);
        ++loaded;
    }
    if (d)
        closedir(d);
    if (loaded == 0)
        skip();
}

/* ---------------------------------------------------------------------------
 * The same verdicts as data/cimgpu_model.py
 */

static int python_available(void)
{
    return system(PYTHON " -c 'import numpy, h5py' >/dev/null 2>&1") == 0;
}

static const char validate_script[] = "import sys\n"
                                      "sys.path.insert(0, sys.argv[1])\n"
                                      "from cimgpu_model import IntModel, ModelError\n"
                                      "out = open(sys.argv[3], 'w')\n"
                                      "for p in open(sys.argv[2]).read().split('\\n'):\n"
                                      "    if not p:\n"
                                      "        continue\n"
                                      "    try:\n"
                                      "        IntModel(p)\n"
                                      "        out.write('accept\\n')\n"
                                      "    except ModelError as e:\n"
                                      "        out.write('reject\\n')\n"
                                      "    except Exception as e:\n"
                                      "        out.write('crash %s\\n' % type(e).__name__)\n";

static void test_python_reference_agrees(void **state)
{
    fixture *fx = *state;
    if (fx->n_files == 0 || !python_available())
        skip();
    char script[CIM_TEST_PATH_MAX], list[CIM_TEST_PATH_MAX], out[CIM_TEST_PATH_MAX];
    path_in(fx, "validate.py", script);
    path_in(fx, "files.txt", list);
    path_in(fx, "verdicts.txt", out);
    write_bytes(script, validate_script, sizeof validate_script - 1);
    FILE *f = fopen(list, "w");
    assert_non_null(f);
    for (int i = 0; i < fx->n_files; ++i)
        fprintf(f, "%s\n", fx->files[i].path);
    fclose(f);
    char cmd[4 * CIM_TEST_PATH_MAX];
    snprintf(cmd, sizeof cmd, PYTHON " %s %s/data %s %s", script, CIM_SOURCE_DIR, list, out);
    assert_int_equal(system(cmd), 0);

    f = fopen(out, "r");
    assert_non_null(f);
    int disagreements = 0;
    for (int i = 0; i < fx->n_files; ++i) {
        char line[128];
        if (!fgets(line, sizeof line, f))
            fail_msg("Python gave %d verdicts for %d files", i, fx->n_files);
        line[strcspn(line, "\n")] = '\0';
        const case_file *cf = &fx->files[i];
        int py_accepts = strcmp(line, "accept") == 0;
        if (strncmp(line, "crash", 5) == 0)
            print_message("note: Python raised %s (not ModelError) on '%s'\n", line + 6, cf->what);
        if (py_accepts != cf->c_accepts) {
            print_message("%s: '%s': C %s, Python %s\n",
                          cf->python_differs ? "known difference" : "DISAGREEMENT", cf->what,
                          cf->c_accepts ? "accepts" : "rejects", line);
            disagreements += !cf->python_differs;
        } else if (cf->python_differs) {
            print_message("note: '%s' is marked as a difference, but both %s it\n", cf->what,
                          py_accepts ? "accept" : "reject");
        }
    }
    fclose(f);
    assert_int_equal(disagreements, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root_attributes),
        cmocka_unit_test(test_layer_names),
        cmocka_unit_test(test_dense_rules),
        cmocka_unit_test(test_conv2d_rules),
        cmocka_unit_test(test_maxpool_and_flatten_rules),
        cmocka_unit_test(test_batchnorm_rules),
        cmocka_unit_test(test_activation_and_last_layer_rules),
        cmocka_unit_test(test_valid_variants_load),
        cmocka_unit_test(test_graph_rules),
        cmocka_unit_test(test_graph_loads_inputs_bounds_and_uses),
        cmocka_unit_test(test_cnn_loads_shapes_alphabets_and_values),
        cmocka_unit_test(test_huge_declared_models_fail_before_allocating),
        cmocka_unit_test(test_missing_empty_text_and_folder),
        cmocka_unit_test(test_hdf5_file_that_is_not_a_model),
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_sha256_known_answers),
        cmocka_unit_test(test_shipped_models_load),
        /* last: it checks every case file the tests above wrote */
        cmocka_unit_test(test_python_reference_agrees),
    };
    return cmocka_run_group_tests(tests, setup, cim_test_scratch_teardown);
}
