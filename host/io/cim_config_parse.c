/* cim_config_parse.c -- JSON text, or a file holding it, into a cim_config.
 *
 * The object's members are matched against the key table (cim_config.c), one
 * at a time: parsing checks the JSON type and the key's own range and stores
 * the value; unknown keys (with a "did you mean" for a case slip) and
 * repeated keys are rejected here, as is a text that is not one JSON object.
 * After the members come the required keys (m_mode, M, N) and the defaults
 * that depend on other keys (W_BIT and I_BIT from the mapping's alphabet, the
 * C2C sigmas from the D2D ones, the ADC's type and bits); then
 * cim_config_validate judges the whole.
 *
 * One parser serves both readings of a config (cim_config.h): the reference
 * simulator's (no base: cim_config_default underneath, m_mode, M, N required)
 * and `cimgpu run`'s (over a base config: the members are parsed onto a copy
 * of the base, nothing is required, and the derived keys follow the result).
 *
 * Invariants: on any error the struct is released and reset to the defaults,
 * so the caller frees nothing and nothing leaks; every message names the
 * origin and points at the key, or at the line and column of bad JSON.
 * Files are read whole, up to 16 MiB; a NUL byte inside is bad JSON (the
 * reader and the invalid-JSON message are cim_text.h's, shared with the
 * experiment reader).
 */
#include "cim_config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cim_config_internal.h"
#include "cim_mapping.h"
#include "cim_text.h"

#define CIM_CONFIG_MAX_FILE_BYTES (16L << 20) /* config files */

/* ---------------------------------------------------------------------------
 * One member at a time
 */

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

typedef struct parse_ctx {
    const char *origin;
    const cim_config *base; /* NULL: the reference's defaults and required keys */
    cim_config *cfg;
    cim_error *err;
    uint64_t given;       /* bit i: cim_config_keys[i] was present */
    unsigned cdf_touched; /* bit t: device table t was given (cim_config_parse_cdf) */
} parse_ctx;

static int type_error(parse_ctx *c, const char *key, const cJSON *v, const char *expected)
{
    char got[CIM_CONFIG_GOT_MAX];
    format_json(got, sizeof got, v);
    return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, key, "expected %s, got %s",
                                expected, got);
}

/* An INT or NUMBER key whose value is not in its range (or not a number). */
static int range_error(parse_ctx *c, const cim_key_spec *k, const cJSON *v)
{
    char expected[CIM_CONFIG_EXPECTED_MAX];
    cim_config_describe_range(expected, sizeof expected, k);
    return type_error(c, k->name, v, expected);
}

/* 1 if v is a number with an integral value in [lo, hi]. */
static int is_int_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
           floor(v->valuedouble) == v->valuedouble && v->valuedouble >= lo && v->valuedouble <= hi;
}

static int parse_mapping(parse_ctx *c, const cim_key_spec *k, const cJSON *v)
{
    cim_mapping_id id;
    if (cJSON_IsString(v) && cim_mapping_from_name(v->valuestring, &id) == 0) {
        c->cfg->mapping = id;
        return 0;
    }
    const char *names[CIM_MAPPING_COUNT];
    for (int i = 0; i < CIM_MAPPING_COUNT; ++i)
        names[i] = cim_mapping_name((cim_mapping_id)i);
    char expected[CIM_CONFIG_EXPECTED_MAX];
    cim_config_describe_choices(expected, sizeof expected, names, CIM_MAPPING_COUNT);
    return type_error(c, k->name, v, expected);
}

