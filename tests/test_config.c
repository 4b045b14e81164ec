/* test_config.c -- the crossbar config: every key's type and range, the
 * mapping/ADC rules, resolution to integers, provenance round trip, and the
 * end-to-end check that the worked examples of tests/data/mvm resolve to
 * crossbars on which the reference MVM reproduces their expected results.
 */
#include "cim_test_util.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cim_config.h"
#include "cim_drift.h"
#include "cim_mapping.h"
#include "cim_reference.h"

#define ORIGIN "test.json"
#define BASE_JSON "{\"m_mode\":\"BNN_I\",\"M\":4,\"N\":8}"
#define N_WORKED_EXAMPLES 44 /* tests/data/mvm/README.md */

/* ---------------------------------------------------------------------------
 * Helpers
 */

/* Parses BASE_JSON with the members of the JSON object `patch` set on top. */
static int parse_patched(const char *patch, cim_config *cfg, cim_error *err)
{
    cJSON *base = cJSON_Parse(BASE_JSON);
    cJSON *p = cJSON_Parse(patch);
    assert_non_null(base);
    if (!p)
        fail_msg("test bug: patch is not JSON: %s", patch);
    for (cJSON *m = p->child; m; m = m->next) {
        cJSON *copy = cJSON_Duplicate(m, 1);
        if (cJSON_GetObjectItemCaseSensitive(base, m->string))
            cJSON_ReplaceItemInObjectCaseSensitive(base, m->string, copy);
        else
            cJSON_AddItemToObject(base, m->string, copy);
    }
    char *text = cJSON_PrintUnformatted(base);
    assert_non_null(text);
    cim_error_clear(err);
    int rc = cim_config_parse(text, ORIGIN, cfg, err);
    free(text);
    cJSON_Delete(base);
    cJSON_Delete(p);
    return rc;
}

static void expect_accepted(const char *patch, cim_config *cfg)
{
    cim_error err = {0};
    int rc = parse_patched(patch, cfg, &err);
    if (rc)
        fail_msg("patch %s rejected: %s", patch, err.msg);
}

static void expect_rejected(const char *patch, int code, const char *needle)
{
    cim_config cfg;
    cim_error err = {0};
    int rc = parse_patched(patch, &cfg, &err);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("patch %s: got %s \"%s\", expected %s containing \"%s\"", patch,
                 cim_error_name(rc), err.msg, cim_error_name(code), needle);
    assert_int_equal(err.code, code);
    /* a failed parse leaves only defaults behind */
    assert_null(cfg.calib);
    assert_null(cfg.origin);
    cim_config_free(&cfg);
}

static void expect_parse_error(const char *text, int code, const char *needle)
{
    cim_config cfg;
    cim_error err = {0};
    int rc = cim_config_parse(text, ORIGIN, &cfg, &err);
    if (rc != code || !strstr(err.msg, needle))
        fail_msg("text %s: got %s \"%s\", expected %s containing \"%s\"", text, cim_error_name(rc),
                 err.msg, cim_error_name(code), needle);
    cim_config_free(&cfg);
}

static void resolve_ok(const cim_config *cfg, const char *layer, cim_xbar *x)
{
    cim_error err = {0};
    if (cim_config_resolve(cfg, layer, 0, 0, x, &err))
        fail_msg("resolve failed: %s", err.msg);
}

/* ---------------------------------------------------------------------------
 * Defaults
 */

static void test_defaults_documented(void **state)
{
    (void)state;
    cim_config cfg;
    cim_config_default(&cfg);
    assert_int_equal(cfg.mapping, CIM_TNN_I);
    assert_int_equal(cfg.M, 256);
    assert_int_equal(cfg.N, 256);
    assert_int_equal(cfg.digital, 0);
    assert_true(cfg.hrs_ua == 5.0 && cfg.lrs_ua == 30.0);
    assert_int_equal(cfg.adc_type, CIM_ADC_INF);
    assert_int_equal(cfg.resolution, -1);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_MAX);
    assert_int_equal(cfg.n_calib, 0);
    assert_true(cfg.hrs_noise_ua == 0 && cfg.lrs_noise_ua == 0);
    assert_int_equal(cfg.d2d_var, 1);
    assert_int_equal(cfg.c2c_var, 0);
    assert_int_equal(cfg.c2c_model, CIM_C2C_MODEL_CELL);
    assert_int_equal(cfg.n_split, 2);
    assert_int_equal(cfg.split[0], 1);
    assert_int_equal(cfg.split[1], 1);
    assert_int_equal(cfg.w_bit, 2);
    assert_int_equal(cfg.i_bit, 2);
    assert_int_equal(cfg.verbose, 0);
    assert_true(isnan(cfg.v_read) && isnan(cfg.w_res));
    assert_int_equal(cfg.read_disturb_update_freq, 1);
    /* the default struct is itself a valid config */
    cim_error err = {0};
    assert_int_equal(cim_config_validate(&cfg, &err), 0);
    cim_config_free(&cfg);
}

static void test_defaults_filled_by_parse(void **state)
{
    (void)state;
    cim_config cfg;
    expect_accepted("{}", &cfg);
    assert_int_equal(cfg.mapping, CIM_BNN_I);
    assert_int_equal(cfg.M, 4);
    assert_int_equal(cfg.N, 8);
    assert_true(cfg.hrs_ua == 5.0 && cfg.lrs_ua == 30.0);
    assert_int_equal(cfg.adc_type, CIM_ADC_INF);
    assert_int_equal(cfg.resolution, -1);
    assert_int_equal(cfg.w_bit, 1); /* BNN: 1 bit weights and inputs */
    assert_int_equal(cfg.i_bit, 1);
    assert_int_equal(cfg.d2d_var, 1);
    assert_int_equal(cfg.c2c_var, 0);
    assert_string_equal(cfg.origin, ORIGIN);
    cim_config_free(&cfg);

    expect_accepted("{\"m_mode\":\"TNN_II\"}", &cfg);
    assert_int_equal(cfg.w_bit, 2); /* TNN: 2 bit weights and inputs */
    assert_int_equal(cfg.i_bit, 2);
    cim_config_free(&cfg);

    /* C2C sigmas default to the D2D ones, each separately */
    expect_accepted("{\"HRS_NOISE\":1.5,\"LRS_NOISE\":2.5,\"LRS_NOISE_C2C\":7}", &cfg);
    assert_true(cfg.hrs_noise_c2c_ua == 1.5);
    assert_true(cfg.lrs_noise_c2c_ua == 7.0);
    cim_config_free(&cfg);
}

/* ---------------------------------------------------------------------------
 * Key types and ranges
 */

typedef struct bad_value {
    const char *patch;
    const char *key;
} bad_value;

