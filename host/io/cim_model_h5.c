/* cim_model_h5.c -- typed reading of one item of a model file: an integer,
 * float or string attribute, or an integer dataset of an exact shape.
 *
 * The format accepts any HDF5 integer type for integer items (any width,
 * signed or unsigned, either byte order) and rejects every other type class,
 * so each reader checks the class first, then the dataspace (a scalar is a
 * SCALAR dataspace or SIMPLE [1]; arrays and datasets have an exact shape, no
 * broadcasting), then reads through HDF5's conversion into int64 (unsigned
 * types through uint64, saturated at INT64_MAX, so that no value wraps).
 * Datasets are read in blocks of whole rows along their first dimension,
 * so memory beyond the caller's output stays small whatever the shape; each
 * block is checked value by value before it is stored, and the first value
 * that breaks the rule is named with its index in C order.
 *
 * Every identifier opened here is closed here, on every path. A failure of
 * HDF5 itself (an unreadable object in a corrupt file) becomes CIM_ERR_INPUT
 * with the innermost description of HDF5's error stack appended.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_model_internal.h"

#define READ_BLOCK_VALUES ((int64_t)1 << 18) /* int64 values read per block, 2 MiB */
#define HDF5_DETAIL_MAX 160
#define DIMS_TEXT_MAX 128

/* ---------------------------------------------------------------------------
 * Shared pieces
 */

static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc)
        snprintf((char *)data, HDF5_DETAIL_MAX, "%s", e->desc);
    return 0;
}

/* "cannot be read (HDF5: <innermost error>)" for a failed HDF5 call. */
static int h5_failure(cim_error *err, const char *where, const char *item_kind, const char *name,
                      const char *what)
{
    char detail[HDF5_DETAIL_MAX] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_innermost, detail);
    for (char *c = detail; *c; ++c)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    return cim_error_set(err, CIM_ERR_INPUT, "%s: %s \"%s\" cannot be %s%s%s%s", where, item_kind,
                         name, what, detail[0] ? " (HDF5: " : "", detail, detail[0] ? ")" : "");
}

