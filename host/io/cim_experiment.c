/* cim_experiment.c -- see cim_experiment.h.
 *
 * Reading: the file is one JSON object. Its members are matched against the
 * key table below (unknown and repeated keys are refused), every value is
 * checked for its type and the range the experiment itself needs, and a
 * grid key given as a list becomes that many values (a pair key: a list of
 * pairs, or one pair). Then come the rules across keys (one of hrs_lrs and
 * gmin_gmax, V_read with gmin_gmax, the ADC's resolution, one ifm per
 * model), the models, the data folder, and the grid's size, which is
 * checked before anything per configuration is allocated.
 *
 * Expanding: configuration i is a mixed-radix number over the grid keys,
 * the last key its lowest digit; a key's radix is its number of values (1
 * when given once or absent). Each configuration's --set list is written in
 * one fixed order (build_sets), its /configs row is filled beside it, and
 * then every configuration's crossbar config is built the way `cimgpu run
 * --set` builds it (cim_config_apply_sets over cim_config_run_default), so
 * an invalid combination anywhere in the grid is refused before any work.
 * Values are written as compact JSON whose numbers read back to the very
 * same double (put_json; cJSON's own printer does not promise that).
 *
 * Invariants: on any error everything is released and *exp is zeroed; every
 * message is one line naming the file, the key and what was expected, and
 * the configuration where one is at fault.
 */
#include "cim_experiment.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_text.h"

#define EXP_MAX_FILE_BYTES (16L << 20)
#define EXP_MAX_IMAGES 2147483648.0      /* 2^31: batch x num_runs */
#define EXP_MAX_EXACT 9007199254740992.0 /* 2^53: integers a JSON number holds exactly */
#define EXP_GOT_MAX 64                   /* chars of an offending value in a message */
#define EXP_TEXT_MAX 256                 /* "expected ..." texts, quoted names */
#define EXP_WHERE_MAX (CIM_TEXT_QUOTE_SIZE(EXP_GOT_MAX) + 64) /* an adc_calib_dict path */
#define EXP_MAX_SETS 32    /* --set texts of one configuration (build_sets: 30) */
#define EXP_MAX_SHIPPED 64 /* shipped model names listed in a message */
#define COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------------------
 * The keys
 */

typedef enum val_type {
    T_STRING,
    T_INT,
    T_REAL,
    T_BOOL,
    T_INT_PAIR,  /* [a, b] integers */
    T_REAL_PAIR, /* [a, b] numbers, lo <= a < b */
    T_TRIPLE,    /* [H, W, C] integers */
    T_OBJECT,
    T_SEED, /* an integer 0..2^53, or a decimal string up to 2^64 - 1 */
} val_type;

enum key_id {
    /* the grid, in its order (the last varies fastest) */
    K_NN_NAMES,
    K_XBAR_SIZE,
    K_HRS_LRS,
    K_GMIN_GMAX,
    K_RESOLUTION,
    K_ADC_CALIB_MODE,
    K_M_MODE,
    K_HRS_NOISE,
    K_LRS_NOISE,
    K_V_READ,
    K_T_READ,
    K_RD_UPDATE_FREQ,
    K_RD_MITIGATION_FP,
    K_RD_UPDATE_TOLERANCE,
    K_W_RES,
    K_ALPHA,
    K_C2C_VAR,
    K_D2D_VAR,
    K_HRS_NOISE_C2C,
    K_LRS_NOISE_C2C,
    N_GRID,
    /* one value each */
    K_IFM = N_GRID,
    K_NN_DATA_SET,
    K_NN_DATA,
    K_BATCH,
    K_NUM_RUNS,
    K_DIGITAL_ONLY,
    K_ADC_TYPE,
    K_ADC_CALIB_DICT,
    K_VERBOSE,
    K_PARASITICS,
    K_READ_DISTURB,
    K_RD_STRATEGY,
    K_ADC_PROFILE,
    K_MVM_PROFILE,
    K_TRIALS,
    K_SEED,
    K_YIELD_TARGET,
    K_FIRST_LAYER,
    K_C2C_MODEL,
    N_KEYS
};

static const char *const calib_modes[] = {"MAX", "CALIB"};
static const char *const data_splits[] = {"TEST", "TRAIN"};
static const char *const adc_types[] = {"INF_ADC", "FP_ALPHA_ADC"};
static const char *const strategies[] = {"OFF", "SOFTWARE", "CELL_BASED"};
static const char *const first_layers[] = {"host", "crossbar"};
static const char *const c2c_models[] = {"cell", "column"};

static const char *const parts_xbar[] = {"M", "N"};
static const char *const parts_hrs_lrs[] = {"HRS", "LRS"};
static const char *const parts_gmin_gmax[] = {"Gmin", "Gmax"};
static const char *const parts_ifm[] = {"H", "W", "C"};

typedef struct key_spec {
    const char *name;
    val_type type;
    double lo, hi;              /* numbers (each of a pair or triple): inclusive */
    int above_lo;               /* numbers: lo itself excluded */
    const char *const *choices; /* strings: the allowed ones; NULL: any */
    int n_choices;
    const char *const *parts; /* pairs, triples: their columns */
} key_spec;

/* clang-format off */
#define KEY(name, type, lo, hi) {name, type, lo, hi, 0, NULL, 0, NULL}
#define KEY_CHOICE(name, names) {name, T_STRING, 0, 0, 0, names, COUNT_OF(names), NULL}
#define KEY_TUPLE(name, type, lo, hi, parts) {name, type, lo, hi, 0, NULL, 0, parts}
/* clang-format on */

