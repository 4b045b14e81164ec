/* cim_model.c -- loads a cimgpu model file: the file itself, its root
 * attributes, its layer groups in order, and the rules about the model as a
 * whole (see cim_model.h; the format is data/model_format.md, whose
 * executable form is data/cimgpu_model.py).
 *
 * Order of work: the path must name a regular file (a FIFO or a device would
 * never end or change under us); the file is hashed (SHA-256 of its bytes, through
 * OpenSSL's libcrypto, which the HDF5 library already links), which also
 * proves it can be read; then HDF5 is asked whether it is an HDF5 file at all
 * and opens it read-only with H5F_CLOSE_STRONG, so that closing the file
 * closes anything a failure path left open. The root attributes come next
 * (format and version before anything else, so a foreign file is named as
 * such), then the names of /layers' members in HDF5's name order, which for
 * NNN_<type> names is the layer order. Each layer is loaded by
 * cim_model_layers.c against the (shape, alphabet) state its predecessor
 * left; the last layer must be dense with num_classes outputs. The layers
 * are walked twice: a check pass (every attribute and shape rule, every
 * dataset's type and stored dimensions, the CIM_MODEL_MAX_VALUES budget of
 * the whole model; nothing sized by the file is allocated) and, only when
 * the whole model passes it, a read pass that allocates and reads the
 * datasets. So the first broken shape rule of any layer is reported before
 * any value is read, and a file cannot ask for more memory than the limit.
 *
 * HDF5 prints its error stack on stderr by default; that is switched off for
 * the whole load (H5Eset_auto2) and the previous handler restored on every
 * path, so a bad file yields our one line and nothing else.
 *
 * Ownership: *m owns every string and array; a failure anywhere frees what
 * was loaded so far (cim_model_free copes with a half-filled struct) and
 * leaves *m zeroed.
 */
#include "cim_model.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cim_model_internal.h"
#include "cim_text.h"

#define HASH_CHUNK_BYTES 65536
#define QUOTE_MAX 48 /* bytes of a string value shown in a message */
#define LAYERS_GROUP "layers"
#define LAYER_INDEX_DIGITS 3

static const char *const layer_type_names[CIM_LAYER_TYPE_COUNT] = {
    [CIM_LAYER_DENSE] = "dense",
    [CIM_LAYER_CONV2D] = "conv2d",
    [CIM_LAYER_BATCHNORM_THRESHOLD] = "batchnorm_threshold",
    [CIM_LAYER_MAXPOOL2D] = "maxpool2d",
    [CIM_LAYER_FLATTEN] = "flatten",
    [CIM_LAYER_SIGN] = "sign",
    [CIM_LAYER_TERNARY] = "ternary",
    [CIM_LAYER_ADD] = "add",
    [CIM_LAYER_CONCAT] = "concat",
    [CIM_LAYER_SUMPOOL2D] = "sumpool2d",
    [CIM_LAYER_GLOBAL_SUMPOOL] = "global_sumpool",
};

/* The layer types of version 2. */
static int version2_type(cim_layer_type t)
{
    return t == CIM_LAYER_ADD || t == CIM_LAYER_CONCAT || t == CIM_LAYER_SUMPOOL2D ||
           t == CIM_LAYER_GLOBAL_SUMPOOL;
}

const char *cim_layer_type_name(cim_layer_type type)
{
    return type >= 0 && type < CIM_LAYER_TYPE_COUNT ? layer_type_names[type] : "unknown";
}

const char *cim_model_kind_name(cim_model_kind kind)
{
    return kind == CIM_MODEL_BNN ? "bnn" : "tnn";
}

const char *cim_alphabet_name(cim_alphabet alphabet)
{
    switch (alphabet) {
    case CIM_ALPHABET_IMAGE:
        return "raw uint8";
    case CIM_ALPHABET_PRE:
        return "pre-activation";
    case CIM_ALPHABET_BN:
        return "batchnorm output";
    case CIM_ALPHABET_BINARY:
        return "{-1,+1}";
    case CIM_ALPHABET_TERNARY:
        return "{-1,0,+1}";
    }
    return "unknown";
}