static void test_wrong_type_of_each_key_rejected(void **state)
{
    (void)state;
    static const bad_value cases[] = {
        {"{\"m_mode\":\"BNN_VII\"}", "m_mode"},
        {"{\"m_mode\":3}", "m_mode"},
        {"{\"m_mode\":\"bnn_i\"}", "m_mode"},
        {"{\"M\":\"4\"}", "M"},
        {"{\"M\":4.5}", "M"},
        {"{\"M\":0}", "M"},
        {"{\"M\":-3}", "M"},
        {"{\"N\":65537}", "N"},
        {"{\"N\":null}", "N"},
        {"{\"N\":1e300}", "N"},
        {"{\"digital_only\":1}", "digital_only"},
        {"{\"digital_only\":\"true\"}", "digital_only"},
        {"{\"HRS\":\"5\"}", "HRS"},
        {"{\"HRS\":-1}", "HRS"},
        {"{\"LRS\":10000.5}", "LRS"},
        {"{\"LRS\":[30]}", "LRS"},
        {"{\"adc_type\":\"FP_ALPHA_ADC\"}", "adc_type"},
        {"{\"adc_type\":0}", "adc_type"},
        {"{\"resolution\":2.5}", "resolution"},
        {"{\"resolution\":\"4\"}", "resolution"},
        {"{\"adc_calib_mode\":\"max\"}", "adc_calib_mode"},
        {"{\"adc_calib_dict\":[[0,1]]}", "adc_calib_dict"},
        {"{\"adc_calib_dict\":{\"fc1\":[1]}}", "adc_calib_dict"},
        {"{\"adc_calib_dict\":{\"fc1\":[2,1]}}", "adc_calib_dict"},
        {"{\"adc_calib_dict\":{\"fc1\":[\"0\",1]}}", "adc_calib_dict"},
        {"{\"adc_calib_dict\":{\"fc1\":[0,3e6]}}", "adc_calib_dict"},
        {"{\"adc_profile\":1}", "adc_profile"},
        {"{\"adc_profile_bin_size\":0}", "adc_profile_bin_size"},
        {"{\"adc_profile_bin_size\":\"10\"}", "adc_profile_bin_size"},
        {"{\"adc_profile_bin_size\":2.5}", "adc_profile_bin_size"},
        {"{\"adc_profile_bin_size\":true}", "adc_profile_bin_size"},
        {"{\"adc_profile_bin_size\":2000000}", "adc_profile_bin_size"},
        {"{\"adc_calib_info\":\"from a run\"}", "adc_calib_info"},
        {"{\"adc_calib_info\":[1]}", "adc_calib_info"},
        {"{\"mvm_profile\":\"no\"}", "mvm_profile"},
        {"{\"mvm_profile_bin_size\":-1}", "mvm_profile_bin_size"},
        {"{\"HRS_NOISE\":-0.5}", "HRS_NOISE"},
        {"{\"LRS_NOISE\":null}", "LRS_NOISE"},
        {"{\"LRS_NOISE\":20000}", "LRS_NOISE"},
        {"{\"HRS_NOISE_C2C\":true}", "HRS_NOISE_C2C"},
        {"{\"LRS_NOISE_C2C\":\"1\"}", "LRS_NOISE_C2C"},
        {"{\"d2d_var\":0}", "d2d_var"},
        {"{\"c2c_var\":null}", "c2c_var"},
        {"{\"c2c_model\":\"Column\"}", "c2c_model"},
        {"{\"c2c_model\":1}", "c2c_model"},
        {"{\"c2c_model\":null}", "c2c_model"},
        {"{\"SPLIT\":1}", "SPLIT"},
        {"{\"SPLIT\":[]}", "SPLIT"},
        {"{\"SPLIT\":[1,1,1]}", "SPLIT"},
        {"{\"SPLIT\":[1.5]}", "SPLIT"},
        {"{\"SPLIT\":[-1,1]}", "SPLIT"},
        {"{\"W_BIT\":0}", "W_BIT"},
        {"{\"W_BIT\":\"2\"}", "W_BIT"},
        {"{\"I_BIT\":33}", "I_BIT"},
        {"{\"verbose\":\"false\"}", "verbose"},
        {"{\"read_disturb\":0}", "read_disturb"},
        {"{\"t_read\":\"1e-9\"}", "t_read"},
        {"{\"V_read\":true}", "V_read"},
        {"{\"read_disturb_update_freq\":0}", "read_disturb_update_freq"},
        {"{\"read_disturb_update_freq\":1.5}", "read_disturb_update_freq"},
        {"{\"read_disturb_mitigation_strategy\":\"ON\"}", "read_disturb_mitigation_strategy"},
        {"{\"read_disturb_mitigation_fp\":[]}", "read_disturb_mitigation_fp"},
        {"{\"read_disturb_update_tolerance\":{}}", "read_disturb_update_tolerance"},
        {"{\"read_disturb_initial_cycles\":-1}", "read_disturb_initial_cycles"},
        {"{\"read_disturb_initial_cycles\":2.5}", "read_disturb_initial_cycles"},
        {"{\"read_disturb_initial_cycles\":\"0\"}", "read_disturb_initial_cycles"},
        {"{\"read_disturb_model\":\"physical\"}", "read_disturb_model"},
        {"{\"read_disturb_model\":1}", "read_disturb_model"},
        {"{\"parasitics\":\"off\"}", "parasitics"},
        {"{\"w_res\":\"0\"}", "w_res"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char needle[128];
        snprintf(needle, sizeof needle, ORIGIN ": key \"%s\": ", cases[i].key);
        expect_rejected(cases[i].patch, CIM_ERR_CONFIG, needle);
    }
}

static void test_message_names_origin_key_and_expectation(void **state)
{
    (void)state;
    cim_config cfg;
    cim_error err = {0};
    assert_int_equal(parse_patched("{\"m_mode\":\"BNN_III\",\"adc_type\":\"POS_RANGE_ONLY_ADC\","
                                   "\"resolution\":20}",
                                   &cfg, &err),
                     CIM_ERR_CONFIG);
    assert_string_equal(err.msg, ORIGIN ": key \"resolution\": expected an integer from 1 to 16 "
                                        "for POS_RANGE_ONLY_ADC, got 20");
    cim_config_free(&cfg);

    cim_error_clear(&err);
    assert_int_equal(parse_patched("{\"M\":\"12\"}", &cfg, &err), CIM_ERR_CONFIG);
    assert_string_equal(err.msg, ORIGIN ": key \"M\": expected an integer from 1 to 65536, "
                                        "got \"12\"");
    cim_config_free(&cfg);

    cim_error_clear(&err);
    assert_int_equal(parse_patched("{\"adc_type\":\"FOO\"}", &cfg, &err), CIM_ERR_CONFIG);
    assert_string_equal(err.msg, ORIGIN ": key \"adc_type\": expected one of \"INF_ADC\", "
                                        "\"POS_RANGE_ONLY_ADC\", \"SYM_RANGE_ADC\", got \"FOO\"");
    cim_config_free(&cfg);

    /* NULL origin still yields a message that says where */
    cim_error_clear(&err);
    assert_int_equal(cim_config_parse("{\"m_mode\":\"BNN_I\",\"M\":4}", NULL, &cfg, &err),
                     CIM_ERR_CONFIG);
    assert_string_equal(err.msg, "config: key \"N\": is missing (required)");
    cim_config_free(&cfg);
}

static void test_unknown_and_repeated_keys_rejected(void **state)
{
    (void)state;
    expect_rejected("{\"foo\":1}", CIM_ERR_CONFIG, ORIGIN ": unknown key \"foo\"");
    expect_rejected("{\"hrs\":5}", CIM_ERR_CONFIG, "did you mean \"HRS\"?");
    expect_rejected("{\"\":5}", CIM_ERR_CONFIG, "unknown key \"\"");
    expect_parse_error("{\"m_mode\":\"BNN_I\",\"M\":4,\"N\":8,\"M\":4}", CIM_ERR_CONFIG,
                       ORIGIN ": key \"M\": appears more than once");
    expect_rejected("{\"adc_calib_dict\":{\"a\":[0,1],\"a\":[0,2]}}", CIM_ERR_CONFIG,
                    "layer \"a\" appears more than once");
}

static void test_missing_required_keys_rejected(void **state)
{
    (void)state;
    expect_parse_error("{\"M\":4,\"N\":8}", CIM_ERR_CONFIG, ORIGIN ": key \"m_mode\": is missing");
    expect_parse_error("{\"m_mode\":\"BNN_I\",\"N\":8}", CIM_ERR_CONFIG,
                       ORIGIN ": key \"M\": is missing");
    expect_parse_error("{\"m_mode\":\"BNN_I\",\"M\":8}", CIM_ERR_CONFIG,
                       ORIGIN ": key \"N\": is missing");
}

static void test_invalid_json_reports_line(void **state)
{
    (void)state;
    expect_parse_error("{\n  \"m_mode\": \"BNN_I\",\n  \"M\": 4,\n  oops\n}", CIM_ERR_CONFIG,
                       ORIGIN ": invalid JSON near line 4, column ");
    expect_parse_error("{\"m_mode\":\"BNN_I\",\"M\":4,\"N\":8} trailing", CIM_ERR_CONFIG,
                       ORIGIN ": invalid JSON near line 1, column 32");
    expect_parse_error("{\"m_mode\":\"BNN_I\",", CIM_ERR_CONFIG, "invalid JSON");
    expect_parse_error("", CIM_ERR_CONFIG, ORIGIN ": invalid JSON: the text is empty");
    expect_parse_error(" \n ", CIM_ERR_CONFIG, "the text is empty");
    expect_parse_error("[1,2]", CIM_ERR_CONFIG,
                       ORIGIN ": expected a JSON object of crossbar settings, got [1,2]");
    expect_parse_error("\"BNN_I\"", CIM_ERR_CONFIG, "expected a JSON object");
    /* garbage bytes */
    expect_parse_error("\x01\xff\xfe{", CIM_ERR_CONFIG, "invalid JSON near line 1, column 2");
}

/* ---------------------------------------------------------------------------
 * Combinations
 */

static void test_mapping_adc_combinations_follow_signed_current(void **state)
{
    (void)state;
    static const char *const adc_names[] = {"INF_ADC", "POS_RANGE_ONLY_ADC", "SYM_RANGE_ADC"};
    static const int adc_types[] = {CIM_ADC_INF, CIM_ADC_POS, CIM_ADC_SYM};
    int accepted = 0;
    for (int m = 0; m < CIM_MAPPING_COUNT; ++m) {
        for (int a = 0; a < 3; ++a) {
            char patch[256];
            snprintf(patch, sizeof patch,
                     "{\"m_mode\":\"%s\",\"adc_type\":\"%s\",\"resolution\":%d}",
                     cim_mapping_name((cim_mapping_id)m), adc_names[a],
                     adc_types[a] == CIM_ADC_INF ? -1 : 4);
            int signed_current = CIM_MAPPINGS[m].signed_current;
            int ok = adc_types[a] == CIM_ADC_INF ||
                     adc_types[a] == (signed_current ? CIM_ADC_SYM : CIM_ADC_POS);
            if (ok) {
                cim_config cfg;
                expect_accepted(patch, &cfg);
                assert_int_equal(cfg.mapping, m);
                assert_int_equal(cfg.adc_type, adc_types[a]);
                cim_xbar x;
                resolve_ok(&cfg, "mvm", &x);
                assert_int_equal(x.column.adc_type, adc_types[a]);
                cim_config_free(&cfg);
                ++accepted;
            } else {
                expect_rejected(patch, CIM_ERR_CONFIG,
                                signed_current ? "has a signed column current and needs "
                                                 "SYM_RANGE_ADC or INF_ADC"
                                               : "has a non-negative column current and needs "
                                                 "POS_RANGE_ONLY_ADC or INF_ADC");
            }
        }
    }
    /* 11 with INF, 6 signed with SYM, 5 non-negative with POS */
    assert_int_equal(accepted, 2 * CIM_MAPPING_COUNT);
}

static void test_resolution_rules(void **state)
{
    (void)state;
    cim_config cfg;
    cim_xbar x;
    /* INF: -1 or no key */
    expect_accepted("{\"adc_type\":\"INF_ADC\",\"resolution\":-1}", &cfg);
    cim_config_free(&cfg);
    expect_rejected("{\"adc_type\":\"INF_ADC\",\"resolution\":4}", CIM_ERR_CONFIG,
                    ORIGIN ": key \"resolution\": expected -1 (or no key) with INF_ADC, got 4");
    expect_rejected("{\"resolution\":0}", CIM_ERR_CONFIG, "with INF_ADC, got 0");
    /* finite: 2..16 for SYM, 1..16 for POS, required */
    expect_rejected("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":0}", CIM_ERR_CONFIG,
                    "expected an integer from 2 to 16 for SYM_RANGE_ADC");
    expect_rejected("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":17}", CIM_ERR_CONFIG, "got 17");
    expect_rejected("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":-1}", CIM_ERR_CONFIG, "got -1");
    expect_rejected("{\"adc_type\":\"SYM_RANGE_ADC\"}", CIM_ERR_CONFIG,
                    ORIGIN ": key \"resolution\": is missing; SYM_RANGE_ADC needs an integer "
                           "from 2 to 16");
    expect_rejected("{\"m_mode\":\"BNN_III\",\"adc_type\":\"POS_RANGE_ONLY_ADC\"}", CIM_ERR_CONFIG,
                    "is missing; POS_RANGE_ONLY_ADC needs an integer from 1 to 16");
    expect_rejected("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":1}", CIM_ERR_CONFIG, "got 1");
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":2}", &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.column.adc_steps, 2); /* levels -h, 0, +h */
    cim_config_free(&cfg);
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":16}", &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.column.adc_steps, (1 << 16) - 2);
    cim_config_free(&cfg);
}

/* A 1-bit SYM_RANGE_ADC has 2^1 - 1 = 1 level and no step between levels: it
 * is rejected with the reason, from JSON, from a file and after
 * cim_config_set_adc_bits() (how `cimgpu run --adc-bits` sets it), for every
 * signed-current mapping. A 1-bit POS_RANGE_ONLY_ADC (2 levels, one step) is
 * a working ADC and stays accepted. */