static const key_spec keys[N_KEYS] = {
    [K_NN_NAMES] = KEY("nn_names", T_STRING, 0, 0),
    [K_XBAR_SIZE] = KEY_TUPLE("xbar_size", T_INT_PAIR, 1, INT32_MAX, parts_xbar),
    [K_HRS_LRS] = KEY_TUPLE("hrs_lrs", T_REAL_PAIR, 0, INFINITY, parts_hrs_lrs),
    [K_GMIN_GMAX] = KEY_TUPLE("gmin_gmax", T_REAL_PAIR, 0, INFINITY, parts_gmin_gmax),
    [K_RESOLUTION] = KEY("resolution", T_INT, INT32_MIN, INT32_MAX),
    [K_ADC_CALIB_MODE] = KEY_CHOICE("adc_calib_mode", calib_modes),
    [K_M_MODE] = KEY("m_mode", T_STRING, 0, 0), /* a mapping name (value_ok) */
    [K_HRS_NOISE] = KEY("hrs_noise", T_REAL, 0, INFINITY),
    [K_LRS_NOISE] = KEY("lrs_noise", T_REAL, 0, INFINITY),
    [K_V_READ] = KEY("V_read", T_REAL, -INFINITY, INFINITY),
    [K_T_READ] = KEY("t_read", T_REAL, -INFINITY, INFINITY),
    [K_RD_UPDATE_FREQ] = KEY("read_disturb_update_freq", T_INT, 1, INT32_MAX),
    [K_RD_MITIGATION_FP] = KEY("read_disturb_mitigation_fp", T_REAL, -INFINITY, INFINITY),
    [K_RD_UPDATE_TOLERANCE] = KEY("read_disturb_update_tolerance", T_REAL, -INFINITY, INFINITY),
    [K_W_RES] = KEY("w_res", T_REAL, 0, INFINITY),
    [K_ALPHA] = {"alpha", T_REAL, 0, 1, 1, NULL, 0, NULL},
    [K_C2C_VAR] = KEY("c2c_var", T_BOOL, 0, 0),
    [K_D2D_VAR] = KEY("d2d_var", T_BOOL, 0, 0),
    [K_HRS_NOISE_C2C] = KEY("hrs_noise_c2c", T_REAL, 0, INFINITY),
    [K_LRS_NOISE_C2C] = KEY("lrs_noise_c2c", T_REAL, 0, INFINITY),
    [K_IFM] = KEY_TUPLE("ifm", T_TRIPLE, 1, INT32_MAX, parts_ifm),
    [K_NN_DATA_SET] = KEY("nn_data_set", T_STRING, 0, 0),
    [K_NN_DATA] = KEY_CHOICE("nn_data", data_splits),
    [K_BATCH] = KEY("batch", T_INT, 1, EXP_MAX_IMAGES),
    [K_NUM_RUNS] = KEY("num_runs", T_INT, 1, EXP_MAX_IMAGES),
    [K_DIGITAL_ONLY] = KEY("digital_only", T_BOOL, 0, 0),
    [K_ADC_TYPE] = KEY_CHOICE("adc_type", adc_types),
    [K_ADC_CALIB_DICT] = KEY("adc_calib_dict", T_OBJECT, 0, 0),
    [K_VERBOSE] = KEY("verbose", T_BOOL, 0, 0),
    [K_PARASITICS] = KEY("parasitics", T_BOOL, 0, 0),
    [K_READ_DISTURB] = KEY("read_disturb", T_BOOL, 0, 0),
    [K_RD_STRATEGY] = KEY_CHOICE("read_disturb_mitigation_strategy", strategies),
    [K_ADC_PROFILE] = KEY("adc_profile", T_INT, 0, CIM_CONFIG_MAX_PROFILE_BIN_UA),
    [K_MVM_PROFILE] = KEY("mvm_profile", T_INT, 0, INT32_MAX),
    [K_TRIALS] = KEY("trials", T_INT, 1, EXP_MAX_EXACT),
    [K_SEED] = KEY("seed", T_SEED, 0, EXP_MAX_EXACT),
    [K_YIELD_TARGET] = KEY("yield_target", T_REAL, 0, 1),
    [K_FIRST_LAYER] = KEY_CHOICE("first_layer", first_layers),
    [K_C2C_MODEL] = KEY_CHOICE("c2c_model", c2c_models),
};

static const char *const unavailable_sets[] = {"cifar10", "cifar100", "mnist"};

/* ---------------------------------------------------------------------------
 * Parsing state and messages
 */

typedef struct given {
    const cJSON *item;  /* the member; NULL: absent */
    const cJSON **vals; /* its n values: a list's entries, or the item itself */
    int n;              /* 0 when absent */
    int list;           /* given as a list */
} given;

typedef struct exp_ctx {
    const char *origin;
    char *folder; /* of the file, for relative paths; NULL: the current one */
    const char *model_dir, *default_data_dir;
    cim_experiment *exp;
    cim_error *err;
    given g[N_KEYS];
    int finite_adc; /* adc_type FP_ALPHA_ADC */
    int64_t radix[N_GRID];
} exp_ctx;

/* One configuration, resolved. */
typedef struct point {
    int d[N_GRID]; /* the index of each grid key's value */
    int model;
    int M, N;
    double hrs_ua, lrs_ua;
    cim_mapping_id mapping;
    int adc_type;       /* CIM_ADC_* */
    const cJSON *calib; /* the adc_calib_dict entry passed, or NULL */
} point;

static int key_error(const exp_ctx *c, int code, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int key_error(const exp_ctx *c, int code, const char *key, const char *fmt, ...)
{
    char text[CIM_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return cim_error_set(c->err, code, "%s: key \"%s\": %s", c->origin, key, text);
}

static int nomem(const exp_ctx *c)
{
    return cim_error_set(c->err, CIM_ERR_NOMEM, "%s: out of memory", c->origin);
}

/* The JSON text of v, shortened to fit a message. */
static void format_got(char *buf, size_t n, const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    if (!text)
        snprintf(buf, n, "(unprintable)");
    else if (strlen(text) >= n && n > 4)
        snprintf(buf, n, "%.*s...", (int)(n - 4), text);
    else
        snprintf(buf, n, "%s", text);
    free(text);
}

/* ---------------------------------------------------------------------------
 * JSON text that reads back exactly
 *
 * cJSON prints a number with 15 significant digits whenever those read back
 * to within an epsilon of it, which is not always the same double (0.7 x 0.2
 * prints as 0.14); the texts here take the shortest of 15, 16, 17 digits
 * that strtod reads back to the very double. Strings are escaped as cJSON
 * escapes them.
 */

typedef struct text_buf {
    char *p;
    size_t len, cap;
    int nomem;
} text_buf;

static void put(text_buf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = 2 * (b->len + n + 1) + 64;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->nomem = 1;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_str(text_buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void put_number(text_buf *b, double x)
{
    char text[32];
    cim_text_double(text, sizeof text, x);
    put_str(b, text);
}

static void put_string(text_buf *b, const char *s)
{
    put(b, "\"", 1);
    for (; *s; ++s) {
        unsigned char ch = (unsigned char)*s;
        char esc[8];
        const char *short_form = ch == '"'    ? "\\\""
                                 : ch == '\\' ? "\\\\"
                                 : ch == '\b' ? "\\b"
                                 : ch == '\f' ? "\\f"
                                 : ch == '\n' ? "\\n"
                                 : ch == '\r' ? "\\r"
                                 : ch == '\t' ? "\\t"
                                              : NULL;
        if (short_form) {
            put_str(b, short_form);
        } else if (ch < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", ch);
            put_str(b, esc);
        } else {
            put(b, s, 1);
        }
    }
    put(b, "\"", 1);
}

/* v as compact JSON (cJSON's layout, exact numbers). */
static void put_json(text_buf *b, const cJSON *v)
{
    if (cJSON_IsNumber(v)) {
        put_number(b, v->valuedouble);
    } else if (cJSON_IsString(v)) {
        put_string(b, v->valuestring);
    } else if (cJSON_IsBool(v)) {
        put_str(b, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        put(b, cJSON_IsArray(v) ? "[" : "{", 1);
        for (const cJSON *e = v->child; e; e = e->next) {
            if (e != v->child)
                put(b, ",", 1);
            if (cJSON_IsObject(v)) {
                put_string(b, e->string);
                put(b, ":", 1);
            }
            put_json(b, e);
        }
        put(b, cJSON_IsArray(v) ? "]" : "}", 1);
    } else {
        put_str(b, "null");
    }
}

/* v as compact JSON, malloc'd; NULL when out of memory. */
static char *json_text(const cJSON *v)
{
    text_buf b = {0};
    put_json(&b, v);
    if (b.nomem || !b.p) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* ---------------------------------------------------------------------------
 * One value
 */

static int is_int_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) &&
           floor(v->valuedouble) == v->valuedouble && v->valuedouble >= lo && v->valuedouble <= hi;
}

static int is_number_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= lo &&
           v->valuedouble <= hi;
}

/* A decimal string of 0 .. 2^64 - 1 into *u. */
static int decimal_u64(const char *s, uint64_t *u)
{
    uint64_t x = 0;
    if (!*s || strlen(s) > 20)
        return 0;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9' || x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return 0;
        x = 10 * x + (uint64_t)(*s - '0');
    }
    *u = x;
    return 1;
}

static int tuple_width(val_type t)
{
    return t == T_TRIPLE ? 3 : t == T_INT_PAIR || t == T_REAL_PAIR ? 2 : 1;
}

static int value_ok(const key_spec *k, const cJSON *v)
{
    cim_mapping_id id;
    uint64_t u;
    switch (k->type) {
    case T_STRING:
        if (!cJSON_IsString(v))
            return 0;
        if (k == &keys[K_M_MODE])
            return cim_mapping_from_name(v->valuestring, &id) == 0;
        for (int i = 0; i < k->n_choices; ++i)
            if (strcmp(v->valuestring, k->choices[i]) == 0)
                return 1;
        return !k->choices;
    case T_INT:
        return is_int_in(v, k->lo, k->hi);
    case T_REAL:
        return is_number_in(v, k->lo, k->hi) && (!k->above_lo || v->valuedouble > k->lo);
    case T_BOOL:
        return cJSON_IsBool(v);
    case T_INT_PAIR:
    case T_REAL_PAIR:
    case T_TRIPLE: {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != tuple_width(k->type))
            return 0;
        for (const cJSON *e = v->child; e; e = e->next)
            if (k->type == T_REAL_PAIR ? !is_number_in(e, k->lo, k->hi)
                                       : !is_int_in(e, k->lo, k->hi))
                return 0;
        return k->type != T_REAL_PAIR || v->child->valuedouble < v->child->next->valuedouble;
    }
    case T_OBJECT:
        return cJSON_IsObject(v);
    case T_SEED:
        return is_int_in(v, k->lo, k->hi) || (cJSON_IsString(v) && decimal_u64(v->valuestring, &u));
    }
    return 0;
}

static void describe_choices(char *buf, size_t n, const char *const *names, int count)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < n; ++i)
        used += (size_t)snprintf(buf + used, n - used, "%s\"%s\"", i ? ", " : "one of ", names[i]);
}