void cim_format_dims(char *buf, size_t n, int rank, const int64_t *dims)
{
    size_t used = 0;
    used += (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < rank && used < n; ++i)
        used += (size_t)snprintf(buf + used, n - used, "%s%" PRId64, i ? "," : "", dims[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
}

static const char *class_noun(H5T_class_t c)
{
    switch (c) {
    case H5T_INTEGER:
        return "integer";
    case H5T_FLOAT:
        return "float";
    case H5T_STRING:
        return "string";
    case H5T_BITFIELD:
        return "bitfield";
    case H5T_OPAQUE:
        return "opaque";
    case H5T_COMPOUND:
        return "compound";
    case H5T_REFERENCE:
        return "reference";
    case H5T_ENUM:
        return "enum";
    case H5T_VLEN:
        return "variable-length sequence";
    case H5T_ARRAY:
        return "array";
    case H5T_TIME:
        return "time";
    default:
        return "unknown";
    }
}

/* The extent of a dataspace: rank -1 for a NULL dataspace, 0 for SCALAR. */
typedef struct extent {
    int rank;
    int64_t dims[H5S_MAX_RANK];
} extent;

static int get_extent(hid_t space, extent *e)
{
    H5S_class_t c = H5Sget_simple_extent_type(space);
    hsize_t dims[H5S_MAX_RANK];
    e->rank = -1;
    if (c == H5S_NULL)
        return 0;
    if (c == H5S_SCALAR) {
        e->rank = 0;
        return 0;
    }
    int rank = H5Sget_simple_extent_dims(space, dims, NULL);
    if (c != H5S_SIMPLE || rank < 0)
        return -1;
    e->rank = rank;
    for (int i = 0; i < rank; ++i)
        e->dims[i] = dims[i] > (hsize_t)INT64_MAX ? INT64_MAX : (int64_t)dims[i];
    return 0;
}

/* "is a scalar", "has shape [3,2]" or "has a null dataspace", for messages. */
static void describe_extent(char *buf, size_t n, const extent *e)
{
    if (e->rank < 0) {
        snprintf(buf, n, "has a null dataspace");
    } else if (e->rank == 0) {
        snprintf(buf, n, "is a scalar");
    } else {
        char dims[DIMS_TEXT_MAX];
        cim_format_dims(dims, sizeof dims, e->rank, e->dims);
        snprintf(buf, n, "has shape %s", dims);
    }
}

/* Reads n integers of file type `type` from attribute or dataset `obj` into
 * int64, through uint64 for unsigned types. `is_attr` picks H5Aread. */
static herr_t read_int64(hid_t obj, int is_attr, hid_t type, hid_t mem_space, hid_t file_space,
                         int64_t *out, size_t n)
{
    int is_unsigned = H5Tget_sign(type) == H5T_SGN_NONE;
    hid_t mem_type = is_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64;
    herr_t st = is_attr ? H5Aread(obj, mem_type, out)
                        : H5Dread(obj, mem_type, mem_space, file_space, H5P_DEFAULT, out);
    if (st >= 0 && is_unsigned) {
        for (size_t i = 0; i < n; ++i) {
            uint64_t u;
            memcpy(&u, &out[i], sizeof u);
            out[i] = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
        }
    }
    return st;
}

/* ---------------------------------------------------------------------------
 * Attributes
 */

typedef struct attr_handles {
    hid_t attr, type, space;
} attr_handles;

static void attr_close(attr_handles *h)
{
    if (h->space >= 0)
        H5Sclose(h->space);
    if (h->type >= 0)
        H5Tclose(h->type);
    if (h->attr >= 0)
        H5Aclose(h->attr);
    h->attr = h->type = h->space = -1;
}

/* Opens attribute `name` of `loc` and its type and dataspace. 1 when it was
 * opened, 0 when it does not exist, or an error code. */
static int attr_open(const char *where, hid_t loc, const char *name, attr_handles *h,
                     cim_error *err)
{
    h->attr = h->type = h->space = -1;
    htri_t exists = H5Aexists(loc, name);
    if (exists < 0)
        return h5_failure(err, where, "attribute", name, "looked up");
    if (exists == 0)
        return 0;
    h->attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (h->attr >= 0)
        h->type = H5Aget_type(h->attr);
    if (h->type >= 0)
        h->space = H5Aget_space(h->attr);
    if (h->space < 0) {
        int rc = h5_failure(err, where, "attribute", name, "opened");
        attr_close(h);
        return rc;
    }
    return 1;
}

/* An integer attribute of lo .. hi values (rank 1), or one value stored as
 * a scalar (or [1]) when `scalar_ok`, into out[0 .. *n); `expected` says
 * what is wanted in messages, `shape_expected` after a wrong shape. 0 with
 * *present = 0 when missing. */
static int read_int_attr(const char *where, hid_t loc, const char *name, int64_t lo, int64_t hi,
                         int scalar_ok, const char *expected, const char *shape_expected,
                         int64_t *out, int *n, int *present, cim_error *err)
{
    *present = 0;
    *n = 0;
    attr_handles h;
    int rc = attr_open(where, loc, name, &h, err);
    if (rc <= 0)
        return rc;
    H5T_class_t cls = H5Tget_class(h.type);
    extent e;
    if (cls != H5T_INTEGER) {
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" has type %s, expected %s",
                           where, name, class_noun(cls), expected);
    } else if (get_extent(h.space, &e) < 0) {
        rc = h5_failure(err, where, "attribute", name, "read");
    } else if (!((scalar_ok && (e.rank == 0 || (e.rank == 1 && e.dims[0] == 1))) ||
                 (e.rank == 1 && e.dims[0] >= lo && e.dims[0] <= hi))) {
        char got[DIMS_TEXT_MAX + 32];
        describe_extent(got, sizeof got, &e);
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" %s, expected %s", where, name,
                           got, shape_expected);
    } else {
        const int count = e.rank == 0 ? 1 : (int)e.dims[0];
        if (read_int64(h.attr, 1, h.type, H5S_ALL, H5S_ALL, out, (size_t)count) < 0) {
            rc = h5_failure(err, where, "attribute", name, "read");
        } else {
            rc = 0;
            *n = count;
            *present = 1;
        }
    }
    attr_close(&h);
    return rc;
}