static void test_one_bit_adcs(void **state)
{
    (void)state;
    static const char reason[] =
        "key \"resolution\": expected an integer from 2 to 16 for SYM_RANGE_ADC (a b-bit signed "
        "ADC has 2^b - 1 levels, symmetric about 0: one bit would leave the single level 0), got 1";
    cim_config cfg;
    cim_xbar x;
    cim_error err = {0};
    char dir[128], path[256], expected[512];

    int rc = parse_patched("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":1}", &cfg, &err);
    assert_int_equal(rc, CIM_ERR_CONFIG);
    snprintf(expected, sizeof expected, ORIGIN ": %s", reason);
    assert_string_equal(err.msg, expected);
    cim_config_free(&cfg);

    /* from a file: the message names the file */
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, "config"), 0);
    snprintf(path, sizeof path, "%s/sym1.json", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\"m_mode\": \"TNN_I\", \"M\": 8, \"N\": 8, \"adc_type\": \"SYM_RANGE_ADC\", "
          "\"resolution\": 1}\n",
          f);
    fclose(f);
    cim_error_clear(&err);
    assert_int_equal(cim_config_load(path, &cfg, &err), CIM_ERR_CONFIG);
    snprintf(expected, sizeof expected, "%s: %s", path, reason);
    assert_string_equal(err.msg, expected);
    cim_config_free(&cfg);
    cim_test_remove_tree(dir);

    /* the setter picks the ADC type of the mapping; validation judges the bits */
    for (int m = 0; m < CIM_MAPPING_COUNT; ++m) {
        assert_int_equal(cim_config_run_default(&cfg, NULL), 0);
        cfg.mapping = (cim_mapping_id)m;
        const int signed_current = CIM_MAPPINGS[m].signed_current;
        cim_config_set_adc_bits(&cfg, 1);
        assert_int_equal(cfg.adc_type, signed_current ? CIM_ADC_SYM : CIM_ADC_POS);
        cim_error_clear(&err);
        rc = cim_config_validate(&cfg, &err);
        if (signed_current) {
            if (rc != CIM_ERR_CONFIG || !strstr(err.msg, reason))
                fail_msg("%s with 1 bit: got %s \"%s\"", cim_mapping_name((cim_mapping_id)m),
                         cim_error_name(rc), err.msg);
            assert_non_null(strstr(err.msg, "default config: "));
            assert_int_equal(cim_config_resolve(&cfg, NULL, 0, 0, &x, NULL), CIM_ERR_CONFIG);
        } else {
            if (rc != 0)
                fail_msg("%s with 1 bit: %s", cim_mapping_name((cim_mapping_id)m), err.msg);
            resolve_ok(&cfg, NULL, &x);
            assert_int_equal(x.column.adc_type, CIM_ADC_POS);
            assert_int_equal(x.column.adc_steps, 1); /* levels lo and hi */
        }
        cim_config_set_adc_bits(&cfg, 2);
        cim_error_clear(&err);
        if (cim_config_validate(&cfg, &err) != 0)
            fail_msg("%s with 2 bits: %s", cim_mapping_name((cim_mapping_id)m), err.msg);
        cim_config_free(&cfg);
    }

    /* a 1-bit POS ADC from JSON resolves and converts: J below the middle of
     * [0, 2 N LRS] gives level 0, at or above it the top level */
    expect_accepted("{\"m_mode\":\"BNN_V\",\"N\":4,\"adc_type\":\"POS_RANGE_ONLY_ADC\","
                    "\"resolution\":1}",
                    &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.column.adc_steps, 1);
    assert_int_equal(x.column.adc_lo2, 0);
    assert_int_equal(x.column.adc_hi2, 2 * 4 * 30000);
    /* hi = 4 LRS = 120000 nA; Jq = 0 or 120000 nA; A = round(Jq * 2 / 25000) */
    assert_int_equal(cim_adc_convert(&x.column, 2 * 59999, 2), 0);
    assert_int_equal(cim_adc_convert(&x.column, 2 * 60000, 2), 10); /* 9.6 */
    cim_config_free(&cfg);
}

static void test_tnn_iv_v_bit_layout(void **state)
{
    (void)state;
    cim_config cfg;
    expect_rejected("{\"m_mode\":\"TNN_IV\",\"W_BIT\":1}", CIM_ERR_CONFIG,
                    ORIGIN ": key \"W_BIT\": TNN_IV stores each weight in 2 bit cells and needs 2, "
                           "got 1");
    expect_rejected("{\"m_mode\":\"TNN_V\",\"W_BIT\":3}", CIM_ERR_CONFIG, "key \"W_BIT\"");
    expect_rejected("{\"m_mode\":\"TNN_IV\",\"SPLIT\":[1]}", CIM_ERR_CONFIG,
                    ORIGIN ": key \"SPLIT\": TNN_IV needs [1, 1]");
    expect_rejected("{\"m_mode\":\"TNN_V\",\"SPLIT\":[2,1]}", CIM_ERR_CONFIG, "key \"SPLIT\"");
    expect_accepted("{\"m_mode\":\"TNN_V\",\"W_BIT\":2,\"SPLIT\":[1,1],\"I_BIT\":2}", &cfg);
    cim_config_free(&cfg);
    expect_accepted("{\"m_mode\":\"TNN_IV\"}", &cfg); /* defaults fit */
    assert_int_equal(cfg.w_bit, 2);
    cim_config_free(&cfg);
    /* other mappings ignore SPLIT and W_BIT, as the reference does */
    expect_accepted("{\"m_mode\":\"BNN_III\",\"SPLIT\":[1],\"W_BIT\":1}", &cfg);
    assert_int_equal(cfg.n_split, 1);
    assert_int_equal(cfg.split[0], 1);
    cim_config_free(&cfg);
}

static void test_currents_checked(void **state)
{
    (void)state;
    cim_config cfg;
    expect_rejected("{\"HRS\":30,\"LRS\":30}", CIM_ERR_CONFIG,
                    ORIGIN ": keys \"HRS\", \"LRS\": expected LRS > HRS");
    expect_rejected("{\"HRS\":50,\"LRS\":30}", CIM_ERR_CONFIG, "expected LRS > HRS");
    expect_rejected("{\"HRS\":-0.1}", CIM_ERR_CONFIG, "key \"HRS\": expected a number from 0");
    expect_accepted("{\"HRS\":0,\"LRS\":10000,\"LRS_NOISE\":10000}", &cfg);
    cim_config_free(&cfg);
    /* 1e999 overflows to infinity in the JSON reader: not finite */
    expect_parse_error("{\"m_mode\":\"BNN_I\",\"M\":4,\"N\":8,\"LRS\":1e999}", CIM_ERR_CONFIG,
                       "key \"LRS\": expected a number from 0 to 10000");
    /* equal after rounding to 1 nA: no Delta to scale the ADC by */
    expect_accepted("{\"HRS\":5.0001,\"LRS\":5.0004}", &cfg);
    cim_xbar x;
    cim_error err = {0};
    assert_int_equal(cim_config_resolve(&cfg, NULL, 0, 0, &x, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "differ by less than the 1 nA current resolution"));
    cim_config_free(&cfg);
}

static void test_size_limits(void **state)
{
    (void)state;
    cim_config cfg;
    expect_accepted("{\"M\":65536,\"N\":1024}", &cfg); /* exactly 2^26 cells */
    cim_config_free(&cfg);
    expect_rejected("{\"M\":65536,\"N\":1025}", CIM_ERR_CONFIG,
                    ORIGIN
                    ": keys \"M\", \"N\": crossbar 65536 x 1025 has more than 67108864 cells");
    expect_rejected("{\"M\":65537,\"N\":1}", CIM_ERR_CONFIG, "key \"M\"");
}

static void test_calib_ranges(void **state)
{
    (void)state;
    cim_config cfg;
    cim_xbar x;
    cim_error err = {0};
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3,\"adc_calib_mode\":\"CALIB\","
                    "\"adc_calib_dict\":{\"fc1\":[-10.25,10.5],\"fc2\":[-0.0007,0.0013]}}",
                    &cfg);
    assert_int_equal(cfg.n_calib, 2);
    resolve_ok(&cfg, "fc1", &x);
    assert_int_equal(x.column.adc_lo2, -20500); /* 2 * -10.25 µA * 1000 nA/µA */
    assert_int_equal(x.column.adc_hi2, 21000);
    resolve_ok(&cfg, "fc2", &x);
    assert_int_equal(x.column.adc_lo2, -1); /* round(-1.4) */
    assert_int_equal(x.column.adc_hi2, 3);  /* round(2.6) */
    assert_int_equal(cim_config_resolve(&cfg, "conv3", 0, 0, &x, &err), CIM_ERR_CONFIG);
    assert_string_equal(err.msg, ORIGIN ": key \"adc_calib_dict\": no [lo, hi] range for layer "
                                        "\"conv3\" (adc_calib_mode CALIB)");
    cim_error_clear(&err);
    assert_int_equal(cim_config_resolve(&cfg, NULL, 0, 0, &x, &err), CIM_ERR_CONFIG);
    cim_config_free(&cfg);

    /* CALIB with a finite ADC needs the dict */
    expect_rejected(
        "{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3,\"adc_calib_mode\":\"CALIB\"}",
        CIM_ERR_CONFIG, ORIGIN ": key \"adc_calib_dict\": is missing or empty");
    expect_rejected("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3,\"adc_calib_mode\":\"CALIB\","
                    "\"adc_calib_dict\":{}}",
                    CIM_ERR_CONFIG, "is missing or empty");
    /* with INF_ADC the range is unused, as in the reference simulator */
    expect_accepted("{\"adc_calib_mode\":\"CALIB\"}", &cfg);
    resolve_ok(&cfg, "anything", &x);
    cim_config_free(&cfg);

    /* a range below the half-nA resolution */
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3,\"adc_calib_mode\":\"CALIB\","
                    "\"adc_calib_dict\":{\"fc1\":[0,0.0002]}}",
                    &cfg);
    cim_error_clear(&err);
    assert_int_equal(cim_config_resolve(&cfg, "fc1", 0, 0, &x, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "narrower than the 0.5 nA current resolution"));
    cim_config_free(&cfg);

    /* MAX mode ignores a dict but keeps it */
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3,"
                    "\"adc_calib_dict\":{\"fc1\":[0,1]}}",
                    &cfg);
    resolve_ok(&cfg, "fc1", &x);
    assert_int_equal(x.column.adc_hi2, 2 * 8 * 25000);
    cim_config_free(&cfg);
}

/* adc_profile: a finite ADC in analog mode, one clear line otherwise; the
 * profile spans the ADC type's MAX range (also in CALIB mode) in bins of the
 * integer bin size; adc_calib_info is kept verbatim. */
