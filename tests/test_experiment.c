/* test_experiment.c -- the experiment config (cim_experiment.h): a
 * reference-flow file expanded into its grid, each configuration's --set
 * list and crossbar config, the /configs columns, the `cimgpu run` command
 * lines, the grid's SHA-256, and one refusal per kind of mistake with the
 * key (and configuration) its message must name.
 */
#include "cim_test_util.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cim_config.h"
#include "cim_experiment.h"
#include "cim_mapping.h"

#define MODEL_DIR CIM_SOURCE_DIR "/data/models"
#define DATA_DIR "/usr/share/datasets/fashion-mnist"
#define TNN_CNN MODEL_DIR "/tnn_cnn.h5"
#define BNN_CNN MODEL_DIR "/bnn_cnn.h5"

/* The reference flow's adc.json on the shipped models: 2 nets x 5
 * resolutions x 6 mappings. */
static const char adc_json[] =
    "{\n"
    "    \"nn_names\": [\"tnn_cnn\", \"bnn_cnn\"],\n"
    "    \"ifm\" : [[28, 28, 1], [28, 28, 1]],\n"
    "    \"nn_data_set\": \"fashion_mnist\",\n"
    "    \"nn_data\": \"TEST\",\n"
    "    \"batch\": 200,\n"
    "    \"num_runs\": 4,\n"
    "    \"xbar_size\": [[256, 256]],\n"
    "    \"digital_only\": false,\n"
    "    \"hrs_lrs\": [[5.0, 50.0]],\n"
    "    \"adc_type\": \"FP_ALPHA_ADC\",\n"
    "    \"resolution\": [3, 4, 5, 6, 8],\n"
    "    \"m_mode\": [\"BNN_I\", \"BNN_II\", \"BNN_III\", \"BNN_IV\", \"BNN_V\", \"BNN_VI\"],\n"
    "    \"hrs_noise\": [0.0],\n"
    "    \"lrs_noise\": [0.0],\n"
    "    \"verbose\": false\n"
    "}\n";

/* One configuration: the smallest file that is complete. */
static const char small_json[] = "{\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[28, 28, 1]], "
                                 "\"batch\": 10, \"num_runs\": 2, \"xbar_size\": [[64, 64]], "
                                 "\"hrs_lrs\": [[5.0, 30.0]], \"m_mode\": [\"TNN_I\"]}";

typedef struct fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX];
    char path[CIM_TEST_PATH_MAX]; /* the last file written */
} fixture;

static int setup(void **state)
{
    return cim_test_scratch_setup(state, sizeof(fixture), "experiment");
}

/* ---------------------------------------------------------------------------
 * Helpers
 */

/* `base` with the members of the JSON object `patch` set on top (a null
 * member removes the key); malloc'd compact JSON. */
static char *patched(const char *base, const char *patch)
{
    cJSON *b = cJSON_Parse(base), *p = cJSON_Parse(patch);
    if (!b || !p)
        fail_msg("test bug: not JSON: %s", b ? patch : base);
    for (cJSON *m = p->child; m; m = m->next) {
        if (cJSON_IsNull(m)) {
            cJSON_DeleteItemFromObjectCaseSensitive(b, m->string);
            continue;
        }
        cJSON *copy = cJSON_Duplicate(m, 1);
        if (cJSON_GetObjectItemCaseSensitive(b, m->string))
            cJSON_ReplaceItemInObjectCaseSensitive(b, m->string, copy);
        else
            cJSON_AddItemToObject(b, m->string, copy);
    }
    char *text = cJSON_PrintUnformatted(b);
    assert_non_null(text);
    cJSON_Delete(b);
    cJSON_Delete(p);
    return text;
}

/* Writes text as fx->dir/exp.json and loads it. */
static int load_text(fixture *fx, const char *text, cim_experiment *e, cim_error *err)
{
    snprintf(fx->path, sizeof fx->path, "%s/exp.json", fx->dir);
    cim_test_write_text(fx->path, text);
    cim_error_clear(err);
    return cim_experiment_load(fx->path, MODEL_DIR, DATA_DIR, e, err);
}

static void load_ok(fixture *fx, const char *text, cim_experiment *e)
{
    cim_error err = {0};
    int rc = load_text(fx, text, e, &err);
    if (rc)
        fail_msg("refused (%d): %s\n%s", rc, err.msg, text);
}

static void load_patched_ok(fixture *fx, const char *base, const char *patch, cim_experiment *e)
{
    char *text = patched(base, patch);
    load_ok(fx, text, e);
    free(text);
}

/* The text is refused with `code`, the message names the file and holds
 * each of the NULL-terminated needles; *exp is left empty. */
static void expect_refused_text(fixture *fx, const char *text, int code, ...)
{
    cim_experiment e;
    cim_error err = {0};
    int rc = load_text(fx, text, &e, &err);
    if (rc != code)
        fail_msg("expected %s, got %s (%s) for\n%s", cim_error_name(code), cim_error_name(rc),
                 err.msg, text);
    assert_int_equal(err.code, code);
    if (strncmp(err.msg, fx->path, strlen(fx->path)) != 0)
        fail_msg("message does not start with the file name: %s", err.msg);
    assert_null(strchr(err.msg, '\n'));
    va_list ap;
    va_start(ap, code);
    for (const char *needle; (needle = va_arg(ap, const char *));)
        if (!strstr(err.msg, needle))
            fail_msg("message lacks '%s': %s", needle, err.msg);
    va_end(ap);
    assert_null(e.configs);
    assert_null(e.columns);
    assert_int_equal(e.n_configs, 0);
    cim_experiment_free(&e); /* safe after an error */
}

#define expect_refused(fx, base, patch, code, ...)                                                 \
    do {                                                                                           \
        char *text_ = patched(base, patch);                                                        \
        expect_refused_text(fx, text_, code, __VA_ARGS__, (const char *)NULL);                     \
        free(text_);                                                                               \
    } while (0)

/* The set list of configuration i is exactly the NULL-terminated texts. */
static void assert_sets(const cim_experiment *e, int64_t i, ...)
{
    const cim_exp_config *cf = &e->configs[i];
    va_list ap;
    va_start(ap, i);
    int n = 0;
    for (const char *want; (want = va_arg(ap, const char *)); ++n) {
        if (n >= cf->n_set)
            fail_msg("configuration %lld: %d sets, expected more (next: %s)", (long long)i,
                     cf->n_set, want);
        if (strcmp(cf->set[n], want) != 0)
            fail_msg("configuration %lld: set %d is %s, expected %s", (long long)i, n, cf->set[n],
                     want);
    }
    va_end(ap);
    CIM_ASSERT_I64_EQ(cf->n_set, n);
    assert_null(cf->set[n]);
}

/* The value of set KEY=... of configuration i, or NULL. */
static const char *set_value(const cim_experiment *e, int64_t i, const char *key)
{
    const cim_exp_config *cf = &e->configs[i];
    size_t n = strlen(key);
    for (int s = 0; s < cf->n_set; ++s)
        if (strncmp(cf->set[s], key, n) == 0 && cf->set[s][n] == '=')
            return cf->set[s] + n + 1;
    return NULL;
}

