/* cim_config.c -- the crossbar config: JSON keys in, validated struct, integers out.
 *
 * Three steps, each its own function:
 *   1. parse (cim_config_parse): the JSON object's members are matched against
 *      one table of key specs, `config_keys`. A spec names the key, its kind
 *      (bool, integer, number, choice among names, or special), the cim_config
 *      field it fills, its range and whether `true` means an unsupported
 *      feature. Parsing checks only the JSON type and the spec's own range and
 *      stores the value; unknown and repeated keys are rejected here.
 *   2. validate (cim_config_validate): every rule about the struct as a
 *      whole -- the same per-key ranges from the same table (so a config built
 *      from command-line flags gets the same checks), then the combinations:
 *      LRS > HRS, resolution vs. adc_type, mapping vs. adc_type (signed column
 *      currents need SYM or INF, non-negative ones POS or INF), TNN_IV/V bit
 *      layout, CALIB needing its dict, features not supported yet.
 *   3. resolve (cim_config_resolve): µA become integer nA, the ADC range
 *      becomes half-units (cim_units.h), and the largest column current that
 *      the Gaussian sampler can produce is checked against 32 bits.
 * The table also drives cim_config_to_json, so the provenance JSON lists
 * exactly the keys the parser reads, in one order.
 *
 * Messages are one line: "<origin>: key "<key>": expected <what>, got <value>".
 * Ownership: cim_config owns `origin` and `calib`; on any parse error the
 * struct is released and reset to the defaults, so nothing leaks.
 */
#include "cim_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cim_mapping.h"

#define CIM_CONFIG_MAX_DIM 65536                /* M, N */
#define CIM_CONFIG_MAX_CELLS ((int64_t)1 << 26) /* M * N */
#define CIM_CONFIG_MAX_UA 10000.0               /* HRS, LRS and sigmas */
#define CIM_CONFIG_MAX_CALIB_UA 2.0e6           /* beyond any 32-bit (nA) column current */
#define CIM_CONFIG_MAX_OPERAND_BITS 32          /* W_BIT, I_BIT, SPLIT entries */
#define CIM_CONFIG_MAX_FILE_BYTES (16L << 20)   /* config files */
#define CIM_CONFIG_READ_CHUNK 65536
#define CIM_CONFIG_GOT_MAX 64 /* chars of an offending value in a message */
/* Largest |z| of the sampler is 6.34 (cim_gauss.h); the overflow guard uses
 * 6.4 sigma, kept as tenths so the bound is integer arithmetic. */
#define CIM_CONFIG_TAIL_SIGMA_TENTHS 64
#define CIM_CONFIG_TENTHS 10
#define CIM_CONFIG_CURRENT_LIMIT ((int64_t)INT32_MAX)

#define CIM_DEFAULT_HRS_UA 5.0
#define CIM_DEFAULT_LRS_UA 30.0
#define CIM_DEFAULT_XBAR 256
#define CIM_DEFAULT_PROFILE_BIN_UA 10.0 /* the reference simulator's default */
#define CIM_BNN_BITS 1
#define CIM_TNN_BITS 2
#define CIM_INF_RESOLUTION (-1)

/* ---------------------------------------------------------------------------
 * Names
 */

static const char *const adc_type_names[] = {"INF_ADC", "POS_RANGE_ONLY_ADC", "SYM_RANGE_ADC"};
static const char *const calib_mode_names[] = {"MAX", "CALIB"};
static const char *const rd_strategy_names[] = {"OFF", "SOFTWARE", "CELL_BASED"};

#define CIM_COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

const char *cim_config_adc_type_name(int adc_type)
{
    return adc_type >= 0 && adc_type < CIM_COUNT_OF(adc_type_names) ? adc_type_names[adc_type]
                                                                    : NULL;
}

/* ---------------------------------------------------------------------------
 * The key table
 */

typedef struct parse_ctx parse_ctx;

typedef enum key_kind {
    KIND_BOOL,
    KIND_INT,
    KIND_NUMBER,
    KIND_CHOICE,  /* a string among `choices`, stored as its index */
    KIND_MAPPING, /* m_mode */
    KIND_SPLIT,
    KIND_CALIB_DICT,
} key_kind;

typedef struct key_spec {
    const char *name;
    key_kind kind;
    size_t offset;    /* of the int or double field in cim_config */
    double min, max;  /* INT, NUMBER: inclusive range */
    int positive;     /* NUMBER: must be > 0 (min is then 0) */
    int optional;     /* NUMBER: NAN means "not given" */
    const char *unit; /* NUMBER: appended to the expectation */
    const char *const *choices;
    int n_choices;
    const char *feature; /* BOOL: true means this unsupported feature */
} key_spec;

/* clang-format off */
#define F(field) offsetof(cim_config, field)
#define KEY_BOOL(key, field) {key, KIND_BOOL, F(field), 0, 0, 0, 0, NULL, NULL, 0, NULL}
#define KEY_OFF(key, field, feature) \
    {key, KIND_BOOL, F(field), 0, 0, 0, 0, NULL, NULL, 0, feature}
#define KEY_INT(key, field, lo, hi) {key, KIND_INT, F(field), lo, hi, 0, 0, NULL, NULL, 0, NULL}
#define KEY_UA(key, field) \
    {key, KIND_NUMBER, F(field), 0, CIM_CONFIG_MAX_UA, 0, 0, "µA", NULL, 0, NULL}