static void test_adc_profile_keys(void **state)
{
    (void)state;
    cim_config cfg;
    cim_xbar x;
    expect_rejected("{\"adc_profile\":true}", CIM_ERR_CONFIG,
                    ORIGIN ": key \"adc_profile\": profiles the inputs of a finite ADC");
    expect_rejected("{\"adc_profile\":true,\"digital_only\":true}", CIM_ERR_CONFIG,
                    "digital_only true");
    /* BNN_I: signed current, SYM [-N Delta, N Delta] = [-200, 200] uA, b = 7 uA */
    expect_accepted("{\"adc_profile\":true,\"adc_profile_bin_size\":7,"
                    "\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3}",
                    &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.profile.lo_na, -200000);
    assert_int_equal(x.profile.bin_na, 7000);
    assert_int_equal(x.profile.bins, 57); /* round(400 / 7) = round(57.14) */
    cim_config_free(&cfg);
    /* without adc_profile: no bins */
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3}", &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.profile.bins, 0);
    cim_config_free(&cfg);
    /* BNN_III, POS, CALIB: still the MAX range [0, N LRS] = [0, 240] uA; 240 / 16 = 15 */
    expect_accepted("{\"m_mode\":\"BNN_III\",\"adc_profile\":true,\"adc_profile_bin_size\":16,"
                    "\"adc_type\":\"POS_RANGE_ONLY_ADC\",\"resolution\":2,"
                    "\"adc_calib_mode\":\"CALIB\",\"adc_calib_dict\":{\"fc\":[10,20]}}",
                    &cfg);
    resolve_ok(&cfg, "fc", &x);
    assert_int_equal(x.profile.lo_na, 0);
    assert_int_equal(x.profile.bins, 15);
    assert_int_equal(x.column.adc_hi2, 2 * 20000); /* the ADC itself uses CALIB */
    cim_config_free(&cfg);
    /* a bin wider than twice the range leaves no bin: refused at resolution */
    expect_accepted("{\"adc_profile\":true,\"adc_profile_bin_size\":900,"
                    "\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":3}",
                    &cfg);
    {
        cim_error err = {0, ""};
        assert_int_equal(cim_config_resolve(&cfg, NULL, 0, 0, &x, &err), CIM_ERR_CONFIG);
        assert_non_null(strstr(err.msg, "adc_profile_bin_size"));
        assert_non_null(strstr(err.msg, "0 bins"));
    }
    cim_config_free(&cfg);
    /* adc_calib_info: any object, kept and written back */
    expect_accepted("{\"adc_calib_info\":{\"rule\":\"quantile\",\"coverage\":0.999}}", &cfg);
    assert_string_equal(cfg.calib_info, "{\"rule\":\"quantile\",\"coverage\":0.999}");
    char *json = cim_config_to_json(&cfg);
    assert_non_null(strstr(json, "\"adc_calib_info\":{\"rule\":\"quantile\",\"coverage\":0.999}"));
    free(json);
    cim_config copy;
    assert_int_equal(cim_config_copy(&copy, &cfg, NULL), 0);
    assert_string_equal(copy.calib_info, cfg.calib_info);
    cim_config_free(&copy);
    cim_config_free(&cfg);
}

static void test_unsupported_features(void **state)
{
    (void)state;
    expect_rejected("{\"mvm_profile\":true}", CIM_ERR_UNSUPPORTED, "not supported yet");
    /* off: every key accepted and kept */
    cim_config cfg;
    expect_accepted("{\"read_disturb\":false,\"t_read\":1e-8,\"V_read\":-0.2,"
                    "\"read_disturb_update_freq\":10,"
                    "\"read_disturb_mitigation_strategy\":\"SOFTWARE\","
                    "\"read_disturb_mitigation_fp\":2.0,\"read_disturb_update_tolerance\":0.1,"
                    "\"parasitics\":false,\"w_res\":2.5,\"adc_profile\":false,"
                    "\"adc_profile_bin_size\":5,\"mvm_profile\":false,\"mvm_profile_bin_size\":3,"
                    "\"verbose\":true}",
                    &cfg);
    assert_true(cfg.t_read == 1e-8 && cfg.v_read == -0.2 && cfg.w_res == 2.5);
    assert_int_equal(cfg.read_disturb_update_freq, 10);
    assert_int_equal(cfg.read_disturb_mitigation_strategy, CIM_DISTURB_SOFTWARE);
    assert_true(cfg.adc_profile_bin_size == 5 && cfg.mvm_profile_bin_size == 3.0);
    assert_int_equal(cfg.verbose, 1);
    cim_config_free(&cfg);
}

/* Bit-line IR drop: its keys' rules, and what resolution makes of them. */
static void test_parasitics(void **state)
{
    (void)state;
    expect_rejected("{\"parasitics\":true,\"V_read\":-0.2}", CIM_ERR_CONFIG,
                    ORIGIN ": key \"w_res\": is missing");
    expect_rejected("{\"parasitics\":true,\"w_res\":1}", CIM_ERR_CONFIG,
                    "key \"V_read\": is missing; parasitics needs the read voltage in V (< 0)");
    expect_rejected("{\"parasitics\":true,\"w_res\":1,\"V_read\":0.2}", CIM_ERR_CONFIG,
                    "key \"V_read\": expected a negative voltage (V) with parasitics, got 0.2");
    expect_rejected("{\"parasitics\":true,\"w_res\":1,\"V_read\":0}", CIM_ERR_CONFIG,
                    "key \"V_read\"");
    expect_rejected("{\"parasitics\":true,\"w_res\":-1,\"V_read\":-0.2}", CIM_ERR_CONFIG,
                    "key \"w_res\": expected a number from 0 to");
    expect_rejected("{\"parasitics\":true,\"w_res\":1e-5,\"V_read\":-0.2}", CIM_ERR_CONFIG,
                    "key \"w_res\": 1e-05 Ω at V_read -0.2 V passes 20000 A per wire segment");
    expect_rejected("{\"parasitics\":1,\"w_res\":1,\"V_read\":-0.2}", CIM_ERR_CONFIG,
                    "key \"parasitics\"");
    expect_rejected("{\"parasitics\":true,\"w_res\":1,\"V_read\":-20}", CIM_ERR_CONFIG,
                    "key \"V_read\": expected a number from -10 to 10 V");
    expect_rejected("{\"m_mode\":\"BNN_V\",\"N\":1,\"parasitics\":true,\"w_res\":1,"
                    "\"V_read\":-0.2}",
                    CIM_ERR_CONFIG, "key \"N\": BNN_V gives an input 2 rows of a bit line");
    expect_rejected("{\"m_mode\":\"TNN_IV\",\"M\":1,\"parasitics\":true,\"w_res\":1,"
                    "\"V_read\":-0.2}",
                    CIM_ERR_CONFIG, "key \"M\": TNN_IV puts an output's 2 bit columns");

    cim_config cfg;
    cim_xbar x;
    /* one row per input: the tile stays M x N, the ladder has N rows */
    expect_accepted("{\"m_mode\":\"BNN_I\",\"M\":16,\"N\":64,\"parasitics\":true,"
                    "\"w_res\":2.5,\"V_read\":-0.2}",
                    &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.ladder_iw, llround(0.2e9 / 2.5 * (double)(1 << CIM_FINE_FRAC_BITS)));
    assert_int_equal(x.ladder_rows, 64);
    assert_int_equal(x.xbar_m, 16);
    assert_int_equal(x.xbar_n, 64);
    assert_int_equal(x.column.fine, 1);
    assert_true(cim_xbar_has_ladder(&x) && cim_xbar_reads_per_cell(&x));
    cim_config_free(&cfg);
    /* two rows per input: N / 2 inputs per tile; the ADC range still from N */
    expect_accepted("{\"m_mode\":\"BNN_VI\",\"M\":16,\"N\":65,\"parasitics\":true,"
                    "\"w_res\":1,\"V_read\":-0.4,\"adc_type\":\"SYM_RANGE_ADC\","
                    "\"resolution\":5}",
                    &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.xbar_n, 32);
    assert_int_equal(x.ladder_rows, 65);
    assert_int_equal(x.column.adc_hi2, 2 * 65 * 25000);
    cim_config_free(&cfg);
    /* TNN_IV: an output's two bit columns side by side, M / 2 outputs per tile */
    expect_accepted("{\"m_mode\":\"TNN_IV\",\"M\":9,\"N\":64,\"W_BIT\":2,\"SPLIT\":[1,1],"
                    "\"parasitics\":true,\"w_res\":1,\"V_read\":-0.2}",
                    &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.xbar_m, 4);
    assert_int_equal(x.xbar_n, 64);
    cim_config_free(&cfg);
    /* w_res 0: ideal wires, the plain sum; digital mode ignores the keys */
    expect_accepted("{\"parasitics\":true,\"w_res\":0,\"V_read\":-0.2}", &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_false(cim_xbar_has_ladder(&x) || x.column.fine);
    cim_config_free(&cfg);
    expect_accepted("{\"parasitics\":true,\"digital_only\":true}", &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_false(cim_xbar_has_ladder(&x) || x.column.fine);
    cim_config_free(&cfg);
}

/* c2c_model: "cell" by default and in the provenance JSON; "column" needs
 * C2C on in analog mode with Gaussian C2C and plain column sums, each
 * refusal one line naming the key and the cause; accepted, it resolves to
 * the column-law crossbar. */
static void test_c2c_model(void **state)
{
    (void)state;
#define C2C "\"c2c_model\":\"column\","
    static const struct {
        const char *patch, *needle;
    } bad[] = {
        {"{" C2C "\"LRS_NOISE\":1}", "C2C is off (c2c_var false); turn it on"},
        {"{" C2C "\"c2c_var\":true,\"digital_only\":true}", "digital_only true has no C2C"},
        {"{" C2C "\"c2c_var\":true,\"device_cdf_c2c\":{\"LRS\":[[-2,0],[2,1]]}}",
         "device_cdf_c2c replaces the Gaussian C2C deviation"},
        {"{" C2C "\"c2c_var\":true,\"parasitics\":true,\"w_res\":1,\"V_read\":-0.2}",
         "parasitics (bit-line IR drop) reads each column through its wire ladder"},
        {"{" C2C "\"c2c_var\":true,\"read_disturb\":true,\"t_read\":1e-9,\"V_read\":-0.2}",
         "read_disturb changes the cells from read to read"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
        char needle[256];
        snprintf(needle, sizeof needle,
                 ORIGIN ": key \"c2c_model\": \"column\" is a law of Gaussian C2C reads summed "
                        "per column; %s",
                 bad[i].needle);
        expect_rejected(bad[i].patch, CIM_ERR_CONFIG, needle);
    }
    cim_config cfg;
    cim_xbar x;
    cim_error err = {0};
    char *json;
    /* the default: cell, also with C2C on */
    expect_accepted("{\"c2c_var\":true,\"LRS_NOISE\":2}", &cfg);
    assert_int_equal(cfg.c2c_model, CIM_C2C_MODEL_CELL);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.c2c_column, 0);
    assert_false(cim_xbar_c2c_column(&x));
    assert_non_null(json = cim_config_to_json(&cfg));
    assert_non_null(strstr(json, "\"c2c_var\":true,\"c2c_model\":\"cell\""));
    free(json);
    cim_config_free(&cfg);
    /* column with C2C on; ideal wires (w_res 0) are a plain sum */
    expect_accepted("{" C2C "\"c2c_var\":true,\"LRS_NOISE\":2,\"parasitics\":true,\"w_res\":0,"
                    "\"V_read\":-0.2}",
                    &cfg);
    assert_int_equal(cfg.c2c_model, CIM_C2C_MODEL_COLUMN);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.c2c_column, 1);
    assert_true(cim_xbar_c2c_column(&x) && cim_xbar_reads_per_cell(&x));
    assert_false(cim_xbar_plain_sum_chips(&x)); /* the device pipeline's chips have no draws */
    assert_non_null(json = cim_config_to_json(&cfg));
    assert_non_null(strstr(json, "\"c2c_model\":\"column\""));
    free(json);
    /* an edited struct: a model out of range, or column with C2C off */
    cfg.c2c_model = 2;
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"c2c_model\": expected one of \"cell\", \"column\""));
    cfg.c2c_model = CIM_C2C_MODEL_COLUMN;
    cfg.c2c_var = 0;
    cim_error_clear(&err);
    assert_int_equal(cim_config_resolve(&cfg, NULL, 0, 0, &x, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"c2c_model\""));
    cim_config_free(&cfg);
    /* C2C sigmas of 0 under column: accepted, no C2C to read (the g path) */
    expect_accepted("{" C2C "\"c2c_var\":true,\"HRS_NOISE_C2C\":0,\"LRS_NOISE_C2C\":0}", &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_false(cim_xbar_c2c_column(&x) || cim_xbar_reads_per_cell(&x));
    cim_config_free(&cfg);
#undef C2C
}