static int parse_split(parse_ctx *c, const cim_key_spec *k, const cJSON *v)
{
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    int ok = n >= 1 && n <= CIM_CONFIG_MAX_SPLIT;
    for (int i = 0; ok && i < n; ++i)
        ok = is_int_in(cJSON_GetArrayItem(v, i), 0, CIM_CONFIG_MAX_OPERAND_BITS);
    if (!ok) {
        char expected[CIM_CONFIG_EXPECTED_MAX];
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
    return cJSON_IsNumber(lo) && cJSON_IsNumber(hi) &&
           cim_config_calib_range_ok(lo->valuedouble, hi->valuedouble);
}

static int parse_calib_dict(parse_ctx *c, const cim_key_spec *k, const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return type_error(c, k->name, v, "an object mapping layer names to [lo, hi] in µA");
    int n = cJSON_GetArraySize(v);
    cim_config *cfg = c->cfg;
    cim_config_free_calib(cfg);
    if (n == 0)
        return 0;
    cfg->calib = calloc((size_t)n, sizeof *cfg->calib);
    if (!cfg->calib)
        return cim_error_set(c->err, CIM_ERR_NOMEM, "%s: out of memory for adc_calib_dict",
                             cim_config_origin(c->origin));
    for (const cJSON *e = v->child; e; e = e->next) {
        char got[CIM_CONFIG_GOT_MAX];
        if (cim_config_find_calib(cfg, e->string))
            return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, k->name,
                                        "layer \"%s\" appears more than once", e->string);
        if (!calib_entry_ok(e)) {
            format_json(got, sizeof got, e);
            return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, k->name,
                                        "layer \"%s\": expected [lo, hi] in µA with lo < hi and "
                                        "|lo|, |hi| <= %g, got %s",
                                        e->string, CIM_CONFIG_MAX_CALIB_UA, got);
        }
        cim_calib_range *r = &cfg->calib[cfg->n_calib];
        r->layer = strdup(e->string);
        if (!r->layer)
            return cim_error_set(c->err, CIM_ERR_NOMEM, "%s: out of memory for adc_calib_dict",
                                 cim_config_origin(c->origin));
        r->lo_ua = cJSON_GetArrayItem(e, 0)->valuedouble;
        r->hi_ua = cJSON_GetArrayItem(e, 1)->valuedouble;
        cfg->n_calib++;
    }
    return 0;
}

/* adc_calib_info: any object, kept as its compact text. */
static int parse_calib_info(parse_ctx *c, const cim_key_spec *k, const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return type_error(c, k->name, v, "a JSON object (notes on the calibration)");
    free(c->cfg->calib_info);
    c->cfg->calib_info = cJSON_PrintUnformatted(v);
    if (!c->cfg->calib_info)
        return cim_error_set(c->err, CIM_ERR_NOMEM, "%s: out of memory for adc_calib_info",
                             cim_config_origin(c->origin));
    return 0;
}

static int parse_member(parse_ctx *c, const cim_key_spec *k, const cJSON *v)
{
    char expected[CIM_CONFIG_EXPECTED_MAX];
    switch (k->kind) {
    case CIM_KEY_BOOL:
        if (!cJSON_IsBool(v))
            return type_error(c, k->name, v, "true or false");
        *cim_key_int_field(c->cfg, k) = cJSON_IsTrue(v);
        return 0;
    case CIM_KEY_INT:
        if (!is_int_in(v, k->min, k->max))
            return range_error(c, k, v);
        *cim_key_int_field(c->cfg, k) = (int)v->valuedouble;
        return 0;
    case CIM_KEY_NUMBER:
        /* JSON has no NAN, so "not given" cannot be written explicitly. */
        if (!cJSON_IsNumber(v) || isnan(v->valuedouble) || !cim_config_number_ok(k, v->valuedouble))
            return range_error(c, k, v);
        *cim_key_double_field(c->cfg, k) = v->valuedouble;
        return 0;
    case CIM_KEY_CHOICE:
        for (int i = 0; cJSON_IsString(v) && i < k->n_choices; ++i) {
            if (strcmp(v->valuestring, k->choices[i]) == 0) {
                *cim_key_int_field(c->cfg, k) = i;
                return 0;
            }
        }
        cim_config_describe_choices(expected, sizeof expected, k->choices, k->n_choices);
        return type_error(c, k->name, v, expected);
    case CIM_KEY_MAPPING:
        return parse_mapping(c, k, v);
    case CIM_KEY_SPLIT:
        return parse_split(c, k, v);
    case CIM_KEY_CALIB_DICT:
        return parse_calib_dict(c, k, v);
    case CIM_KEY_CDF:
    case CIM_KEY_CDF_CSV:
    case CIM_KEY_LOGNORMAL:
        return cim_config_parse_cdf(c->origin, k, v, c->cfg, &c->cdf_touched, c->err);
    case CIM_KEY_CALIB_INFO:
        return parse_calib_info(c, k, v);
    }
    return cim_error_set(c->err, CIM_ERR_CONFIG, "%s: key \"%s\": internal error",
                         cim_config_origin(c->origin), k->name);
}