#define KEY_POSITIVE(key, field) \
    {key, KIND_NUMBER, F(field), 0, INFINITY, 1, 0, NULL, NULL, 0, NULL}
#define KEY_INACTIVE(key, field) \
    {key, KIND_NUMBER, F(field), -INFINITY, INFINITY, 0, 1, NULL, NULL, 0, NULL}
#define KEY_CHOICE(key, field, names) \
    {key, KIND_CHOICE, F(field), 0, 0, 0, 0, NULL, names, CIM_COUNT_OF(names), NULL}
#define KEY_SPECIAL(key, kind) {key, kind, 0, 0, 0, 0, 0, NULL, NULL, 0, NULL}
/* clang-format on */

static const key_spec config_keys[] = {
    KEY_SPECIAL("m_mode", KIND_MAPPING),
    KEY_INT("M", M, 1, CIM_CONFIG_MAX_DIM),
    KEY_INT("N", N, 1, CIM_CONFIG_MAX_DIM),
    KEY_BOOL("digital_only", digital),
    KEY_UA("HRS", hrs_ua),
    KEY_UA("LRS", lrs_ua),
    KEY_CHOICE("adc_type", adc_type, adc_type_names),
    KEY_INT("resolution", resolution, INT32_MIN, INT32_MAX),
    KEY_CHOICE("adc_calib_mode", calib_mode, calib_mode_names),
    KEY_SPECIAL("adc_calib_dict", KIND_CALIB_DICT),
    KEY_OFF("adc_profile", adc_profile, "ADC profiling"),
    KEY_POSITIVE("adc_profile_bin_size", adc_profile_bin_size),
    KEY_OFF("mvm_profile", mvm_profile, "MVM profiling"),
    KEY_POSITIVE("mvm_profile_bin_size", mvm_profile_bin_size),
    KEY_UA("HRS_NOISE", hrs_noise_ua),
    KEY_UA("LRS_NOISE", lrs_noise_ua),
    KEY_UA("HRS_NOISE_C2C", hrs_noise_c2c_ua),
    KEY_UA("LRS_NOISE_C2C", lrs_noise_c2c_ua),
    KEY_BOOL("d2d_var", d2d_var),
    KEY_BOOL("c2c_var", c2c_var),
    KEY_SPECIAL("SPLIT", KIND_SPLIT),
    KEY_INT("W_BIT", w_bit, 1, CIM_CONFIG_MAX_OPERAND_BITS),
    KEY_INT("I_BIT", i_bit, 1, CIM_CONFIG_MAX_OPERAND_BITS),
    KEY_BOOL("verbose", verbose),
    KEY_OFF("read_disturb", read_disturb, "read disturb"),
    KEY_INACTIVE("t_read", t_read),
    KEY_INACTIVE("V_read", v_read),
    KEY_INT("read_disturb_update_freq", read_disturb_update_freq, 1, INT32_MAX),
    KEY_CHOICE("read_disturb_mitigation_strategy", read_disturb_mitigation_strategy,
               rd_strategy_names),
    KEY_INACTIVE("read_disturb_mitigation_fp", read_disturb_mitigation_fp),
    KEY_INACTIVE("read_disturb_update_tolerance", read_disturb_update_tolerance),
    KEY_OFF("parasitics", parasitics, "parasitics (bit-line IR drop)"),
    KEY_INACTIVE("w_res", w_res),
};

#define CIM_N_KEYS CIM_COUNT_OF(config_keys)
_Static_assert(CIM_COUNT_OF(config_keys) <= 64, "the `given` bit set holds 64 keys");
_Static_assert(sizeof(int) == sizeof(int32_t), "M and N are filled through int fields");

static int *int_field(cim_config *cfg, const key_spec *k)
{
    return (int *)((char *)cfg + k->offset);
}

static int int_value(const cim_config *cfg, const key_spec *k)
{
    return *(const int *)((const char *)cfg + k->offset);
}

static double *double_field(cim_config *cfg, const key_spec *k)
{
    return (double *)((char *)cfg + k->offset);
}

static double double_value(const cim_config *cfg, const key_spec *k)
{
    return *(const double *)((const char *)cfg + k->offset);
}

static int key_index(const char *name)
{
    for (int i = 0; i < CIM_N_KEYS; ++i)
        if (strcmp(config_keys[i].name, name) == 0)
            return i;
    return -1;
}

/* ---------------------------------------------------------------------------
 * Messages
 */

static const char *origin_or_default(const char *origin)
{
    return origin ? origin : "config";
}

/* A double in the shortest form that reads back to the same value. */
static void format_double(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, n, "%.17g", v);
}

/* The JSON text of `v`, shortened to fit a message. */
static void format_json(char *buf, size_t n, const cJSON *v)
{
    char *text = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!text) {
        snprintf(buf, n, "%s", v ? "(unprintable)" : "nothing");
        return;
    }
    if (strlen(text) >= n && n > 4)
        snprintf(buf, n, "%.*s...", (int)(n - 4), text);
    else
        snprintf(buf, n, "%s", text);
    free(text);
}