/* Read disturb's parameters: each rule gives its own message, and a config
 * that meets them all is accepted. */
static void test_read_disturb_parameters(void **state)
{
    (void)state;
#define RD "\"read_disturb\":true,"
    cim_config cfg;
    expect_rejected("{" RD "\"t_read\":1e-8}", CIM_ERR_CONFIG,
                    ORIGIN ": key \"V_read\": is missing; read_disturb needs the read voltage");
    expect_rejected("{" RD "\"t_read\":1e-8,\"V_read\":0}", CIM_ERR_CONFIG,
                    "key \"V_read\": expected a negative voltage (V) with read_disturb, got 0");
    expect_rejected("{" RD "\"t_read\":1e-8,\"V_read\":0.2}", CIM_ERR_CONFIG,
                    "key \"V_read\": expected a negative voltage (V) with read_disturb, got 0.2");
    expect_rejected("{" RD "\"V_read\":-0.2}", CIM_ERR_CONFIG,
                    "key \"t_read\": is missing; read_disturb needs a positive time");
    expect_rejected("{" RD "\"V_read\":-0.2,\"t_read\":0}", CIM_ERR_CONFIG,
                    "key \"t_read\": expected a positive time of one read in s with read_disturb, "
                    "got 0");
    expect_rejected("{" RD "\"V_read\":-0.2,\"t_read\":-1e-9}", CIM_ERR_CONFIG,
                    "key \"t_read\": expected a positive");
    /* f >= 1 and n0 >= 0 are the keys' own ranges */
    expect_rejected("{" RD "\"V_read\":-0.2,\"t_read\":1e-8,\"read_disturb_update_freq\":0}",
                    CIM_ERR_CONFIG, "key \"read_disturb_update_freq\": expected an integer >= 1");
    expect_rejected("{" RD "\"V_read\":-0.2,\"t_read\":1e-8,\"read_disturb_initial_cycles\":-3}",
                    CIM_ERR_CONFIG,
                    "key \"read_disturb_initial_cycles\": expected an integer >= 0");
    /* SOFTWARE needs fp >= 1; CELL_BASED a tolerance in [0, 1] */
#define RD_OK RD "\"V_read\":-0.2,\"t_read\":1e-8,"
    expect_rejected("{" RD_OK "\"read_disturb_mitigation_strategy\":\"SOFTWARE\"}", CIM_ERR_CONFIG,
                    "key \"read_disturb_mitigation_fp\": is missing; "
                    "read_disturb_mitigation_strategy SOFTWARE needs a number >= 1");
    expect_rejected("{" RD_OK "\"read_disturb_mitigation_strategy\":\"SOFTWARE\","
                    "\"read_disturb_mitigation_fp\":0.99}",
                    CIM_ERR_CONFIG,
                    "key \"read_disturb_mitigation_fp\": expected a number >= 1 with "
                    "read_disturb_mitigation_strategy SOFTWARE, got 0.99");
    expect_accepted("{" RD_OK "\"read_disturb_mitigation_strategy\":\"SOFTWARE\","
                    "\"read_disturb_mitigation_fp\":1}",
                    &cfg);
    cim_config_free(&cfg);
    expect_rejected("{" RD_OK "\"read_disturb_mitigation_strategy\":\"CELL_BASED\"}",
                    CIM_ERR_CONFIG,
                    "key \"read_disturb_update_tolerance\": is missing; "
                    "read_disturb_mitigation_strategy CELL_BASED needs a fraction from 0 to 1");
    expect_rejected("{" RD_OK "\"read_disturb_mitigation_strategy\":\"CELL_BASED\","
                    "\"read_disturb_update_tolerance\":1.5}",
                    CIM_ERR_CONFIG,
                    "key \"read_disturb_update_tolerance\": expected a fraction from 0 to 1 with "
                    "read_disturb_mitigation_strategy CELL_BASED, got 1.5");
    expect_rejected("{" RD_OK "\"read_disturb_mitigation_strategy\":\"CELL_BASED\","
                    "\"read_disturb_update_tolerance\":-0.1}",
                    CIM_ERR_CONFIG, "key \"read_disturb_update_tolerance\": expected a fraction");
    static const char *const band_edges[] = {"0", "1", "0.05"};
    for (int i = 0; i < 3; ++i) {
        char patch[256];
        snprintf(patch, sizeof patch,
                 "{" RD_OK "\"read_disturb_mitigation_strategy\":\"CELL_BASED\","
                 "\"read_disturb_update_tolerance\":%s,\"read_disturb_model\":\"PHYSICAL\","
                 "\"read_disturb_initial_cycles\":1423518}",
                 band_edges[i]);
        expect_accepted(patch, &cfg);
        cim_config_free(&cfg);
    }
    /* the other strategy's parameter is not read */
    expect_accepted("{" RD_OK "\"read_disturb_mitigation_strategy\":\"CELL_BASED\","
                    "\"read_disturb_update_tolerance\":0.1,\"read_disturb_mitigation_fp\":0.5}",
                    &cfg);
    cim_config_free(&cfg);
    /* parasitics need V_read as well */
    expect_rejected("{\"parasitics\":true,\"w_res\":1}", CIM_ERR_CONFIG,
                    "key \"V_read\": is missing; parasitics needs the read voltage");
    expect_rejected("{\"parasitics\":true,\"w_res\":1,\"V_read\":0.1}", CIM_ERR_CONFIG,
                    "key \"V_read\": expected a negative voltage (V) with parasitics, got 0.1");
    /* off, or in digital mode, the parameters are not read (as by the reference) */
    expect_accepted("{\"read_disturb\":false,\"t_read\":-1,\"V_read\":0.3,"
                    "\"read_disturb_mitigation_strategy\":\"SOFTWARE\","
                    "\"read_disturb_mitigation_fp\":0.2}",
                    &cfg);
    assert_int_equal(cfg.read_disturb_initial_cycles, 0);
    assert_int_equal(cfg.read_disturb_model, CIM_DRIFT_LIBRARY);
    cim_config_free(&cfg);
    expect_accepted("{" RD "\"digital_only\":true}", &cfg);
    cim_config_free(&cfg);
    expect_accepted("{\"read_disturb_initial_cycles\":2147483647,"
                    "\"read_disturb_model\":\"PHYSICAL\"}",
                    &cfg);
    assert_int_equal(cfg.read_disturb_initial_cycles, INT32_MAX);
    assert_int_equal(cfg.read_disturb_model, CIM_DRIFT_PHYSICAL);
    /* the same rules on a struct edited in code */
    cim_error err = {0};
    cfg.read_disturb = 1;
    cfg.v_read = -0.4;
    cfg.t_read = 1e-8;
    cfg.read_disturb_mitigation_strategy = CIM_DISTURB_SOFTWARE;
    cfg.read_disturb_mitigation_fp = 0;
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"read_disturb_mitigation_fp\""));
    cfg.read_disturb_mitigation_fp = 2;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), 0);
    cfg.read_disturb_initial_cycles = -1;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"read_disturb_initial_cycles\""));
    cfg.read_disturb_initial_cycles = 0;
    cfg.read_disturb_model = 2;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"read_disturb_model\""));
    cim_config_free(&cfg);
#undef RD_OK
#undef RD
}

/* ---------------------------------------------------------------------------
 * Resolution to integers
 */

static void test_resolve_currents_and_ranges(void **state)
{
    (void)state;
    cim_config cfg;
    cim_xbar x;
    cim_error err = {0};

    /* SYM, signed mapping: range +-2 N Delta half-units */
    expect_accepted("{\"M\":3,\"N\":8,\"HRS\":5.0004,\"LRS\":30.0006,"
                    "\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":4}",
                    &cfg);
    assert_int_equal(cim_config_resolve(&cfg, NULL, 1234, 7, &x, &err), 0);
    assert_int_equal(x.mapping, CIM_BNN_I);
    assert_int_equal(x.xbar_m, 3);
    assert_int_equal(x.xbar_n, 8);
    assert_true(x.seed == 1234);
    assert_int_equal(x.layer, 7);
    assert_int_equal(x.current_na[CIM_STATE_HRS], 5000);  /* round(5000.4) */
    assert_int_equal(x.current_na[CIM_STATE_LRS], 30001); /* round(30000.6) */
    assert_int_equal(x.column.mapping, CIM_BNN_I);
    assert_int_equal(x.column.digital, 0);
    assert_int_equal(x.column.hrs, 5000);
    assert_int_equal(x.column.delta, 25001);
    assert_int_equal(x.column.adc_type, CIM_ADC_SYM);
    assert_int_equal(x.column.adc_steps, 14); /* 2^4 - 2 */
    assert_int_equal(x.column.adc_lo2, -2 * 8 * 25001);
    assert_int_equal(x.column.adc_hi2, 2 * 8 * 25001);
    cim_config_free(&cfg);

    /* POS, non-negative mapping: [0, 2 N LRS] */
    expect_accepted("{\"m_mode\":\"BNN_III\",\"N\":20,\"adc_type\":\"POS_RANGE_ONLY_ADC\","
                    "\"resolution\":3}",
                    &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.column.adc_type, CIM_ADC_POS);
    assert_int_equal(x.column.adc_steps, 7); /* 2^3 - 1 */
    assert_int_equal(x.column.adc_lo2, 0);
    assert_int_equal(x.column.adc_hi2, 2 * 20 * 30000);
    assert_int_equal(x.column.hrs, 5000);
    assert_int_equal(x.column.delta, 25000);
    cim_config_free(&cfg);

    /* INF */
    expect_accepted("{\"m_mode\":\"TNN_IV\",\"HRS\":2,\"LRS\":50}", &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.column.adc_type, CIM_ADC_INF);
    assert_int_equal(x.column.hrs, 2000);
    assert_int_equal(x.column.delta, 48000);
    cim_config_free(&cfg);

    /* digital: c = s, no ADC */
    expect_accepted("{\"digital_only\":true,\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":4}",
                    &cfg);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.column.digital, 1);
    assert_int_equal(x.column.hrs, 0);
    assert_int_equal(x.column.delta, 1);
    assert_int_equal(x.column.adc_type, CIM_ADC_INF);
    assert_false(cim_xbar_has_d2d(&x));
    cim_config_free(&cfg);
}

/* d2d_var and c2c_var route the sigmas (µA in, nA out): a switched-off kind
 * gets 0; the C2C sigmas default to the D2D ones. */