static const cim_exp_column *column(const cim_experiment *e, const char *key, cim_exp_kind kind,
                                    int width)
{
    const cim_exp_column *c = cim_experiment_column(e, key);
    if (!c)
        fail_msg("no column %s", key);
    assert_string_equal(c->key, key);
    assert_int_equal(c->kind, kind);
    assert_int_equal(c->width, width);
    if (kind == CIM_EXP_STRING) {
        assert_non_null(c->str);
        assert_null(c->num);
    } else {
        assert_non_null(c->num);
        assert_null(c->str);
    }
    return c;
}

/* ---------------------------------------------------------------------------
 * The grid
 */

static void test_adc_grid_order(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    load_ok(fx, adc_json, &e);
    CIM_ASSERT_I64_EQ(e.n_configs, 60);
    assert_int_equal(e.n_models, 2);
    assert_string_equal(e.models[0].name, "tnn_cnn");
    assert_string_equal(e.models[0].path, TNN_CNN);
    assert_string_equal(e.models[1].name, "bnn_cnn");
    assert_string_equal(e.models[1].path, BNN_CNN);
    for (int m = 0; m < 2; ++m) {
        CIM_ASSERT_I64_EQ(e.models[m].ifm[0], 28);
        CIM_ASSERT_I64_EQ(e.models[m].ifm[1], 28);
        CIM_ASSERT_I64_EQ(e.models[m].ifm[2], 1);
    }
    assert_string_equal(e.origin, fx->path);
    assert_string_equal(e.json_text, adc_json);
    assert_string_equal(e.data_dir, DATA_DIR);
    assert_string_equal(e.data_set, "fashion_mnist");
    assert_string_equal(e.split, "t10k");
    CIM_ASSERT_I64_EQ(e.batch, 200);
    CIM_ASSERT_I64_EQ(e.num_runs, 4);
    CIM_ASSERT_I64_EQ(e.images, 800);
    assert_false(e.has_trials || e.has_seed || e.has_yield_target || e.first_layer_crossbar);
    assert_int_equal(strlen(e.grid_sha256), 64);

    /* nn_names slowest, then resolution, then m_mode fastest */
    assert_sets(&e, 0, "m_mode=\"BNN_I\"", "M=256", "N=256", "digital_only=false", "HRS=5",
                "LRS=50", "adc_type=\"SYM_RANGE_ADC\"", "resolution=3", "HRS_NOISE=0",
                "LRS_NOISE=0", "verbose=false", (const char *)NULL);
    assert_sets(&e, 1, "m_mode=\"BNN_II\"", "M=256", "N=256", "digital_only=false", "HRS=5",
                "LRS=50", "adc_type=\"SYM_RANGE_ADC\"", "resolution=3", "HRS_NOISE=0",
                "LRS_NOISE=0", "verbose=false", (const char *)NULL);
    assert_sets(&e, 2, "m_mode=\"BNN_III\"", "M=256", "N=256", "digital_only=false", "HRS=5",
                "LRS=50", "adc_type=\"POS_RANGE_ONLY_ADC\"", "resolution=3", "HRS_NOISE=0",
                "LRS_NOISE=0", "verbose=false", (const char *)NULL);
    assert_sets(&e, 6, "m_mode=\"BNN_I\"", "M=256", "N=256", "digital_only=false", "HRS=5",
                "LRS=50", "adc_type=\"SYM_RANGE_ADC\"", "resolution=4", "HRS_NOISE=0",
                "LRS_NOISE=0", "verbose=false", (const char *)NULL);
    assert_sets(&e, 59, "m_mode=\"BNN_VI\"", "M=256", "N=256", "digital_only=false", "HRS=5",
                "LRS=50", "adc_type=\"SYM_RANGE_ADC\"", "resolution=8", "HRS_NOISE=0",
                "LRS_NOISE=0", "verbose=false", (const char *)NULL);
    static const int bits[] = {3, 4, 5, 6, 8};
    static const char *const modes[] = {"BNN_I", "BNN_II", "BNN_III", "BNN_IV", "BNN_V", "BNN_VI"};
    /* the finite type each mapping's column current needs */
    static const char *const adc[] = {"SYM_RANGE_ADC",      "SYM_RANGE_ADC",
                                      "POS_RANGE_ONLY_ADC", "POS_RANGE_ONLY_ADC",
                                      "POS_RANGE_ONLY_ADC", "SYM_RANGE_ADC"};
    const cim_exp_column *adc_col = column(&e, "adc", CIM_EXP_STRING, 1);
    for (int64_t i = 0; i < 60; ++i) {
        int net = (int)(i / 30), r = (int)(i / 6 % 5), m = (int)(i % 6);
        char want[32];
        assert_int_equal(e.configs[i].model, net);
        snprintf(want, sizeof want, "\"%s\"", modes[m]);
        assert_string_equal(set_value(&e, i, "m_mode"), want);
        snprintf(want, sizeof want, "\"%s\"", adc[m]);
        assert_string_equal(set_value(&e, i, "adc_type"), want);
        assert_string_equal(adc_col->str[i], adc[m]);
        snprintf(want, sizeof want, "%d", bits[r]);
        assert_string_equal(set_value(&e, i, "resolution"), want);
        cim_mapping_id id;
        assert_int_equal(cim_mapping_from_name(modes[m], &id), 0);
        assert_string_equal(adc[m], cim_config_adc_type_name(cim_config_finite_adc_type(id)));
    }
    cim_experiment_free(&e);
    cim_experiment_free(&e); /* a freed experiment can be freed again */
}

static void test_gmin_gmax_with_v_read(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    load_patched_ok(fx, small_json,
                    "{\"hrs_lrs\": null, \"gmin_gmax\": [[0.7, 250.0], [5.0, 100.0]],"
                    " \"V_read\": [-0.2, -0.3, -0.4], \"m_mode\": \"BNN_I\"}",
                    &e);
    CIM_ASSERT_I64_EQ(e.n_configs, 6);
    static const double g[2][2] = {{0.7, 250.0}, {5.0, 100.0}};
    static const double v[3] = {-0.2, -0.3, -0.4};
    /* cJSON prints the shortest text that reads back to the same double */
    static const char *const hrs_text[6] = {
        "0.13999999999999999", "0.21", "0.27999999999999997", "1", "1.5", "2"};
    static const char *const lrs_text[6] = {"50", "75", "100", "20", "30", "40"};
    static const char *const v_text[3] = {"-0.2", "-0.3", "-0.4"};
    const cim_exp_column *hrs_lrs = column(&e, "hrs_lrs", CIM_EXP_REAL, 2);
    const cim_exp_column *gmin_gmax = column(&e, "gmin_gmax", CIM_EXP_REAL, 2);
    const cim_exp_column *v_read = column(&e, "V_read", CIM_EXP_REAL, 1);
    assert_string_equal(hrs_lrs->parts[0], "HRS");
    assert_string_equal(hrs_lrs->parts[1], "LRS");
    assert_string_equal(gmin_gmax->parts[0], "Gmin");
    assert_string_equal(gmin_gmax->parts[1], "Gmax");
    for (int i = 0; i < 6; ++i) {
        int p = i / 3, r = i % 3;
        double hrs = g[p][0] * fabs(v[r]), lrs = g[p][1] * fabs(v[r]);
        assert_string_equal(set_value(&e, i, "HRS"), hrs_text[i]);
        assert_string_equal(set_value(&e, i, "LRS"), lrs_text[i]);
        assert_true(strtod(set_value(&e, i, "HRS"), NULL) == hrs);
        assert_true(strtod(set_value(&e, i, "LRS"), NULL) == lrs);
        assert_string_equal(set_value(&e, i, "V_read"), v_text[r]);
        assert_true(hrs_lrs->num[2 * i] == hrs && hrs_lrs->num[2 * i + 1] == lrs);
        assert_true(gmin_gmax->num[2 * i] == g[p][0] && gmin_gmax->num[2 * i + 1] == g[p][1]);
        assert_true(v_read->num[i] == v[r]);
        cim_config cfg;
        cim_error err = {0};
        assert_int_equal(cim_experiment_config(&e, i, &cfg, &err), 0);
        assert_true(cfg.hrs_ua == hrs && cfg.lrs_ua == lrs && cfg.v_read == v[r]);
        cim_config_free(&cfg);
    }
    assert_sets(&e, 0, "m_mode=\"BNN_I\"", "M=64", "N=64", "HRS=0.13999999999999999", "LRS=50",
                "adc_type=\"INF_ADC\"", "HRS_NOISE=0", "LRS_NOISE=0", "V_read=-0.2",
                (const char *)NULL);
    /* V_read is swept, so after gmin_gmax (fixed ones first); hrs_lrs is derived */
    static const char *const keys[] = {"m_mode",  "batch",     "num_runs",  "nn_name",
                                       "ifm",     "xbar_size", "gmin_gmax", "V_read",
                                       "hrs_lrs", "adc",       "model_path"};
    assert_int_equal(e.n_columns, (int)(sizeof keys / sizeof *keys));
    for (int j = 0; j < e.n_columns; ++j)
        assert_string_equal(e.columns[j].key, keys[j]);
    cim_experiment_free(&e);
}

