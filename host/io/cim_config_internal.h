/* cim_config_internal.h -- what the cim_config*.c files share, and nothing
 * else includes: the key table and the wording of messages about keys.
 *
 * The config module is one public API (cim_config.h) over five files, one
 * concept each:
 *   cim_config.c          the key table, the defaults, freeing, and how a key
 *                         and its expected value are described in messages
 *   cim_config_parse.c    JSON text or a file -> cim_config (types, per-key
 *                         ranges, unknown, repeated and missing keys)
 *   cim_config_validate.c the rules on the struct as a whole: the per-key
 *                         ranges again (for structs edited in code) and the
 *                         combinations of keys
 *   cim_config_resolve.c  a valid cim_config -> the integers of cim_xbar
 *   cim_config_json.c     a valid cim_config -> provenance JSON
 *   cim_config_cdf.c      the stuck-at and measured-distribution keys: the
 *                         three input forms of device tables (JSON points, a
 *                         CSV of samples, lognormal parameters), a table's
 *                         rules, and their integers in cim_xbar
 * The table `cim_config_keys` is the one list of keys: parsing, validation
 * and the provenance JSON all walk it, so they cannot disagree on a name, a
 * range or the order.
 *
 * Declarations below carry CIM_CONFIG_INTERNAL (hidden visibility): shared
 * by these files, not part of the library's API.
 */
#ifndef CIM_CONFIG_INTERNAL_H
#define CIM_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "cim_config.h"

#define CIM_CONFIG_INTERNAL __attribute__((visibility("hidden")))

#define CIM_CONFIG_MAX_DIM 65536                /* M, N */
#define CIM_CONFIG_MAX_CELLS ((int64_t)1 << 26) /* M * N */
#define CIM_CONFIG_MAX_CALIB_UA 2.0e6           /* beyond any 32-bit (nA) column current */
#define CIM_CONFIG_MAX_OPERAND_BITS 32          /* W_BIT, I_BIT, SPLIT entries */
#define CIM_CONFIG_GOT_MAX 64                   /* chars of an offending value in a message */
#define CIM_CONFIG_EXPECTED_MAX (CIM_ERROR_MSG_MAX / 2) /* chars of "expected ..." text */

#define CIM_BNN_BITS 1
#define CIM_TNN_BITS 2
#define CIM_INF_RESOLUTION (-1)

#define CIM_COUNT_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------------------
 * The key table
 */

typedef enum cim_key_kind {
    CIM_KEY_BOOL,
    CIM_KEY_INT,
    CIM_KEY_NUMBER,
    CIM_KEY_CHOICE,  /* a string among `choices`, stored as its index */
    CIM_KEY_MAPPING, /* m_mode */
    CIM_KEY_SPLIT,
    CIM_KEY_CALIB_DICT,
    CIM_KEY_CDF,        /* device_cdf, device_cdf_c2c: tables; offset: their cim_config_cdf pair */
    CIM_KEY_CDF_CSV,    /* device_cdf_csv: input only, fills the D2D tables */
    CIM_KEY_LOGNORMAL,  /* device_lognormal: input only, fills the D2D tables */
    CIM_KEY_CALIB_INFO, /* adc_calib_info: any JSON object, kept as its text */
} cim_key_kind;

/* One JSON key: its kind, the cim_config field it fills, its range and
 * whether `true` means an unsupported feature. */
typedef struct cim_key_spec {
    const char *name;
    cim_key_kind kind;
    size_t offset;    /* of the int or double field in cim_config */
    double min, max;  /* INT, NUMBER: inclusive range */
    int positive;     /* NUMBER: must be > 0 (min is then 0) and <= max */
    int optional;     /* NUMBER: NAN means "not given" */
    const char *unit; /* NUMBER: appended to the expectation */
    const char *const *choices;
    int n_choices;
    const char *feature; /* BOOL: true means this unsupported feature */
} cim_key_spec;

/* Every key, in the order of the provenance JSON. */
CIM_CONFIG_INTERNAL extern const cim_key_spec cim_config_keys[];
CIM_CONFIG_INTERNAL extern const int cim_config_n_keys;

/* "INF_ADC", ... indexed by CIM_ADC_*. */
CIM_CONFIG_INTERNAL extern const char *const cim_config_adc_type_names[];

/* Index of `name` in cim_config_keys (exact case), or -1. */
CIM_CONFIG_INTERNAL int cim_config_key_index(const char *name);

/* The int or double field a key fills. */
static inline int *cim_key_int_field(cim_config *cfg, const cim_key_spec *k)
{
    return (int *)((char *)cfg + k->offset);
}