/* What a value of k must be, e.g. "an integer from 1 to 2147483647". */
static void describe(char *buf, size_t n, const key_spec *k)
{
    const char *names[CIM_MAPPING_COUNT];
    switch (k->type) {
    case T_STRING:
        if (k == &keys[K_M_MODE]) {
            for (int i = 0; i < CIM_MAPPING_COUNT; ++i)
                names[i] = cim_mapping_name((cim_mapping_id)i);
            describe_choices(buf, n, names, CIM_MAPPING_COUNT);
        } else if (k->choices) {
            describe_choices(buf, n, k->choices, k->n_choices);
        } else {
            snprintf(buf, n, "a string");
        }
        return;
    case T_INT:
        if (k->lo <= INT32_MIN)
            snprintf(buf, n, "an integer");
        else
            snprintf(buf, n, "an integer from %.0f to %.0f", k->lo, k->hi);
        return;
    case T_REAL:
        if (k->above_lo)
            snprintf(buf, n, "a number > %g and <= %g", k->lo, k->hi);
        else if (isinf(k->lo))
            snprintf(buf, n, "a number");
        else if (isinf(k->hi))
            snprintf(buf, n, "a number >= %g", k->lo);
        else
            snprintf(buf, n, "a number from %g to %g", k->lo, k->hi);
        return;
    case T_BOOL:
        snprintf(buf, n, "true or false");
        return;
    case T_INT_PAIR:
        snprintf(buf, n, "[%s, %s], two integers >= 1", k->parts[0], k->parts[1]);
        return;
    case T_REAL_PAIR:
        snprintf(buf, n, "[%s, %s] (%s) with 0 <= %s < %s", k->parts[0], k->parts[1],
                 k == &keys[K_HRS_LRS] ? "µA" : "µS", k->parts[0], k->parts[1]);
        return;
    case T_TRIPLE:
        snprintf(buf, n, "[H, W, C], three integers >= 1");
        return;
    case T_OBJECT:
        snprintf(buf, n, "an object {net: {\"[M, N]\": {m_mode: {layer: [lo, hi]}}}}");
        return;
    case T_SEED:
        snprintf(buf, n, "an integer from 0 to 2^53, or a decimal string up to %" PRIu64,
                 UINT64_MAX);
        return;
    }
}

/* A list of values rather than one: a pair or triple key's list is an
 * array of arrays (or empty). */
static int is_list(const key_spec *k, const cJSON *v)
{
    if (!cJSON_IsArray(v))
        return 0;
    return tuple_width(k->type) == 1 || !v->child || cJSON_IsArray(v->child);
}

static int read_values(exp_ctx *c, int key)
{
    const key_spec *k = &keys[key];
    given *g = &c->g[key];
    const int listable = key < N_GRID || key == K_IFM;
    char expected[EXP_TEXT_MAX], got[EXP_GOT_MAX];
    describe(expected, sizeof expected, k);
    if (listable && is_list(k, g->item)) {
        int n = cJSON_GetArraySize(g->item);
        if (n == 0)
            return key_error(c, CIM_ERR_CONFIG, k->name, "the list is empty (give at least one)");
        if (!(g->vals = malloc((size_t)n * sizeof *g->vals)))
            return nomem(c);
        int i = 0;
        for (const cJSON *e = g->item->child; e; e = e->next, ++i) {
            if (!value_ok(k, e)) {
                format_got(got, sizeof got, e);
                return key_error(c, CIM_ERR_CONFIG, k->name, "entry %d: expected %s, got %s", i,
                                 expected, got);
            }
            g->vals[i] = e;
        }
        g->n = n;
        g->list = 1;
        return 0;
    }
    if (!value_ok(k, g->item)) {
        format_got(got, sizeof got, g->item);
        return key_error(c, CIM_ERR_CONFIG, k->name, "expected %s%s, got %s", expected,
                         listable ? ", or a list of them" : "", got);
    }
    if (!(g->vals = malloc(sizeof *g->vals)))
        return nomem(c);
    g->vals[0] = g->item;
    g->n = 1;
    return 0;
}

static int key_index(const char *name)
{
    for (int i = 0; i < N_KEYS; ++i)
        if (strcmp(keys[i].name, name) == 0)
            return i;
    return -1;
}

