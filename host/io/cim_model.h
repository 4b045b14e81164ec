/* cim_model.h -- a cimgpu model file (data/model_format.md, `cimgpu-model`
 * versions 1 and 2) loaded into plain C structs and validated as a whole.
 *
 * cim_model_load() reads every root attribute and every layer group, checks
 * every rule of model_format.md (types, ranks, dimensions, the value alphabets
 * of rule K, the int32 ranges of rules R and B, layer naming and order, the
 * layer graph of version 2, and the shape and alphabet of every tensor from
 * input_shape to num_classes) and cimgpu's size limits below, and records per
 * layer its inputs, the shape and alphabet of its (first) input and of its
 * output, its output's bound and its last user. Every shape rule, every dataset's stored dimensions
 * and the limits are checked for the whole model before any dataset is allocated, so a small file
 * that declares a huge layer costs nothing. A model that loads is one the integer forward pass
 * (cim_forward.h) can run without any further check: every value fits int32, every index is in
 * range.
 *
 * The struct is caller-owned and filled by cim_model_load(); everything it
 * points to belongs to it and is released by cim_model_free(), which also
 * accepts a zeroed or failed-to-load struct. On failure the struct is zeroed
 * and the one-line message names the file, the layer, the item and what was
 * expected, e.g.
 *   model.h5: layer 003_conv2d: dataset "weight" has shape [64,32,3,3],
 *   expected [64,16,3,3]
 * Every failure about the file is CIM_ERR_INPUT (missing, unreadable, not
 * HDF5, truncated, invalid); out of memory is CIM_ERR_NOMEM.
 */
#ifndef CIM_MODEL_H
#define CIM_MODEL_H

#include <stdint.h>

#include "cim_error.h"

#define CIM_MODEL_FORMAT "cimgpu-model"
#define CIM_MODEL_FORMAT_VERSION 2                   /* the newest; 1 and 2 are read */
#define CIM_MODEL_MAX_LAYERS 1000                    /* names are NNN_<type> */
#define CIM_MODEL_MAX_FAN_IN ((int64_t)1 << 20)      /* rule R: in_features, in_channels*kh*kw */
#define CIM_MODEL_THRESHOLD_LIMIT ((int64_t)1 << 30) /* rule R: |threshold_lo|, |threshold_hi| */
#define CIM_MODEL_BOUND_MAX (((int64_t)1 << 28) - 1) /* rule B: |value| of any tensor */
#define CIM_MODEL_MAX_INPUTS 16                      /* inputs of an add or concat */
#define CIM_MODEL_SCALE_MAX ((int64_t)1 << 15)       /* |scale| of an add input */
#define CIM_MODEL_INPUT (-1)                         /* the index naming the model input */
#define CIM_MODEL_PIXEL_MAX 255                      /* raw_uint8 input */
/* Beyond the format: every tensor (input, any layer's output) holds at most
 * this many elements, so that offsets into it are int32. */
#define CIM_MODEL_MAX_TENSOR ((int64_t)INT32_MAX)
/* Beyond the format: the datasets of a whole model (every weight, threshold
 * and flip) hold at most this many values together, 2^26 = 67 108 864 (at
 * most 256 MiB once loaded). Checked from the declared shapes, with every
 * layer's shapes and every dataset's stored dimensions, before anything is
 * allocated or read. */
#define CIM_MODEL_MAX_VALUES ((int64_t)1 << 26)
#define CIM_MODEL_LAYER_NAME_MAX 64 /* "003_batchnorm_threshold" and room to spare */
#define CIM_MODEL_SHA256_HEX_LEN 64

typedef enum cim_model_kind {
    CIM_MODEL_BNN, /* weights and activations in {-1,+1}, activation layers `sign` */
    CIM_MODEL_TNN, /* weights and activations in {-1,0,+1}, activation layers `ternary` */
} cim_model_kind;

typedef enum cim_layer_type {
    CIM_LAYER_DENSE,
    CIM_LAYER_CONV2D,
    CIM_LAYER_BATCHNORM_THRESHOLD,
    CIM_LAYER_MAXPOOL2D,
    CIM_LAYER_FLATTEN,
    CIM_LAYER_SIGN,
    CIM_LAYER_TERNARY,
    CIM_LAYER_ADD,            /* version 2 */
    CIM_LAYER_CONCAT,         /* version 2 */
    CIM_LAYER_SUMPOOL2D,      /* version 2 */
    CIM_LAYER_GLOBAL_SUMPOOL, /* version 2 */
    CIM_LAYER_TYPE_COUNT
} cim_layer_type;

/* The values a tensor can hold (model_format.md §5). The format's `act`
 * alphabet is split by kind: BINARY for bnn, TERNARY for tnn. */
typedef enum cim_alphabet {
    CIM_ALPHABET_IMAGE,   /* raw pixels 0..255: the input, also through maxpool2d/flatten */
    CIM_ALPHABET_PRE,     /* dense/conv2d output: any integer, |z| < 2^28 */
    CIM_ALPHABET_BN,      /* batchnorm_threshold output */
    CIM_ALPHABET_BINARY,  /* sign output: {-1,+1} */
    CIM_ALPHABET_TERNARY, /* ternary output: {-1,0,+1} */
} cim_alphabet;

