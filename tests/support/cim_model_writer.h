/* cim_model_writer.h -- small cimgpu model files for the tests, written with
 * the HDF5 C API, and a way to break them one item at a time.
 *
 * A model is held as plain data before it is written: the root and every
 * layer group are lists of items (an attribute or a dataset with a name, a
 * file type, a dataspace and values). The builders (cim_mw_dense, ...) add a
 * valid layer with the items data/model_format.md requires; a test then
 * replaces, removes or adds items, renames a layer, or changes the file type
 * or shape of one item, and writes the file. num_layers follows the number
 * of layers until a test sets or removes it.
 *
 * Every function fails the running cmocka test on misuse (an unknown item,
 * too many layers), so tests need not check return values; only
 * cim_mw_write() returns a status, for tests that write into odd places.
 */
#ifndef CIM_MODEL_WRITER_H
#define CIM_MODEL_WRITER_H

#include <stdint.h>

#define CIM_MW_MAX_LAYERS 24
#define CIM_MW_MAX_ITEMS 16
#define CIM_MW_MAX_RANK 4
#define CIM_MW_NAME_MAX 64
#define CIM_MW_ROOT (-1) /* the `layer` argument naming the file's root */

/* The file type of an item. */
typedef enum cim_mw_type {
    CIM_MW_I8,            /* H5T_STD_I8LE */
    CIM_MW_I16BE,         /* H5T_STD_I16BE */
    CIM_MW_I32,           /* H5T_STD_I32LE, the default for integer attributes */
    CIM_MW_I64,           /* H5T_STD_I64LE */
    CIM_MW_U8,            /* H5T_STD_U8LE */
    CIM_MW_U64,           /* H5T_STD_U64LE (values are the int64 bit patterns) */
    CIM_MW_F32,           /* H5T_IEEE_F32LE */
    CIM_MW_F64,           /* H5T_IEEE_F64LE */
    CIM_MW_ENUM8,         /* an int8-based enum {-1, 0, +1} */
    CIM_MW_STR_NULLPAD,   /* fixed length, NUL-padded, ASCII: what data/train.py writes */
    CIM_MW_STR_NULLTERM,  /* fixed length, NUL-terminated, ASCII */
    CIM_MW_STR_VLEN_UTF8, /* variable length, UTF-8: what h5py writes for a str */
    CIM_MW_STR_VLEN_ASCII,
} cim_mw_type;

typedef struct cim_mw_item {
    char name[CIM_MW_NAME_MAX];
    int is_dataset;
    cim_mw_type type;
    int rank;                      /* -1: NULL dataspace, 0: SCALAR, else SIMPLE */
    int64_t dims[CIM_MW_MAX_RANK]; /* of a SIMPLE dataspace */
    int64_t *values;               /* integers (and floats, converted), one per element */
    double real;                   /* a float item's value when `values` is NULL */
    char *text;                    /* a string item's value */
    int extra_nuls;                /* fixed-length strings: NUL bytes added after the text */
    int chunked;                   /* datasets: chunked with the deflate filter */
    int unwritten;                 /* datasets: no value written (cim_mw_set_unwritten) */
    int64_t fill;                  /* an unwritten dataset's fill value */
    int as_group;                  /* write an empty group of this name instead */
} cim_mw_item;

typedef struct cim_mw_object {
    char name[CIM_MW_NAME_MAX]; /* a layer group's name, e.g. "003_conv2d" */
    int as_dataset;             /* write a scalar dataset of this name instead of a group */
    cim_mw_item items[CIM_MW_MAX_ITEMS];
    int n_items;
} cim_mw_object;

typedef struct cim_mw_model {
    int ternary; /* kind "tnn" */
    cim_mw_object root;
    cim_mw_object layers[CIM_MW_MAX_LAYERS];
    int n_layers;
    int num_layers_auto;   /* keep the root's num_layers equal to n_layers */
    int layers_missing;    /* write no /layers at all */
    int layers_as_dataset; /* write /layers as a dataset */
    uint64_t seed;         /* for weights and thresholds the builders draw */
} cim_mw_model;

/* A model with the required root attributes and no layers. kind: "bnn" or
 * "tnn"; weights and thresholds drawn by the builders come from `seed`. */
cim_mw_model *cim_mw_new(const char *kind, int32_t c, int32_t h, int32_t w, int32_t num_classes,
                         uint64_t seed);
void cim_mw_free(cim_mw_model *m);

/* ---- layers; each returns the new layer's index. A NULL array is drawn at
 * random: weights from the kind's alphabet, thresholds around 0 with
 * lo <= hi + 1 (lo = hi for bnn), flips -1 or +1. ---- */
int cim_mw_dense(cim_mw_model *m, int32_t in, int32_t out, const int8_t *weight);
int cim_mw_conv2d(cim_mw_model *m, int32_t in_channels, int32_t out_channels, int32_t kh,
                  int32_t kw, int32_t sh, int32_t sw, int32_t ph, int32_t pw, int32_t pad_value,
                  const int8_t *weight);
int cim_mw_maxpool2d(cim_mw_model *m, int32_t kh, int32_t kw, int32_t sh, int32_t sw);
int cim_mw_flatten(cim_mw_model *m);
int cim_mw_batchnorm(cim_mw_model *m, int32_t channels, const int32_t *lo, const int32_t *hi,
                     const int8_t *flip);
