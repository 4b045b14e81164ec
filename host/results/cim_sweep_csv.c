/* cim_sweep_csv.c -- see cim_sweep_csv.h. */
#include "cim_sweep_csv.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cim_h5util.h"
#include "cim_text.h"
#include "h5_sweep.h"

#define MAX_COLUMNS 256
#define MAX_PARTS 4

/* The reference flow's accuracy columns (percent) and the statistics they
 * come from. */
static const struct {
    const char *name, *stat;
} percent_columns[] = {{"top1", "top1_mean"},
                       {"top5", "top5_mean"},
                       {"top1_baseline", "top1_baseline"},
                       {"top5_baseline", "top5_baseline"}};

typedef struct column {
    char *name;
    int text, flag, width;
    char *parts[MAX_PARTS];
    double *num; /* [C * width] */
    char **str;  /* [C] */
} column;

typedef struct table {
    const char *path;
    hid_t file;
    int64_t configs;
    column cols[MAX_COLUMNS];
    int n_cols;
    column stats[MAX_COLUMNS];
    int n_stats;
} table;

static int not_a_sweep(const table *t, const char *what, cim_error *err)
{
    return cim_error_set(err, CIM_ERR_INPUT, "%s: not a cimgpu sweep results file (%s)", t->path,
                         what);
}

/* A 1-D string attribute's values (variable length), malloc'd each. */
static int read_string_list(hid_t loc, const char *name, char **out, int max, int *n)
{
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t space = attr < 0 ? -1 : H5Aget_space(attr);
    hid_t ftype = attr < 0 ? -1 : H5Aget_type(attr);
    hid_t type = H5Tcopy(H5T_C_S1);
    hssize_t count = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    int ok = 0;
    /* the file's character set: HDF5 has no conversion between two */
    if (type >= 0 && ftype >= 0 && H5Tset_size(type, H5T_VARIABLE) >= 0 &&
        H5Tset_cset(type, H5Tget_cset(ftype)) >= 0 && count >= 0 && count <= max) {
        char **v = calloc((size_t)(count ? count : 1), sizeof *v);
        if (v && (count == 0 || H5Aread(attr, type, v) >= 0)) {
            ok = 1;
            for (hssize_t i = 0; i < count; ++i) {
                out[i] = strdup(v[i] ? v[i] : "");
                ok &= out[i] != NULL;
            }
            if (count > 0)
                H5Dvlen_reclaim(type, space, H5P_DEFAULT, v);
            *n = (int)count;
        }
        free(v);
    }
    if (type >= 0)
        H5Tclose(type);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (space >= 0)
        H5Sclose(space);
    if (attr >= 0)
        H5Aclose(attr);
    return ok ? 0 : -1;
}

static int read_column(table *t, const char *group, const char *name, column *c, cim_error *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", group, name);
    hid_t dset = H5Dopen2(t->file, path, H5P_DEFAULT);
    hid_t space = dset < 0 ? -1 : H5Dget_space(dset);
    hid_t ftype = dset < 0 ? -1 : H5Dget_type(dset);
    hsize_t dims[2] = {0, 1};
    int rank = space < 0 ? -1 : H5Sget_simple_extent_ndims(space), ok = 0;
    if (rank >= 1 && rank <= 2 && H5Sget_simple_extent_dims(space, dims, NULL) == rank &&
        dims[0] == (hsize_t)t->configs && dims[1] <= MAX_PARTS && (c->name = strdup(name))) {
        const H5T_class_t cls = H5Tget_class(ftype);
        c->width = (int)dims[1];
        if (cls == H5T_STRING && rank == 1) {
            hid_t type = H5Tcopy(H5T_C_S1);
            c->text = 1;
            c->str = calloc((size_t)t->configs, sizeof *c->str);
            ok = type >= 0 && H5Tset_size(type, H5T_VARIABLE) >= 0 &&
                 H5Tset_cset(type, H5Tget_cset(ftype)) >= 0 && c->str &&
                 H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->str) >= 0;
            if (type >= 0)
                H5Tclose(type);
        } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
            c->flag = cls == H5T_INTEGER && H5Tget_size(ftype) == 1;
            c->num = malloc(sizeof *c->num * (size_t)t->configs * (size_t)c->width);
            ok = c->num &&
                 H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->num) >= 0;
            int n = 0;
            if (ok && c->width > 1)
                ok = read_string_list(dset, "columns", c->parts, MAX_PARTS, &n) == 0 &&
                     n == c->width;
        }
    }
    if (ftype >= 0)
        H5Tclose(ftype);
    if (space >= 0)
        H5Sclose(space);
    if (dset >= 0)
        H5Dclose(dset);
    return ok ? 0 : not_a_sweep(t, path, err);
}