/* A tensor of one image: rank 3 [C, H, W] or rank 1 [N] (dim[1], dim[2] = 1). */
typedef struct cim_shape {
    int32_t rank;
    int32_t dim[3];
} cim_shape;

typedef struct cim_dense {
    int32_t in_features, out_features;
    int8_t *weight; /* [out_features][in_features] */
} cim_dense;

typedef struct cim_conv2d {
    int32_t in_channels, out_channels;
    int32_t kernel[2];  /* kh, kw */
    int32_t stride[2];  /* sh, sw */
    int32_t padding[2]; /* ph, pw: rows added top and bottom, columns left and right */
    int32_t pad_value;  /* a value of the input's alphabet; 0 when padding is [0,0] */
    int8_t *weight;     /* [out_channels][in_channels][kh][kw] */
} cim_conv2d;

typedef struct cim_maxpool2d { /* also sumpool2d's window */
    int32_t kernel[2];
    int32_t stride[2];
} cim_maxpool2d;

typedef struct cim_add {
    int32_t scale[CIM_MODEL_MAX_INPUTS]; /* per input, nonzero, |scale| <= 2^15 */
} cim_add;

typedef struct cim_batchnorm_threshold {
    int32_t channels;
    int32_t *threshold_lo; /* [channels], within +-2^30, lo <= hi + 1 */
    int32_t *threshold_hi; /* [channels] */
    int8_t *flip;          /* [channels], -1 or +1 */
} cim_batchnorm_threshold;

typedef struct cim_layer {
    cim_layer_type type;
    char name[CIM_MODEL_LAYER_NAME_MAX]; /* the group's name, e.g. "003_conv2d" */
    /* The tensors it takes: indices of the layers whose outputs they are,
     * CIM_MODEL_INPUT for the model input (version 1: the previous layer).
     * add and concat take 2 .. CIM_MODEL_MAX_INPUTS, every other type 1. */
    int32_t n_inputs;
    int32_t inputs[CIM_MODEL_MAX_INPUTS];
    cim_shape in_shape, out_shape; /* in_*: of inputs[0] */
    cim_alphabet in_alphabet, out_alphabet;
    int64_t out_bound; /* rule B: |every output value| <= out_bound */
    /* The index of the last layer that takes this layer's output;
     * num_layers for the last layer (the model's output). */
    int32_t last_use;
    union { /* the member named by `type`; flatten, sign, ternary, concat and
             * global_sumpool have none */
        cim_dense dense;
        cim_conv2d conv2d;
        cim_maxpool2d maxpool2d; /* maxpool2d and sumpool2d */
        cim_batchnorm_threshold bn;
        cim_add add;
    };
} cim_layer;

typedef struct cim_model {
    char *path;                                    /* as given to cim_model_load */
    char sha256_hex[CIM_MODEL_SHA256_HEX_LEN + 1]; /* of the file's bytes, lowercase hex */

    /* required root attributes (format, format_version and input_preprocessing
     * have one allowed value each and are not stored) */
    int32_t format_version; /* 1 or 2 */
    char *name;
    cim_model_kind kind;
    cim_shape input_shape; /* rank 3 */
    int32_t num_classes;
    int32_t num_layers;

    /* optional root attributes: NULL, or has_* = 0, when absent */
    char *dataset;
    char *description;
    char *training_tool;
    char *training_config;
    int has_train_seed, has_digital_test_accuracy, has_digital_test_correct,
        has_digital_test_images;
    int64_t train_seed;
    double digital_test_accuracy;
    int64_t digital_test_correct;
    int64_t digital_test_images;

    cim_layer *layers; /* num_layers, in index order */

    /* derived */
    int64_t weight_count;   /* weights of all dense and conv2d layers */
    int64_t macs_per_image; /* weight uses of all dense and conv2d layers */
    int64_t max_tensor;     /* elements of the largest tensor (the input or a layer output) */
    int32_t input_last_use; /* the last layer that takes the model input */
} cim_model;

/* Loads and validates `path`. 0, or CIM_ERR_INPUT / CIM_ERR_NOMEM with one
 * line in err; on failure *m is zeroed. HDF5's automatic error printing is
 * off while it runs and restored afterwards. */
int cim_model_load(const char *path, cim_model *m, cim_error *err);

/* Releases everything *m owns and zeroes it; NULL and zeroed structs are fine. */
void cim_model_free(cim_model *m);

/* Lowercase SHA-256 of the file's bytes into hex (65 bytes with the NUL).
 * 0, or CIM_ERR_INPUT when the file cannot be read (CIM_ERR_NOMEM). */
int cim_file_sha256_hex(const char *path, char hex[CIM_MODEL_SHA256_HEX_LEN + 1], cim_error *err);

/* Names as the file writes them: "dense", "conv2d", ...; "bnn", "tnn". */
const char *cim_layer_type_name(cim_layer_type type);
const char *cim_model_kind_name(cim_model_kind kind);
/* "raw uint8", "pre-activation", "batchnorm output", "{-1,+1}", "{-1,0,+1}" */
const char *cim_alphabet_name(cim_alphabet alphabet);

/* Elements of a tensor of this shape. */
int64_t cim_shape_size(const cim_shape *shape);

/* The shape of tensor t: the model input for CIM_MODEL_INPUT, else the
 * output of layer t. */
const cim_shape *cim_model_tensor_shape(const cim_model *m, int32_t t);

#endif /* CIM_MODEL_H */