static int unknown_key(parse_ctx *c, const char *key)
{
    char quoted[CIM_CONFIG_GOT_MAX];
    cJSON *s = cJSON_CreateString(key);
    format_json(quoted, sizeof quoted, s);
    cJSON_Delete(s);
    for (int i = 0; i < cim_config_n_keys; ++i) {
        if (strcasecmp(cim_config_keys[i].name, key) == 0)
            return cim_error_set(c->err, CIM_ERR_CONFIG,
                                 "%s: unknown key %s (did you mean \"%s\"?)",
                                 cim_config_origin(c->origin), quoted, cim_config_keys[i].name);
    }
    return cim_error_set(c->err, CIM_ERR_CONFIG,
                         "%s: unknown key %s (see the README, \"Config keys\")",
                         cim_config_origin(c->origin), quoted);
}

static int parse_members(parse_ctx *c, const cJSON *root)
{
    for (const cJSON *m = root->child; m; m = m->next) {
        int i = cim_config_key_index(m->string);
        if (i < 0)
            return unknown_key(c, m->string);
        if (c->given & ((uint64_t)1 << i))
            return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, m->string,
                                        "appears more than once");
        c->given |= (uint64_t)1 << i;
        int rc = parse_member(c, &cim_config_keys[i], m);
        if (rc)
            return rc;
    }
    return 0;
}

static int was_given(const parse_ctx *c, const char *name)
{
    int i = cim_config_key_index(name);
    return i >= 0 && (c->given & ((uint64_t)1 << i));
}

/* Required keys (without a base), and the keys derived from others: the
 * same rules with or without a base (cim_config.h, "Read over a base"). */
static int finish_members(parse_ctx *c)
{
    static const char *const required[] = {"m_mode", "M", "N"};
    for (int i = 0; !c->base && i < CIM_COUNT_OF(required); ++i)
        if (!was_given(c, required[i]))
            return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, required[i],
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
    /* the base's finite ADC follows a new mapping's signedness */
    const int base_finite = c->base && c->base->adc_type != CIM_ADC_INF;
    if (!was_given(c, "adc_type") && base_finite)
        cfg->adc_type = cim_config_finite_adc_type(cfg->mapping);
    if (c->base && was_given(c, "resolution") && !was_given(c, "adc_type") &&
        cfg->adc_type == CIM_ADC_INF && cfg->resolution != CIM_INF_RESOLUTION)
        return cim_config_key_error(
            c->origin, CIM_ERR_CONFIG, c->err, "resolution",
            "%d bits need a finite \"adc_type\" (the default is INF_ADC; %s needs \"%s\")",
            cfg->resolution, cim_mapping_name(cfg->mapping),
            cim_config_adc_type_names[cim_config_finite_adc_type(cfg->mapping)]);
    if (!was_given(c, "resolution")) {
        if (cfg->adc_type == CIM_ADC_INF)
            cfg->resolution = CIM_INF_RESOLUTION;
        else if (!base_finite)
            return cim_config_key_error(c->origin, CIM_ERR_CONFIG, c->err, "resolution",
                                        "is missing; %s needs an integer from %d to %d",
                                        cim_config_adc_type_names[cfg->adc_type],
                                        cim_adc_min_bits(cfg->adc_type), CIM_ADC_MAX_BITS);
    }
    return 0;
}

/* The members of `root`, which must be one JSON object. */
static int parse_object(parse_ctx *c, const cJSON *root)
{
    if (!cJSON_IsObject(root)) {
        char got[CIM_CONFIG_GOT_MAX];
        format_json(got, sizeof got, root);
        return cim_error_set(c->err, CIM_ERR_CONFIG,
                             "%s: expected a JSON object of crossbar settings, got %s",
                             cim_config_origin(c->origin), got);
    }
    int rc = parse_members(c, root);
    return rc ? rc : finish_members(c);
}