const cim_shape *cim_model_tensor_shape(const cim_model *m, int32_t t)
{
    return t == CIM_MODEL_INPUT ? &m->input_shape : &m->layers[t].out_shape;
}

int64_t cim_shape_size(const cim_shape *shape)
{
    int64_t n = 1;
    for (int i = 0; i < shape->rank; ++i)
        n *= shape->dim[i];
    return n;
}

/* ---------------------------------------------------------------------------
 * SHA-256 of the file
 */

int cim_file_sha256_hex(const char *path, char hex[CIM_MODEL_SHA256_HEX_LEN + 1], cim_error *err)
{
    hex[0] = '\0';
    FILE *f = fopen(path, "rb");
    if (!f)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char *chunk = malloc(HASH_CHUNK_BYTES);
    int rc = 0;
    if (!ctx || !chunk || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "%s: cannot set up SHA-256 (out of memory?)", path);
    } else {
        size_t n;
        while ((n = fread(chunk, 1, HASH_CHUNK_BYTES, f)) > 0)
            if (EVP_DigestUpdate(ctx, chunk, n) != 1)
                break;
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int len = 0;
        if (ferror(f))
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: cannot be read: %s", path, strerror(errno));
        else if (!feof(f) || EVP_DigestFinal_ex(ctx, digest, &len) != 1 ||
                 len * 2 != CIM_MODEL_SHA256_HEX_LEN)
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: SHA-256 failed", path);
        else
            for (unsigned int i = 0; i < len; ++i)
                snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    free(chunk);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Root attributes
 */

static int string_is(const char *s, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* A required string attribute that must equal `want` (or, with `alt`, one of two). */
static int expect_string(const char *where, hid_t loc, const char *name, const char *want,
                         const char *alt, int *which, cim_error *err)
{
    char *value = NULL;
    size_t len = 0;
    int rc = cim_mh5_string_attr(where, loc, name, 1, &value, &len, err);
    if (rc)
        return rc;
    if (string_is(value, len, want)) {
        *which = 0;
    } else if (alt && string_is(value, len, alt)) {
        *which = 1;
    } else {
        char got[CIM_TEXT_QUOTE_SIZE(QUOTE_MAX)];
        cim_text_quote(got, sizeof got, value, len, QUOTE_MAX);
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" is %s, expected \"%s\"%s%s%s",
                           where, name, got, want, alt ? " or \"" : "", alt ? alt : "",
                           alt ? "\"" : "");
    }
    free(value);
    return rc;
}

static int int_in_range(const char *where, hid_t loc, const char *name, int64_t lo, int64_t hi,
                        const char *expected, int64_t *out, cim_error *err)
{
    int rc = cim_mh5_int_attr(where, loc, name, 0, 1, out, NULL, err);
    if (rc == 0 && (*out < lo || *out > hi))
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" is %" PRId64 ", expected %s",
                           where, name, *out, expected);
    return rc;
}

static int load_input_shape(const char *where, hid_t f, cim_model *m, cim_error *err)
{
    int64_t s[3];
    int rc = cim_mh5_int_attr(where, f, "input_shape", 3, 1, s, NULL, err);
    if (rc)
        return rc;
    if (s[0] < 1 || s[1] < 1 || s[2] < 1)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: attribute \"input_shape\" is [%" PRId64 ",%" PRId64 ",%" PRId64
                             "], expected [C,H,W], each at least 1",
                             where, s[0], s[1], s[2]);
    if (s[0] > CIM_MODEL_MAX_TENSOR || s[1] > CIM_MODEL_MAX_TENSOR || s[2] > CIM_MODEL_MAX_TENSOR ||
        s[0] * s[1] > CIM_MODEL_MAX_TENSOR || s[0] * s[1] * s[2] > CIM_MODEL_MAX_TENSOR)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: attribute \"input_shape\" is [%" PRId64 ",%" PRId64 ",%" PRId64
                             "], expected at most %" PRId64 " elements (cimgpu's limit)",
                             where, s[0], s[1], s[2], CIM_MODEL_MAX_TENSOR);
    m->input_shape = (cim_shape){3, {(int32_t)s[0], (int32_t)s[1], (int32_t)s[2]}};
    return 0;
}