/* "expected ..." text of an INT or NUMBER key. */
static void describe_range(char *buf, size_t n, const key_spec *k)
{
    const char *unit = k->unit ? k->unit : "";
    const char *sep = k->unit ? " " : "";
    if (k->kind == KIND_INT) {
        if (k->min <= INT32_MIN && k->max >= INT32_MAX)
            snprintf(buf, n, "an integer");
        else if (k->max >= INT32_MAX)
            snprintf(buf, n, "an integer >= %.0f", k->min);
        else
            snprintf(buf, n, "an integer from %.0f to %.0f", k->min, k->max);
    } else if (k->positive) {
        snprintf(buf, n, "a positive number%s%s", sep, unit);
    } else if (isinf(k->min) && isinf(k->max)) {
        snprintf(buf, n, "a number%s%s", sep, unit);
    } else {
        snprintf(buf, n, "a number from %g to %g%s%s", k->min, k->max, sep, unit);
    }
}

static void describe_choices(char *buf, size_t n, const char *const *names, int count)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < n; ++i)
        used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"", i ? ", " : "one of ", names[i]);
}

/* origin: key "name": <formatted text> */
static int key_error(const char *origin, int code, cim_error *err, const char *key, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));

static int key_error(const char *origin, int code, cim_error *err, const char *key, const char *fmt,
                     ...)
{
    char text[CIM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return cim_error_set(err, code, "%s: key \"%s\": %s", origin_or_default(origin), key, text);
}

/* ---------------------------------------------------------------------------
 * Defaults and freeing
 */

void cim_config_default(cim_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mapping = CIM_TNN_I;
    cfg->M = CIM_DEFAULT_XBAR;
    cfg->N = CIM_DEFAULT_XBAR;
    cfg->digital = 0;
    cfg->hrs_ua = CIM_DEFAULT_HRS_UA;
    cfg->lrs_ua = CIM_DEFAULT_LRS_UA;
    cfg->adc_type = CIM_ADC_INF;
    cfg->resolution = CIM_INF_RESOLUTION;
    cfg->calib_mode = CIM_CALIB_MAX;
    cfg->calib = NULL;
    cfg->n_calib = 0;
    cfg->hrs_noise_ua = cfg->lrs_noise_ua = 0.0;
    cfg->hrs_noise_c2c_ua = cfg->lrs_noise_c2c_ua = 0.0;
    cfg->d2d_var = 1;
    cfg->c2c_var = 0;
    cfg->split[0] = cfg->split[1] = 1;
    cfg->n_split = CIM_CONFIG_MAX_SPLIT;
    cfg->w_bit = cfg->i_bit = CIM_TNN_BITS;
    cfg->verbose = 0;
    cfg->origin = NULL;
    cfg->adc_profile = cfg->mvm_profile = cfg->read_disturb = cfg->parasitics = 0;
    cfg->adc_profile_bin_size = cfg->mvm_profile_bin_size = CIM_DEFAULT_PROFILE_BIN_UA;
    cfg->t_read = cfg->v_read = NAN;
    cfg->read_disturb_mitigation_fp = cfg->read_disturb_update_tolerance = cfg->w_res = NAN;
    cfg->read_disturb_update_freq = 1;
    cfg->read_disturb_mitigation_strategy = CIM_RD_MITIGATION_OFF;
}

static void free_calib(cim_config *cfg)
{
    for (int i = 0; i < cfg->n_calib; ++i)
        free(cfg->calib[i].layer);
    free(cfg->calib);
    cfg->calib = NULL;
    cfg->n_calib = 0;
}

void cim_config_free(cim_config *cfg)
{
    if (!cfg)
        return;
    free_calib(cfg);
    free(cfg->origin);
    cim_config_default(cfg);
}

/* ---------------------------------------------------------------------------
 * Parsing: one member at a time
 */

struct parse_ctx {
    const char *origin;
    cim_config *cfg;
    cim_error *err;
    uint64_t given; /* bit i: config_keys[i] was present */
};

static int type_error(parse_ctx *c, const char *key, const cJSON *v, const char *expected)
{
    char got[CIM_CONFIG_GOT_MAX];
    format_json(got, sizeof got, v);
    return key_error(c->origin, CIM_ERR_CONFIG, c->err, key, "expected %s, got %s", expected, got);
}

/* 1 if v is a number with an integral value in [lo, hi]. */
static int is_int_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
           floor(v->valuedouble) == v->valuedouble && v->valuedouble >= lo && v->valuedouble <= hi;
}

static int number_ok(const key_spec *k, double v)
{
    if (k->optional && isnan(v))
        return 1;
    if (!isfinite(v))
        return 0;
    return k->positive ? v > 0 : v >= k->min && v <= k->max;
}

static int parse_mapping(parse_ctx *c, const key_spec *k, const cJSON *v)
{
    cim_mapping_id id;
    if (cJSON_IsString(v) && cim_mapping_from_name(v->valuestring, &id) == 0) {
        c->cfg->mapping = id;
        return 0;
    }
    const char *names[CIM_MAPPING_COUNT];
    for (int i = 0; i < CIM_MAPPING_COUNT; ++i)
        names[i] = cim_mapping_name((cim_mapping_id)i);
    char expected[CIM_ERROR_MSG_MAX / 2];
    describe_choices(expected, sizeof expected, names, CIM_MAPPING_COUNT);
    return type_error(c, k->name, v, expected);
}