static int parse_root(parse_ctx *c, const char *json_text)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(json_text, &end, 1);
    if (!root)
        return cim_text_invalid_json(cim_config_origin(c->origin), json_text, end, c->err);
    int rc = parse_object(c, root);
    cJSON_Delete(root);
    return rc;
}

/* cim_config_parse_over of the text, or (text NULL) of the parsed object
 * `root`: --set values are read as parsed, since printing a number with
 * cJSON and reading it back does not always give the same double. */
static int parse_over(const char *json_text, const cJSON *root, const char *origin,
                      const cim_config *base, cim_config *cfg, cim_error *err)
{
    cim_config_default(cfg);
    if (base) {
        int rc = cim_config_copy(cfg, base, err);
        if (rc)
            return rc;
        free(cfg->origin);
        cfg->origin = NULL;
    }
    if (origin) {
        cfg->origin = strdup(origin);
        if (!cfg->origin) {
            cim_config_free(cfg);
            return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", origin);
        }
    }
    parse_ctx c = {origin, base, cfg, err, 0, 0};
    int rc = json_text ? parse_root(&c, json_text)
             : root    ? parse_object(&c, root)
                       : cim_error_set(err, CIM_ERR_CONFIG, "%s: no config text",
                                       cim_config_origin(origin));
    if (!rc)
        rc = cim_config_validate(cfg, err);
    if (rc)
        cim_config_free(cfg);
    return rc;
}

int cim_config_parse_over(const char *json_text, const char *origin, const cim_config *base,
                          cim_config *cfg, cim_error *err)
{
    return parse_over(json_text, NULL, origin, base, cfg, err);
}

int cim_config_parse(const char *json_text, const char *origin, cim_config *cfg, cim_error *err)
{
    return cim_config_parse_over(json_text, origin, NULL, cfg, err);
}

/* ---------------------------------------------------------------------------
 * KEY=VALUE settings (`--set`)
 */

static int add_setting(cJSON *root, const char *text, const char *origin, cim_error *err)
{
    const char *eq = strchr(text, '=');
    char key[CIM_CONFIG_GOT_MAX + 1];
    if (!eq || eq == text || (size_t)(eq - text) > CIM_CONFIG_GOT_MAX)
        return cim_error_set(err, CIM_ERR_CONFIG, "%s: '%.*s': expected KEY=VALUE",
                             cim_config_origin(origin), CIM_CONFIG_GOT_MAX, text);
    memcpy(key, text, (size_t)(eq - text));
    key[eq - text] = '\0';
    if (cJSON_GetObjectItemCaseSensitive(root, key))
        return cim_error_set(err, CIM_ERR_CONFIG, "%s: key \"%s\" is set twice",
                             cim_config_origin(origin), key);
    cJSON *v = cJSON_Parse(eq + 1);
    if (!v)
        v = cJSON_CreateString(eq + 1); /* a bare word: the string itself */
    if (!v || !cJSON_AddItemToObject(root, key, v)) {
        cJSON_Delete(v);
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", cim_config_origin(origin));
    }
    return 0;
}

int cim_config_apply_sets(const cim_config *base, const char *const *sets, int n,
                          const char *origin, cim_config *cfg, cim_error *err)
{
    cJSON *root = cJSON_CreateObject();
    int rc = root ? 0 : cim_error_set(err, CIM_ERR_NOMEM, "out of memory");
    cim_config_default(cfg);
    for (int i = 0; rc == 0 && i < n; ++i)
        rc = add_setting(root, sets[i], origin, err);
    if (rc == 0)
        rc = parse_over(NULL, root, origin, base, cfg, err);
    cJSON_Delete(root);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Loading a file
 */

int cim_config_load_over(const char *path, const cim_config *base, cim_config *cfg, cim_error *err)
{
    char *text;
    cim_config_default(cfg);
    int rc =
        cim_text_read_json_file(path, CIM_CONFIG_MAX_FILE_BYTES, "a crossbar config", &text, err);
    if (rc)
        return rc;
    rc = cim_config_parse_over(text, path, base, cfg, err);
    free(text);
    return rc;
}

int cim_config_load(const char *path, cim_config *cfg, cim_error *err)
{
    return cim_config_load_over(path, NULL, cfg, err);
}