static int load_optional(const char *where, hid_t f, cim_model *m, cim_error *err)
{
    struct {
        const char *name;
        char **field;
    } strings[] = {{"dataset", &m->dataset},
                   {"description", &m->description},
                   {"training_tool", &m->training_tool},
                   {"training_config", &m->training_config}};
    struct {
        const char *name;
        int64_t *field;
        int *present;
    } ints[] = {{"train_seed", &m->train_seed, &m->has_train_seed},
                {"digital_test_correct", &m->digital_test_correct, &m->has_digital_test_correct},
                {"digital_test_images", &m->digital_test_images, &m->has_digital_test_images}};
    int rc = 0;
    size_t len;
    for (size_t i = 0; rc == 0 && i < sizeof strings / sizeof strings[0]; ++i)
        rc = cim_mh5_string_attr(where, f, strings[i].name, 0, strings[i].field, &len, err);
    for (size_t i = 0; rc == 0 && i < sizeof ints / sizeof ints[0]; ++i)
        rc = cim_mh5_int_attr(where, f, ints[i].name, 0, 0, ints[i].field, ints[i].present, err);
    if (rc == 0)
        rc = cim_mh5_float_attr(where, f, "digital_test_accuracy", &m->digital_test_accuracy,
                                &m->has_digital_test_accuracy, err);
    return rc;
}

static int load_root(const char *where, hid_t f, cim_model *m, cim_error *err)
{
    int which = 0, rc;
    int64_t v = 0;
    size_t len = 0;
    if ((rc = expect_string(where, f, "format", CIM_MODEL_FORMAT, NULL, &which, err)) ||
        (rc = int_in_range(where, f, "format_version", 1, CIM_MODEL_FORMAT_VERSION,
                           "1 or 2 (the versions this reader knows)", &v, err)) ||
        (rc = cim_mh5_string_attr(where, f, "name", 1, &m->name, &len, err)) ||
        (rc = expect_string(where, f, "kind", "bnn", "tnn", &which, err)))
        return rc;
    m->format_version = (int32_t)v;
    m->kind = which == 0 ? CIM_MODEL_BNN : CIM_MODEL_TNN;
    if ((rc = expect_string(where, f, "input_preprocessing", "raw_uint8", NULL, &which, err)) ||
        (rc = load_input_shape(where, f, m, err)) ||
        (rc =
             int_in_range(where, f, "num_classes", 2, CIM_MODEL_MAX_TENSOR, "at least 2", &v, err)))
        return rc;
    m->num_classes = (int32_t)v;
    if ((rc = int_in_range(where, f, "num_layers", 1, CIM_MODEL_MAX_LAYERS, "1 ... 1000", &v, err)))
        return rc;
    m->num_layers = (int32_t)v;
    return load_optional(where, f, m, err);
}

/* ---------------------------------------------------------------------------
 * Layer groups
 */

/* The layer type a group name NNN_<type> names, if NNN is `index`: the type,
 * -1 for a well-formed name of an unknown type, -2 for a bad name. */