static const char calib_dict[] =
    "{\"tnn_cnn\": {\"[256, 256]\": {\"BNN_I\": {\"004_conv2d\": [-40, 40], "
    "\"006_dense\": [-10.5, 12]}, \"BNN_III\": {\"004_conv2d\": [0, 64]}}, "
    "\"[128, 128]\": {\"BNN_I\": {\"004_conv2d\": [-1, 1]}}}}";

static char *calib_json(const char *dict)
{
    char patch[1024];
    snprintf(patch, sizeof patch,
             "{\"xbar_size\": [256, 256], \"adc_type\": \"FP_ALPHA_ADC\", \"resolution\": 4,"
             " \"adc_calib_mode\": [\"MAX\", \"CALIB\"], \"m_mode\": [\"BNN_I\", \"BNN_III\"],"
             " \"adc_calib_dict\": %s}",
             dict);
    return patched(small_json, patch);
}

static void test_calib_dict_entry(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    char *text = calib_json(calib_dict);
    load_ok(fx, text, &e);
    free(text);
    CIM_ASSERT_I64_EQ(e.n_configs, 4); /* adc_calib_mode, then m_mode */
    assert_sets(&e, 0, "m_mode=\"BNN_I\"", "M=256", "N=256", "HRS=5", "LRS=30",
                "adc_type=\"SYM_RANGE_ADC\"", "resolution=4", "adc_calib_mode=\"MAX\"",
                "HRS_NOISE=0", "LRS_NOISE=0", (const char *)NULL);
    assert_sets(&e, 2, "m_mode=\"BNN_I\"", "M=256", "N=256", "HRS=5", "LRS=30",
                "adc_type=\"SYM_RANGE_ADC\"", "resolution=4", "adc_calib_mode=\"CALIB\"",
                "adc_calib_dict={\"004_conv2d\":[-40,40],\"006_dense\":[-10.5,12]}", "HRS_NOISE=0",
                "LRS_NOISE=0", (const char *)NULL);
    assert_string_equal(set_value(&e, 3, "adc_calib_dict"), "{\"004_conv2d\":[0,64]}");
    assert_string_equal(set_value(&e, 3, "adc_type"), "\"POS_RANGE_ONLY_ADC\"");
    assert_null(set_value(&e, 1, "adc_calib_dict"));

    const cim_exp_column *dict = column(&e, "adc_calib_dict", CIM_EXP_STRING, 1);
    assert_string_equal(dict->str[0], "");
    assert_string_equal(dict->str[1], "");
    assert_string_equal(dict->str[2], "{\"004_conv2d\":[-40,40],\"006_dense\":[-10.5,12]}");
    assert_string_equal(dict->str[3], "{\"004_conv2d\":[0,64]}");
    const cim_exp_column *mode = column(&e, "adc_calib_mode", CIM_EXP_STRING, 1);
    assert_string_equal(mode->str[1], "MAX");
    assert_string_equal(mode->str[2], "CALIB");

    cim_config cfg;
    cim_error err = {0};
    assert_int_equal(cim_experiment_config(&e, 2, &cfg, &err), 0);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_CALIB);
    assert_int_equal(cfg.n_calib, 2);
    const cim_calib_range *r = cim_config_find_calib(&cfg, "006_dense");
    assert_non_null(r);
    assert_true(r->lo_ua == -10.5 && r->hi_ua == 12.0);
    cim_config_free(&cfg);
    assert_int_equal(cim_experiment_config(&e, 0, &cfg, &err), 0);
    assert_int_equal(cfg.calib_mode, CIM_CALIB_MAX);
    assert_int_equal(cfg.n_calib, 0);
    cim_config_free(&cfg);
    cim_experiment_free(&e);

    /* configuration 3 (CALIB, BNN_III) has no entry */
    text = calib_json("{\"tnn_cnn\": {\"[256, 256]\": {\"BNN_I\": {\"004_conv2d\": [-4, 4]}}}}");
    expect_refused_text(fx, text, CIM_ERR_CONFIG, "configuration 3", "key \"adc_calib_dict\"",
                        "[\"tnn_cnn\"][\"[256, 256]\"][\"BNN_III\"]", (const char *)NULL);
    free(text);
    text = calib_json("{\"bnn_cnn\": {}}");
    expect_refused_text(fx, text, CIM_ERR_CONFIG, "configuration 2", "adc_calib_dict",
                        (const char *)NULL);
    free(text);
}