static int parse_split(parse_ctx *c, const key_spec *k, const cJSON *v)
{
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    int ok = n >= 1 && n <= CIM_CONFIG_MAX_SPLIT;
    for (int i = 0; ok && i < n; ++i)
        ok = is_int_in(cJSON_GetArrayItem(v, i), 0, CIM_CONFIG_MAX_OPERAND_BITS);
    if (!ok) {
        char expected[96];
        snprintf(expected, sizeof expected, "an array of 1 or %d integers from 0 to %d",
                 CIM_CONFIG_MAX_SPLIT, CIM_CONFIG_MAX_OPERAND_BITS);
        return type_error(c, k->name, v, expected);
    }
    c->cfg->n_split = n;
    for (int i = 0; i < CIM_CONFIG_MAX_SPLIT; ++i)
        c->cfg->split[i] = i < n ? (int)cJSON_GetArrayItem(v, i)->valuedouble : 0;
    return 0;
}

static int calib_entry_ok(const cJSON *range)
{
    if (!cJSON_IsArray(range) || cJSON_GetArraySize(range) != 2)
        return 0;
    const cJSON *lo = cJSON_GetArrayItem(range, 0), *hi = cJSON_GetArrayItem(range, 1);
    return cJSON_IsNumber(lo) && cJSON_IsNumber(hi) && isfinite(lo->valuedouble) &&
           isfinite(hi->valuedouble) && fabs(lo->valuedouble) <= CIM_CONFIG_MAX_CALIB_UA &&
           fabs(hi->valuedouble) <= CIM_CONFIG_MAX_CALIB_UA && lo->valuedouble < hi->valuedouble;
}

static int parse_calib_dict(parse_ctx *c, const key_spec *k, const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return type_error(c, k->name, v, "an object mapping layer names to [lo, hi] in µA");
    int n = cJSON_GetArraySize(v);
    cim_config *cfg = c->cfg;
    free_calib(cfg);
    if (n == 0)
        return 0;
    cfg->calib = calloc((size_t)n, sizeof *cfg->calib);
    if (!cfg->calib)
        return cim_error_set(c->err, CIM_ERR_NOMEM, "%s: out of memory for adc_calib_dict",
                             origin_or_default(c->origin));
    for (const cJSON *e = v->child; e; e = e->next) {
        char got[CIM_CONFIG_GOT_MAX];
        if (cim_config_find_calib(cfg, e->string))
            return key_error(c->origin, CIM_ERR_CONFIG, c->err, k->name,
                             "layer \"%s\" appears more than once", e->string);
        if (!calib_entry_ok(e)) {
            format_json(got, sizeof got, e);
            return key_error(c->origin, CIM_ERR_CONFIG, c->err, k->name,
                             "layer \"%s\": expected [lo, hi] in µA with lo < hi and "
                             "|lo|, |hi| <= %g, got %s",
                             e->string, CIM_CONFIG_MAX_CALIB_UA, got);
        }
        cim_calib_range *r = &cfg->calib[cfg->n_calib];
        r->layer = strdup(e->string);
        if (!r->layer)
            return cim_error_set(c->err, CIM_ERR_NOMEM, "%s: out of memory for adc_calib_dict",
                                 origin_or_default(c->origin));
        r->lo_ua = cJSON_GetArrayItem(e, 0)->valuedouble;
        r->hi_ua = cJSON_GetArrayItem(e, 1)->valuedouble;
        cfg->n_calib++;
    }
    return 0;
}

static int parse_member(parse_ctx *c, const key_spec *k, const cJSON *v)
{
    char expected[CIM_ERROR_MSG_MAX / 2];
    switch (k->kind) {
    case KIND_BOOL:
        if (!cJSON_IsBool(v))
            return type_error(c, k->name, v, "true or false");
        *int_field(c->cfg, k) = cJSON_IsTrue(v);
        return 0;
    case KIND_INT:
        if (!is_int_in(v, k->min, k->max)) {
            describe_range(expected, sizeof expected, k);
            return type_error(c, k->name, v, expected);
        }
        *int_field(c->cfg, k) = (int)v->valuedouble;
        return 0;
    case KIND_NUMBER:
        /* JSON has no NAN, so "not given" cannot be written explicitly. */
        if (!cJSON_IsNumber(v) || isnan(v->valuedouble) || !number_ok(k, v->valuedouble)) {
            describe_range(expected, sizeof expected, k);
            return type_error(c, k->name, v, expected);
        }
        *double_field(c->cfg, k) = v->valuedouble;
        return 0;
    case KIND_CHOICE:
        for (int i = 0; cJSON_IsString(v) && i < k->n_choices; ++i) {
            if (strcmp(v->valuestring, k->choices[i]) == 0) {
                *int_field(c->cfg, k) = i;
                return 0;
            }
        }
        describe_choices(expected, sizeof expected, k->choices, k->n_choices);
        return type_error(c, k->name, v, expected);
    case KIND_MAPPING:
        return parse_mapping(c, k, v);
    case KIND_SPLIT:
        return parse_split(c, k, v);
    case KIND_CALIB_DICT:
        return parse_calib_dict(c, k, v);
    }
    return cim_error_set(c->err, CIM_ERR_CONFIG, "%s: key \"%s\": internal error",
                         origin_or_default(c->origin), k->name);
}

