/* cim_config_cdf.c -- the config keys of the cells' statistics beyond the
 * Gaussian model: stuck-at faults (SAF_HRS, SAF_LRS) and measured device
 * distributions (device_cdf, device_cdf_c2c and the two input forms
 * device_cdf_csv, device_lognormal); docs/physics/stuck_at.md and
 * docs/physics/device_cdf.md define them.
 *
 * A table is stored as given, points (I µA, P) in cim_config_cdf. The input
 * forms become such tables when parsed, so the provenance JSON records the
 * table (device_cdf), never the file or the parameters, and reads back equal:
 *   device_cdf_csv    samples per state, sorted; K = min(n - 1, 256)
 *                     segments; point k at P = k / K is the sample quantile
 *                     (linear between order statistics: h = (n - 1) k / K,
 *                     I = x[floor h] + frac(h) (x[floor h + 1] - x[floor h]))
 *   device_lognormal  129 points at z_k = -6 + 12 k / 128: I = exp(mu +
 *                     sigma z_k), P = (Phi(z_k) - Phi(-6)) / (Phi(6) - Phi(-6))
 * and then, for both, currents rounded to whole nA (the cell unit) and each
 * run of equal currents kept as one point: its first (lowest P), or, for the
 * run that ends the table, its last (P = 1).
 *
 * A table's rules (JSON tables and generated ones alike): 2..257 points, P
 * finite, non-decreasing, P_0 = 0, P_K = 1; I finite, |I| <= 10000 µA,
 * strictly increasing after rounding to whole nA, and >= 0 for the D2D
 * (current) tables. Resolution: I -> round(1000 I) nA, P -> round(2^32 P)
 * (half away from zero), P_0 = 0 and P_K = 2^32 exactly (cim_cdf.h). SAF:
 * saf_below = {round(2^32 p0), min(that + round(2^32 p1), 2^32)}, so the
 * fault probabilities are exact multiples of 2^-32.
 *
 * Messages are one line naming the origin and the key.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cim_config.h"
#include "cim_config_internal.h"

#define CDF_LOGNORMAL_SEGMENTS 128
#define CDF_LOGNORMAL_Z 6.0
#define CDF_CSV_MAX_LINE 256
#define CDF_CSV_HEADER "state,current_uA"

static const char *const state_names[2] = {"HRS", "LRS"};

static const cim_config_cdf *tables_of_const(const cim_config *cfg, const cim_key_spec *k)
{
    return (const cim_config_cdf *)((const char *)cfg + k->offset);
}

static int64_t na_of(double ua)
{
    return llround(ua * CIM_NA_PER_UA);
}

/* ---------------------------------------------------------------------------
 * A table's rules
 */

/* NULL if table t (D2D: currents >= 0) is valid, else what is wrong. */
static const char *table_problem(const cim_config_cdf *c, int d2d, char *buf, size_t n)
{
    if (c->n < 2 || c->n > CIM_CDF_MAX_POINTS) {
        snprintf(buf, n, "expected 2 to %d points [I, P], got %d", CIM_CDF_MAX_POINTS, c->n);
        return buf;
    }
    for (int k = 0; k < c->n; ++k) {
        const double i = c->i_ua[k], p = c->p[k];
        if (!isfinite(i) || fabs(i) > CIM_CONFIG_MAX_UA || (d2d && i < 0)) {
            snprintf(buf, n, "point %d: current %g µA is not %s", k, i,
                     d2d ? "from 0 to 10000 (a cell current)" : "from -10000 to 10000");
            return buf;
        }
        if (!isfinite(p) || p < 0 || p > 1) {
            snprintf(buf, n, "point %d: probability %g is not from 0 to 1", k, p);
            return buf;
        }
        if (k > 0 && na_of(i) <= na_of(c->i_ua[k - 1])) {
            snprintf(buf, n,
                     "point %d: currents must increase strictly in whole nA, got %g after %g µA", k,
                     i, c->i_ua[k - 1]);
            return buf;
        }
        if (k > 0 && p < c->p[k - 1]) {
            snprintf(buf, n, "point %d: probabilities must not decrease, got %g after %g", k, p,
                     c->p[k - 1]);
            return buf;
        }
    }
    if (c->p[0] != 0 || c->p[c->n - 1] != 1) {
        snprintf(buf, n, "expected the first probability 0 and the last 1, got %g and %g", c->p[0],
                 c->p[c->n - 1]);
        return buf;
    }
    return NULL;
}

