/* cim_test_h5.c -- see cim_test_h5.h. */
#include "cim_test_h5.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cim_test_util.h"

char *cim_test_read_string_attr(hid_t loc, const char *name)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT), type;
    char *value = NULL, *copy;
    if (attr < 0)
        fail_msg("attribute %s missing", name);
    type = H5Tcopy(H5T_C_S1);
    assert_true(H5Tset_size(type, H5T_VARIABLE) >= 0);
    assert_true(H5Tset_cset(type, H5T_CSET_UTF8) >= 0);
    assert_true(H5Aread(attr, type, &value) >= 0);
    copy = strdup(value ? value : "");
    assert_non_null(copy);
    H5free_memory(value);
    H5Tclose(type);
    H5Aclose(attr);
    return copy;
}

void cim_test_assert_string_attr(hid_t loc, const char *name, const char *expected)
{
    char *v = cim_test_read_string_attr(loc, name);
    if (strcmp(v, expected) != 0)
        fail_msg("attribute %s = \"%s\", expected \"%s\"", name, v, expected);
    free(v);
}

void *cim_test_read_dataset(hid_t file, const char *name, hid_t mem_type, int *rank, hsize_t *dims)
{
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT), space;
    size_t n = 1;
    void *data;
    if (dset < 0)
        fail_msg("dataset %s missing", name);
    space = H5Dget_space(dset);
    *rank = H5Sget_simple_extent_ndims(space);
    assert_true(*rank >= 0 && *rank <= 8);
    H5Sget_simple_extent_dims(space, dims, NULL);
    for (int a = 0; a < *rank; ++a)
        n *= dims[a];
    data = malloc(n * H5Tget_size(mem_type) + 1);
    assert_non_null(data);
    assert_true(H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Sclose(space);
    H5Dclose(dset);
    return data;
}

int64_t cim_test_trials_written(const char *path, const char *rows_of)
{
    int64_t n = -1;
    hid_t file, dset;
    if (!cim_test_exists(path))
        return -1;
    file = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
    if (file < 0)
        return -1;
    dset = H5Dopen2(file, "trials_written", H5P_DEFAULT);
    if (dset < 0 || H5Dread(dset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &n) < 0)
        n = -1;
    if (dset >= 0 && rows_of) {
        /* the rows it counts are there */
        hid_t rows_ds = H5Dopen2(file, rows_of, H5P_DEFAULT), space;
        hsize_t rows = 0;
        assert_true(rows_ds >= 0);
        space = H5Dget_space(rows_ds);
        H5Sget_simple_extent_dims(space, &rows, NULL);
        H5Sclose(space);
        H5Dclose(rows_ds);
        if (n >= 0 && rows < (hsize_t)n)
            fail_msg("%s: trials_written %lld but /%s has %llu rows", path, (long long)n, rows_of,
                     (unsigned long long)rows);
    }
    if (dset >= 0)
        H5Dclose(dset);
    H5Fclose(file);
    return n;
}