/* cim_experiment_config gives the config a hand-written --set list gives. */
static void test_config_equals_run_sets(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    load_patched_ok(fx, small_json,
                    "{\"xbar_size\": [[64, 64], [128, 64]], \"hrs_lrs\": [2.5, 40],"
                    " \"adc_type\": \"FP_ALPHA_ADC\", \"resolution\": [5], \"m_mode\": \"BNN_III\","
                    " \"hrs_noise\": [0.5], \"lrs_noise\": 1.25, \"c2c_var\": [false, true]}",
                    &e);
    CIM_ASSERT_I64_EQ(e.n_configs, 4);
    static const char *const sets[] = {"m_mode=BNN_III", "M=128",
                                       "N=64",           "HRS=2.5",
                                       "LRS=40",         "adc_type=POS_RANGE_ONLY_ADC",
                                       "resolution=5",   "HRS_NOISE=0.5",
                                       "LRS_NOISE=1.25", "c2c_var=true"};
    cim_config base, want, got;
    cim_error err = {0};
    assert_int_equal(cim_config_run_default(&base, &err), 0);
    assert_int_equal(cim_config_apply_sets(&base, sets, 10, "--set", &want, &err), 0);
    assert_int_equal(cim_experiment_config(&e, 3, &got, &err), 0);
    assert_int_equal(got.mapping, CIM_BNN_III);
    assert_int_equal(got.M, 128);
    assert_int_equal(got.N, 64);
    assert_true(got.hrs_ua == 2.5 && got.lrs_ua == 40.0);
    assert_int_equal(got.adc_type, CIM_ADC_POS);
    assert_int_equal(got.resolution, 5);
    assert_true(got.hrs_noise_ua == 0.5 && got.lrs_noise_ua == 1.25);
    assert_int_equal(got.c2c_var, 1);
    char origin[CIM_TEST_PATH_MAX + 32];
    snprintf(origin, sizeof origin, "%s configuration 3", fx->path);
    assert_string_equal(got.origin, origin);
    /* every other key too: the provenance JSON holds them all */
    char *want_json = cim_config_to_json(&want), *got_json = cim_config_to_json(&got);
    assert_non_null(want_json);
    assert_non_null(got_json);
    assert_string_equal(got_json, want_json);
    free(want_json);
    free(got_json);
    cim_config_free(&got);
    assert_int_equal(cim_experiment_config(&e, 0, &got, &err), 0);
    assert_int_equal(got.M, 64);
    assert_int_equal(got.c2c_var, 0);
    assert_true(got.hrs_noise_c2c_ua == 0.5); /* the C2C sigmas follow the D2D ones */
    cim_config_free(&got);
    cim_error_clear(&err);
    assert_int_equal(cim_experiment_config(&e, 4, &got, &err), CIM_ERR_INPUT);
    cim_config_free(&got);
    cim_config_free(&want);
    cim_config_free(&base);
    cim_experiment_free(&e);
}

/* c2c_model: one value, set after c2c_var in every configuration but those
 * whose c2c_var is false; the column law then resolves in the configs with
 * C2C on, and a value other than "cell" or "column" is refused. */
static void test_c2c_model(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    cim_config got;
    cim_error err = {0};
    load_patched_ok(fx, small_json,
                    "{\"hrs_noise\": 1, \"lrs_noise\": 4, \"c2c_var\": [false, true], "
                    "\"c2c_model\": \"column\"}",
                    &e);
    CIM_ASSERT_I64_EQ(e.n_configs, 2);
    for (int i = 0; i < e.configs[0].n_set; ++i)
        assert_null(strstr(e.configs[0].set[i], "c2c_model"));
    assert_string_equal(e.configs[1].set[e.configs[1].n_set - 1], "c2c_model=\"column\"");
    assert_string_equal(e.configs[1].set[e.configs[1].n_set - 2], "c2c_var=true");
    assert_int_equal(cim_experiment_config(&e, 0, &got, &err), 0);
    assert_int_equal(got.c2c_model, CIM_C2C_MODEL_CELL);
    cim_config_free(&got);
    assert_int_equal(cim_experiment_config(&e, 1, &got, &err), 0);
    assert_int_equal(got.c2c_model, CIM_C2C_MODEL_COLUMN);
    assert_int_equal(got.c2c_var, 1);
    cim_config_free(&got);
    char *cmd = cim_experiment_run_command(&e, 1, 5, 0);
    assert_non_null(cmd);
    assert_non_null(strstr(cmd, "c2c_model="));
    free(cmd);
    cim_experiment_free(&e);
    /* without c2c_var the column law has no C2C to read: the grid is refused,
     * naming the configuration and the key */
    expect_refused(fx, small_json, "{\"c2c_model\": \"column\"}", CIM_ERR_CONFIG,
                   "configuration 0: key \"c2c_model\"", "C2C is off");
    expect_refused(fx, small_json, "{\"c2c_model\": \"rows\"}", CIM_ERR_CONFIG, "key \"c2c_model\"",
                   "\"cell\", \"column\"");
    expect_refused(fx, small_json, "{\"c2c_model\": [\"cell\", \"column\"]}", CIM_ERR_CONFIG,
                   "key \"c2c_model\"");
}