static int type_of_name(const char *name, int index)
{
    int n = 0;
    for (int i = 0; i < LAYER_INDEX_DIGITS; ++i) {
        if (name[i] < '0' || name[i] > '9')
            return -2;
        n = n * 10 + (name[i] - '0');
    }
    const char *type = name + LAYER_INDEX_DIGITS + 1;
    if (n != index || name[LAYER_INDEX_DIGITS] != '_' || *type == '\0')
        return -2;
    for (const char *c = type; *c; ++c)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
            return -2;
    for (int t = 0; t < CIM_LAYER_TYPE_COUNT; ++t)
        if (strcmp(type, layer_type_names[t]) == 0)
            return t;
    return -1;
}

/* Name of member i of `layers` in name order into buf; 1 if it fits, 0 if
 * longer (then it cannot be a valid name), or an error code. */
static int member_name(const char *where, hid_t layers, int i, char *buf, size_t n, cim_error *err)
{
    ssize_t len = H5Lget_name_by_idx(layers, ".", H5_INDEX_NAME, H5_ITER_INC, (hsize_t)i, buf, n,
                                     H5P_DEFAULT);
    if (len < 0)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: group \"" LAYERS_GROUP "\": member %d cannot be read", where, i);
    return (size_t)len < n;
}

static int check_layer_type(const char *where, hid_t g, const char *name, int index,
                            cim_layer_type *type, cim_error *err)
{
    char *value = NULL;
    size_t len = 0;
    int rc = cim_mh5_string_attr(where, g, "type", 1, &value, &len, err);
    if (rc)
        return rc;
    const char *named = name + LAYER_INDEX_DIGITS + 1;
    char got[CIM_TEXT_QUOTE_SIZE(QUOTE_MAX)];
    cim_text_quote(got, sizeof got, value, len, QUOTE_MAX);
    if (!string_is(value, len, named)) {
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "%s: attribute \"type\" is %s, expected \"%s\" (as the name says)",
                           where, got, named);
    } else {
        int t = type_of_name(name, index);
        if (t < 0)
            rc = cim_error_set(err, CIM_ERR_INPUT,
                               "%s: attribute \"type\" is %s, an unknown layer type (expected "
                               "dense, conv2d, batchnorm_threshold, maxpool2d, flatten, sign, "
                               "ternary, or in version 2 add, concat, sumpool2d, global_sumpool)",
                               where, got);
        else
            *type = (cim_layer_type)t;
    }
    free(value);
    return rc;
}

typedef char layer_name[CIM_MODEL_LAYER_NAME_MAX];

/* Reads the member names of /layers and checks their number and form. */
static int layer_names(const char *where, hid_t layers, const cim_model *m, layer_name *names,
                       cim_error *err)
{
    H5G_info_t info;
    if (H5Gget_info(layers, &info) < 0)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: group \"" LAYERS_GROUP "\" cannot be read",
                             where);
    if (info.nlinks != (hsize_t)m->num_layers)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: group \"" LAYERS_GROUP "\" has %llu members, expected %d "
                             "(attribute \"num_layers\")",
                             where, (unsigned long long)info.nlinks, m->num_layers);
    for (int i = 0; i < m->num_layers; ++i) {
        int fits = member_name(where, layers, i, names[i], sizeof names[i], err);
        if (fits < 0)
            return fits;
        if (!fits || type_of_name(names[i], i) == -2) {
            char got[CIM_TEXT_QUOTE_SIZE(QUOTE_MAX)];
            cim_text_quote(got, sizeof got, names[i], strlen(names[i]), QUOTE_MAX);
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: group \"" LAYERS_GROUP "\": member %s is badly named or out "
                                 "of order, expected \"%03d_<type>\" (member %d in name order)",
                                 where, got, i, i);
        }
    }
    return 0;
}

/* The `inputs` of layer i: version 2 lists them (absent: the previous
 * layer, the model input for layer 0); version 1 is a chain. */