static void free_column(column *c, int64_t configs)
{
    free(c->name);
    for (int i = 0; i < MAX_PARTS; ++i)
        free(c->parts[i]);
    free(c->num);
    if (c->str)
        for (int64_t i = 0; i < configs; ++i)
            free(c->str[i]); /* HDF5 allocates variable-length strings with malloc */
    free(c->str);
}

static int load(table *t, cim_error *err)
{
    char *format = NULL, *keys[MAX_COLUMNS];
    int n_keys = 0, rc = 0;
    hid_t g;
    if (cim_h5_attr_read_string(t->file, "format", &format) < 0 ||
        strcmp(format, CIM_H5_SWEEP_FORMAT) != 0) {
        free(format);
        return not_a_sweep(t, "its format attribute", err);
    }
    free(format);
    if (cim_h5_attr_read_scalar(t->file, "n_configs", H5T_NATIVE_INT64, &t->configs) < 0 ||
        t->configs < 1)
        return not_a_sweep(t, "n_configs", err);
    g = H5Gopen2(t->file, "configs", H5P_DEFAULT);
    if (g < 0 || read_string_list(g, "keys", keys, MAX_COLUMNS - 2, &n_keys) != 0) {
        if (g >= 0)
            H5Gclose(g);
        return not_a_sweep(t, "/configs keys", err);
    }
    H5Gclose(g);
    for (int i = 0; i < n_keys; ++i) {
        if (rc == 0 && strcmp(keys[i], "config_json") != 0)
            rc = read_column(t, "configs", keys[i], &t->cols[t->n_cols++], err);
        free(keys[i]);
    }
    static const char *const progress[] = {"done", "trials_written"};
    for (int i = 0; rc == 0 && i < 2; ++i)
        rc = read_column(t, "configs", progress[i], &t->cols[t->n_cols++], err);
    n_keys = 0;
    g = rc == 0 ? H5Gopen2(t->file, "summary", H5P_DEFAULT) : -1;
    if (rc == 0 && (g < 0 || read_string_list(g, "keys", keys, MAX_COLUMNS, &n_keys) != 0))
        rc = not_a_sweep(t, "/summary keys", err);
    else
        for (int i = 0; rc == 0 && i < n_keys; ++i)
            rc = read_column(t, "summary", keys[i], &t->stats[t->n_stats++], err);
    for (int i = 0; g >= 0 && i < n_keys; ++i)
        free(keys[i]);
    if (g >= 0)
        H5Gclose(g);
    return rc;
}

static const column *stat_named(const table *t, const char *name)
{
    for (int i = 0; i < t->n_stats; ++i)
        if (strcmp(t->stats[i].name, name) == 0)
            return &t->stats[i];
    return NULL;
}

/* A statistic named like a percent column (top1_baseline) appears there. */
static int is_percent_column(const char *name)
{
    for (size_t k = 0; k < sizeof percent_columns / sizeof *percent_columns; ++k)
        if (strcmp(name, percent_columns[k].name) == 0)
            return 1;
    return 0;
}