static void test_resolve_routes_sigmas(void **state)
{
    (void)state;
    static const struct {
        const char *patch;
        int32_t d2d_hrs_na, d2d_lrs_na, c2c_hrs_na, c2c_lrs_na;
    } cases[] = {
        /* default: D2D on, C2C off */
        {"{\"HRS_NOISE\":1.5,\"LRS_NOISE\":2.25}", 1500, 2250, 0, 0},
        /* C2C on: the reference's single pair of sigmas serves both */
        {"{\"HRS_NOISE\":1.5,\"LRS_NOISE\":2.25,\"c2c_var\":true}", 1500, 2250, 1500, 2250},
        /* C2C alone, with its own sigmas */
        {"{\"HRS_NOISE\":1.5,\"LRS_NOISE\":2.25,\"HRS_NOISE_C2C\":0.5,"
         "\"LRS_NOISE_C2C\":0.75,\"d2d_var\":false,\"c2c_var\":true}",
         0, 0, 500, 750},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        cim_config cfg;
        cim_xbar x;
        expect_accepted(cases[i].patch, &cfg);
        resolve_ok(&cfg, NULL, &x);
        assert_int_equal(x.d2d_sigma_na[CIM_STATE_HRS], cases[i].d2d_hrs_na);
        assert_int_equal(x.d2d_sigma_na[CIM_STATE_LRS], cases[i].d2d_lrs_na);
        assert_int_equal(x.c2c_sigma_na[CIM_STATE_HRS], cases[i].c2c_hrs_na);
        assert_int_equal(x.c2c_sigma_na[CIM_STATE_LRS], cases[i].c2c_lrs_na);
        assert_int_equal(cim_xbar_has_d2d(&x), cases[i].d2d_hrs_na > 0);
        assert_int_equal(cim_xbar_has_c2c(&x), cases[i].c2c_hrs_na > 0);
        cim_config_free(&cfg);
    }
}

/* Largest column current: N x rows_per_input x 2 x (LRS + 6.4 sigma) nA
 * must stay below 2^31 - 1 = 2147483647. Each limit is checked from both
 * sides: the largest N that fits, and one more, whose message names N. */
static void test_overflow_guard(void **state)
{
    (void)state;
    static const struct {
        const char *patch;
        const char *error; /* NULL: resolves */
    } cases[] = {
        /* BNN_I (1 row per input), LRS 30 µA: N x 2 x 30000 < 2^31 - 1 for N <= 35791 */
        {"{\"M\":1,\"N\":35791}", NULL},
        {"{\"M\":1,\"N\":35792}",
         ORIGIN ": crossbar too large for the 32-bit current range: N = 35792"},
        /* TNN_I has 2 rows per input: the limit halves */
        {"{\"m_mode\":\"TNN_I\",\"M\":1,\"N\":17895}", NULL},
        {"{\"m_mode\":\"TNN_I\",\"M\":1,\"N\":17896}",
         ORIGIN ": crossbar too large for the 32-bit current range: N = 17896"},
        /* sigmas count with 6.4 x (D2D + C2C): LRS 30 + 6.4 x (10 + 10) = 158 µA per cell;
         * N x 2 x 158000 < 2^31 - 1 for N <= 6795 */
        {"{\"M\":1,\"N\":6795,\"LRS_NOISE\":10,\"c2c_var\":true}", NULL},
        {"{\"M\":1,\"N\":6796,\"LRS_NOISE\":10,\"c2c_var\":true}",
         ORIGIN ": crossbar too large for the 32-bit current range: N = 6796"},
        /* ... but only the sigmas that are applied */
        {"{\"M\":1,\"N\":6796,\"LRS_NOISE\":10,\"c2c_var\":false}", NULL},
        /* digital mode sums state bits: any size fits */
        {"{\"m_mode\":\"TNN_I\",\"M\":1,\"N\":65536,\"digital_only\":true}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        cim_config cfg;
        cim_xbar x;
        cim_error err = {0};
        expect_accepted(cases[i].patch, &cfg);
        int rc = cim_config_resolve(&cfg, NULL, 0, 0, &x, &err);
        if (cases[i].error ? rc != CIM_ERR_CONFIG || !strstr(err.msg, cases[i].error) : rc != 0)
            fail_msg("patch %s: got %s \"%s\", expected %s", cases[i].patch, cim_error_name(rc),
                     err.msg, cases[i].error ? cases[i].error : "success");
        cim_config_free(&cfg);
    }
}

static void test_validate_checks_edited_structs(void **state)
{
    (void)state;
    cim_config cfg;
    cim_xbar x;
    cim_error err = {0};
    expect_accepted("{\"m_mode\":\"BNN_III\",\"adc_type\":\"POS_RANGE_ONLY_ADC\",\"resolution\":4}",
                    &cfg);
    cfg.resolution = 40; /* e.g. from a command-line flag */
    assert_int_equal(cim_config_resolve(&cfg, NULL, 0, 0, &x, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"resolution\": expected an integer from 1 to 16"));
    cfg.resolution = 4;
    cfg.adc_type = CIM_ADC_SYM;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    cfg.adc_type = 7;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    assert_null(cim_config_to_json(&cfg));
    cfg.adc_type = CIM_ADC_POS;
    cfg.lrs_noise_ua = NAN;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"LRS_NOISE\""));
    cfg.lrs_noise_ua = 0;
    cfg.read_disturb = 1;
    cfg.v_read = -0.2;
    cfg.t_read = -1e-8;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    cfg.t_read = 1e-8;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), 0);
    cfg.read_disturb = 0;
    cim_error_clear(&err);
    assert_int_equal(cim_config_validate(&cfg, &err), 0);
    cim_config_free(&cfg);
}

/* ---------------------------------------------------------------------------
 * Provenance round trip
 */

static void assert_configs_equal(const cim_config *a, const cim_config *b)
{
    assert_int_equal(a->mapping, b->mapping);
    assert_int_equal(a->M, b->M);
    assert_int_equal(a->N, b->N);
    assert_int_equal(a->digital, b->digital);
    assert_true(a->hrs_ua == b->hrs_ua && a->lrs_ua == b->lrs_ua);
    assert_int_equal(a->adc_type, b->adc_type);
    assert_int_equal(a->resolution, b->resolution);
    assert_int_equal(a->calib_mode, b->calib_mode);
    assert_int_equal(a->n_calib, b->n_calib);
    for (int i = 0; i < a->n_calib; ++i) {
        assert_string_equal(a->calib[i].layer, b->calib[i].layer);
        assert_true(a->calib[i].lo_ua == b->calib[i].lo_ua);
        assert_true(a->calib[i].hi_ua == b->calib[i].hi_ua);
    }
    assert_true(a->hrs_noise_ua == b->hrs_noise_ua && a->lrs_noise_ua == b->lrs_noise_ua);
    assert_true(a->hrs_noise_c2c_ua == b->hrs_noise_c2c_ua);
    assert_true(a->lrs_noise_c2c_ua == b->lrs_noise_c2c_ua);
    assert_int_equal(a->d2d_var, b->d2d_var);
    assert_int_equal(a->c2c_var, b->c2c_var);
    assert_int_equal(a->n_split, b->n_split);
    for (int i = 0; i < a->n_split; ++i)
        assert_int_equal(a->split[i], b->split[i]);
    assert_int_equal(a->w_bit, b->w_bit);
    assert_int_equal(a->i_bit, b->i_bit);
    assert_int_equal(a->verbose, b->verbose);
    assert_int_equal(a->adc_profile, b->adc_profile);
    assert_int_equal(a->adc_profile_bin_size, b->adc_profile_bin_size);
    assert_true((!a->calib_info && !b->calib_info) ||
                (a->calib_info && b->calib_info && strcmp(a->calib_info, b->calib_info) == 0));
    assert_true(a->mvm_profile_bin_size == b->mvm_profile_bin_size);
    assert_int_equal(a->read_disturb_update_freq, b->read_disturb_update_freq);
    assert_int_equal(a->read_disturb_mitigation_strategy, b->read_disturb_mitigation_strategy);
    assert_int_equal(a->read_disturb_initial_cycles, b->read_disturb_initial_cycles);
    assert_int_equal(a->read_disturb_model, b->read_disturb_model);
    const double ad[] = {a->t_read, a->v_read, a->read_disturb_mitigation_fp,
                         a->read_disturb_update_tolerance, a->w_res};
    const double bd[] = {b->t_read, b->v_read, b->read_disturb_mitigation_fp,
                         b->read_disturb_update_tolerance, b->w_res};
    for (int i = 0; i < 5; ++i)
        assert_true((isnan(ad[i]) && isnan(bd[i])) || ad[i] == bd[i]);
}

static void check_round_trip(const char *patch)
{
    cim_config a, b;
    cim_error err = {0};
    expect_accepted(patch, &a);
    char *json = cim_config_to_json(&a);
    assert_non_null(json);
    if (cim_config_parse(json, "provenance", &b, &err))
        fail_msg("to_json output %s rejected: %s", json, err.msg);
    assert_configs_equal(&a, &b);
    char *again = cim_config_to_json(&b);
    assert_non_null(again);
    assert_string_equal(json, again);
    free(again);
    free(json);
    cim_config_free(&a);
    cim_config_free(&b);
}

/* Doubles that a 15-digit or approximate printer moves to a neighbour come
 * back exactly: the text is parsed as written (no merging through a
 * printer first), written, and read again. */
static void test_to_json_is_exact(void **state)
{
    static const char text[] =
        "{\"m_mode\":\"TNN_I\",\"M\":8,\"N\":8,\"HRS\":0.13999999999999999,"
        "\"LRS\":29.999999999999996,\"HRS_NOISE\":0.30000000000000004,"
        "\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":4,\"adc_calib_mode\":\"CALIB\","
        "\"adc_calib_dict\":{\"l\":[-0.13999999999999999,1.0000000000000002]}}";
    cim_config a, b;
    cim_error err = {0};
    (void)state;
    assert_int_equal(cim_config_parse(text, "exact", &a, &err), 0);
    assert_true(a.hrs_ua == 0.7 * 0.2 && a.hrs_ua != 0.14); /* the literal, not 0.14 */
    char *json = cim_config_to_json(&a);
    assert_non_null(json);
    if (cim_config_parse(json, "provenance", &b, &err))
        fail_msg("to_json output %s rejected: %s", json, err.msg);
    assert_configs_equal(&a, &b);
    assert_non_null(strstr(json, "\"HRS\":0.13999999999999999"));
    assert_non_null(strstr(json, "[-0.13999999999999999,1.0000000000000002]"));
    free(json);
    cim_config_free(&a);
    cim_config_free(&b);
}