static int unknown_key(parse_ctx *c, const char *key)
{
    char quoted[CIM_CONFIG_GOT_MAX];
    cJSON *s = cJSON_CreateString(key);
    format_json(quoted, sizeof quoted, s);
    cJSON_Delete(s);
    for (int i = 0; i < CIM_N_KEYS; ++i) {
        if (strcasecmp(config_keys[i].name, key) == 0)
            return cim_error_set(c->err, CIM_ERR_CONFIG,
                                 "%s: unknown key %s (did you mean \"%s\"?)",
                                 origin_or_default(c->origin), quoted, config_keys[i].name);
    }
    return cim_error_set(c->err, CIM_ERR_CONFIG,
                         "%s: unknown key %s (see SEMANTICS.md, \"Configuration keys\")",
                         origin_or_default(c->origin), quoted);
}

static int parse_members(parse_ctx *c, const cJSON *root)
{
    for (const cJSON *m = root->child; m; m = m->next) {
        int i = key_index(m->string);
        if (i < 0)
            return unknown_key(c, m->string);
        if (c->given & ((uint64_t)1 << i))
            return key_error(c->origin, CIM_ERR_CONFIG, c->err, m->string,
                             "appears more than once");
        c->given |= (uint64_t)1 << i;
        int rc = parse_member(c, &config_keys[i], m);
        if (rc)
            return rc;
    }
    return 0;
}

static int was_given(const parse_ctx *c, const char *name)
{
    int i = key_index(name);
    return i >= 0 && (c->given & ((uint64_t)1 << i));
}

/* Required keys, and defaults that depend on other keys. */
static int finish_members(parse_ctx *c)
{
    static const char *const required[] = {"m_mode", "M", "N"};
    for (int i = 0; i < CIM_COUNT_OF(required); ++i)
        if (!was_given(c, required[i]))
            return key_error(c->origin, CIM_ERR_CONFIG, c->err, required[i],
                             "is missing (required)");
    cim_config *cfg = c->cfg;
    int bits = CIM_MAPPINGS[cfg->mapping].ternary ? CIM_TNN_BITS : CIM_BNN_BITS;
    if (!was_given(c, "W_BIT"))
        cfg->w_bit = bits;
    if (!was_given(c, "I_BIT"))
        cfg->i_bit = bits;
    if (!was_given(c, "HRS_NOISE_C2C"))
        cfg->hrs_noise_c2c_ua = cfg->hrs_noise_ua;
    if (!was_given(c, "LRS_NOISE_C2C"))
        cfg->lrs_noise_c2c_ua = cfg->lrs_noise_ua;
    if (cfg->adc_type != CIM_ADC_INF && !was_given(c, "resolution"))
        return key_error(c->origin, CIM_ERR_CONFIG, c->err, "resolution",
                         "is missing; %s needs an integer from %d to %d",
                         adc_type_names[cfg->adc_type], CIM_ADC_MIN_BITS, CIM_ADC_MAX_BITS);
    return 0;
}

/* 1-based line and column of byte `pos` of `text`. */
static void line_and_column(const char *text, size_t pos, long *line, long *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < pos; ++i) {
        if (text[i] == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

static int invalid_json(const char *origin, const char *text, const char *at, cim_error *err)
{
    size_t pos = at && at >= text ? (size_t)(at - text) : 0;
    size_t len = strlen(text);
    if (strspn(text, " \t\r\n") == len)
        return cim_error_set(err, CIM_ERR_CONFIG, "%s: invalid JSON: the text is empty",
                             origin_or_default(origin));
    long line, column;
    line_and_column(text, pos > len ? len : pos, &line, &column);
    return cim_error_set(err, CIM_ERR_CONFIG, "%s: invalid JSON near line %ld, column %ld",
                         origin_or_default(origin), line, column);
}

static int parse_root(parse_ctx *c, const char *json_text)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json_text, &end, 1);
    if (!root)
        return invalid_json(c->origin, json_text, end, c->err);
    int rc;
    if (!cJSON_IsObject(root)) {
        char got[CIM_CONFIG_GOT_MAX];
        format_json(got, sizeof got, root);
        rc = cim_error_set(c->err, CIM_ERR_CONFIG,
                           "%s: expected a JSON object of crossbar settings, got %s",
                           origin_or_default(c->origin), got);
    } else {
        rc = parse_members(c, root);
        if (!rc)
            rc = finish_members(c);
    }
    cJSON_Delete(root);
    return rc;
}