static int load_inputs(const char *where, hid_t g, const cim_model *m, int i, cim_layer *L,
                       cim_error *err)
{
    int64_t v[CIM_MODEL_MAX_INPUTS];
    int n = 0, present = 0;
    int rc = cim_mh5_int_list_attr(where, g, "inputs", CIM_MODEL_MAX_INPUTS, v, &n, &present, err);
    if (rc)
        return rc;
    if (present && m->format_version < 2)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: attribute \"inputs\" needs format_version 2 (a version-1 model "
                             "is a chain)",
                             where);
    const int many = L->type == CIM_LAYER_ADD || L->type == CIM_LAYER_CONCAT;
    if (!present) {
        if (many)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: attribute \"inputs\" is missing, expected the indices of "
                                 "2 to %d layers (an %s layer takes several inputs)",
                                 where, CIM_MODEL_MAX_INPUTS, cim_layer_type_name(L->type));
        n = 1;
        v[0] = i - 1;
    }
    if (many && n < 2)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: attribute \"inputs\" lists %d layer, expected 2 to %d (a %s "
                             "layer takes several inputs)",
                             where, n, CIM_MODEL_MAX_INPUTS, cim_layer_type_name(L->type));
    if (!many && n != 1)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: attribute \"inputs\" lists %d layers, expected 1 (a %s layer "
                             "takes one input)",
                             where, n, cim_layer_type_name(L->type));
    for (int j = 0; j < n; ++j) {
        if (v[j] < CIM_MODEL_INPUT || v[j] >= i)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: attribute \"inputs\"[%d] is %" PRId64
                                 ", expected -1 (the model input) or an earlier layer's index "
                                 "(0 .. %d)",
                                 where, j, v[j], i - 1);
        for (int k = 0; k < j; ++k)
            if (v[k] == v[j])
                return cim_error_set(err, CIM_ERR_INPUT,
                                     "%s: attribute \"inputs\" names %" PRId64
                                     " twice, expected distinct tensors",
                                     where, v[j]);
        L->inputs[j] = (int32_t)v[j];
    }
    L->n_inputs = n;
    return 0;
}

/* states[t + 1] is the state of tensor t (CIM_MODEL_INPUT: the image). */
static int load_layer(const char *path, hid_t layers, cim_model *m, const layer_name *names, int i,
                      cim_model_pass *pass, cim_tensor_state *states, cim_error *err)
{
    char where[CIM_MODEL_WHERE_MAX];
    snprintf(where, sizeof where, "%s: layer %s", path, names[i]);
    hid_t g = H5Oopen(layers, names[i], H5P_DEFAULT);
    if (g < 0)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot be opened", where);
    int rc = 0;
    if (H5Iget_type(g) != H5I_GROUP) {
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: is not a group, expected a layer group", where);
    } else {
        cim_layer *L = &m->layers[i];
        snprintf(L->name, sizeof L->name, "%s", names[i]);
        int next = i + 1 < m->num_layers ? type_of_name(names[i + 1], i + 1) : -1;
        if ((rc = check_layer_type(where, g, names[i], i, &L->type, err)) == 0 &&
            version2_type(L->type) && m->format_version < 2)
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: layer type \"%s\" needs format_version 2",
                               where, cim_layer_type_name(L->type));
        if (rc == 0)
            rc = load_inputs(where, g, m, i, L, err);
        if (rc == 0) {
            cim_tensor_state in[CIM_MODEL_MAX_INPUTS];
            for (int j = 0; j < L->n_inputs; ++j)
                in[j] = states[L->inputs[j] + 1];
            rc = cim_model_load_layer(where, g, m, next < 0 ? -1 : next, pass, in, &states[i + 1],
                                      L, err);
        }
    }
    H5Oclose(g);
    return rc;
}

/* The rules about the graph as a whole, once every layer loaded: who uses
 * which tensor (last_use), no unused tensor, a batchnorm_threshold read only
 * by the activation after it, and the model's output. */