/* random thresholds drawn within [-spread, spread] */
int cim_mw_batchnorm_random(cim_mw_model *m, int32_t channels, int32_t spread);
int cim_mw_activation(cim_mw_model *m); /* sign (bnn) or ternary (tnn) */
/* A layer group of any type name with only its "type" attribute. */
int cim_mw_layer(cim_mw_model *m, const char *type);

/* ---- version 2 (each sets the root's format_version to 2) ----
 * The layer takes tensors inputs[0 .. n) (-1: the model input). */
void cim_mw_set_inputs(cim_mw_model *m, int layer, int n, const int32_t *inputs);
/* add of n inputs with `scale` (NULL: no attribute, all 1); concat */
int cim_mw_add(cim_mw_model *m, int n, const int32_t *inputs, const int32_t *scale);
int cim_mw_concat(cim_mw_model *m, int n, const int32_t *inputs);
int cim_mw_sumpool2d(cim_mw_model *m, int32_t kh, int32_t kw, int32_t sh, int32_t sw);
int cim_mw_global_sumpool(cim_mw_model *m); /* takes the previous layer; cim_mw_set_inputs */

/* ---- ready-made valid models ----
 * MLP:  [1,4,4] flatten, dense 16->8, batchnorm, act, dense 8->3.
 * CNN:  [1,6,6] conv 1->2 k3 s1 p1 (pad 0), batchnorm, act, maxpool k2 s2,
 *       conv 2->3 k3 s2 p1 (pad -1 for bnn, 0 for tnn), batchnorm, act,
 *       flatten, dense 12->4. */
cim_mw_model *cim_mw_mlp(const char *kind, uint64_t seed);
cim_mw_model *cim_mw_cnn(const char *kind, uint64_t seed);
/* Version-2 graphs on [1,6,6].
 * graph: conv 1->4 (pixels) BN act, conv 4->4 (crossbar) BN act = A, conv
 *   4->4 = z6, add(z6, 2 z3) BN act = B, concat(B, A) [8,6,6], sumpool2d 2
 *   [8,3,3] BN act = C, flatten, dense 72->5 = D; global_sumpool(C) [8];
 *   concat(D, that): 13 classes. Every layer after the first crossbar layer
 *   runs in the device pipeline.
 * graph_host: conv 1->4 (pixels) = z0 BN act, conv 4->4 (crossbar) = z3,
 *   add(z3, z0) (a chip's tensor plus a shared one) BN act = A,
 *   global_sumpool(A) [4], dense 4->6 on it (host), flatten(A), dense
 *   144->6 (crossbar); add(3 x the first, -1 x the second): 6 classes. */
cim_mw_model *cim_mw_graph(const char *kind, uint64_t seed);
cim_mw_model *cim_mw_graph_host(const char *kind, uint64_t seed);

/* The ready-made models by number, for tests that loop over them. */
enum { CIM_MW_MLP, CIM_MW_CNN, CIM_MW_GRAPH, CIM_MW_GRAPH_HOST, CIM_MW_SHAPES };
cim_mw_model *cim_mw_generated(int shape, const char *kind, uint64_t seed);

/* Writes w as file `name` into a fresh scratch folder of `suite`, frees w,
 * loads the file into *m and removes the folder; fails the test if any step
 * fails. */
struct cim_model;
void cim_mw_load_scratch(cim_mw_model *w, const char *suite, const char *name, struct cim_model *m);

/* ---- items of the root (layer = CIM_MW_ROOT) or of layer `layer` ---- */

/* The item; fails the test when it does not exist. */
cim_mw_item *cim_mw_find(cim_mw_model *m, int layer, const char *name);
void cim_mw_remove(cim_mw_model *m, int layer, const char *name);

/* Add or replace: an integer attribute (scalar, I32); an integer array
 * attribute or dataset of `rank` x `dims` (values in C order) and file type;
 * a string attribute (NULLPAD); a scalar F64 attribute. */
cim_mw_item *cim_mw_set_int(cim_mw_model *m, int layer, const char *name, int64_t value);
cim_mw_item *cim_mw_set_ints(cim_mw_model *m, int layer, const char *name, int is_dataset,
                             cim_mw_type type, int rank, const int64_t *dims,
                             const int64_t *values);
cim_mw_item *cim_mw_set_string(cim_mw_model *m, int layer, const char *name, const char *text);
cim_mw_item *cim_mw_set_float(cim_mw_model *m, int layer, const char *name, double value);

/* Adds or replaces dataset `name` with one of `rank` x `dims` whose values
 * are never written: chunked, no chunk allocated, every element reading as
 * `fill`. The file holds only its shape, so a dataset of any declared size
 * takes a few hundred bytes (a model can declare a huge layer in a small
 * file). The item has no values to edit. */
cim_mw_item *cim_mw_set_unwritten(cim_mw_model *m, int layer, const char *name, cim_mw_type type,
                                  int rank, const int64_t *dims, int64_t fill);

/* One value of an existing item, by flat C-order index. */
void cim_mw_set_value(cim_mw_model *m, int layer, const char *name, int64_t index, int64_t value);
/* The shape of an existing item; values are re-sized, new ones are 1. */
void cim_mw_set_shape(cim_mw_model *m, int layer, const char *name, int rank, const int64_t *dims);
/* Renames layer `layer`'s group. */
void cim_mw_rename(cim_mw_model *m, int layer, const char *name);

/* Writes the file (truncating). 0, or -1 when HDF5 fails. */
int cim_mw_write(const cim_mw_model *m, const char *path);

#endif /* CIM_MODEL_WRITER_H */