static void test_to_json_round_trips(void **state)
{
    (void)state;
    check_round_trip("{}");
    check_round_trip(
        "{\"m_mode\":\"TNN_III\",\"M\":100,\"N\":37,\"HRS\":0.1,\"LRS\":49.99999,"
        "\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":7,\"adc_calib_mode\":\"CALIB\","
        "\"adc_calib_dict\":{\"conv1\":[-3.3,4.125],\"fc \\\"2\\\"\":[0.1,0.30000000000000004]},"
        "\"HRS_NOISE\":0.3,\"LRS_NOISE\":16,\"HRS_NOISE_C2C\":0.01,\"c2c_var\":true,"
        "\"d2d_var\":false,\"SPLIT\":[1],\"I_BIT\":3,\"verbose\":true,"
        "\"V_read\":-0.2,\"w_res\":1.25,\"read_disturb_mitigation_strategy\":\"CELL_BASED\","
        "\"read_disturb_update_tolerance\":0.5,\"adc_profile_bin_size\":3,"
        "\"adc_calib_info\":{\"rule\":\"range\",\"layers\":[1,2]}}");
    check_round_trip("{\"parasitics\":true,\"w_res\":0.75,\"V_read\":-0.3}");
    check_round_trip("{\"m_mode\":\"BNN_V\",\"digital_only\":true}");
    check_round_trip("{\"t_read\":2.5e-9,\"read_disturb_initial_cycles\":100000,"
                     "\"read_disturb_model\":\"PHYSICAL\",\"read_disturb_mitigation_fp\":1.5}");

    /* every key is written, defaults filled */
    cim_config cfg;
    expect_accepted("{\"LRS_NOISE\":3}", &cfg);
    char *json = cim_config_to_json(&cfg);
    assert_non_null(json);
    static const char *const keys[] = {"m_mode",
                                       "M",
                                       "N",
                                       "digital_only",
                                       "HRS",
                                       "LRS",
                                       "adc_type",
                                       "resolution",
                                       "adc_calib_mode",
                                       "adc_calib_dict",
                                       "adc_profile",
                                       "adc_profile_bin_size",
                                       "HRS_NOISE",
                                       "LRS_NOISE",
                                       "HRS_NOISE_C2C",
                                       "LRS_NOISE_C2C",
                                       "d2d_var",
                                       "c2c_var",
                                       "SPLIT",
                                       "W_BIT",
                                       "I_BIT",
                                       "verbose",
                                       "read_disturb",
                                       "parasitics",
                                       "read_disturb_update_freq",
                                       "read_disturb_mitigation_strategy",
                                       "read_disturb_initial_cycles",
                                       "read_disturb_model"};
    cJSON *root = cJSON_Parse(json);
    assert_non_null(root);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i)
        if (!cJSON_GetObjectItemCaseSensitive(root, keys[i]))
            fail_msg("key %s missing from %s", keys[i], json);
    assert_true(cJSON_GetObjectItemCaseSensitive(root, "LRS_NOISE_C2C")->valuedouble == 3.0);
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "V_read")); /* not given: no default */
    assert_null(cJSON_GetObjectItemCaseSensitive(root, "adc_calib_info"));
    cJSON_Delete(root);
    free(json);
    cim_config_free(&cfg);
}

/* ---------------------------------------------------------------------------
 * Files
 */

static void test_load_file(void **state)
{
    (void)state;
    char dir[128];
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, "config"), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/cfg.json", dir);
    cim_config cfg;
    cim_error err = {0};

    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\n  \"m_mode\": \"BNN_II\",\n  \"M\": 5,\n  \"N\": 6\n}\n", f);
    fclose(f);
    assert_int_equal(cim_config_load(path, &cfg, &err), 0);
    assert_int_equal(cfg.mapping, CIM_BNN_II);
    assert_string_equal(cfg.origin, path);
    cim_config_free(&cfg);

    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\n  \"m_mode\": \"BNN_II\",\n  \"M\": 5,\n  \"N\": 6,\n  \"LRS\": \"x\"\n}\n", f);
    fclose(f);
    assert_int_equal(cim_config_load(path, &cfg, &err), CIM_ERR_CONFIG);
    char expected[512];
    snprintf(expected, sizeof expected,
             "%s: key \"LRS\": expected a number from 0 to 10000 µA, "
             "got \"x\"",
             path);
    assert_string_equal(err.msg, expected);
    cim_config_free(&cfg);

    /* a NUL byte inside */
    f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("{\n\"M\"\0:1}", 1, 9, f);
    fclose(f);
    cim_error_clear(&err);
    assert_int_equal(cim_config_load(path, &cfg, &err), CIM_ERR_CONFIG);
    snprintf(expected, sizeof expected, "%s: invalid JSON at line 2, column 4: a NUL byte", path);
    assert_string_equal(err.msg, expected);
    cim_config_free(&cfg);

    /* a directory, and a file that does not exist */
    cim_error_clear(&err);
    assert_int_equal(cim_config_load(dir, &cfg, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, dir));
    cim_config_free(&cfg);
    snprintf(path, sizeof path, "%s/missing.json", dir);
    cim_error_clear(&err);
    assert_int_equal(cim_config_load(path, &cfg, &err), CIM_ERR_INPUT);
    snprintf(expected, sizeof expected, "%s: cannot open: No such file or directory", path);
    assert_string_equal(err.msg, expected);
    cim_config_free(&cfg);

    snprintf(path, sizeof path, "%s/cfg.json", dir);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---------------------------------------------------------------------------
 * Reading over a base (`cimgpu run --config`)
 */

static void parse_over_ok(const char *text, const cim_config *base, cim_config *cfg)
{
    cim_error err = {0};
    if (cim_config_parse_over(text, ORIGIN, base, cfg, &err))
        fail_msg("%s over the base rejected: %s", text, err.msg);
    assert_string_equal(cfg->origin, ORIGIN);
}

static void expect_rejected_over(const char *text, const cim_config *base, const char *needle)
{
    cim_config cfg;
    cim_error err = {0};
    int rc = cim_config_parse_over(text, ORIGIN, base, &cfg, &err);
    if (rc != CIM_ERR_CONFIG || !strstr(err.msg, needle))
        fail_msg("%s over the base: got %s \"%s\", expected \"%s\"", text, cim_error_name(rc),
                 err.msg, needle);
    assert_null(cfg.calib);
    assert_null(cfg.origin);
    cim_config_free(&cfg);
}

/* Over the run's default crossbar every key the text does not name keeps
 * the default -- noise included -- and nothing is required; the derived keys
 * follow the result (W_BIT/I_BIT the mapping, the C2C sigmas the D2D ones). */
static void test_parse_over_the_run_default(void **state)
{
    (void)state;
    cim_config base, cfg;
    cim_error err = {0};
    assert_int_equal(cim_config_run_default(&base, &err), 0);

    parse_over_ok("{}", &base, &cfg);
    assert_configs_equal(&cfg, &base);
    assert_true(cfg.hrs_noise_ua == 1.0 && cfg.lrs_noise_ua == 4.0);
    assert_true(cfg.hrs_noise_c2c_ua == 1.0 && cfg.lrs_noise_c2c_ua == 4.0);
    assert_int_equal(cfg.d2d_var, 1);
    assert_int_equal(cfg.c2c_var, 0);
    cim_config_free(&cfg);

    /* a complete reference config without noise keys: still the default noise */
    parse_over_ok("{\"m_mode\":\"TNN_I\",\"M\":256,\"N\":256}", &base, &cfg);
    assert_configs_equal(&cfg, &base);
    cim_config_free(&cfg);

    parse_over_ok("{\"HRS_NOISE\":2,\"N\":128}", &base, &cfg);
    assert_true(cfg.hrs_noise_ua == 2.0 && cfg.lrs_noise_ua == 4.0);
    assert_true(cfg.hrs_noise_c2c_ua == 2.0 && cfg.lrs_noise_c2c_ua == 4.0);
    assert_int_equal(cfg.M, 256);
    assert_int_equal(cfg.N, 128);
    assert_int_equal(cfg.mapping, CIM_TNN_I);
    cim_config_free(&cfg);

    parse_over_ok("{\"m_mode\":\"BNN_III\",\"LRS_NOISE_C2C\":7,\"c2c_var\":true}", &base, &cfg);
    assert_int_equal(cfg.mapping, CIM_BNN_III);
    assert_int_equal(cfg.w_bit, 1); /* BNN: derived from the new mapping */
    assert_int_equal(cfg.i_bit, 1);
    assert_int_equal(cfg.adc_type, CIM_ADC_INF);
    assert_int_equal(cfg.resolution, -1);
    assert_true(cfg.hrs_noise_c2c_ua == 1.0 && cfg.lrs_noise_c2c_ua == 7.0);
    assert_int_equal(cfg.c2c_var, 1);
    cim_config_free(&cfg);

    parse_over_ok("{\"d2d_var\":false}", &base, &cfg);
    assert_int_equal(cfg.d2d_var, 0);
    cim_xbar x;
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.d2d_sigma_na[CIM_STATE_HRS], 0);
    assert_int_equal(x.d2d_sigma_na[CIM_STATE_LRS], 0);
    cim_config_free(&cfg);

    /* a finite ADC needs its bits; bits alone do not make the ADC finite */
    parse_over_ok("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":5}", &base, &cfg);
    assert_int_equal(cfg.resolution, 5);
    cim_config_free(&cfg);
    expect_rejected_over("{\"adc_type\":\"SYM_RANGE_ADC\"}", &base,
                         ORIGIN ": key \"resolution\": is missing");
    expect_rejected_over("{\"resolution\":4}", &base,
                         ORIGIN ": key \"resolution\": 4 bits need a finite \"adc_type\"");
    /* the rules of the whole still hold */
    expect_rejected_over("{\"m_mode\":\"BNN_III\",\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":4}",
                         &base, "needs POS_RANGE_ONLY_ADC or INF_ADC");
    expect_rejected_over("{\"M\":0}", &base, ORIGIN ": key \"M\"");
    expect_rejected_over("{\"bogus\":1}", &base, "unknown key");

    /* the base is the caller's and unchanged */
    assert_string_equal(base.origin, "default config");
    assert_true(base.hrs_noise_ua == 1.0);
    cim_config_free(&base);
}

/* Over a base with a finite ADC: the type follows a new mapping's
 * signedness, the bits stay, INF_ADC drops them; a dict replaces the base's
 * as a whole, and the result owns its copy. */
static void test_parse_over_a_finite_calibrated_base(void **state)
{
    (void)state;
    cim_config base, cfg;
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":5,\"adc_calib_mode\":\"CALIB\","
                    "\"adc_calib_dict\":{\"a\":[-1,2],\"mvm\":[-3,4]}}",
                    &base);

    parse_over_ok("{\"m_mode\":\"BNN_III\"}", &base, &cfg);
    assert_int_equal(cfg.adc_type, CIM_ADC_POS);
    assert_int_equal(cfg.resolution, 5);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_CALIB);
    assert_int_equal(cfg.n_calib, 2);
    assert_true(cfg.calib != base.calib);
    assert_true(cim_config_find_calib(&cfg, "a") != cim_config_find_calib(&base, "a"));
    assert_true(cim_config_find_calib(&cfg, "mvm")->hi_ua == 4.0);
    cim_config_free(&cfg);

    parse_over_ok("{\"resolution\":3}", &base, &cfg);
    assert_int_equal(cfg.adc_type, CIM_ADC_SYM);
    assert_int_equal(cfg.resolution, 3);
    cim_config_free(&cfg);

    parse_over_ok("{\"adc_type\":\"INF_ADC\"}", &base, &cfg);
    assert_int_equal(cfg.resolution, -1);
    cim_config_free(&cfg);

    parse_over_ok("{\"adc_calib_dict\":{\"b\":[0,1]}}", &base, &cfg);
    assert_int_equal(cfg.n_calib, 1);
    assert_null(cim_config_find_calib(&cfg, "a"));
    assert_non_null(cim_config_find_calib(&cfg, "b"));
    cim_config_free(&cfg);

    expect_rejected_over("{\"adc_calib_dict\":{}}", &base, "adc_calib_dict");
    assert_int_equal(base.n_calib, 2);
    cim_config_free(&base);
}