static inline int cim_key_int_value(const cim_config *cfg, const cim_key_spec *k)
{
    return *(const int *)((const char *)cfg + k->offset);
}

static inline double *cim_key_double_field(cim_config *cfg, const cim_key_spec *k)
{
    return (double *)((char *)cfg + k->offset);
}

static inline double cim_key_double_value(const cim_config *cfg, const cim_key_spec *k)
{
    return *(const double *)((const char *)cfg + k->offset);
}

/* 1 if v is in the range of a NUMBER key (NAN counts for an optional one). */
CIM_CONFIG_INTERNAL int cim_config_number_ok(const cim_key_spec *k, double v);

/* 1 if [lo_ua, hi_ua] is a valid adc_calib_dict range: finite, lo < hi and
 * |lo|, |hi| <= CIM_CONFIG_MAX_CALIB_UA. */
CIM_CONFIG_INTERNAL int cim_config_calib_range_ok(double lo_ua, double hi_ua);

/* ---------------------------------------------------------------------------
 * Messages: "<origin>: key "<key>": <text>"
 */

/* `origin`, or "config" when NULL. */
CIM_CONFIG_INTERNAL const char *cim_config_origin(const char *origin);

/* "expected ..." text of an INT or NUMBER key, e.g. "an integer from 1 to 32". */
CIM_CONFIG_INTERNAL void cim_config_describe_range(char *buf, size_t n, const cim_key_spec *k);

/* "one of "A", "B", "C"". */
CIM_CONFIG_INTERNAL void cim_config_describe_choices(char *buf, size_t n, const char *const *names,
                                                     int count);

/* Sets err to "<origin>: key "<key>": <formatted text>"; returns `code`. */
CIM_CONFIG_INTERNAL int cim_config_key_error(const char *origin, int code, cim_error *err,
                                             const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---------------------------------------------------------------------------
 * Stuck-at faults and device tables (cim_config_cdf.c)
 */

struct cJSON;

/* Parses one of the table keys (CIM_KEY_CDF, _CDF_CSV, _LOGNORMAL) into
 * cfg. *touched has bit t set for every table t this text gave so far: a
 * table given twice is an error; the first D2D (C2C) key of a text clears
 * the D2D (C2C) tables it read over. */
CIM_CONFIG_INTERNAL int cim_config_parse_cdf(const char *origin, const cim_key_spec *k,
                                             const struct cJSON *v, cim_config *cfg,
                                             unsigned *touched, cim_error *err);

/* The rules on the stored tables and SAF probabilities (validation). */
CIM_CONFIG_INTERNAL int cim_config_validate_cells(const cim_config *cfg, cim_error *err);

/* x as a JSON number whose text reads back as exactly x (cim_text_double;
 * cJSON's own printer rounds some doubles to a neighbour: 0.7 * 0.2 came
 * out as 0.14), and [a, b] of two such numbers, for the provenance JSON.
 * NULL when out of memory. */
CIM_CONFIG_INTERNAL struct cJSON *cim_config_json_number(double x);
CIM_CONFIG_INTERNAL struct cJSON *cim_config_json_pair(double a, double b);

/* A CIM_KEY_CDF key's tables as JSON ({"HRS": [[I, P], ...], ...}); NULL when
 * out of memory. */
CIM_CONFIG_INTERNAL struct cJSON *cim_config_cdf_json(const cim_config *cfg, const cim_key_spec *k);

/* The faults' bounds and the tables in use (D2D tables with d2d_var, C2C
 * tables with c2c_var, none in digital mode) into x. */
CIM_CONFIG_INTERNAL void cim_config_resolve_cells(const cim_config *cfg, cim_xbar *x);

/* The largest current (nA) a cell of `state` can be programmed to, and the
 * largest |deviation| of one read, when that state has a table; -1 when not. */
CIM_CONFIG_INTERNAL int64_t cim_config_cdf_max_na(const cim_xbar *x, int table);

/* Frees the adc_calib_dict entries and leaves none. */
CIM_CONFIG_INTERNAL void cim_config_free_calib(cim_config *cfg);

/* Bit-line IR drop: whether the ladder is on (parasitics in analog mode with
 * w_res > 0; w_res = 0 means ideal wires), and the current one wire segment
 * passes at |V_read|, 10^9 |V_read| / w_res nA, in fine units (cim_units.h)
 * before rounding. */
CIM_CONFIG_INTERNAL int cim_config_has_ladder(const cim_config *cfg);
CIM_CONFIG_INTERNAL double cim_config_segment_current_fine(const cim_config *cfg);

#endif /* CIM_CONFIG_INTERNAL_H */