static void put_text(FILE *out, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (; *s; ++s) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void put_number(FILE *out, double v, int flag)
{
    if (isnan(v))
        return; /* empty: not computed yet */
    if (flag)
        fputs(v != 0 ? "True" : "False", out);
    else {
        char text[32];
        cim_text_double(text, sizeof text, v);
        fputs(text, out);
    }
}

static void write_table(const table *t, FILE *out)
{
    fputs("config_idx", out);
    for (int i = 0; i < t->n_cols; ++i) {
        const column *c = &t->cols[i];
        for (int j = 0; j < c->width; ++j) {
            fputc(',', out);
            put_text(out, c->name);
            if (c->width > 1) {
                fputc('_', out);
                put_text(out, c->parts[j]);
            }
        }
    }
    for (size_t k = 0; k < sizeof percent_columns / sizeof *percent_columns; ++k)
        fprintf(out, ",%s", percent_columns[k].name);
    for (int i = 0; i < t->n_stats; ++i)
        if (!is_percent_column(t->stats[i].name))
            fprintf(out, ",%s", t->stats[i].name);
    fputc('\n', out);
    for (int64_t r = 0; r < t->configs; ++r) {
        fprintf(out, "%lld", (long long)r);
        for (int i = 0; i < t->n_cols; ++i) {
            const column *c = &t->cols[i];
            for (int j = 0; j < c->width; ++j) {
                fputc(',', out);
                if (c->text)
                    put_text(out, c->str[r] ? c->str[r] : "");
                else
                    put_number(out, c->num[r * c->width + j], c->flag);
            }
        }
        for (size_t k = 0; k < sizeof percent_columns / sizeof *percent_columns; ++k) {
            const column *s = stat_named(t, percent_columns[k].stat);
            fputc(',', out);
            if (s)
                put_number(out, 100.0 * s->num[r], 0);
        }
        for (int i = 0; i < t->n_stats; ++i) {
            if (is_percent_column(t->stats[i].name))
                continue;
            fputc(',', out);
            put_number(out, t->stats[i].num[r], 0);
        }
        fputc('\n', out);
    }
}

static int write_csv(const table *t, const char *csv_path, cim_error *err)
{
    size_t len = strlen(csv_path);
    char *tmp = malloc(len + 16);
    int fd, rc = 0;
    FILE *out;
    if (!tmp)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", csv_path);
    snprintf(tmp, len + 16, "%s.tmp.XXXXXX", csv_path);
    fd = mkstemp(tmp);
    if (fd < 0 || !(out = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        rc = cim_error_set(err, CIM_ERR_IO, "%s: cannot write it", csv_path);
        if (fd >= 0)
            unlink(tmp);
        free(tmp);
        return rc;
    }
    write_table(t, out);
    if (ferror(out) | (fflush(out) != 0) | (fsync(fileno(out)) != 0))
        rc = cim_error_set(err, CIM_ERR_IO, "%s: write failed", csv_path);
    if (fclose(out) != 0 && rc == 0)
        rc = cim_error_set(err, CIM_ERR_IO, "%s: write failed", csv_path);
    if (rc == 0 && rename(tmp, csv_path) != 0)
        rc = cim_error_set(err, CIM_ERR_IO, "%s: cannot rename the table into place", csv_path);
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

int cim_sweep_export_csv(const char *h5_path, const char *csv_path, cim_error *err)
{
    table t;
    hid_t fapl;
    int rc;
    memset(&t, 0, sizeof t);
    t.path = h5_path;
    cim_h5_quiet();
    if (H5Fis_hdf5(h5_path) <= 0)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: not an HDF5 file (or not readable)", h5_path);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
#if H5_VERSION_GE(1, 10, 7)
    if (fapl >= 0)
        H5Pset_file_locking(fapl, 0, 1);
#endif
    t.file = fapl < 0 ? -1 : H5Fopen(h5_path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, fapl);
    if (fapl >= 0)
        H5Pclose(fapl);
    if (t.file < 0)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: HDF5 cannot open it", h5_path);
    if ((rc = load(&t, err)) == 0)
        rc = write_csv(&t, csv_path, err);
    for (int i = 0; i < t.n_cols; ++i)
        free_column(&t.cols[i], t.configs);
    for (int i = 0; i < t.n_stats; ++i)
        free_column(&t.stats[i], t.configs);
    H5Fclose(t.file);
    return rc;
}