/* Without a base: the reference simulator's semantics, as cim_config_parse
 * (m_mode, M, N required; no noise by default). */
static void test_parse_over_no_base_is_the_reference(void **state)
{
    (void)state;
    cim_config cfg;
    cim_error err = {0};
    assert_int_equal(cim_config_parse_over("{\"M\":4,\"N\":8}", ORIGIN, NULL, &cfg, &err),
                     CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, ORIGIN ": key \"m_mode\": is missing"));
    cim_config_free(&cfg);
    parse_over_ok(BASE_JSON, NULL, &cfg);
    assert_true(cfg.hrs_noise_ua == 0.0 && cfg.lrs_noise_ua == 0.0);
    assert_int_equal(cfg.adc_type, CIM_ADC_INF);
    cim_config_free(&cfg);
}

/* cim_config_load_over reads a file over the base; cim_config_load reads
 * the same file by the reference's rules. */
static void test_load_over(void **state)
{
    (void)state;
    char dir[128], path[256];
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, "config_over"), 0);
    snprintf(path, sizeof path, "%s/run.json", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("{\"LRS\": 40}\n", f);
    fclose(f);
    cim_config base, cfg;
    cim_error err = {0};
    assert_int_equal(cim_config_run_default(&base, &err), 0);
    assert_int_equal(cim_config_load_over(path, &base, &cfg, &err), 0);
    assert_string_equal(cfg.origin, path);
    assert_int_equal(cfg.mapping, CIM_TNN_I);
    assert_int_equal(cfg.M, 256);
    assert_true(cfg.lrs_ua == 40.0 && cfg.hrs_ua == 5.0);
    assert_true(cfg.hrs_noise_ua == 1.0 && cfg.lrs_noise_ua == 4.0);
    cim_config_free(&cfg);

    assert_int_equal(cim_config_load(path, &cfg, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"m_mode\": is missing"));
    cim_config_free(&cfg);

    assert_int_equal(unlink(path), 0);
    cim_error_clear(&err);
    assert_int_equal(cim_config_load_over(path, &base, &cfg, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "cannot open"));
    assert_null(cfg.origin);
    cim_config_free(&cfg);
    cim_config_free(&base);
    assert_int_equal(rmdir(dir), 0);
}

/* cim_config_copy: an equal config that owns its own strings. */
static void test_copy(void **state)
{
    (void)state;
    cim_config a, b;
    cim_error err = {0};
    expect_accepted("{\"adc_calib_mode\":\"CALIB\",\"adc_calib_dict\":{\"x\":[-1,1]}}", &a);
    assert_int_equal(cim_config_copy(&b, &a, &err), 0);
    assert_configs_equal(&a, &b);
    assert_string_equal(b.origin, a.origin);
    assert_true(b.origin != a.origin && b.calib != a.calib && b.calib[0].layer != a.calib[0].layer);
    cim_config_free(&a);
    assert_string_equal(b.calib[0].layer, "x");
    cim_config_free(&b);
}

/* --adc-bits: the bits, and the ADC type the mapping needs; the range mode
 * stays (CALIB with its dict, or MAX); 0 is the ideal ADC. */
static void test_set_adc_bits_keeps_the_range_mode(void **state)
{
    (void)state;
    cim_config cfg;
    cim_xbar x;
    cim_error err = {0};
    expect_accepted("{\"adc_type\":\"SYM_RANGE_ADC\",\"resolution\":5,\"adc_calib_mode\":\"CALIB\","
                    "\"adc_calib_dict\":{\"mvm\":[-3,4]}}",
                    &cfg);
    cim_config_set_adc_bits(&cfg, 3);
    assert_int_equal(cfg.adc_type, CIM_ADC_SYM);
    assert_int_equal(cfg.resolution, 3);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_CALIB);
    assert_int_equal(cfg.n_calib, 1);
    resolve_ok(&cfg, "mvm", &x);
    assert_int_equal(x.column.adc_lo2, -6000); /* the dict's range, half-units */
    assert_int_equal(x.column.adc_hi2, 8000);
    assert_int_equal(x.column.adc_steps, cim_adc_steps(CIM_ADC_SYM, 3));
    cim_config_set_adc_bits(&cfg, 0);
    assert_int_equal(cfg.adc_type, CIM_ADC_INF);
    assert_int_equal(cfg.resolution, -1);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_CALIB);
    assert_int_equal(cim_config_validate(&cfg, &err), 0);
    cim_config_free(&cfg);

    /* MAX stays MAX; a non-negative mapping gets the POS ADC */
    expect_accepted("{\"m_mode\":\"BNN_III\"}", &cfg);
    cim_config_set_adc_bits(&cfg, 4);
    assert_int_equal(cfg.adc_type, CIM_ADC_POS);
    assert_int_equal(cfg.resolution, 4);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_MAX);
    resolve_ok(&cfg, NULL, &x);
    assert_int_equal(x.column.adc_lo2, 0);
    assert_int_equal(x.column.adc_hi2, 2 * 8 * 30000);
    cim_config_free(&cfg);

    /* CALIB without entries: bits alone cannot give it a range */
    expect_accepted("{\"adc_calib_mode\":\"CALIB\"}", &cfg);
    cim_config_set_adc_bits(&cfg, 3);
    assert_int_equal(cim_config_validate(&cfg, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "key \"adc_calib_dict\": is missing or empty"));
    cim_config_free(&cfg);
}

/* ---------------------------------------------------------------------------
 * End to end: the worked examples
 */

static int8_t *int8_matrix(const cJSON *rows_json, int32_t *rows, int32_t *cols)
{
    *rows = cJSON_GetArraySize(rows_json);
    *cols = cJSON_GetArraySize(cJSON_GetArrayItem(rows_json, 0));
    int8_t *m = malloc((size_t)*rows * (size_t)*cols);
    assert_non_null(m);
    int32_t r = 0;
    for (const cJSON *row = rows_json->child; row; row = row->next, ++r) {
        assert_int_equal(cJSON_GetArraySize(row), *cols);
        int32_t c = 0;
        for (const cJSON *v = row->child; v; v = v->next, ++c)
            m[(size_t)r * *cols + c] = (int8_t)v->valueint;
    }
    return m;
}

/* Resolves the example's config and runs the reference (trial 0) on its
 * weights and inputs; every result must equal "expected". */
static void check_worked_example(const char *path, const char *name)
{
    char *text = cim_test_read_file(path);
    cJSON *root = cJSON_Parse(text);
    free(text);
    if (!root)
        fail_msg("%s: not JSON", path);
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    assert_non_null(config);
    char *config_text = cJSON_PrintUnformatted(config);
    cim_config cfg;
    cim_error err = {0};
    if (cim_config_parse(config_text, name, &cfg, &err))
        fail_msg("%s: %s", path, err.msg);
    free(config_text);
    cim_xbar x;
    if (cim_config_resolve(&cfg, "mvm", 0, 0, &x, &err))
        fail_msg("%s: %s", path, err.msg);

    int32_t rows, cols, n_inputs, in_cols, exp_rows, exp_cols;
    int8_t *w = int8_matrix(cJSON_GetObjectItemCaseSensitive(root, "weights"), &rows, &cols);
    int8_t *in = int8_matrix(cJSON_GetObjectItemCaseSensitive(root, "inputs"), &n_inputs, &in_cols);
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(root, "expected");
    exp_rows = cJSON_GetArraySize(expected);
    exp_cols = cJSON_GetArraySize(cJSON_GetArrayItem(expected, 0));
    assert_int_equal(in_cols, cols);
    assert_int_equal(exp_rows, n_inputs);
    assert_int_equal(exp_cols, rows);
    int32_t *out = calloc((size_t)n_inputs * rows, sizeof *out);
    assert_non_null(out);
    assert_int_equal(cim_reference_mvm(&x, w, rows, cols, in, n_inputs, 0, 0, out, NULL), 0);
    int i = 0;
    for (const cJSON *row = expected->child; row; row = row->next, ++i) {
        int m = 0;
        for (const cJSON *v = row->child; v; v = v->next, ++m)
            if (out[(size_t)i * rows + m] != v->valueint)
                fail_msg("%s: input %d output %d: reference gives %d, expected %d", path, i, m,
                         out[(size_t)i * rows + m], v->valueint);
    }
    free(out);
    free(w);
    free(in);
    cim_config_free(&cfg);
    cJSON_Delete(root);
}

static void test_worked_examples_match_reference(void **state)
{
    (void)state;
    const char *dir_path = CIM_TEST_DATA_DIR "/mvm";
    DIR *dir = opendir(dir_path);
    if (!dir)
        fail_msg("cannot open %s", dir_path);
    int checked = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
        check_worked_example(path, e->d_name);
        ++checked;
    }
    closedir(dir);
    assert_true(checked >= N_WORKED_EXAMPLES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_documented),
        cmocka_unit_test(test_defaults_filled_by_parse),
        cmocka_unit_test(test_wrong_type_of_each_key_rejected),
        cmocka_unit_test(test_message_names_origin_key_and_expectation),
        cmocka_unit_test(test_unknown_and_repeated_keys_rejected),
        cmocka_unit_test(test_missing_required_keys_rejected),
        cmocka_unit_test(test_invalid_json_reports_line),
        cmocka_unit_test(test_mapping_adc_combinations_follow_signed_current),
        cmocka_unit_test(test_resolution_rules),
        cmocka_unit_test(test_one_bit_adcs),
        cmocka_unit_test(test_tnn_iv_v_bit_layout),
        cmocka_unit_test(test_currents_checked),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_calib_ranges),
        cmocka_unit_test(test_unsupported_features),
        cmocka_unit_test(test_adc_profile_keys),
        cmocka_unit_test(test_parasitics),
        cmocka_unit_test(test_read_disturb_parameters),
        cmocka_unit_test(test_c2c_model),
        cmocka_unit_test(test_resolve_currents_and_ranges),
        cmocka_unit_test(test_resolve_routes_sigmas),
        cmocka_unit_test(test_overflow_guard),
        cmocka_unit_test(test_validate_checks_edited_structs),
        cmocka_unit_test(test_to_json_round_trips),
        cmocka_unit_test(test_to_json_is_exact),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_parse_over_the_run_default),
        cmocka_unit_test(test_parse_over_a_finite_calibrated_base),
        cmocka_unit_test(test_parse_over_no_base_is_the_reference),
        cmocka_unit_test(test_load_over),
        cmocka_unit_test(test_copy),
        cmocka_unit_test(test_set_adc_bits_keeps_the_range_mode),
        cmocka_unit_test(test_worked_examples_match_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