static void test_optional_keys_and_paths(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    /* a model file and a data folder relative to the experiment's folder */
    char path[CIM_TEST_PATH_MAX];
    snprintf(path, sizeof path, "%s/nets", fx->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/nets/mine.h5", fx->dir);
    cim_test_write_text(path, "not opened here");
    snprintf(path, sizeof path, "%s/idx", fx->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    load_patched_ok(
        fx, small_json,
        "{\"nn_names\": [\"nets/mine.h5\", \"tnn_mlp\"], \"ifm\": [[28, 28, 1], [1, 1, "
        "784]], \"nn_data_set\": \"idx\", \"nn_data\": \"TRAIN\", \"digital_only\": false,"
        " \"adc_type\": \"FP_ALPHA_ADC\", \"resolution\": 4,"
        " \"adc_profile\": 20, \"mvm_profile\": 0, \"alpha\": [0.5], \"t_read\": 1e-8,"
        " \"read_disturb\": false, \"read_disturb_update_freq\": 100, "
        "\"read_disturb_mitigation_strategy\": \"OFF\", \"parasitics\": false, "
        "\"w_res\": [0, 2.5], \"d2d_var\": false, \"hrs_noise_c2c\": 0.25,"
        " \"lrs_noise_c2c\": [1], \"verbose\": true}",
        &e);
    CIM_ASSERT_I64_EQ(e.n_configs, 4);
    snprintf(path, sizeof path, "%s/nets/mine.h5", fx->dir);
    assert_string_equal(e.models[0].path, path);
    assert_string_equal(e.models[0].name, "nets/mine.h5");
    assert_string_equal(e.models[1].path, MODEL_DIR "/tnn_mlp.h5");
    CIM_ASSERT_I64_EQ(e.models[1].ifm[2], 784);
    snprintf(path, sizeof path, "%s/idx", fx->dir);
    assert_string_equal(e.data_dir, path);
    assert_string_equal(e.data_set, "idx");
    assert_string_equal(e.split, "train");
    assert_sets(&e, 3, "m_mode=\"TNN_I\"", "M=64", "N=64", "digital_only=false", "HRS=5", "LRS=30",
                "adc_type=\"SYM_RANGE_ADC\"", "resolution=4", "adc_alpha=0.5", "adc_profile=true",
                "adc_profile_bin_size=20", "mvm_profile=false", "HRS_NOISE=0", "LRS_NOISE=0",
                "HRS_NOISE_C2C=0.25", "LRS_NOISE_C2C=1", "d2d_var=false", "verbose=true",
                "read_disturb=false", "t_read=1e-08", "read_disturb_update_freq=100",
                "read_disturb_mitigation_strategy=\"OFF\"", "parasitics=false", "w_res=2.5",
                (const char *)NULL);
    assert_string_equal(set_value(&e, 0, "w_res"), "0");
    assert_int_equal(e.configs[1].model, 0);
    assert_int_equal(e.configs[2].model, 1);
    /* the kinds of the other columns */
    column(&e, "adc_profile", CIM_EXP_INT, 1);
    column(&e, "mvm_profile", CIM_EXP_INT, 1);
    column(&e, "read_disturb_update_freq", CIM_EXP_INT, 1);
    column(&e, "read_disturb_mitigation_strategy", CIM_EXP_STRING, 1);
    column(&e, "d2d_var", CIM_EXP_BOOL, 1);
    column(&e, "w_res", CIM_EXP_REAL, 1);
    column(&e, "alpha", CIM_EXP_REAL, 1);
    column(&e, "nn_data", CIM_EXP_STRING, 1);
    const cim_exp_column *ifm = column(&e, "ifm", CIM_EXP_INT, 3);
    assert_true(ifm->num[3 * 2 + 0] == 1 && ifm->num[3 * 2 + 2] == 784);
    const cim_exp_column *digital = column(&e, "digital_only", CIM_EXP_BOOL, 1);
    assert_true(digital->num[0] == 0);
    const cim_exp_column *data_set = column(&e, "nn_data_set", CIM_EXP_STRING, 1);
    assert_string_equal(data_set->str[3], "idx");
    cim_experiment_free(&e);

    /* the defaults: no nn_data_set, nn_data, digital_only, verbose, noise, adc_type */
    load_ok(fx, small_json, &e);
    CIM_ASSERT_I64_EQ(e.n_configs, 1);
    assert_string_equal(e.data_dir, DATA_DIR);
    assert_string_equal(e.data_set, "fashion_mnist");
    assert_string_equal(e.split, "t10k");
    assert_sets(&e, 0, "m_mode=\"TNN_I\"", "M=64", "N=64", "HRS=5", "LRS=30",
                "adc_type=\"INF_ADC\"", "HRS_NOISE=0", "LRS_NOISE=0", (const char *)NULL);
    assert_null(cim_experiment_column(&e, "nn_data_set"));
    assert_null(cim_experiment_column(&e, "verbose"));
    assert_null(cim_experiment_column(&e, "hrs_noise"));
    assert_null(cim_experiment_column(&e, "gmin_gmax"));
    assert_null(cim_experiment_column(&e, "nn_names"));
    cim_experiment_free(&e);
}

/* ---------------------------------------------------------------------------
 * Columns
 */

static void test_columns(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    load_ok(fx, adc_json, &e);
    /* given once (key-list order), then swept (grid order), then derived */
    static const char *const keys[] = {
        "nn_data_set", "nn_data",   "batch",     "num_runs",  "digital_only", "adc_type",
        "verbose",     "nn_name",   "ifm",       "xbar_size", "hrs_lrs",      "resolution",
        "m_mode",      "hrs_noise", "lrs_noise", "adc",       "model_path"};
    assert_int_equal(e.n_columns, (int)(sizeof keys / sizeof *keys));
    for (int j = 0; j < e.n_columns; ++j)
        assert_string_equal(e.columns[j].key, keys[j]);

    const cim_exp_column *c = column(&e, "nn_name", CIM_EXP_STRING, 1);
    assert_string_equal(c->str[0], "tnn_cnn");
    assert_string_equal(c->str[29], "tnn_cnn");
    assert_string_equal(c->str[30], "bnn_cnn");
    assert_string_equal(c->str[59], "bnn_cnn");
    c = column(&e, "model_path", CIM_EXP_STRING, 1);
    assert_string_equal(c->str[0], TNN_CNN);
    assert_string_equal(c->str[59], BNN_CNN);
    c = column(&e, "xbar_size", CIM_EXP_INT, 2);
    assert_string_equal(c->parts[0], "M");
    assert_string_equal(c->parts[1], "N");
    assert_true(c->num[2 * 17] == 256 && c->num[2 * 17 + 1] == 256);
    c = column(&e, "ifm", CIM_EXP_INT, 3);
    assert_string_equal(c->parts[0], "H");
    assert_string_equal(c->parts[1], "W");
    assert_string_equal(c->parts[2], "C");
    assert_true(c->num[3 * 40] == 28 && c->num[3 * 40 + 1] == 28 && c->num[3 * 40 + 2] == 1);
    c = column(&e, "hrs_lrs", CIM_EXP_REAL, 2);
    assert_string_equal(c->parts[0], "HRS");
    assert_true(c->num[0] == 5.0 && c->num[1] == 50.0);
    c = column(&e, "resolution", CIM_EXP_INT, 1);
    assert_true(c->num[0] == 3 && c->num[5] == 3 && c->num[6] == 4 && c->num[59] == 8);
    c = column(&e, "m_mode", CIM_EXP_STRING, 1);
    assert_string_equal(c->str[0], "BNN_I");
    assert_string_equal(c->str[8], "BNN_III");
    assert_string_equal(c->str[59], "BNN_VI");
    c = column(&e, "adc_type", CIM_EXP_STRING, 1);
    assert_string_equal(c->str[7], "FP_ALPHA_ADC"); /* as given; "adc" is the resolved one */
    c = column(&e, "batch", CIM_EXP_INT, 1);
    assert_true(c->num[59] == 200);
    c = column(&e, "num_runs", CIM_EXP_INT, 1);
    assert_true(c->num[0] == 4);
    c = column(&e, "digital_only", CIM_EXP_BOOL, 1);
    assert_true(c->num[11] == 0);
    c = column(&e, "verbose", CIM_EXP_BOOL, 1);
    assert_true(c->num[11] == 0);
    c = column(&e, "hrs_noise", CIM_EXP_REAL, 1);
    assert_true(c->num[33] == 0.0);
    c = column(&e, "nn_data", CIM_EXP_STRING, 1);
    assert_string_equal(c->str[1], "TEST");
    assert_null(column(&e, "m_mode", CIM_EXP_STRING, 1)->parts);
    assert_null(cim_experiment_column(&e, "trials"));
    cim_experiment_free(&e);

    /* trials and seed are no columns; yield_target and first_layer are */
    load_patched_ok(fx, small_json,
                    "{\"trials\": 5, \"seed\": 3, \"yield_target\": 0.5, \"first_layer\": "
                    "\"host\"}",
                    &e);
    assert_null(cim_experiment_column(&e, "trials"));
    assert_null(cim_experiment_column(&e, "seed"));
    assert_true(column(&e, "yield_target", CIM_EXP_REAL, 1)->num[0] == 0.5);
    assert_string_equal(column(&e, "first_layer", CIM_EXP_STRING, 1)->str[0], "host");
    cim_experiment_free(&e);
}

/* ---------------------------------------------------------------------------
 * Command lines
 */

static void test_run_argv_and_command(void **state)
{
    fixture *fx = *state;
    cim_experiment e;
    char *text = calib_json(calib_dict);
    load_ok(fx, text, &e);
    free(text);
    int argc;
    char **argv;
    cim_error err = {0};
    assert_int_equal(cim_experiment_run_argv(&e, 2, 100, 7, &argc, &argv, &err), 0);
    static const char *const want[] = {
        "run",
        "--model",
        TNN_CNN,
        "--data",
        DATA_DIR,
        "--split",
        "t10k",
        "--images",
        "20",
        "--trials",
        "100",
        "--seed",
        "7",
        "--set",
        "m_mode=\"BNN_I\"",
        "--set",
        "M=256",
        "--set",
        "N=256",
        "--set",
        "HRS=5",
        "--set",
        "LRS=30",
        "--set",
        "adc_type=\"SYM_RANGE_ADC\"",
        "--set",
        "resolution=4",
        "--set",
        "adc_calib_mode=\"CALIB\"",
        "--set",
        "adc_calib_dict={\"004_conv2d\":[-40,40],\"006_dense\":[-10.5,12]}",
        "--set",
        "HRS_NOISE=0",
        "--set",
        "LRS_NOISE=0",
    };
    assert_int_equal(argc, (int)(sizeof want / sizeof *want));
    for (int a = 0; a < argc; ++a)
        assert_string_equal(argv[a], want[a]);
    assert_null(argv[argc]);
    free(argv);

    char *line = cim_experiment_run_command(&e, 2, 100, 7);
    assert_non_null(line);
    assert_string_equal(line, "cimgpu run --model " TNN_CNN " --data " DATA_DIR
                              " --split t10k --images 20 --trials 100 --seed 7"
                              " --set 'm_mode=\"BNN_I\"' --set M=256 --set N=256 --set HRS=5"
                              " --set LRS=30 --set 'adc_type=\"SYM_RANGE_ADC\"'"
                              " --set resolution=4 --set 'adc_calib_mode=\"CALIB\"'"
                              " --set 'adc_calib_dict={\"004_conv2d\":[-40,40],"
                              "\"006_dense\":[-10.5,12]}' --set HRS_NOISE=0 --set LRS_NOISE=0");
    free(line);
    assert_null(cim_experiment_run_command(&e, 4, 100, 7));
    assert_int_equal(cim_experiment_run_argv(&e, -1, 100, 7, &argc, &argv, &err), CIM_ERR_INPUT);
    cim_experiment_free(&e);

    /* trials, seed, yield target and first layer from the file; a quote in a path */
    char path[CIM_TEST_PATH_MAX];
    snprintf(path, sizeof path, "%s/it's a net.h5", fx->dir);
    cim_test_write_text(path, "");
    load_patched_ok(fx, small_json,
                    "{\"nn_names\": \"it's a net.h5\", \"trials\": 50, \"seed\": "
                    "\"18446744073709551615\", \"yield_target\": 0.8, \"first_layer\": "
                    "\"crossbar\"}",
                    &e);
    assert_true(e.has_trials && e.trials == 50);
    assert_true(e.has_seed && e.seed == UINT64_MAX);
    assert_true(e.has_yield_target && e.yield_target == 0.8);
    assert_true(e.first_layer_crossbar);
    line = cim_experiment_run_command(&e, 0, e.trials, e.seed);
    assert_non_null(line);
    char expected[2 * CIM_TEST_PATH_MAX];
    snprintf(expected, sizeof expected,
             "cimgpu run --model '%s/it'\\''s a net.h5' --data " DATA_DIR
             " --split t10k --images 20 --trials 50 --seed 18446744073709551615"
             " --first-layer crossbar --yield-target 0.8 --set 'm_mode=\"TNN_I\"' --set M=64"
             " --set N=64 --set HRS=5 --set LRS=30 --set 'adc_type=\"INF_ADC\"'"
             " --set HRS_NOISE=0 --set LRS_NOISE=0",
             fx->dir);
    assert_string_equal(line, expected);
    free(line);
    assert_int_equal(cim_experiment_run_argv(&e, 0, 100, 7, &argc, &argv, &err), 0);
    assert_int_equal(argc, 13 + 4 + 2 * 8);
    assert_string_equal(argv[2], path);
    assert_string_equal(argv[13], "--first-layer");
    assert_string_equal(argv[16], "0.8");
    free(argv);
    cim_experiment_free(&e);
}

/* ---------------------------------------------------------------------------
 * The grid's SHA-256
 */

static void sha256_hex(const char *text, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, text, strlen(text)), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, digest, &len), 1);
    EVP_MD_CTX_free(md);
    assert_int_equal(len, 32);
    for (unsigned int i = 0; i < len; ++i)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static void test_grid_sha256(void **state)
{
    fixture *fx = *state;
    cim_experiment a, b;
    load_ok(fx, adc_json, &a);
    /* the same grid: other layout, other key order, 5 for 5.0, one value for a list of one */
    load_ok(fx,
            "{\"verbose\":false,\"lrs_noise\":0,\"hrs_noise\":[0],\"m_mode\":[\"BNN_I\",\"BNN_II\","
            "\"BNN_III\",\"BNN_IV\",\"BNN_V\",\"BNN_VI\"],\"resolution\":[3,4,5,6,8],\"adc_type\":"
            "\"FP_ALPHA_ADC\",\"hrs_lrs\":[5,50],\"digital_only\":false,\"xbar_size\":[256,256],"
            "\"num_runs\":4,\"batch\":200,\"nn_data\":\"TEST\",\"ifm\":[[28,28,1],[28,28,1]],"
            "\"nn_names\":[\"tnn_cnn\",\"bnn_cnn\"]}",
            &b);
    assert_string_equal(a.grid_sha256, b.grid_sha256);
    cim_experiment_free(&b);
    static const char *const changes[] = {
        "{\"batch\": 100}",
        "{\"resolution\": [3, 4, 5, 6, 7]}",
        "{\"hrs_lrs\": [5.0, 50.5]}",
        "{\"nn_data\": \"TRAIN\"}",
        "{\"nn_names\": [\"bnn_cnn\", \"tnn_cnn\"]}",
        "{\"trials\": 10}",
        "{\"seed\": 1}",
        "{\"yield_target\": 0.9}",
        "{\"first_layer\": \"crossbar\"}",
        "{\"verbose\": true}",
    };
    for (size_t i = 0; i < sizeof changes / sizeof *changes; ++i) {
        load_patched_ok(fx, adc_json, changes[i], &b);
        if (strcmp(a.grid_sha256, b.grid_sha256) == 0)
            fail_msg("%s leaves the grid's SHA-256 unchanged", changes[i]);
        cim_experiment_free(&b);
    }
    /* first_layer "host" is the default: the same work */
    load_patched_ok(fx, adc_json, "{\"first_layer\": \"host\"}", &b);
    assert_string_equal(a.grid_sha256, b.grid_sha256);
    cim_experiment_free(&b);
    cim_experiment_free(&a);

    /* the text hashed, as documented */
    load_patched_ok(fx, small_json, "{\"trials\": 3, \"seed\": 9, \"yield_target\": 0.25}", &a);
    char hex[65];
    sha256_hex("{\"configs\":[{\"model\":\"" TNN_CNN "\",\"data\":\"" DATA_DIR "\","
               "\"split\":\"t10k\",\"images\":20,\"set\":[\"m_mode=\\\"TNN_I\\\"\",\"M=64\","
               "\"N=64\",\"HRS=5\",\"LRS=30\",\"adc_type=\\\"INF_ADC\\\"\",\"HRS_NOISE=0\","
               "\"LRS_NOISE=0\"]}],\"trials\":3,\"seed\":\"9\",\"yield_target\":0.25}",
               hex);
    assert_string_equal(a.grid_sha256, hex);
    cim_experiment_free(&a);
}

