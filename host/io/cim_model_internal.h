/* cim_model_internal.h -- what the cim_model*.c files share, and nothing else
 * includes.
 *
 * The model loader is one public API (cim_model.h) over three files:
 *   cim_model.c         opening the file, the root attributes, the layer
 *                       groups in order, the whole-model rules, SHA-256,
 *                       freeing
 *   cim_model_h5.c      typed reading of one HDF5 item: an integer, float or
 *                       string attribute, an integer dataset of an exact shape
 *                       whose every value obeys a rule (or only its type and
 *                       shape); each with its message
 *   cim_model_layers.c  one layer of each type: its items, its rules, and the
 *                       shape and alphabet of its output
 * Messages start with `where`: "PATH" for the root, "PATH: layer 003_conv2d"
 * for a layer; the helpers append ": attribute \"kernel\" ...".
 */
#ifndef CIM_MODEL_INTERNAL_H
#define CIM_MODEL_INTERNAL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "cim_model.h"

#define CIM_MODEL_INTERNAL __attribute__((visibility("hidden")))

#define CIM_MODEL_WHERE_MAX 320 /* "PATH: layer NAME", cut to fit a message */

/* ---- attributes ---- */

/* An integer attribute: `length` 0 for a scalar (SCALAR dataspace, or SIMPLE
 * [1]), else a rank-1 array of exactly `length` values, any HDF5 integer type
 * (values past int64 saturate). Missing: an error when `required`, else
 * *present = 0 (present may be NULL when required). */
CIM_MODEL_INTERNAL int cim_mh5_int_attr(const char *where, hid_t loc, const char *name, int length,
                                        int required, int64_t *out, int *present, cim_error *err);

/* An integer attribute of 1 .. max values: a scalar (one value) or a rank-1
 * array, any HDF5 integer type, into out[0 .. *n). Missing: *present = 0
 * and 0 returned. */
CIM_MODEL_INTERNAL int cim_mh5_int_list_attr(const char *where, hid_t loc, const char *name,
                                             int max, int64_t *out, int *n, int *present,
                                             cim_error *err);

/* A scalar float attribute (any HDF5 float type); optional. */
CIM_MODEL_INTERNAL int cim_mh5_float_attr(const char *where, hid_t loc, const char *name,
                                          double *out, int *present, cim_error *err);

/* A scalar string attribute, fixed or variable length, ASCII or UTF-8, its
 * trailing NULs removed: *out malloc'd, NUL-terminated, its length (which
 * excludes the terminator but may count embedded NULs) in *len. Missing: an
 * error when `required`, else *out = NULL. */
CIM_MODEL_INTERNAL int cim_mh5_string_attr(const char *where, hid_t loc, const char *name,
                                           int required, char **out, size_t *len, cim_error *err);

/* ---- datasets ---- */

/* The values a dataset may hold: [min, max], without 0 when `no_zero`;
 * `expected` describes them in messages ("-1 or +1"). */
typedef struct cim_value_rule {
    int64_t min, max;
    int no_zero;
    const char *expected;
} cim_value_rule;

/* An integer dataset `name` in group `loc` of exactly `rank` x `dims`, any
 * HDF5 integer type and layout; every value checked against `rule` and
 * stored, in C order, into a malloc'd array *out (set only on success):
 * int8_t when elem_size is 1, int32_t when 4 (the rule must keep values in
 * range of that type). The array is allocated after the shape matched. */
CIM_MODEL_INTERNAL int cim_mh5_int_dataset(const char *where, hid_t loc, const char *name, int rank,
                                           const int64_t *dims, const cim_value_rule *rule,
                                           size_t elem_size, void **out, cim_error *err);

/* The checks of cim_mh5_int_dataset before it allocates: the dataset exists,
 * holds integers and its stored dimensions are exactly `rank` x `dims`. No
 * value is read and nothing is allocated. */
CIM_MODEL_INTERNAL int cim_mh5_int_dataset_check(const char *where, hid_t loc, const char *name,
                                                 int rank, const int64_t *dims, cim_error *err);

/* ---- layers ---- */

/* Shape and alphabet of a tensor as it flows through the layers. */
typedef struct cim_tensor_state {
    cim_shape shape;
    cim_alphabet alphabet;
    int64_t bound; /* rule B: |every value| <= bound */
} cim_tensor_state;

/* A load runs every layer loader twice. The check pass reads every
 * attribute, judges each layer against the tensor it receives, checks each
 * dataset's type and stored dimensions against the declared shape, and adds
 * up the values of all datasets against CIM_MODEL_MAX_VALUES, allocating
 * nothing sized by the file; only a model that passes it is read, by the
 * read pass, which repeats the loaders and reads and checks the values. */
typedef struct cim_model_pass {
    int read_values; /* 0: the check pass; 1: the read pass */
    int64_t values;  /* check pass: values of the datasets checked so far */
} cim_model_pass;

/* Layer `L` (its type, name and inputs set) from group `g`: reads its items,
 * checks them against its inputs' states in[0 .. L->n_inputs) and the
 * model's kind and format version, fills L's fields, shapes, alphabets and
 * bound, and sets *out to its output's state; its datasets as `pass` says
 * (their arrays are set only by the read pass). `next_type` is the type
 * named by the next layer's name, or -1 after the last layer (or when the
 * next name is not a known type). */
CIM_MODEL_INTERNAL int cim_model_load_layer(const char *where, hid_t g, const cim_model *m,
                                            int next_type, cim_model_pass *pass,
                                            const cim_tensor_state *in, cim_tensor_state *out,
                                            cim_layer *L, cim_error *err);

/* The activation layer type of a kind: sign for bnn, ternary for tnn. */
CIM_MODEL_INTERNAL cim_layer_type cim_model_act_type(cim_model_kind kind);

/* Shape as "[64,16,3,3]". */
CIM_MODEL_INTERNAL void cim_format_dims(char *buf, size_t n, int rank, const int64_t *dims);

#endif /* CIM_MODEL_INTERNAL_H */