static int read_members(exp_ctx *c, const cJSON *root)
{
    for (const cJSON *m = root->child; m; m = m->next) {
        int key = key_index(m->string);
        if (key < 0) {
            char quoted[CIM_TEXT_QUOTE_SIZE(EXP_GOT_MAX)];
            cim_text_quote(quoted, sizeof quoted, m->string, strlen(m->string), EXP_GOT_MAX);
            for (int i = 0; i < N_KEYS; ++i)
                if (strcasecmp(keys[i].name, m->string) == 0)
                    return cim_error_set(c->err, CIM_ERR_CONFIG,
                                         "%s: unknown key %s (did you mean \"%s\"?)", c->origin,
                                         quoted, keys[i].name);
            return cim_error_set(c->err, CIM_ERR_CONFIG, "%s: unknown key %s", c->origin, quoted);
        }
        if (c->g[key].item)
            return key_error(c, CIM_ERR_CONFIG, m->string, "appears more than once");
        c->g[key].item = m;
    }
    for (int key = 0; key < N_KEYS; ++key) {
        int rc = c->g[key].item ? read_values(c, key) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Rules across keys
 */

static const cJSON *only(const exp_ctx *c, int key)
{
    return c->g[key].n ? c->g[key].vals[0] : NULL;
}

static int check_rules(exp_ctx *c)
{
    static const int required[] = {K_NN_NAMES, K_IFM, K_BATCH, K_NUM_RUNS, K_XBAR_SIZE, K_M_MODE};
    for (int i = 0; i < COUNT_OF(required); ++i)
        if (!c->g[required[i]].n)
            return key_error(c, CIM_ERR_CONFIG, keys[required[i]].name, "is missing (required)");
    if (!c->g[K_HRS_LRS].n && !c->g[K_GMIN_GMAX].n)
        return key_error(c, CIM_ERR_CONFIG, "hrs_lrs",
                         "is missing: give hrs_lrs ([HRS, LRS] in µA) or gmin_gmax ([Gmin, Gmax] "
                         "in µS, with V_read)");
    if (c->g[K_HRS_LRS].n && c->g[K_GMIN_GMAX].n)
        return key_error(c, CIM_ERR_CONFIG, "gmin_gmax", "and \"hrs_lrs\" both given; give one");
    if (c->g[K_GMIN_GMAX].n && !c->g[K_V_READ].n)
        return key_error(c, CIM_ERR_CONFIG, "V_read",
                         "is missing; gmin_gmax needs it (HRS = Gmin |V_read|, LRS = Gmax "
                         "|V_read|)");
    const cJSON *adc = only(c, K_ADC_TYPE);
    c->finite_adc = adc && strcmp(adc->valuestring, "FP_ALPHA_ADC") == 0;
    const given *res = &c->g[K_RESOLUTION];
    for (int i = 0; !c->finite_adc && i < res->n; ++i)
        if (res->vals[i]->valuedouble != -1)
            return key_error(c, CIM_ERR_CONFIG, "resolution",
                             "%.0f bits need \"adc_type\": \"FP_ALPHA_ADC\" (with INF_ADC only -1)",
                             res->vals[i]->valuedouble);
    if (c->finite_adc && !res->n)
        return key_error(c, CIM_ERR_CONFIG, "resolution",
                         "is missing; FP_ALPHA_ADC needs the ADC's bits");
    const given *mode = &c->g[K_ADC_CALIB_MODE];
    for (int i = 0; c->finite_adc && !c->g[K_ADC_CALIB_DICT].n && i < mode->n; ++i)
        if (strcmp(mode->vals[i]->valuestring, "CALIB") == 0)
            return key_error(c, CIM_ERR_CONFIG, "adc_calib_dict",
                             "is missing; adc_calib_mode CALIB with FP_ALPHA_ADC needs it");
    if (c->g[K_NN_NAMES].n > CIM_EXP_MAX_MODELS)
        return key_error(c, CIM_ERR_CONFIG, "nn_names", "%d models, more than %d",
                         c->g[K_NN_NAMES].n, CIM_EXP_MAX_MODELS);
    if (c->g[K_IFM].n != c->g[K_NN_NAMES].n)
        return key_error(c, CIM_ERR_CONFIG, "ifm",
                         "%d entries for %d nn_names; give one [H, W, C] per model, in order",
                         c->g[K_IFM].n, c->g[K_NN_NAMES].n);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Files: models and data
 */

static char *folder_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return NULL;
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (dir) {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    return dir;
}

/* name against dir (NULL, or name absolute: name itself); malloc'd. */
static char *join_path(const char *dir, const char *name, const char *suffix)
{
    const char *sep = !dir || name[0] == '/' ? "" : dir[strlen(dir) - 1] == '/' ? "" : "/";
    if (!dir || name[0] == '/')
        dir = "";
    size_t n = strlen(dir) + strlen(sep) + strlen(name) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s%s%s", dir, sep, name, suffix);
    return p;
}

/* 0 if path is a regular file (want_dir 0) or folder (1), else errno. */
static int stat_kind(const char *path, int want_dir)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno;
    if (want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode))
        return 0;
    return want_dir ? ENOTDIR : S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "bnn_cnn, tnn_cnn" -- the shipped models (model_dir/\*.h5), sorted. */
static void shipped_names(char *buf, size_t n, const char *model_dir)
{
    char *names[EXP_MAX_SHIPPED];
    int count = 0;
    DIR *d = model_dir ? opendir(model_dir) : NULL;
    for (struct dirent *e; d && count < EXP_MAX_SHIPPED && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > 3 && strcmp(e->d_name + len - 3, ".h5") == 0 &&
            (names[count] = malloc(len - 2))) {
            memcpy(names[count], e->d_name, len - 3);
            names[count++][len - 3] = '\0';
        }
    }
    if (d)
        closedir(d);
    qsort(names, (size_t)count, sizeof *names, compare_names);
    size_t used = 0;
    snprintf(buf, n, "none");
    for (int i = 0; i < count; ++i) {
        if (used < n)
            used += (size_t)snprintf(buf + used, n - used, "%s%s", i ? ", " : "", names[i]);
        free(names[i]);
    }
}

static int resolve_model(exp_ctx *c, int i)
{
    cim_exp_model *m = &c->exp->models[i];
    const char *name = c->g[K_NN_NAMES].vals[i]->valuestring;
    char quoted[CIM_TEXT_QUOTE_SIZE(EXP_GOT_MAX)];
    cim_text_quote(quoted, sizeof quoted, name, strlen(name), EXP_GOT_MAX);
    for (int j = 0; j < i; ++j)
        if (strcmp(c->exp->models[j].name, name) == 0)
            return key_error(c, CIM_ERR_CONFIG, "nn_names", "%s appears more than once", quoted);
    if (!(m->name = strdup(name)))
        return nomem(c);
    const cJSON *ifm = c->g[K_IFM].vals[i];
    for (int j = 0; j < 3; ++j)
        m->ifm[j] = (int64_t)cJSON_GetArrayItem(ifm, j)->valuedouble;
    if (c->model_dir && name[0] && !strchr(name, '/')) {
        if (!(m->path = join_path(c->model_dir, name, ".h5")))
            return nomem(c);
        if (stat_kind(m->path, 0) == 0)
            return 0;
        free(m->path);
    }
    if (!(m->path = join_path(c->folder, name, "")))
        return nomem(c);
    int e = stat_kind(m->path, 0);
    if (e == 0)
        return 0;
    char shipped[EXP_TEXT_MAX];
    shipped_names(shipped, sizeof shipped, c->model_dir);
    return key_error(c, CIM_ERR_CONFIG, "nn_names",
                     "%s is neither a shipped model (%s, in %s) nor a model file (%s: %s)", quoted,
                     shipped, c->model_dir ? c->model_dir : "no model folder", m->path,
                     strerror(e));
}

static int resolve_data(exp_ctx *c)
{
    cim_experiment *exp = c->exp;
    const cJSON *set = only(c, K_NN_DATA_SET);
    const char *name = set ? set->valuestring : "fashion_mnist";
    if (!(exp->data_set = strdup(name)))
        return nomem(c);
    if (strcmp(name, "fashion_mnist") == 0) {
        if (!(exp->data_dir = strdup(c->default_data_dir)))
            return nomem(c);
    } else {
        char quoted[CIM_TEXT_QUOTE_SIZE(EXP_GOT_MAX)];
        cim_text_quote(quoted, sizeof quoted, name, strlen(name), EXP_GOT_MAX);
        for (int i = 0; i < COUNT_OF(unavailable_sets); ++i)
            if (strcmp(name, unavailable_sets[i]) == 0)
                return key_error(c, CIM_ERR_CONFIG, "nn_data_set",
                                 "%s is not installed; installed: fashion_mnist (%s), or give a "
                                 "dataset folder (IDX files, or CIFAR-10's or CIFAR-100's python "
                                 "batches)",
                                 quoted, c->default_data_dir);
        if (!(exp->data_dir = join_path(c->folder, name, "")))
            return nomem(c);
        int e = stat_kind(exp->data_dir, 1);
        if (e)
            return key_error(c, CIM_ERR_CONFIG, "nn_data_set",
                             "%s is neither \"fashion_mnist\" nor a dataset folder (%s: %s)",
                             quoted, exp->data_dir, strerror(e));
    }
    const cJSON *split = only(c, K_NN_DATA);
    exp->split = split && strcmp(split->valuestring, "TRAIN") == 0 ? "train" : "t10k";
    exp->batch = (int64_t)only(c, K_BATCH)->valuedouble;
    exp->num_runs = (int64_t)only(c, K_NUM_RUNS)->valuedouble;
    exp->images = exp->batch * exp->num_runs; /* each <= 2^31: no overflow */
    if ((double)exp->images > EXP_MAX_IMAGES)
        return key_error(c, CIM_ERR_CONFIG, "batch",
                         "batch x num_runs = %" PRId64 " images, more than 2^31", exp->images);
    return 0;
}

static void read_run_keys(exp_ctx *c)
{
    cim_experiment *exp = c->exp;
    const cJSON *v;
    if ((v = only(c, K_TRIALS))) {
        exp->trials = (uint64_t)v->valuedouble;
        exp->has_trials = 1;
    }
    if ((v = only(c, K_SEED))) {
        if (!cJSON_IsString(v) || !decimal_u64(v->valuestring, &exp->seed))
            exp->seed = (uint64_t)v->valuedouble;
        exp->has_seed = 1;
    }
    if ((v = only(c, K_YIELD_TARGET))) {
        exp->yield_target = v->valuedouble;
        exp->has_yield_target = 1;
    }
    v = only(c, K_FIRST_LAYER);
    exp->first_layer_crossbar = v && strcmp(v->valuestring, "crossbar") == 0;
}

/* The number of configurations: the product of the grid keys' counts,
 * refused above CIM_EXP_MAX_CONFIGS (also when it would overflow). */
static int count_grid(exp_ctx *c)
{
    uint64_t count = 1;
    int overflow = 0;
    char factors[EXP_TEXT_MAX] = "";
    size_t used = 0;
    for (int k = 0; k < N_GRID; ++k) {
        int n = c->g[k].n > 0 ? c->g[k].n : 1;
        c->radix[k] = n;
        if (n > 1 && used < sizeof factors)
            used += (size_t)snprintf(factors + used, sizeof factors - used, "%s%s %d",
                                     used ? " x " : "", keys[k].name, n);
        if (count > UINT64_MAX / (uint64_t)n)
            overflow = 1;
        else
            count *= (uint64_t)n;
    }
    if (overflow)
        return cim_error_set(c->err, CIM_ERR_CONFIG,
                             "%s: more than %" PRIu64 " configurations (%s), more than %d",
                             c->origin, UINT64_MAX, factors, CIM_EXP_MAX_CONFIGS);
    if (count > CIM_EXP_MAX_CONFIGS)
        return cim_error_set(c->err, CIM_ERR_CONFIG,
                             "%s: %" PRIu64 " configurations (%s), more than %d", c->origin, count,
                             factors, CIM_EXP_MAX_CONFIGS);
    c->exp->n_configs = (int64_t)count;
    return 0;
}

/* ---------------------------------------------------------------------------
 * One configuration
 */

/* Value of key in configuration p (NULL when absent). */
static const cJSON *val(const exp_ctx *c, int key, const point *p)
{
    const given *g = &c->g[key];
    return g->n ? g->vals[key < N_GRID ? p->d[key] : 0] : NULL;
}

static const cJSON *calib_entry(const exp_ctx *c, const point *p, char *where, size_t n)
{
    const char *net = c->exp->models[p->model].name;
    const char *mode = cim_mapping_name(p->mapping);
    char size[32], quoted[CIM_TEXT_QUOTE_SIZE(EXP_GOT_MAX)];
    snprintf(size, sizeof size, "[%d, %d]", p->M, p->N);
    cim_text_quote(quoted, sizeof quoted, net, strlen(net), EXP_GOT_MAX);
    snprintf(where, n, "[%s][\"%s\"][\"%s\"]", quoted, size, mode);
    const cJSON *by_net = cJSON_GetObjectItemCaseSensitive(only(c, K_ADC_CALIB_DICT), net);
    const cJSON *by_size =
        cJSON_IsObject(by_net) ? cJSON_GetObjectItemCaseSensitive(by_net, size) : NULL;
    const cJSON *entry =
        cJSON_IsObject(by_size) ? cJSON_GetObjectItemCaseSensitive(by_size, mode) : NULL;
    return cJSON_IsObject(entry) ? entry : NULL;
}

static int resolve_point(const exp_ctx *c, int64_t i, point *p)
{
    memset(p, 0, sizeof *p);
    for (int64_t rest = i, k = N_GRID - 1; k >= 0; --k) {
        p->d[k] = (int)(rest % c->radix[k]);
        rest /= c->radix[k];
    }
    p->model = p->d[K_NN_NAMES];
    const cJSON *xbar = val(c, K_XBAR_SIZE, p);
    p->M = (int)xbar->child->valuedouble;
    p->N = (int)xbar->child->next->valuedouble;
    const cJSON *pair = val(c, c->g[K_HRS_LRS].n ? K_HRS_LRS : K_GMIN_GMAX, p);
    double scale = c->g[K_HRS_LRS].n ? 1.0 : fabs(val(c, K_V_READ, p)->valuedouble);
    p->hrs_ua = pair->child->valuedouble * scale;
    p->lrs_ua = pair->child->next->valuedouble * scale;
    cim_mapping_from_name(val(c, K_M_MODE, p)->valuestring, &p->mapping);
    p->adc_type = c->finite_adc ? cim_config_finite_adc_type(p->mapping) : CIM_ADC_INF;
    const cJSON *mode = val(c, K_ADC_CALIB_MODE, p);
    if (mode && strcmp(mode->valuestring, "CALIB") == 0 && c->g[K_ADC_CALIB_DICT].n) {
        char where[EXP_WHERE_MAX];
        p->calib = calib_entry(c, p, where, sizeof where);
        if (!p->calib && c->finite_adc)
            return cim_error_set(c->err, CIM_ERR_CONFIG,
                                 "%s configuration %" PRId64
                                 ": key \"adc_calib_dict\": no entry %s (an object {layer: [lo, "
                                 "hi]}), which adc_calib_mode CALIB with FP_ALPHA_ADC needs",
                                 c->origin, i, where);
    }
    return 0;
}

typedef struct set_list {
    char *text[EXP_MAX_SETS];
    int n, nomem;
} set_list;

/* "key=" followed by what `write` puts. */
static void add_set(set_list *s, const char *key, const cJSON *v, const char *string, double x,
                    int kind)
{
    text_buf b = {0};
    put_str(&b, key);
    put(&b, "=", 1);
    if (kind == 'j')
        put_json(&b, v);
    else if (kind == 's')
        put_string(&b, string);
    else if (kind == 'b')
        put_str(&b, x != 0 ? "true" : "false");
    else
        put_number(&b, x);
    if (b.nomem || s->n == EXP_MAX_SETS) {
        free(b.p);
        s->nomem = 1;
        return;
    }
    s->text[s->n++] = b.p;
}

static void set_json(set_list *s, const char *key, const cJSON *v)
{
    add_set(s, key, v, NULL, 0, 'j');
}

static void set_number(set_list *s, const char *key, double x)
{
    add_set(s, key, NULL, NULL, x, 'n');
}

static void set_string(set_list *s, const char *key, const char *x)
{
    add_set(s, key, NULL, x, 0, 's');
}

static void set_bool(set_list *s, const char *key, int x)
{
    add_set(s, key, NULL, NULL, x, 'b');
}

/* key's value as config key `name`, when the file gives key. */
static void set_given(set_list *s, const exp_ctx *c, const point *p, int key, const char *name)
{
    const cJSON *v = val(c, key, p);
    if (v)
        set_json(s, name, v);
}

/* The --set list of configuration p, in the config key table's order (the
 * order of a results file's config_json); see cim_experiment.h. */
static void build_sets(set_list *s, const exp_ctx *c, const point *p)
{
    const cJSON *v;
    set_string(s, "m_mode", cim_mapping_name(p->mapping));
    set_number(s, "M", p->M);
    set_number(s, "N", p->N);
    set_given(s, c, p, K_DIGITAL_ONLY, "digital_only");
    set_number(s, "HRS", p->hrs_ua);
    set_number(s, "LRS", p->lrs_ua);
    set_string(s, "adc_type", cim_config_adc_type_name(p->adc_type));
    if (p->adc_type != CIM_ADC_INF)
        set_given(s, c, p, K_RESOLUTION, "resolution");
    set_given(s, c, p, K_ADC_CALIB_MODE, "adc_calib_mode");
    if (p->calib)
        set_json(s, "adc_calib_dict", p->calib);
    v = val(c, K_ADC_CALIB_MODE, p);
    if (!(v && cJSON_IsString(v) && strcmp(v->valuestring, "CALIB") == 0))
        set_given(s, c, p, K_ALPHA, "adc_alpha"); /* alpha clips MAX; CALIB is taken as given */
    if ((v = val(c, K_ADC_PROFILE, p)) && v->valuedouble > 0) {
        set_bool(s, "adc_profile", 1);
        set_json(s, "adc_profile_bin_size", v);
    }
    if ((v = val(c, K_MVM_PROFILE, p)))
        set_bool(s, "mvm_profile", v->valuedouble > 0);
    if ((v = val(c, K_HRS_NOISE, p)))
        set_json(s, "HRS_NOISE", v);
    else
        set_number(s, "HRS_NOISE", 0.0);
    if ((v = val(c, K_LRS_NOISE, p)))
        set_json(s, "LRS_NOISE", v);
    else
        set_number(s, "LRS_NOISE", 0.0);
    set_given(s, c, p, K_HRS_NOISE_C2C, "HRS_NOISE_C2C");
    set_given(s, c, p, K_LRS_NOISE_C2C, "LRS_NOISE_C2C");
    set_given(s, c, p, K_D2D_VAR, "d2d_var");
    set_given(s, c, p, K_C2C_VAR, "c2c_var");
    if (!((v = val(c, K_C2C_VAR, p)) && cJSON_IsFalse(v))) /* a law of C2C reads */
        set_given(s, c, p, K_C2C_MODEL, "c2c_model");
    set_given(s, c, p, K_VERBOSE, "verbose");
    set_given(s, c, p, K_READ_DISTURB, "read_disturb");
    set_given(s, c, p, K_T_READ, "t_read");
    set_given(s, c, p, K_V_READ, "V_read");
    set_given(s, c, p, K_RD_UPDATE_FREQ, "read_disturb_update_freq");
    set_given(s, c, p, K_RD_STRATEGY, "read_disturb_mitigation_strategy");
    set_given(s, c, p, K_RD_MITIGATION_FP, "read_disturb_mitigation_fp");
    set_given(s, c, p, K_RD_UPDATE_TOLERANCE, "read_disturb_update_tolerance");
    set_given(s, c, p, K_PARASITICS, "parasitics");
    set_given(s, c, p, K_W_RES, "w_res");
}

/* The n texts as one malloc'd block: n + 1 pointers (the last NULL), then
 * the texts; NULL when out of memory. */
static char **pack_strings(const char *const *texts, int n)
{
    size_t bytes = (size_t)(n + 1) * sizeof(char *);
    for (int i = 0; i < n; ++i)
        bytes += strlen(texts[i]) + 1;
    char **block = malloc(bytes);
    if (!block)
        return NULL;
    char *at = (char *)(block + n + 1);
    for (int i = 0; i < n; ++i) {
        size_t len = strlen(texts[i]) + 1;
        memcpy(at, texts[i], len);
        block[i] = at;
        at += len;
    }
    block[n] = NULL;
    return block;
}

/* ---------------------------------------------------------------------------
 * Columns
 */

enum { SRC_KEY, SRC_HRS_LRS, SRC_ADC, SRC_MODEL_PATH };

static int add_column(exp_ctx *c, int src, int key)
{
    cim_experiment *exp = c->exp;
    cim_exp_column *col = &exp->columns[exp->n_columns];
    const key_spec *k = src == SRC_KEY ? &keys[key] : NULL;
    const char *name = src == SRC_HRS_LRS      ? "hrs_lrs"
                       : src == SRC_ADC        ? "adc"
                       : src == SRC_MODEL_PATH ? "model_path"
                       : key == K_NN_NAMES     ? "nn_name"
                                               : k->name;
    if (src == SRC_HRS_LRS)
        k = &keys[K_HRS_LRS];
    col->kind = !k || k->type == T_STRING || k->type == T_OBJECT                   ? CIM_EXP_STRING
                : k->type == T_BOOL                                                ? CIM_EXP_BOOL
                : k->type == T_INT || k->type == T_INT_PAIR || k->type == T_TRIPLE ? CIM_EXP_INT
                                                                                   : CIM_EXP_REAL;
    col->width = k ? tuple_width(k->type) : 1;
    col->parts = k ? k->parts : NULL;
    size_t rows = (size_t)exp->n_configs;
    if (!(col->key = strdup(name)))
        return nomem(c);
    exp->n_columns++;
    if (col->kind == CIM_EXP_STRING)
        col->str = calloc(rows, sizeof *col->str);
    else
        col->num = malloc(rows * (size_t)col->width * sizeof *col->num);
    return col->str || col->num ? 0 : nomem(c);
}

/* Which columns, in order (cim_experiment.h): the keys given once, the
 * keys swept, then the derived ones; ifm follows nn_name. */
static int plan_columns(exp_ctx *c, int *src, int *key)
{
    int n = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (int k = 0; k < N_KEYS; ++k) {
            int swept = k < N_GRID && c->g[k].list;
            if (!c->g[k].n || swept != pass || k == K_IFM || k == K_TRIALS || k == K_SEED)
                continue;
            src[n] = SRC_KEY;
            key[n++] = k;
            if (k == K_NN_NAMES) {
                src[n] = SRC_KEY;
                key[n++] = K_IFM;
            }
        }
    }
    if (c->g[K_GMIN_GMAX].n)
        src[n++] = SRC_HRS_LRS;
    src[n++] = SRC_ADC;
    src[n++] = SRC_MODEL_PATH;
    return n;
}