int cim_config_parse(const char *json_text, const char *origin, cim_config *cfg, cim_error *err)
{
    cim_config_default(cfg);
    if (origin) {
        cfg->origin = strdup(origin);
        if (!cfg->origin)
            return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", origin);
    }
    parse_ctx c = {origin, cfg, err, 0};
    int rc = json_text ? parse_root(&c, json_text)
                       : cim_error_set(err, CIM_ERR_CONFIG, "%s: no config text",
                                       origin_or_default(origin));
    if (!rc)
        rc = cim_config_validate(cfg, err);
    if (rc)
        cim_config_free(cfg);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Loading a file
 */

static int read_text_file(const char *path, char **text, cim_error *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    size_t len = 0, cap = CIM_CONFIG_READ_CHUNK;
    char *buf = malloc(cap + 1);
    int rc = 0;
    while (buf) {
        if (len == cap) {
            char *grown =
                cap >= (size_t)CIM_CONFIG_MAX_FILE_BYTES ? NULL : realloc(buf, 2 * cap + 1);
            if (!grown) {
                rc = cap >= (size_t)CIM_CONFIG_MAX_FILE_BYTES
                         ? cim_error_set(err, CIM_ERR_INPUT,
                                         "%s: larger than %ld bytes, not a crossbar config", path,
                                         CIM_CONFIG_MAX_FILE_BYTES)
                         : cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                rc =
                    cim_error_set(err, CIM_ERR_INPUT, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!buf)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", path);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        long line, column;
        line_and_column(buf, strlen(buf), &line, &column);
        free(buf);
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: invalid JSON at line %ld, column %ld: a NUL byte", path, line,
                             column);
    }
    *text = buf;
    return 0;
}

int cim_config_load(const char *path, cim_config *cfg, cim_error *err)
{
    char *text;
    cim_config_default(cfg);
    int rc = read_text_file(path, &text, err);
    if (rc)
        return rc;
    rc = cim_config_parse(text, path, cfg, err);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Validation of the struct
 */

/* The per-key ranges of the table, on the stored values. */
static int validate_keys(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    char expected[CIM_ERROR_MSG_MAX / 2], got[CIM_CONFIG_GOT_MAX];
    for (int i = 0; i < CIM_N_KEYS; ++i) {
        const key_spec *k = &config_keys[i];
        switch (k->kind) {
        case KIND_BOOL:
            if (k->feature && int_value(cfg, k))
                return key_error(origin, CIM_ERR_UNSUPPORTED, err, k->name,
                                 "%s is not supported yet (set it to false or leave it out)",
                                 k->feature);
            break;
        case KIND_INT: {
            int v = int_value(cfg, k);
            if (v < k->min || v > k->max) {
                describe_range(expected, sizeof expected, k);
                return key_error(origin, CIM_ERR_CONFIG, err, k->name, "expected %s, got %d",
                                 expected, v);
            }
            break;
        }
        case KIND_NUMBER: {
            double v = double_value(cfg, k);
            if (!number_ok(k, v)) {
                describe_range(expected, sizeof expected, k);
                format_double(got, sizeof got, v);
                return key_error(origin, CIM_ERR_CONFIG, err, k->name, "expected %s, got %s",
                                 expected, got);
            }
            break;
        }
        case KIND_CHOICE: {
            int v = int_value(cfg, k);
            if (v < 0 || v >= k->n_choices) {
                describe_choices(expected, sizeof expected, k->choices, k->n_choices);
                return key_error(origin, CIM_ERR_CONFIG, err, k->name,
                                 "expected %s, got the value %d", expected, v);
            }
            break;
        }
        default:
            break; /* the special keys: validate_special() */
        }
    }
    return 0;
}

static int validate_special(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    if ((unsigned)cfg->mapping >= CIM_MAPPING_COUNT)
        return key_error(origin, CIM_ERR_CONFIG, err, "m_mode", "invalid mapping id %d",
                         (int)cfg->mapping);
    if ((int64_t)cfg->M * cfg->N > CIM_CONFIG_MAX_CELLS)
        return cim_error_set(
            err, CIM_ERR_CONFIG, "%s: keys \"M\", \"N\": crossbar %d x %d has more than %lld cells",
            origin_or_default(origin), cfg->M, cfg->N, (long long)CIM_CONFIG_MAX_CELLS);
    int split_ok = cfg->n_split >= 1 && cfg->n_split <= CIM_CONFIG_MAX_SPLIT;
    for (int i = 0; split_ok && i < cfg->n_split; ++i)
        split_ok = cfg->split[i] >= 0 && cfg->split[i] <= CIM_CONFIG_MAX_OPERAND_BITS;
    if (!split_ok)
        return key_error(origin, CIM_ERR_CONFIG, err, "SPLIT",
                         "expected an array of 1 or %d integers from 0 to %d", CIM_CONFIG_MAX_SPLIT,
                         CIM_CONFIG_MAX_OPERAND_BITS);
    if (cfg->n_calib > 0 && !cfg->calib)
        return key_error(origin, CIM_ERR_CONFIG, err, "adc_calib_dict", "has no entries");
    for (int i = 0; i < cfg->n_calib; ++i) {
        const cim_calib_range *r = &cfg->calib[i];
        if (!r->layer || !isfinite(r->lo_ua) || !isfinite(r->hi_ua) || !(r->lo_ua < r->hi_ua) ||
            fabs(r->lo_ua) > CIM_CONFIG_MAX_CALIB_UA || fabs(r->hi_ua) > CIM_CONFIG_MAX_CALIB_UA)
            return key_error(origin, CIM_ERR_CONFIG, err, "adc_calib_dict",
                             "layer \"%s\": expected [lo, hi] in µA with lo < hi and "
                             "|lo|, |hi| <= %g, got [%g, %g]",
                             r->layer ? r->layer : "(null)", CIM_CONFIG_MAX_CALIB_UA, r->lo_ua,
                             r->hi_ua);
    }
    return 0;
}

static int validate_adc(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    const char *adc = adc_type_names[cfg->adc_type];
    const char *mapping = cim_mapping_name(cfg->mapping);
    if (cfg->adc_type == CIM_ADC_INF) {
        if (cfg->resolution != CIM_INF_RESOLUTION)
            return key_error(origin, CIM_ERR_CONFIG, err, "resolution",
                             "expected -1 (or no key) with INF_ADC, got %d", cfg->resolution);
    } else {
        if (cfg->resolution < CIM_ADC_MIN_BITS || cfg->resolution > CIM_ADC_MAX_BITS)
            return key_error(origin, CIM_ERR_CONFIG, err, "resolution",
                             "expected an integer from %d to %d for %s, got %d", CIM_ADC_MIN_BITS,
                             CIM_ADC_MAX_BITS, adc, cfg->resolution);
        int signed_current = CIM_MAPPINGS[cfg->mapping].signed_current;
        int needed = signed_current ? CIM_ADC_SYM : CIM_ADC_POS;
        if (cfg->adc_type != needed)
            return key_error(origin, CIM_ERR_CONFIG, err, "adc_type",
                             "mapping %s has a %s column current and needs %s or INF_ADC, got %s",
                             mapping, signed_current ? "signed" : "non-negative",
                             adc_type_names[needed], adc);
        if (cfg->calib_mode == CIM_CALIB_CALIB && cfg->n_calib == 0)
            return key_error(origin, CIM_ERR_CONFIG, err, "adc_calib_dict",
                             "is missing or empty; adc_calib_mode CALIB with %s needs a "
                             "[lo, hi] range per layer",
                             adc);
    }
    return 0;
}

static int validate_combinations(const cim_config *cfg, cim_error *err)
{
    const char *origin = cfg->origin;
    if (!(cfg->lrs_ua > cfg->hrs_ua))
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: keys \"HRS\", \"LRS\": expected LRS > HRS, got HRS %g, "
                             "LRS %g µA",
                             origin_or_default(origin), cfg->hrs_ua, cfg->lrs_ua);
    int rc = validate_adc(cfg, err);
    if (rc)
        return rc;
    if (cfg->mapping == CIM_TNN_IV || cfg->mapping == CIM_TNN_V) {
        const char *mapping = cim_mapping_name(cfg->mapping);
        if (cfg->w_bit != CIM_TNN_BITS)
            return key_error(origin, CIM_ERR_CONFIG, err, "W_BIT",
                             "%s stores each weight in %d bit cells and needs %d, got %d", mapping,
                             CIM_TNN_BITS, CIM_TNN_BITS, cfg->w_bit);
        if (cfg->n_split != CIM_CONFIG_MAX_SPLIT || cfg->split[0] != 1 || cfg->split[1] != 1)
            return key_error(origin, CIM_ERR_CONFIG, err, "SPLIT", "%s needs [1, 1]", mapping);
    }
    return 0;
}

int cim_config_validate(const cim_config *cfg, cim_error *err)
{
    int rc = validate_keys(cfg, err);
    if (!rc)
        rc = validate_special(cfg, err);
    if (!rc)
        rc = validate_combinations(cfg, err);
    return rc;
}

const cim_calib_range *cim_config_find_calib(const cim_config *cfg, const char *layer_name)
{
    for (int i = 0; layer_name && i < cfg->n_calib; ++i)
        if (cfg->calib[i].layer && strcmp(cfg->calib[i].layer, layer_name) == 0)
            return &cfg->calib[i];
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Resolution to integers
 */

static int32_t ua_to_na(double ua)
{
    return (int32_t)llround(ua * CIM_NA_PER_UA); /* half away from zero */
}

/* ADC range in half-units (2 nA). */
static int resolve_adc_range(const cim_config *cfg, const char *layer_name, cim_xbar *x,
                             cim_error *err)
{
    const char *origin = origin_or_default(cfg->origin);
    const int64_t n = cfg->N;
    cim_column_params *p = &x->column;
    if (cfg->calib_mode == CIM_CALIB_MAX) {
        if (cfg->adc_type == CIM_ADC_POS) {
            p->adc_lo2 = 0;
            p->adc_hi2 = 2 * n * x->current_na[CIM_STATE_LRS];
        } else {
            p->adc_lo2 = -2 * n * p->delta;
            p->adc_hi2 = 2 * n * p->delta;
        }
        return 0;
    }
    const cim_calib_range *r = cim_config_find_calib(cfg, layer_name);
    if (!r)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: key \"adc_calib_dict\": no [lo, hi] range for layer \"%s\" "
                             "(adc_calib_mode CALIB)",
                             origin, layer_name ? layer_name : "(unnamed)");
    p->adc_lo2 = llround(2.0 * r->lo_ua * CIM_NA_PER_UA);
    p->adc_hi2 = llround(2.0 * r->hi_ua * CIM_NA_PER_UA);
    if (p->adc_hi2 <= p->adc_lo2)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: key \"adc_calib_dict\": layer \"%s\": range [%g, %g] µA is "
                             "narrower than the 0.5 nA current resolution",
                             origin, r->layer, r->lo_ua, r->hi_ua);
    return 0;
}

/* The largest column current the sampler can produce must fit in int32. */
static int check_current_range(const cim_config *cfg, const cim_xbar *x, cim_error *err)
{
    const cim_mapping_desc *d = &CIM_MAPPINGS[cfg->mapping];
    int64_t cell_max_tenths = 0; /* largest cell current, 0.1 nA */
    for (int s = CIM_STATE_HRS; s <= CIM_STATE_LRS; ++s) {
        int64_t c = cfg->digital ? (int64_t)s * CIM_CONFIG_TENTHS
                                 : (int64_t)x->current_na[s] * CIM_CONFIG_TENTHS +
                                       (int64_t)CIM_CONFIG_TAIL_SIGMA_TENTHS *
                                           (x->d2d_sigma_na[s] + x->c2c_sigma_na[s]);
        if (c > cell_max_tenths)
            cell_max_tenths = c;
    }
    int64_t cells = (int64_t)cfg->N * d->rows_per_input * 2;
    if (cells * cell_max_tenths >= CIM_CONFIG_CURRENT_LIMIT * CIM_CONFIG_TENTHS)
        return cim_error_set(err, CIM_ERR_CONFIG,
                             "%s: crossbar too large for the 32-bit current range: N = %d inputs "
                             "x %d rows each x 2 x %.1f nA (LRS + 6.4 sigma) >= %lld nA; use a "
                             "smaller N, LRS or noise",
                             origin_or_default(cfg->origin), cfg->N, d->rows_per_input,
                             (double)cell_max_tenths / CIM_CONFIG_TENTHS,
                             (long long)CIM_CONFIG_CURRENT_LIMIT);
    return 0;
}

int cim_config_resolve(const cim_config *cfg, const char *layer_name, uint64_t seed, uint32_t layer,
                       cim_xbar *x, cim_error *err)
{
    memset(x, 0, sizeof *x);
    int rc = cim_config_validate(cfg, err);
    if (rc)
        return rc;
    x->mapping = cfg->mapping;
    x->xbar_m = cfg->M;
    x->xbar_n = cfg->N;
    x->seed = seed;
    x->layer = layer;
    x->current_na[CIM_STATE_HRS] = ua_to_na(cfg->hrs_ua);
    x->current_na[CIM_STATE_LRS] = ua_to_na(cfg->lrs_ua);
    x->d2d_sigma_na[CIM_STATE_HRS] = cfg->d2d_var ? ua_to_na(cfg->hrs_noise_ua) : 0;
    x->d2d_sigma_na[CIM_STATE_LRS] = cfg->d2d_var ? ua_to_na(cfg->lrs_noise_ua) : 0;
    x->c2c_sigma_na[CIM_STATE_HRS] = cfg->c2c_var ? ua_to_na(cfg->hrs_noise_c2c_ua) : 0;
    x->c2c_sigma_na[CIM_STATE_LRS] = cfg->c2c_var ? ua_to_na(cfg->lrs_noise_c2c_ua) : 0;

    cim_column_params *p = &x->column;
    p->mapping = cfg->mapping;
    p->digital = cfg->digital ? 1 : 0;
    p->adc_type = CIM_ADC_INF;
    if (cfg->digital) {
        p->hrs = 0;
        p->delta = 1;
    } else {
        p->hrs = x->current_na[CIM_STATE_HRS];
        p->delta = x->current_na[CIM_STATE_LRS] - x->current_na[CIM_STATE_HRS];
        if (p->delta < 1)
            return cim_error_set(err, CIM_ERR_CONFIG,
                                 "%s: keys \"HRS\", \"LRS\": %g and %g µA differ by less than "
                                 "the 1 nA current resolution",
                                 origin_or_default(cfg->origin), cfg->hrs_ua, cfg->lrs_ua);
        p->adc_type = cfg->adc_type;
        if (cfg->adc_type != CIM_ADC_INF) {
            p->adc_steps = cim_adc_steps(cfg->adc_type, cfg->resolution);
            rc = resolve_adc_range(cfg, layer_name, x, err);
            if (rc)
                return rc;
        }
    }
    return check_current_range(cfg, x, err);
}

/* ---------------------------------------------------------------------------
 * Provenance JSON
 */

static cJSON *member_json(const cim_config *cfg, const key_spec *k)
{
    switch (k->kind) {
    case KIND_BOOL:
        return cJSON_CreateBool(int_value(cfg, k) != 0);
    case KIND_INT:
        return cJSON_CreateNumber(int_value(cfg, k));
    case KIND_NUMBER:
        return cJSON_CreateNumber(double_value(cfg, k));
    case KIND_CHOICE:
        return cJSON_CreateString(k->choices[int_value(cfg, k)]);
    case KIND_MAPPING:
        return cJSON_CreateString(cim_mapping_name(cfg->mapping));
    case KIND_SPLIT:
        return cJSON_CreateIntArray(cfg->split, cfg->n_split);
    case KIND_CALIB_DICT: {
        cJSON *dict = cJSON_CreateObject();
        for (int i = 0; dict && i < cfg->n_calib; ++i) {
            double range[2] = {cfg->calib[i].lo_ua, cfg->calib[i].hi_ua};
            cJSON *pair = cJSON_CreateDoubleArray(range, 2);
            if (!pair || !cJSON_AddItemToObject(dict, cfg->calib[i].layer, pair)) {
                cJSON_Delete(pair);
                cJSON_Delete(dict);
                return NULL;
            }
        }
        return dict;
    }
    }
    return NULL;
}

char *cim_config_to_json(const cim_config *cfg)
{
    if (cim_config_validate(cfg, NULL))
        return NULL; /* the table lookups below need valid indices */
    cJSON *root = cJSON_CreateObject();
    for (int i = 0; root && i < CIM_N_KEYS; ++i) {
        const key_spec *k = &config_keys[i];
        if (k->kind == KIND_NUMBER && k->optional && isnan(double_value(cfg, k)))
            continue; /* not given */
        cJSON *v = member_json(cfg, k);
        if (!v || !cJSON_AddItemToObject(root, k->name, v)) {
            cJSON_Delete(v);
            cJSON_Delete(root);
            return NULL;
        }
    }
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return text;
}