int cim_mh5_int_attr(const char *where, hid_t loc, const char *name, int length, int required,
                     int64_t *out, int *present, cim_error *err)
{
    char expected[48];
    if (length == 0)
        snprintf(expected, sizeof expected, "an integer");
    else
        snprintf(expected, sizeof expected, "%d integers", length);
    int found = 0, n = 0;
    int rc = read_int_attr(where, loc, name, length, length, length == 0, expected,
                           length == 0 ? "a scalar integer" : expected, out, &n, &found, err);
    if (present)
        *present = found;
    if (rc == 0 && !found && required)
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" is missing, expected %s",
                           where, name, expected);
    return rc;
}

int cim_mh5_int_list_attr(const char *where, hid_t loc, const char *name, int max, int64_t *out,
                          int *n, int *present, cim_error *err)
{
    char expected[48];
    snprintf(expected, sizeof expected, "1 to %d integers", max);
    return read_int_attr(where, loc, name, 1, max, 1, expected, expected, out, n, present, err);
}

int cim_mh5_float_attr(const char *where, hid_t loc, const char *name, double *out, int *present,
                       cim_error *err)
{
    *present = 0;
    attr_handles h;
    int rc = attr_open(where, loc, name, &h, err);
    if (rc <= 0)
        return rc;
    H5T_class_t cls = H5Tget_class(h.type);
    extent e;
    if (cls != H5T_FLOAT) {
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "%s: attribute \"%s\" has type %s, expected a scalar float", where, name,
                           class_noun(cls));
    } else if (get_extent(h.space, &e) < 0) {
        rc = h5_failure(err, where, "attribute", name, "read");
    } else if (!(e.rank == 0 || (e.rank == 1 && e.dims[0] == 1))) {
        char got[DIMS_TEXT_MAX + 32];
        describe_extent(got, sizeof got, &e);
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" %s, expected a scalar float",
                           where, name, got);
    } else if (H5Aread(h.attr, H5T_NATIVE_DOUBLE, out) < 0) {
        rc = h5_failure(err, where, "attribute", name, "read");
    } else {
        rc = 0;
        *present = 1;
    }
    attr_close(&h);
    return rc;
}

/* Reads a scalar string attribute whose handles are open into *out, *len. */
static int read_string(const char *where, const char *name, const attr_handles *h, char **out,
                       size_t *len, cim_error *err)
{
    htri_t is_vlen = H5Tis_variable_str(h->type);
    if (is_vlen < 0)
        return h5_failure(err, where, "attribute", name, "read");
    char *text = NULL;
    size_t n = 0;
    if (is_vlen) {
        hid_t mem = H5Tcopy(H5T_C_S1);
        char *value = NULL;
        herr_t st = -1;
        if (mem >= 0 && H5Tset_size(mem, H5T_VARIABLE) >= 0 &&
            H5Tset_cset(mem, H5Tget_cset(h->type)) >= 0)
            st = H5Aread(h->attr, mem, &value);
        int rc = st < 0 ? h5_failure(err, where, "attribute", name, "read") : 0;
        if (mem >= 0)
            H5Tclose(mem);
        if (rc)
            return rc;
        n = value ? strlen(value) : 0;
        text = malloc(n + 1);
        if (text)
            memcpy(text, value ? value : "", n + 1);
        if (value)
            H5free_memory(value);
    } else {
        n = H5Tget_size(h->type);
        text = malloc(n + 1);
        if (text && H5Aread(h->attr, h->type, text) < 0) {
            free(text);
            return h5_failure(err, where, "attribute", name, "read");
        }
    }
    if (!text)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory reading attribute \"%s\"",
                             where, name);
    while (n > 0 && text[n - 1] == '\0')
        --n;
    text[n] = '\0';
    *out = text;
    *len = n;
    return 0;
}