static int check_graph(const char *path, cim_model *m, cim_error *err)
{
    const int32_t n = m->num_layers;
    m->input_last_use = -1;
    for (int32_t l = 0; l < n; ++l)
        m->layers[l].last_use = -1;
    for (int32_t l = 0; l < n; ++l) {
        const cim_layer *L = &m->layers[l];
        for (int j = 0; j < L->n_inputs; ++j) {
            const int32_t t = L->inputs[j];
            if (t == CIM_MODEL_INPUT) {
                m->input_last_use = l;
                continue;
            }
            m->layers[t].last_use = l;
            if (m->layers[t].type == CIM_LAYER_BATCHNORM_THRESHOLD && (l != t + 1 || j != 0))
                return cim_error_set(err, CIM_ERR_INPUT,
                                     "%s: layer %s: takes the output of batchnorm_threshold layer "
                                     "%s, which only the activation right after it may take",
                                     path, L->name, m->layers[t].name);
        }
        if (L->type == CIM_LAYER_BATCHNORM_THRESHOLD && l + 1 < n &&
            m->layers[l + 1].inputs[0] != l)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: layer %s: its output must be the input of the activation "
                                 "layer %s right after it",
                                 path, L->name, m->layers[l + 1].name);
    }
    if (m->input_last_use < 0)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: no layer takes the model input (attribute \"inputs\" never "
                             "names -1)",
                             path);
    m->layers[n - 1].last_use = n;
    for (int32_t l = 0; l < n - 1; ++l)
        if (m->layers[l].last_use < 0)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: layer %s: no later layer takes its output (a layer whose "
                                 "output is unused)",
                                 path, m->layers[l].name);
    const cim_layer *last = &m->layers[n - 1];
    if (m->format_version < 2) {
        if (last->type != CIM_LAYER_DENSE || last->dense.out_features != m->num_classes)
            return cim_error_set(err, CIM_ERR_INPUT,
                                 "%s: layer %s: the last layer must be dense with out_features = "
                                 "num_classes (%d)",
                                 path, last->name, m->num_classes);
    } else if (last->out_shape.rank != 1 || last->out_shape.dim[0] != m->num_classes ||
               last->out_alphabet != CIM_ALPHABET_PRE) {
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: layer %s: the last layer's output must be a 1-D pre-activation "
                             "of num_classes (%d) values (a dense, add, global_sumpool or concat "
                             "layer)",
                             path, last->name, m->num_classes);
    }
    return 0;
}

static void count_work(cim_model *m)
{
    m->max_tensor = cim_shape_size(&m->input_shape);
    for (int i = 0; i < m->num_layers; ++i) {
        const cim_layer *L = &m->layers[i];
        int64_t out = cim_shape_size(&L->out_shape);
        if (out > m->max_tensor)
            m->max_tensor = out;
        int64_t per_output = 0;
        if (L->type == CIM_LAYER_DENSE) {
            per_output = L->dense.in_features;
            m->weight_count += (int64_t)L->dense.in_features * L->dense.out_features;
        } else if (L->type == CIM_LAYER_CONV2D) {
            per_output = (int64_t)L->conv2d.in_channels * L->conv2d.kernel[0] * L->conv2d.kernel[1];
            m->weight_count += per_output * L->conv2d.out_channels;
        }
        m->macs_per_image += per_output * out;
    }
}