/* ---------------------------------------------------------------------------
 * Refusals
 */

static void test_malformed_json(void **state)
{
    fixture *fx = *state;
    /* the reference flow ships files with a missing comma */
    expect_refused_text(fx,
                        "{\n"
                        "    \"nn_names\": [\"tnn_cnn\"],\n"
                        "    \"ifm\": [[28, 28, 1]],\n"
                        "    \"batch\": 10\n"
                        "    \"num_runs\": 2\n"
                        "}\n",
                        CIM_ERR_CONFIG, ": invalid JSON near line 5, column 5", (const char *)NULL);
    expect_refused_text(fx, "{\"nn_names\": [\"tnn_cnn\",]}", CIM_ERR_CONFIG,
                        "invalid JSON near line 1, column 25", (const char *)NULL);
    expect_refused_text(fx, " \n", CIM_ERR_CONFIG, "invalid JSON: the text is empty",
                        (const char *)NULL);
    expect_refused_text(fx, "[1, 2]", CIM_ERR_CONFIG, "expected a JSON object", "[1,2]",
                        (const char *)NULL);

    cim_experiment e;
    cim_error err = {0};
    char path[CIM_TEST_PATH_MAX];
    snprintf(path, sizeof path, "%s/missing.json", fx->dir);
    assert_int_equal(cim_experiment_load(path, MODEL_DIR, DATA_DIR, &e, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, path));
    cim_experiment_free(&e);
}