int cim_mh5_string_attr(const char *where, hid_t loc, const char *name, int required, char **out,
                        size_t *len, cim_error *err)
{
    *out = NULL;
    *len = 0;
    attr_handles h;
    int rc = attr_open(where, loc, name, &h, err);
    if (rc <= 0) {
        if (rc == 0 && required)
            rc = cim_error_set(err, CIM_ERR_INPUT,
                               "%s: attribute \"%s\" is missing, expected a string", where, name);
        return rc;
    }
    H5T_class_t cls = H5Tget_class(h.type);
    extent e;
    if (cls != H5T_STRING) {
        rc =
            cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" has type %s, expected a string",
                          where, name, class_noun(cls));
    } else if (get_extent(h.space, &e) < 0) {
        rc = h5_failure(err, where, "attribute", name, "read");
    } else if (e.rank != 0) {
        char got[DIMS_TEXT_MAX + 32];
        describe_extent(got, sizeof got, &e);
        rc = cim_error_set(err, CIM_ERR_INPUT, "%s: attribute \"%s\" %s, expected a scalar string",
                           where, name, got);
    } else {
        rc = read_string(where, name, &h, out, len, err);
    }
    attr_close(&h);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Datasets
 */

/* The C-order index of flat offset `flat` in `dims`, as "[5,1,0,2]". */
static void format_index(char *buf, size_t n, int rank, const int64_t *dims, int64_t flat)
{
    int64_t index[H5S_MAX_RANK];
    for (int i = rank - 1; i >= 0; --i) {
        index[i] = flat % dims[i];
        flat /= dims[i];
    }
    cim_format_dims(buf, n, rank, index);
}

static int value_ok(const cim_value_rule *rule, int64_t v)
{
    return v >= rule->min && v <= rule->max && !(rule->no_zero && v == 0);
}

/* Reads the dataset in blocks of rows and stores every checked value. */
static int read_checked(const char *where, const char *name, hid_t ds, hid_t type, hid_t fspace,
                        int rank, const int64_t *dims, const cim_value_rule *rule, void *out,
                        size_t elem_size, cim_error *err)
{
    int64_t row = 1;
    for (int i = 1; i < rank; ++i)
        row *= dims[i];
    int64_t rows_per_block = READ_BLOCK_VALUES / row > 0 ? READ_BLOCK_VALUES / row : 1;
    if (rows_per_block > dims[0])
        rows_per_block = dims[0];
    int64_t *buf = malloc((size_t)(rows_per_block * row) * sizeof *buf);
    if (!buf)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory reading dataset \"%s\"", where,
                             name);
    int rc = 0;
    for (int64_t r0 = 0; r0 < dims[0] && rc == 0; r0 += rows_per_block) {
        int64_t nr = dims[0] - r0 < rows_per_block ? dims[0] - r0 : rows_per_block;
        hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
        start[0] = (hsize_t)r0;
        count[0] = (hsize_t)nr;
        for (int i = 1; i < rank; ++i)
            count[i] = (hsize_t)dims[i];
        hsize_t n_values = (hsize_t)(nr * row);
        hid_t mspace = H5Screate_simple(1, &n_values, NULL);
        herr_t st =
            mspace < 0 ? -1 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
        if (st >= 0)
            st = read_int64(ds, 0, type, mspace, fspace, buf, (size_t)n_values);
        if (st < 0) /* before H5Sclose, whose success clears HDF5's error stack */
            rc = h5_failure(err, where, "dataset", name, "read");
        if (mspace >= 0)
            H5Sclose(mspace);
        if (rc)
            break;
        for (int64_t i = 0; i < nr * row; ++i) {
            int64_t v = buf[i], flat = r0 * row + i;
            if (!value_ok(rule, v)) {
                char at[DIMS_TEXT_MAX];
                format_index(at, sizeof at, rank, dims, flat);
                rc = cim_error_set(err, CIM_ERR_INPUT,
                                   "%s: dataset \"%s\" has value %" PRId64 "%s at %s, expected %s",
                                   where, name, v, v == INT64_MAX ? " or more" : "", at,
                                   rule->expected);
                break;
            }
            if (elem_size == 1)
                ((int8_t *)out)[flat] = (int8_t)v;
            else
                ((int32_t *)out)[flat] = (int32_t)v;
        }
    }
    free(buf);
    return rc;
}