static int load_layers(const char *path, hid_t f, cim_model *m, cim_error *err)
{
    htri_t exists = H5Lexists(f, LAYERS_GROUP, H5P_DEFAULT);
    hid_t layers = exists > 0 ? H5Oopen(f, LAYERS_GROUP, H5P_DEFAULT) : -1;
    if (layers < 0)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: group \"" LAYERS_GROUP "\" is missing, expected %d layer groups",
                             path, m->num_layers);
    int rc = 0;
    layer_name *names = NULL;
    cim_tensor_state *states = NULL;
    if (H5Iget_type(layers) != H5I_GROUP) {
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: \"" LAYERS_GROUP "\" is not a group", path);
        goto done;
    }
    names = calloc((size_t)m->num_layers, sizeof *names);
    states = calloc((size_t)m->num_layers + 1, sizeof *states);
    m->layers = calloc((size_t)m->num_layers, sizeof *m->layers);
    if (!names || !states || !m->layers) {
        rc = cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory for %d layers", path,
                           m->num_layers);
        goto done;
    }
    if ((rc = layer_names(path, layers, m, names, err)))
        goto done;
    /* the check pass over the whole model, then the read pass */
    cim_model_pass pass = {0, 0};
    for (pass.read_values = 0; pass.read_values <= 1 && rc == 0; ++pass.read_values) {
        states[0] = (cim_tensor_state){m->input_shape, CIM_ALPHABET_IMAGE, CIM_MODEL_PIXEL_MAX};
        for (int i = 0; i < m->num_layers && rc == 0; ++i)
            rc = load_layer(path, layers, m, (const layer_name *)names, i, &pass, states, err);
        if (rc == 0)
            rc = check_graph(path, m, err);
    }
    if (rc)
        goto done;
    count_work(m);
done:
    free(names);
    free(states);
    H5Oclose(layers);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The file
 */

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc)
        snprintf((char *)data, CIM_MODEL_WHERE_MAX, "%s", e->desc);
    return 0;
}

static int open_file(const char *path, hid_t *file, cim_error *err)
{
    htri_t is_hdf5 = H5Fis_hdf5(path);
    if (is_hdf5 <= 0)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: not an HDF5 file, expected a %s HDF5 file",
                             path, CIM_MODEL_FORMAT);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: HDF5 cannot set up file access", path);
    }
    *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    int rc = 0;
    if (*file < 0) { /* read the error stack before any other call clears it */
        char detail[CIM_MODEL_WHERE_MAX] = "";
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, detail);
        for (char *c = detail; *c; ++c)
            if (*c == '\n' || *c == '\r')
                *c = ' ';
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "%s: HDF5 cannot open it (truncated or corrupt file?)%s%s", path,
                           detail[0] ? ": " : "", detail);
    }
    H5Pclose(fapl);
    return rc;
}

int cim_model_load(const char *path, cim_model *m, cim_error *err)
{
    memset(m, 0, sizeof *m);
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    hid_t file = -1;
    struct stat st;
    int rc = 0;
    if (stat(path, &st) != 0)
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: not a regular file, expected a %s HDF5 file",
                           path, CIM_MODEL_FORMAT);
    if (rc == 0)
        rc = cim_file_sha256_hex(path, m->sha256_hex, err);
    if (rc == 0) {
        m->path = malloc(strlen(path) + 1);
        rc = m->path ? 0 : cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", path);
        if (m->path)
            strcpy(m->path, path);
    }
    if (rc == 0)
        rc = open_file(path, &file, err);
    if (rc == 0)
        rc = load_root(path, file, m, err);
    if (rc == 0)
        rc = load_layers(path, file, m, err);
    if (file >= 0)
        H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    if (rc)
        cim_model_free(m);
    return rc;
}

void cim_model_free(cim_model *m)
{
    if (!m)
        return;
    for (int i = 0; m->layers && i < m->num_layers; ++i) {
        cim_layer *L = &m->layers[i];
        if (L->type == CIM_LAYER_DENSE) {
            free(L->dense.weight);
        } else if (L->type == CIM_LAYER_CONV2D) {
            free(L->conv2d.weight);
        } else if (L->type == CIM_LAYER_BATCHNORM_THRESHOLD) {
            free(L->bn.threshold_lo);
            free(L->bn.threshold_hi);
            free(L->bn.flip);
        }
    }
    free(m->layers);
    free(m->path);
    free(m->name);
    free(m->dataset);
    free(m->description);
    free(m->training_tool);
    free(m->training_config);
    memset(m, 0, sizeof *m);
}