static void test_key_errors(void **state)
{
    fixture *fx = *state;
    expect_refused(fx, small_json, "{\"foo\": 1}", CIM_ERR_CONFIG, "unknown key \"foo\"");
    expect_refused(fx, small_json, "{\"M_mode\": [\"BNN_I\"]}", CIM_ERR_CONFIG,
                   "unknown key \"M_mode\"", "did you mean \"m_mode\"");
    expect_refused_text(fx,
                        "{\"nn_names\": [\"tnn_cnn\"], \"ifm\": [[28, 28, 1]], \"batch\": 10, "
                        "\"num_runs\": 2, \"xbar_size\": [64, 64], \"hrs_lrs\": [5, 30], "
                        "\"m_mode\": \"TNN_I\", \"batch\": 20}",
                        CIM_ERR_CONFIG, "key \"batch\": appears more than once",
                        (const char *)NULL);
    expect_refused(fx, small_json, "{\"resolution\": []}", CIM_ERR_CONFIG, "key \"resolution\"",
                   "empty");
    expect_refused(fx, small_json, "{\"xbar_size\": []}", CIM_ERR_CONFIG, "key \"xbar_size\"",
                   "empty");
    expect_refused(fx, small_json, "{\"m_mode\": null}", CIM_ERR_CONFIG, "key \"m_mode\"",
                   "missing");
    expect_refused(fx, small_json, "{\"batch\": -5}", CIM_ERR_CONFIG, "key \"batch\"",
                   "expected an integer from 1 to 2147483648, got -5");
    expect_refused(fx, small_json, "{\"num_runs\": 2.5}", CIM_ERR_CONFIG, "key \"num_runs\"");
    expect_refused(fx, small_json, "{\"batch\": 65536, \"num_runs\": 65536}", CIM_ERR_CONFIG,
                   "key \"batch\"", "4294967296 images");
    expect_refused(fx, small_json, "{\"hrs_noise\": [0.5, \"x\"]}", CIM_ERR_CONFIG,
                   "key \"hrs_noise\": entry 1: expected a number >= 0, got \"x\"");
    expect_refused(fx, small_json, "{\"hrs_noise\": true}", CIM_ERR_CONFIG,
                   "key \"hrs_noise\": expected a number >= 0, or a list of them, got true");
    expect_refused(fx, small_json, "{\"m_mode\": [\"BNN_VII\"]}", CIM_ERR_CONFIG, "key \"m_mode\"",
                   "one of \"BNN_I\"");
    expect_refused(fx, small_json, "{\"digital_only\": [false]}", CIM_ERR_CONFIG,
                   "key \"digital_only\": expected true or false");
    expect_refused(fx, small_json, "{\"xbar_size\": [[64, 0]]}", CIM_ERR_CONFIG,
                   "key \"xbar_size\"", "[M, N]");
    expect_refused(fx, small_json, "{\"hrs_lrs\": [[30, 5]]}", CIM_ERR_CONFIG, "key \"hrs_lrs\"",
                   "0 <= HRS < LRS");
    expect_refused(fx, small_json, "{\"nn_data\": \"VALID\"}", CIM_ERR_CONFIG, "key \"nn_data\"",
                   "\"TEST\", \"TRAIN\"");
    expect_refused(fx, small_json, "{\"adc_calib_dict\": [1]}", CIM_ERR_CONFIG,
                   "key \"adc_calib_dict\"");
    expect_refused(fx, small_json, "{\"seed\": -1}", CIM_ERR_CONFIG, "key \"seed\"");
    expect_refused(fx, small_json, "{\"seed\": \"12x\"}", CIM_ERR_CONFIG, "key \"seed\"");
    expect_refused(fx, small_json, "{\"trials\": 0}", CIM_ERR_CONFIG, "key \"trials\"");
}

static void test_rule_errors(void **state)
{
    fixture *fx = *state;
    expect_refused(fx, small_json, "{\"ifm\": [[28, 28, 1], [28, 28, 1]]}", CIM_ERR_CONFIG,
                   "key \"ifm\"", "2 entries for 1 nn_names");
    expect_refused(fx, adc_json, "{\"ifm\": [28, 28, 1]}", CIM_ERR_CONFIG, "key \"ifm\"",
                   "1 entries for 2 nn_names");
    expect_refused(fx, small_json, "{\"hrs_lrs\": null}", CIM_ERR_CONFIG, "key \"hrs_lrs\"",
                   "gmin_gmax");
    expect_refused(fx, small_json, "{\"gmin_gmax\": [[1, 2]]}", CIM_ERR_CONFIG, "key \"gmin_gmax\"",
                   "hrs_lrs");
    expect_refused(fx, small_json, "{\"hrs_lrs\": null, \"gmin_gmax\": [[1, 2]]}", CIM_ERR_CONFIG,
                   "key \"V_read\"", "gmin_gmax needs it");
    expect_refused(fx, small_json, "{\"resolution\": [-1, 4]}", CIM_ERR_CONFIG,
                   "key \"resolution\"", "4 bits", "FP_ALPHA_ADC");
    expect_refused(fx, small_json, "{\"adc_type\": \"FP_ALPHA_ADC\"}", CIM_ERR_CONFIG,
                   "key \"resolution\"", "missing");
    expect_refused(fx, small_json,
                   "{\"adc_type\": \"FP_ALPHA_ADC\", \"resolution\": 4, \"adc_calib_mode\": "
                   "\"CALIB\"}",
                   CIM_ERR_CONFIG, "key \"adc_calib_dict\"", "missing");
    expect_refused(fx, small_json, "{\"adc_type\": \"SYM_RANGE_ADC\"}", CIM_ERR_CONFIG,
                   "key \"adc_type\"", "\"INF_ADC\", \"FP_ALPHA_ADC\"");
    expect_refused(fx, small_json,
                   "{\"nn_names\": [\"tnn_cnn\", \"tnn_cnn\"], \"ifm\": "
                   "[[28, 28, 1], [28, 28, 1]]}",
                   CIM_ERR_CONFIG, "key \"nn_names\"", "more than once");

    /* a configuration the crossbar config refuses: SYM_RANGE_ADC needs >= 2 bits */
    expect_refused(fx, adc_json, "{\"resolution\": [4, 1]}", CIM_ERR_CONFIG,
                   "exp.json configuration 6: key \"resolution\"", "SYM_RANGE_ADC",
                   "m_mode \"BNN_I\"", "resolution 1");
    expect_refused(fx, small_json,
                   "{\"adc_type\": \"FP_ALPHA_ADC\", \"resolution\": 1, \"m_mode\": \"BNN_I\"}",
                   CIM_ERR_CONFIG, "configuration 0: key \"resolution\"");
    expect_refused(fx, small_json, "{\"xbar_size\": [100000, 8]}", CIM_ERR_CONFIG,
                   "configuration 0: key \"M\"");
    expect_refused(fx, small_json, "{\"alpha\": [1, 1.5]}", CIM_ERR_CONFIG,
                   "key \"alpha\": entry 1: expected a number > 0 and <= 1, got 1.5");
    {
        /* alpha clips the MAX range only: a CALIB configuration gets none */
        char *calib = calib_json(calib_dict);
        char *text = patched(calib, "{\"alpha\": 0.5}");
        cim_experiment e;
        load_ok(fx, text, &e);
        assert_string_equal(set_value(&e, 0, "adc_alpha"), "0.5");
        assert_null(set_value(&e, 2, "adc_alpha"));
        cim_experiment_free(&e);
        free(text);
        free(calib);
    }
    expect_refused(fx, small_json, "{\"mvm_profile\": 10}", CIM_ERR_UNSUPPORTED, "configuration 0");
}