/* An open dataset and its type and dataspace. */
typedef struct dataset_handles {
    hid_t obj, type, space;
} dataset_handles;

static void dataset_close(dataset_handles *h)
{
    if (h->space >= 0)
        H5Sclose(h->space);
    if (h->type >= 0)
        H5Tclose(h->type);
    if (h->obj >= 0)
        H5Oclose(h->obj);
    h->obj = h->type = h->space = -1;
}

/* Opens dataset `name` of `loc` and checks that it is an integer dataset of
 * exactly `rank` x `dims` as stored in the file. 0 with *h open, or an error
 * code with *h closed. */
static int dataset_open(const char *where, hid_t loc, const char *name, int rank,
                        const int64_t *dims, dataset_handles *h, cim_error *err)
{
    h->obj = h->type = h->space = -1;
    char want[DIMS_TEXT_MAX];
    cim_format_dims(want, sizeof want, rank, dims);
    htri_t exists = H5Lexists(loc, name, H5P_DEFAULT);
    if (exists < 0)
        return h5_failure(err, where, "dataset", name, "looked up");
    h->obj = exists ? H5Oopen(loc, name, H5P_DEFAULT) : -1;
    if (h->obj < 0)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: dataset \"%s\" is missing, expected integers of shape %s", where,
                             name, want);
    int rc = 0;
    extent e;
    if (H5Iget_type(h->obj) != H5I_DATASET) {
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "%s: \"%s\" is not a dataset, expected integers of shape %s", where,
                           name, want);
    } else if ((h->type = H5Dget_type(h->obj)) < 0 || (h->space = H5Dget_space(h->obj)) < 0 ||
               get_extent(h->space, &e) < 0) {
        rc = h5_failure(err, where, "dataset", name, "opened");
    } else if (H5Tget_class(h->type) != H5T_INTEGER) {
        rc = cim_error_set(err, CIM_ERR_INPUT,
                           "%s: dataset \"%s\" has type %s, expected integers of shape %s", where,
                           name, class_noun(H5Tget_class(h->type)), want);
    } else {
        int same = e.rank == rank;
        for (int i = 0; same && i < rank; ++i)
            same = e.dims[i] == dims[i];
        if (!same) {
            char got[DIMS_TEXT_MAX + 32];
            describe_extent(got, sizeof got, &e);
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: dataset \"%s\" %s, expected %s", where,
                               name, got, want);
        }
    }
    if (rc)
        dataset_close(h);
    return rc;
}

int cim_mh5_int_dataset_check(const char *where, hid_t loc, const char *name, int rank,
                              const int64_t *dims, cim_error *err)
{
    dataset_handles h;
    int rc = dataset_open(where, loc, name, rank, dims, &h, err);
    if (rc == 0)
        dataset_close(&h);
    return rc;
}

int cim_mh5_int_dataset(const char *where, hid_t loc, const char *name, int rank,
                        const int64_t *dims, const cim_value_rule *rule, size_t elem_size,
                        void **out, cim_error *err)
{
    dataset_handles h;
    int rc = dataset_open(where, loc, name, rank, dims, &h, err);
    if (rc)
        return rc;
    int64_t count = 1;
    for (int i = 0; i < rank; ++i)
        count *= dims[i];
    void *values = malloc((size_t)count * elem_size);
    if (!values)
        rc = cim_error_set(err, CIM_ERR_NOMEM,
                           "%s: out of memory for dataset \"%s\" (%" PRId64 " values)", where, name,
                           count);
    else
        rc = read_checked(where, name, h.obj, h.type, h.space, rank, dims, rule, values, elem_size,
                          err);
    if (rc == 0)
        *out = values;
    else
        free(values);
    dataset_close(&h);
    return rc;
}