static int fill_row(exp_ctx *c, const point *p, int64_t row, const int *src, const int *key)
{
    cim_experiment *exp = c->exp;
    const cim_exp_model *m = &exp->models[p->model];
    for (int j = 0; j < exp->n_columns; ++j) {
        cim_exp_column *col = &exp->columns[j];
        double *num = col->num ? col->num + row * col->width : NULL;
        char **str = col->str ? col->str + row : NULL;
        const cJSON *v = src[j] == SRC_KEY ? val(c, key[j], p) : NULL;
        if (src[j] == SRC_HRS_LRS) {
            num[0] = p->hrs_ua;
            num[1] = p->lrs_ua;
        } else if (src[j] == SRC_ADC) {
            *str = strdup(cim_config_adc_type_name(p->adc_type));
        } else if (src[j] == SRC_MODEL_PATH) {
            *str = strdup(m->path);
        } else if (key[j] == K_NN_NAMES) {
            *str = strdup(m->name);
        } else if (key[j] == K_IFM) {
            for (int i = 0; i < 3; ++i)
                num[i] = (double)m->ifm[i];
        } else if (key[j] == K_ADC_CALIB_DICT) {
            *str = p->calib ? json_text(p->calib) : strdup("");
        } else if (col->kind == CIM_EXP_STRING) {
            *str = strdup(v->valuestring);
        } else if (col->kind == CIM_EXP_BOOL) {
            num[0] = cJSON_IsTrue(v);
        } else if (col->width == 1) {
            num[0] = v->valuedouble;
        } else {
            int i = 0;
            for (const cJSON *e = v->child; e; e = e->next)
                num[i++] = e->valuedouble;
        }
        if (str && !*str)
            return nomem(c);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * The grid
 */

static int expand(exp_ctx *c)
{
    cim_experiment *exp = c->exp;
    int src[N_KEYS + 4], key[N_KEYS + 4];
    int n_columns = plan_columns(c, src, key);
    exp->configs = calloc((size_t)exp->n_configs, sizeof *exp->configs);
    exp->columns = calloc((size_t)n_columns, sizeof *exp->columns);
    if (!exp->configs || !exp->columns)
        return nomem(c);
    for (int j = 0; j < n_columns; ++j) {
        int rc = add_column(c, src[j], key[j]);
        if (rc)
            return rc;
    }
    for (int64_t i = 0; i < exp->n_configs; ++i) {
        point p;
        int rc = resolve_point(c, i, &p);
        if (rc)
            return rc;
        set_list s = {.n = 0};
        build_sets(&s, c, &p);
        cim_exp_config *cf = &exp->configs[i];
        cf->model = p.model;
        cf->set = s.nomem ? NULL : pack_strings((const char *const *)s.text, s.n);
        cf->n_set = cf->set ? s.n : 0;
        for (int t = 0; t < s.n; ++t)
            free(s.text[t]);
        if (!cf->set)
            return nomem(c);
        if ((rc = fill_row(c, &p, i, src, key)) != 0)
            return rc;
    }
    return 0;
}

static int config_over(const cim_experiment *exp, int64_t i, const cim_config *base,
                       cim_config *cfg, cim_error *err)
{
    size_t n = strlen(exp->origin) + 48;
    char *origin = malloc(n);
    cim_config_default(cfg);
    if (!origin)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", exp->origin);
    snprintf(origin, n, "%s configuration %" PRId64, exp->origin, i);
    const cim_exp_config *cf = &exp->configs[i];
    int rc = cim_config_apply_sets(base, (const char *const *)cf->set, cf->n_set, origin, cfg, err);
    free(origin);
    return rc;
}

/* Every configuration's crossbar config, validated; a refusal gets the
 * configuration's swept values appended. */
static int validate_grid(exp_ctx *c)
{
    cim_config base;
    int rc = cim_config_run_default(&base, c->err);
    for (int64_t i = 0; rc == 0 && i < c->exp->n_configs; ++i) {
        cim_config cfg;
        rc = config_over(c->exp, i, &base, &cfg, c->err);
        cim_config_free(&cfg);
        if (rc == 0 || !c->err || rc == CIM_ERR_NOMEM)
            continue;
        point p;
        resolve_point(c, i, &p);
        char values[CIM_ERROR_MSG_MAX] = "", got[EXP_GOT_MAX];
        size_t used = 0;
        for (int k = 0; k < N_GRID && used < sizeof values; ++k) {
            if (c->g[k].n < 2)
                continue;
            format_got(got, sizeof got, val(c, k, &p));
            used +=
                (size_t)snprintf(values + used, sizeof values - used, "%s%s %s", used ? ", " : "",
                                 k == K_NN_NAMES ? "nn_name" : keys[k].name, got);
        }
        if (used) {
            char msg[CIM_ERROR_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", c->err->msg);
            cim_error_clear(c->err);
            cim_error_set(c->err, rc, "%s (its values: %s)", msg, values);
        }
    }
    cim_config_free(&base);
    return rc;
}

/* grid_sha256: see cim_experiment.h for the text hashed. */
static int hash_grid(exp_ctx *c)
{
    cim_experiment *exp = c->exp;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1;
    text_buf b = {0};
    put_str(&b, "{\"configs\":[");
    for (int64_t i = 0; ok && i < exp->n_configs; ++i) {
        const cim_exp_config *cf = &exp->configs[i];
        put_str(&b, i ? ",{\"model\":" : "{\"model\":");
        put_string(&b, exp->models[cf->model].path);
        put_str(&b, ",\"data\":");
        put_string(&b, exp->data_dir);
        put_str(&b, ",\"split\":");
        put_string(&b, exp->split);
        put_str(&b, ",\"images\":");
        put_number(&b, (double)exp->images);
        put_str(&b, ",\"set\":[");
        for (int t = 0; t < cf->n_set; ++t) {
            if (t)
                put(&b, ",", 1);
            put_string(&b, cf->set[t]);
        }
        put_str(&b, "]}");
        ok = !b.nomem && EVP_DigestUpdate(md, b.p, b.len) == 1;
        b.len = 0;
    }
    char run[96];
    put(&b, "]", 1);
    if (exp->has_trials) {
        snprintf(run, sizeof run, ",\"trials\":%" PRIu64, exp->trials);
        put_str(&b, run);
    }
    if (exp->has_seed) {
        snprintf(run, sizeof run, ",\"seed\":\"%" PRIu64 "\"", exp->seed);
        put_str(&b, run);
    }
    if (exp->has_yield_target) {
        put_str(&b, ",\"yield_target\":");
        put_number(&b, exp->yield_target);
    }
    if (exp->first_layer_crossbar)
        put_str(&b, ",\"first_layer\":\"crossbar\"");
    put(&b, "}", 1);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    ok = ok && !b.nomem && EVP_DigestUpdate(md, b.p, b.len) == 1 &&
         EVP_DigestFinal_ex(md, digest, &len) == 1 && len == 32;
    free(b.p);
    EVP_MD_CTX_free(md);
    if (!ok)
        return cim_error_set(c->err, CIM_ERR_NOMEM,
                             "%s: SHA-256 of the grid failed (out of memory?)", c->origin);
    for (unsigned int i = 0; i < len; ++i)
        snprintf(exp->grid_sha256 + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

/* ---------------------------------------------------------------------------
 * The API
 */

static int parse_root(exp_ctx *c, const char *text)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root)
        return cim_text_invalid_json(c->origin, text, end, c->err);
    int rc = 0;
    if (!cJSON_IsObject(root)) {
        char got[EXP_GOT_MAX];
        format_got(got, sizeof got, root);
        rc = cim_error_set(c->err, CIM_ERR_CONFIG,
                           "%s: expected a JSON object of experiment keys, got %s", c->origin, got);
    }
    cim_experiment *exp = c->exp;
    if (rc == 0)
        rc = read_members(c, root);
    if (rc == 0)
        rc = check_rules(c);
    if (rc == 0)
        rc = resolve_data(c);
    if (rc == 0) {
        read_run_keys(c);
        exp->n_models = c->g[K_NN_NAMES].n;
        if (!(exp->models = calloc((size_t)exp->n_models, sizeof *exp->models)))
            rc = nomem(c);
    }
    for (int i = 0; rc == 0 && i < exp->n_models; ++i)
        rc = resolve_model(c, i);
    if (rc == 0)
        rc = count_grid(c);
    if (rc == 0)
        rc = expand(c);
    if (rc == 0)
        rc = validate_grid(c);
    if (rc == 0)
        rc = hash_grid(c);
    for (int k = 0; k < N_KEYS; ++k)
        free(c->g[k].vals);
    cJSON_Delete(root);
    return rc;
}

int cim_experiment_parse(const char *text, const char *origin, const char *model_dir,
                         const char *default_data_dir, cim_experiment *exp, cim_error *err)
{
    memset(exp, 0, sizeof *exp);
    origin = origin ? origin : "experiment";
    exp_ctx c = {0};
    c.origin = origin;
    c.model_dir = model_dir;
    c.default_data_dir = default_data_dir ? default_data_dir : CIM_IDX_DEFAULT_DIR;
    c.exp = exp;
    c.err = err;
    int rc = 0;
    if (!(exp->origin = strdup(origin)) || !(exp->json_text = strdup(text ? text : "")) ||
        (strchr(origin, '/') && !(c.folder = folder_of(origin))))
        rc = nomem(&c);
    else
        rc = parse_root(&c, exp->json_text);
    free(c.folder);
    if (rc)
        cim_experiment_free(exp);
    return rc;
}

int cim_experiment_load(const char *path, const char *model_dir, const char *default_data_dir,
                        cim_experiment *exp, cim_error *err)
{
    char *text;
    memset(exp, 0, sizeof *exp);
    int rc = cim_text_read_json_file(path, EXP_MAX_FILE_BYTES, "an experiment config", &text, err);
    if (rc)
        return rc;
    rc = cim_experiment_parse(text, path, model_dir, default_data_dir, exp, err);
    free(text);
    return rc;
}

void cim_experiment_free(cim_experiment *exp)
{
    if (!exp)
        return;
    for (int i = 0; exp->models && i < exp->n_models; ++i) {
        free(exp->models[i].name);
        free(exp->models[i].path);
    }
    for (int64_t i = 0; exp->configs && i < exp->n_configs; ++i)
        free(exp->configs[i].set);
    for (int j = 0; j < exp->n_columns; ++j) {
        cim_exp_column *col = &exp->columns[j];
        for (int64_t i = 0; col->str && i < exp->n_configs; ++i)
            free(col->str[i]);
        free(col->str);
        free(col->num);
        free(col->key);
    }
    free(exp->columns);
    free(exp->configs);
    free(exp->models);
    free(exp->data_dir);
    free(exp->data_set);
    free(exp->json_text);
    free(exp->origin);
    memset(exp, 0, sizeof *exp);
}

int cim_experiment_config(const cim_experiment *exp, int64_t i, cim_config *cfg, cim_error *err)
{
    cim_config_default(cfg);
    if (i < 0 || i >= exp->n_configs)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: no configuration %" PRId64 " (%" PRId64 " configurations)",
                             exp->origin, i, exp->n_configs);
    cim_config base;
    int rc = cim_config_run_default(&base, err);
    if (rc == 0)
        rc = config_over(exp, i, &base, cfg, err);
    cim_config_free(&base);
    return rc;
}

int cim_experiment_run_argv(const cim_experiment *exp, int64_t i, uint64_t trials, uint64_t seed,
                            int *argc, char ***argv, cim_error *err)
{
    *argc = 0;
    *argv = NULL;
    if (i < 0 || i >= exp->n_configs)
        return cim_error_set(err, CIM_ERR_INPUT,
                             "%s: no configuration %" PRId64 " (%" PRId64 " configurations)",
                             exp->origin, i, exp->n_configs);
    const cim_exp_config *cf = &exp->configs[i];
    char images[24], trials_text[24], seed_text[24], yield[32];
    snprintf(images, sizeof images, "%" PRId64, exp->images);
    snprintf(trials_text, sizeof trials_text, "%" PRIu64, trials);
    snprintf(seed_text, sizeof seed_text, "%" PRIu64, seed);
    cim_text_double(yield, sizeof yield, exp->yield_target);
    const char **a = malloc((size_t)(17 + 2 * cf->n_set) * sizeof *a);
    if (!a)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", exp->origin);
    int n = 0;
    a[n++] = "run";
    a[n++] = "--model";
    a[n++] = exp->models[cf->model].path;
    a[n++] = "--data";
    a[n++] = exp->data_dir;
    a[n++] = "--split";
    a[n++] = exp->split;
    a[n++] = "--images";
    a[n++] = images;
    a[n++] = "--trials";
    a[n++] = trials_text;
    a[n++] = "--seed";
    a[n++] = seed_text;
    if (exp->first_layer_crossbar) {
        a[n++] = "--first-layer";
        a[n++] = "crossbar";
    }
    if (exp->has_yield_target) {
        a[n++] = "--yield-target";
        a[n++] = yield;
    }
    for (int s = 0; s < cf->n_set; ++s) {
        a[n++] = "--set";
        a[n++] = cf->set[s];
    }
    *argv = pack_strings(a, n);
    free(a);
    if (!*argv)
        return cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", exp->origin);
    *argc = n;
    return 0;
}

/* 1 if the shell takes ch as it is in a word. */
static int shell_plain(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("_./=:,+-", ch));
}

char *cim_experiment_run_command(const cim_experiment *exp, int64_t i, uint64_t trials,
                                 uint64_t seed)
{
    int argc;
    char **argv;
    if (cim_experiment_run_argv(exp, i, trials, seed, &argc, &argv, NULL) != 0)
        return NULL;
    size_t bytes = strlen("cimgpu") + 1;
    for (int a = 0; a < argc; ++a)
        bytes += 4 * strlen(argv[a]) + 3; /* a space, quotes, '\'' per quote */
    char *line = malloc(bytes), *at = line;
    if (line)
        at += sprintf(at, "cimgpu");
    for (int a = 0; line && a < argc; ++a) {
        const char *s = argv[a];
        int plain = *s != '\0';
        for (const char *q = s; *q && plain; ++q)
            plain = shell_plain(*q);
        *at++ = ' ';
        if (plain) {
            at += sprintf(at, "%s", s);
            continue;
        }
        *at++ = '\'';
        for (; *s; ++s)
            at += *s == '\'' ? sprintf(at, "'\\''") : sprintf(at, "%c", *s);
        *at++ = '\'';
        *at = '\0';
    }
    free(argv);
    return line;
}

const cim_exp_column *cim_experiment_column(const cim_experiment *exp, const char *key)
{
    for (int j = 0; j < exp->n_columns; ++j)
        if (strcmp(exp->columns[j].key, key) == 0)
            return &exp->columns[j];
    return NULL;
}