static void test_data_and_model_errors(void **state)
{
    fixture *fx = *state;
    char expected[512];
    static const char *const sets[] = {"cifar10", "cifar100", "mnist"};
    for (int i = 0; i < 3; ++i) {
        char patch[64];
        snprintf(patch, sizeof patch, "{\"nn_data_set\": \"%s\"}", sets[i]);
        snprintf(
            expected, sizeof expected,
            ": key \"nn_data_set\": \"%s\" is not installed; installed: fashion_mnist (" DATA_DIR
            "), or give a dataset folder (IDX files, or CIFAR-10's or CIFAR-100's python "
            "batches)",
            sets[i]);
        expect_refused(fx, small_json, patch, CIM_ERR_CONFIG, expected);
    }
    expect_refused(fx, small_json, "{\"nn_data_set\": \"no_such_folder\"}", CIM_ERR_CONFIG,
                   "key \"nn_data_set\"", "no_such_folder", "No such file or directory");

    /* the reference flow's model names are not shipped: the message lists what is */
    char *paths[16], shipped[512] = "";
    int n = cim_test_list_models(paths, 16);
    assert_true(n >= 1);
    size_t used = 0;
    for (int i = 0; i < n; ++i) {
        const char *base = strrchr(paths[i], '/') + 1;
        used += (size_t)snprintf(shipped + used, sizeof shipped - used, "%s%.*s", i ? ", " : "",
                                 (int)(strlen(base) - 3), base);
        free(paths[i]);
    }
    static const char *const names[] = {"BinaryNet", "VGG7", "LeNet", "BinaryDenseNet28",
                                        "BinaryDenseNet37"};
    for (int i = 0; i < 5; ++i) {
        char patch[96], quoted[64];
        snprintf(patch, sizeof patch, "{\"nn_names\": [\"%s\"]}", names[i]);
        snprintf(quoted, sizeof quoted, "\"%s\" is neither a shipped model", names[i]);
        expect_refused(fx, small_json, patch, CIM_ERR_CONFIG, "key \"nn_names\"", quoted, shipped);
    }
    expect_refused(fx, small_json, "{\"nn_names\": \"nets/none.h5\"}", CIM_ERR_CONFIG,
                   "key \"nn_names\"", "nets/none.h5", shipped);
}

static void test_too_many_configurations(void **state)
{
    fixture *fx = *state;
    /* 1000 x 101 = 101000 > CIM_EXP_MAX_CONFIGS */
    size_t cap = 64 * 1024;
    char *patch = malloc(cap);
    assert_non_null(patch);
    size_t used = (size_t)snprintf(patch, cap, "{\"hrs_noise\": [");
    for (int i = 0; i < 1000; ++i)
        used += (size_t)snprintf(patch + used, cap - used, "%s%d", i ? ", " : "", i % 10);
    used += (size_t)snprintf(patch + used, cap - used, "], \"lrs_noise\": [");
    for (int i = 0; i < 101; ++i)
        used += (size_t)snprintf(patch + used, cap - used, "%s%d", i ? ", " : "", i % 10);
    snprintf(patch + used, cap - used, "]}");
    assert_int_equal(CIM_EXP_MAX_CONFIGS, 100000);
    expect_refused(fx, small_json, patch, CIM_ERR_CONFIG,
                   "101000 configurations (hrs_noise 1000 x lrs_noise 101), more than 100000");

    /* a product beyond 64 bits: ten keys of 100 values */
    static const char *const keys[] = {"hrs_noise",
                                       "lrs_noise",
                                       "V_read",
                                       "t_read",
                                       "w_res",
                                       "read_disturb_mitigation_fp",
                                       "hrs_noise_c2c",
                                       "lrs_noise_c2c",
                                       "read_disturb_update_freq",
                                       "read_disturb_update_tolerance"};
    used = (size_t)snprintf(patch, cap, "{");
    for (int k = 0; k < 10; ++k) {
        used += (size_t)snprintf(patch + used, cap - used, "%s\"%s\": [", k ? ", " : "", keys[k]);
        for (int i = 0; i < 100; ++i)
            used += (size_t)snprintf(patch + used, cap - used, "%s%d", i ? ", " : "", i + 1);
        used += (size_t)snprintf(patch + used, cap - used, "]");
    }
    snprintf(patch + used, cap - used, "}");
    expect_refused(fx, small_json, patch, CIM_ERR_CONFIG,
                   "more than 18446744073709551615 configurations");
    free(patch);
}

static void test_parse_from_text(void **state)
{
    (void)state;
    cim_experiment e;
    cim_error err = {0};
    /* no folder in the origin: relative paths against the current folder */
    assert_int_equal(cim_experiment_parse(small_json, "inline", MODEL_DIR, NULL, &e, &err), 0);
    assert_string_equal(e.origin, "inline");
    assert_string_equal(e.data_dir, DATA_DIR); /* CIM_IDX_DEFAULT_DIR */
    CIM_ASSERT_I64_EQ(e.n_configs, 1);
    cim_experiment_free(&e);
    cim_error_clear(&err);
    assert_int_equal(cim_experiment_parse("{\"batch\": 1,}", "inline", MODEL_DIR, NULL, &e, &err),
                     CIM_ERR_CONFIG);
    /* cJSON stops just past the '}' where a key was expected */
    assert_string_equal(err.msg, "inline: invalid JSON near line 1, column 14");
    cim_experiment_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adc_grid_order),
        cmocka_unit_test(test_gmin_gmax_with_v_read),
        cmocka_unit_test(test_calib_dict_entry),
        cmocka_unit_test(test_config_equals_run_sets),
        cmocka_unit_test(test_c2c_model),
        cmocka_unit_test(test_optional_keys_and_paths),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_run_argv_and_command),
        cmocka_unit_test(test_grid_sha256),
        cmocka_unit_test(test_malformed_json),
        cmocka_unit_test(test_key_errors),
        cmocka_unit_test(test_rule_errors),
        cmocka_unit_test(test_data_and_model_errors),
        cmocka_unit_test(test_too_many_configurations),
        cmocka_unit_test(test_parse_from_text),
    };
    return cmocka_run_group_tests(tests, setup, cim_test_scratch_teardown);
}