int cim_config_validate_cells(const cim_config *cfg, cim_error *err)
{
    char why[CIM_CONFIG_EXPECTED_MAX];
    if (!(cfg->saf_hrs + cfg->saf_lrs <= 1))
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: keys \"SAF_HRS\", \"SAF_LRS\": expected SAF_HRS + SAF_LRS <= 1, "
                             "got %g + %g",
                             cim_config_origin(cfg->origin), cfg->saf_hrs, cfg->saf_lrs);
    for (int t = 0; t < CIM_CDF_TABLES; ++t) {
        const int d2d = t < CIM_CDF_C2C;
        if (cfg->cdf[t].n == 0 || !table_problem(&cfg->cdf[t], d2d, why, sizeof why))
            continue;
        return cim_config_key_error(cfg->origin, CIM_ERR_CONFIG, err,
                                    d2d ? "device_cdf" : "device_cdf_c2c", "%s: %s",
                                    state_names[t % 2], why);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Generated tables: rounding to nA, one point per current
 */

/* Rounds the currents to whole nA and keeps one point per run of equal
 * currents (the first; the last for the final run, so P_K = 1 stays). */
static void collapse_ties(cim_config_cdf *c)
{
    int kept = 0;
    for (int k = 0; k < c->n; ++k) {
        const double i = (double)na_of(c->i_ua[k]) / CIM_NA_PER_UA;
        if (kept > 0 && na_of(c->i_ua[kept - 1]) == na_of(i)) {
            if (k == c->n - 1)
                c->p[kept - 1] = c->p[k]; /* the final run: its last point */
            continue;
        }
        c->i_ua[kept] = i;
        c->p[kept] = c->p[k];
        ++kept;
    }
    c->n = kept;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The quantile table of n samples (sorted here). */
static void table_from_samples(double *x, size_t n, cim_config_cdf *c)
{
    qsort(x, n, sizeof *x, cmp_double);
    const size_t segments = n - 1 < CIM_CDF_MAX_POINTS - 1 ? n - 1 : CIM_CDF_MAX_POINTS - 1;
    c->n = (int)segments + 1;
    for (size_t k = 0; k <= segments; ++k) {
        const double h = (double)(n - 1) * (double)k / (double)segments;
        size_t lo = (size_t)floor(h);
        if (lo >= n - 1)
            lo = n - 2;
        c->i_ua[k] = x[lo] + (h - (double)lo) * (x[lo + 1] - x[lo]);
        c->p[k] = (double)k / (double)segments;
    }
    c->p[0] = 0;
    c->p[segments] = 1;
    collapse_ties(c);
}

static double normal_cdf(double z)
{
    return 0.5 * erfc(-z / sqrt(2.0));
}

static void table_from_lognormal(double mu, double sigma, cim_config_cdf *c)
{
    const double lo = normal_cdf(-CDF_LOGNORMAL_Z), hi = normal_cdf(CDF_LOGNORMAL_Z);
    c->n = CDF_LOGNORMAL_SEGMENTS + 1;
    for (int k = 0; k <= CDF_LOGNORMAL_SEGMENTS; ++k) {
        const double z = -CDF_LOGNORMAL_Z + 2.0 * CDF_LOGNORMAL_Z * k / CDF_LOGNORMAL_SEGMENTS;
        c->i_ua[k] = exp(mu + sigma * z);
        c->p[k] = (normal_cdf(z) - lo) / (hi - lo);
    }
    c->p[0] = 0;
    c->p[CDF_LOGNORMAL_SEGMENTS] = 1;
    collapse_ties(c);
}

/* ---------------------------------------------------------------------------
 * Parsing the three forms
 */

typedef struct cdf_parse {
    const char *origin;
    const cim_key_spec *k;
    cim_config *cfg;
    cim_config_cdf *tables; /* the key's pair: [HRS, LRS] */
    int first;              /* its table index: CIM_CDF_D2D or CIM_CDF_C2C */
    unsigned *touched;
    cim_error *err;
} cdf_parse;

static int cdf_error(const cdf_parse *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "<origin>: key "<key>": <formatted text>" */
static int cdf_error(const cdf_parse *c, const char *fmt, ...)
{
    char text[CIM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, c->k->name, "%s", text);
}

/* State name -> 0/1, or -1. */
static int state_of(const char *name)
{
    for (int s = 0; s < 2; ++s)
        if (name && strcmp(name, state_names[s]) == 0)
            return s;
    return -1;
}

/* Marks table `first + s` as given by this text; clears the pair at the
 * text's first key for it. */
static int claim(const cdf_parse *c, int s)
{
    const unsigned pair = 3u << c->first, bit = 1u << (c->first + s);
    if (*c->touched & bit)
        return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, c->k->name,
                                    "%s: the %s table is given more than once (by device_cdf, "
                                    "device_cdf_csv or device_lognormal)",
                                    state_names[s], c->first == CIM_CDF_D2D ? "D2D" : "C2C");
    if (!(*c->touched & pair)) {
        c->tables[0].n = 0;
        c->tables[1].n = 0;
    }
    *c->touched |= bit;
    return 0;
}

/* A generated or given table must meet the rules; names the state. */
static int check_table(const cdf_parse *c, int s)
{
    char why[CIM_CONFIG_EXPECTED_MAX];
    const char *p = table_problem(&c->tables[s], c->first == CIM_CDF_D2D, why, sizeof why);
    return p ? cdf_error(c, "%s: %s", state_names[s], p) : 0;
}

static int parse_points(const cdf_parse *c, int s, const cJSON *v)
{
    cim_config_cdf *t = &c->tables[s];
    const int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
    if (n < 2 || n > CIM_CDF_MAX_POINTS) {
        char got[32];
        snprintf(got, sizeof got, "%d", n);
        return cdf_error(c, "%s: expected an array of 2 to %d points [I µA, P], got %s",
                         state_names[s], CIM_CDF_MAX_POINTS, n < 0 ? "no array" : got);
    }
    t->n = n;
    int k = 0;
    for (const cJSON *e = v->child; e; e = e->next, ++k) {
        const cJSON *i = cJSON_GetArrayItem(e, 0), *p = cJSON_GetArrayItem(e, 1);
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(i) ||
            !cJSON_IsNumber(p)) {
            return cdf_error(c, "%s: point %d: expected [I µA, P], two numbers", state_names[s], k);
        }
        t->i_ua[k] = i->valuedouble;
        t->p[k] = p->valuedouble;
    }
    return check_table(c, s);
}

/* device_cdf, device_cdf_c2c: {"HRS": points, "LRS": points}, either alone. */
static int parse_tables(const cdf_parse *c, const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return cdf_error(c, "expected an object {\"HRS\": [[I, P], ...], \"LRS\": [[I, P], ...]}");
    if (!v->child) { /* {}: no tables */
        if (!(*c->touched & (3u << c->first)))
            c->tables[0].n = c->tables[1].n = 0;
        return 0;
    }
    for (const cJSON *e = v->child; e; e = e->next) {
        const int s = state_of(e->string);
        int rc;
        if (s < 0)
            return cdf_error(c, "expected the states \"HRS\" and \"LRS\", got \"%s\"", e->string);
        if ((rc = claim(c, s)) != 0 || (rc = parse_points(c, s, e)) != 0)
            return rc;
    }
    return 0;
}

static int parse_lognormal(const cdf_parse *c, const cJSON *v)
{
    if (!cJSON_IsObject(v) || !v->child)
        return cdf_error(c,
                         "expected an object {\"HRS\": {\"mu\": m, \"sigma\": s}, ...} in ln µA");
    for (const cJSON *e = v->child; e; e = e->next) {
        const int s = state_of(e->string);
        const cJSON *mu = cJSON_GetObjectItemCaseSensitive(e, "mu");
        const cJSON *sg = cJSON_GetObjectItemCaseSensitive(e, "sigma");
        int rc;
        if (s < 0)
            return cdf_error(c, "expected the states \"HRS\" and \"LRS\", got \"%s\"", e->string);
        if (!cJSON_IsObject(e) || cJSON_GetArraySize(e) != 2 || !cJSON_IsNumber(mu) ||
            !cJSON_IsNumber(sg) || !isfinite(mu->valuedouble) || !isfinite(sg->valuedouble) ||
            !(sg->valuedouble > 0))
            return cdf_error(c, "%s: expected {\"mu\": a number, \"sigma\": a positive number}",
                             state_names[s]);
        if ((rc = claim(c, s)) != 0)
            return rc;
        table_from_lognormal(mu->valuedouble, sg->valuedouble, &c->tables[s]);
        if ((rc = check_table(c, s)) != 0)
            return rc;
    }
    return 0;
}

/* Reads "state,current_uA" samples of `path` into per-state arrays. */
static int read_csv(const cdf_parse *c, const char *path, double *x[2], size_t n[2])
{
    FILE *f = fopen(path, "r");
    char line[CDF_CSV_MAX_LINE];
    size_t cap[2] = {0, 0};
    long at = 0;
    int header = 0, rc = 0;
    if (!f)
        return cdf_error(c, "cannot open \"%s\": %s", path, strerror(errno));
    while (rc == 0 && fgets(line, sizeof line, f)) {
        ++at;
        char *s = line + strspn(line, " \t");
        s[strcspn(s, "\r\n")] = '\0';
        if (*s == '\0' || *s == '#')
            continue;
        if (!header) {
            header = 1;
            if (strcasecmp(s, CDF_CSV_HEADER) == 0)
                continue;
            rc = cdf_error(c, "\"%s\": expected the header line \"%s\"", path, CDF_CSV_HEADER);
            break;
        }
        char name[8], rest[8];
        double v;
        int state = -1;
        if (sscanf(s, " %7[A-Z] , %lf %7s", name, &v, rest) == 2)
            state = state_of(name);
        if (state < 0 || !isfinite(v)) {
            char where[CDF_CSV_MAX_LINE + 64];
            snprintf(where, sizeof where, "\"%s\" line %ld", path, at);
            rc = cdf_error(c, "%s: expected HRS or LRS and a current in µA, got \"%s\"", where, s);
            break;
        }
        if (n[state] == cap[state]) {
            size_t grown = cap[state] ? 2 * cap[state] : 256;
            double *p = realloc(x[state], grown * sizeof *p);
            if (!p) {
                rc = cim_error_set(c->err, CIM_ERR_NOMEM, "%s: out of memory reading %s",
                                   cim_config_origin(c->origin), path);
                break;
            }
            x[state] = p;
            cap[state] = grown;
        }
        x[state][n[state]++] = v;
    }
    if (rc == 0 && ferror(f))
        rc = cdf_error(c, "cannot read \"%s\": %s", path, strerror(errno));
    if (rc == 0 && n[0] + n[1] == 0)
        rc = cdf_error(c, "\"%s\": no samples (lines \"HRS,4.9\" or \"LRS,29.7\")", path);
    fclose(f);
    return rc;
}

static int parse_csv(const cdf_parse *c, const cJSON *v)
{
    if (!cJSON_IsString(v))
        return cdf_error(c, "expected the path of a CSV file (columns state,current_uA)");
    double *x[2] = {NULL, NULL};
    size_t n[2] = {0, 0};
    int rc = read_csv(c, v->valuestring, x, n);
    for (int s = 0; rc == 0 && s < 2; ++s) {
        if (n[s] == 0)
            continue;
        if (n[s] < 2) {
            rc = cdf_error(c, "\"%s\": %s: expected at least 2 samples", v->valuestring,
                           state_names[s]);
            break;
        }
        if ((rc = claim(c, s)) != 0)
            break;
        table_from_samples(x[s], n[s], &c->tables[s]);
        if (c->tables[s].n < 2)
            rc = cdf_error(c, "\"%s\": %s: expected at least 2 distinct currents (whole nA)",
                           v->valuestring, state_names[s]);
        else
            rc = check_table(c, s);
    }
    free(x[0]);
    free(x[1]);
    return rc;
}

int cim_config_parse_cdf(const char *origin, const cim_key_spec *k, const cJSON *v, cim_config *cfg,
                         unsigned *touched, cim_error *err)
{
    const int first = k->kind == CIM_KEY_CDF
                          ? (int)((k->offset - offsetof(cim_config, cdf)) / sizeof(cim_config_cdf))
                          : CIM_CDF_D2D;
    cdf_parse c = {origin, k, cfg, &cfg->cdf[first], first, touched, err};
    switch (k->kind) {
    case CIM_KEY_CDF:
        return parse_tables(&c, v);
    case CIM_KEY_CDF_CSV:
        return parse_csv(&c, v);
    case CIM_KEY_LOGNORMAL:
        return parse_lognormal(&c, v);
    default:
        return cim_config_key_error(origin, CIM_ERR_CONFIG, err, k->name, "internal error");
    }
}

/* ---------------------------------------------------------------------------
 * Provenance JSON and resolution
 */

cJSON *cim_config_cdf_json(const cim_config *cfg, const cim_key_spec *k)
{
    const cim_config_cdf *t = tables_of_const(cfg, k);
    cJSON *obj = cJSON_CreateObject();
    for (int s = 0; obj && s < 2; ++s) {
        if (t[s].n == 0)
            continue;
        cJSON *points = cJSON_CreateArray();
        if (!points || !cJSON_AddItemToObject(obj, state_names[s], points)) {
            cJSON_Delete(points);
            cJSON_Delete(obj);
            return NULL;
        }
        for (int j = 0; j < t[s].n; ++j) {
            cJSON *pair = cim_config_json_pair(t[s].i_ua[j], t[s].p[j]);
            if (!pair || !cJSON_AddItemToArray(points, pair)) {
                cJSON_Delete(pair);
                cJSON_Delete(obj);
                return NULL;
            }
        }
    }
    return obj;
}

static int64_t threshold_of(double p)
{
    const int64_t t = llround(p * (double)CIM_CDF_ONE);
    return t < 0 ? 0 : t > CIM_CDF_ONE ? CIM_CDF_ONE : t;
}

void cim_config_resolve_cells(const cim_config *cfg, cim_xbar *x)
{
    const int64_t below_hrs = threshold_of(cfg->saf_hrs);
    const int64_t below_lrs = below_hrs + threshold_of(cfg->saf_lrs);
    x->saf_below[0] = below_hrs;
    x->saf_below[1] = below_lrs < CIM_CDF_ONE ? below_lrs : CIM_CDF_ONE;
    memset(&x->cdf, 0, sizeof x->cdf);
    for (int t = 0; t < CIM_CDF_TABLES && !cfg->digital; ++t) {
        const cim_config_cdf *c = &cfg->cdf[t];
        if (c->n == 0 || !(t < CIM_CDF_C2C ? cfg->d2d_var : cfg->c2c_var))
            continue;
        x->cdf.n[t] = c->n;
        for (int k = 0; k < c->n; ++k) {
            x->cdf.i[t][k] = na_of(c->i_ua[k]);
            x->cdf.p[t][k] = threshold_of(c->p[k]);
        }
        x->cdf.p[t][0] = 0;
        x->cdf.p[t][c->n - 1] = CIM_CDF_ONE;
    }
}

int64_t cim_config_cdf_max_na(const cim_xbar *x, int table)
{
    const int64_t n = x->cdf.n[table];
    if (n == 0)
        return -1;
    const int64_t lo = llabs(x->cdf.i[table][0]), hi = llabs(x->cdf.i[table][n - 1]);
    return lo > hi ? lo : hi;
}
