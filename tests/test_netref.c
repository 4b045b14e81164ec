/* test_netref.c -- the reference network on crossbars against the exact
 * forward pass: digital mode and noise-free analog with the ideal ADC must give
 * the same scores for every mapping that can hold the model, on small
 * generated models (tiled onto tiny crossbars, padded binary convolutions) and
 * on the shipped models with Fashion-MNIST images; noisy chips are
 * deterministic per (seed, trial) and differ between trials.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cim_config.h"
#include "cim_forward.h"
#include "cim_idx.h"
#include "cim_mapping.h"
#include "cim_model.h"
#include "cim_model_writer.h"
#include "cim_netref.h"
#include "cim_test_util.h"

#define IMAGES 6

/* A config for mapping `id` on an M x N crossbar: digital, or analog with
 * the ideal ADC and the given D2D/C2C noise (µA). */
static cim_config make_config(cim_mapping_id id, int digital, int32_t xm, int32_t xn,
                              double lrs_noise, int c2c)
{
    char json[512];
    cim_config cfg;
    cim_error err = {0, ""};
    snprintf(json, sizeof json,
             "{\"m_mode\": \"%s\", \"M\": %d, \"N\": %d, \"digital_only\": %s, \"HRS\": 5, "
             "\"LRS\": 30, \"LRS_NOISE\": %g, \"HRS_NOISE\": %g, \"c2c_var\": %s}",
             cim_mapping_name(id), xm, xn, digital ? "true" : "false", lrs_noise,
             lrs_noise / 3, c2c ? "true" : "false");
    if (cim_config_parse(json, "test", &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    return cfg;
}

static void random_images(uint8_t *pixels, size_t n, uint64_t seed)
{
    cim_test_rng r = cim_test_rng_init(seed);
    for (size_t k = 0; k < n; ++k)
        pixels[k] = (uint8_t)cim_test_rng_int(&r, 0, 255);
}

/* Every image: the crossbar network's scores equal the exact forward pass. */
static void expect_exact(const cim_model *m, const cim_config *cfg, const uint8_t *pixels,
                         int n_images, uint32_t first_index)
{
    cim_xbar *xbars = calloc((size_t)m->num_layers, sizeof *xbars);
    int32_t *want = malloc(sizeof(int32_t) * (size_t)m->num_classes);
    int32_t *got = malloc(sizeof(int32_t) * (size_t)m->num_classes);
    const size_t image_size = (size_t)cim_shape_size(&m->input_shape);
    cim_error err = {0, ""};
    if (cim_netref_resolve(m, cfg, 42, xbars, &err) != 0)
        fail_msg("%s", err.msg);
    for (int k = 0; k < n_images; ++k) {
        const uint8_t *px = pixels + (size_t)k * image_size;
        int pw = cim_forward_image(m, px, want, &err);
        int pg = cim_netref_image(m, xbars, px, first_index + (uint32_t)k, 3, got, &err);
        assert_int_equal(pg, pw);
        if (memcmp(got, want, sizeof(int32_t) * (size_t)m->num_classes) != 0)
            fail_msg("%s, %s: image %d scores differ from the exact forward pass", m->path,
                     cim_mapping_name(cfg->mapping), k);
    }
    free(xbars);
    free(want);
    free(got);
}

/* The generated model of `kind` in a scratch file, loaded. */
static void load_generated(cim_model *m, const char *kind, int cnn, char *path, size_t len)
{
    char dir[4096];
    cim_mw_model *w = cnn ? cim_mw_cnn(kind, 7) : cim_mw_mlp(kind, 7);
    cim_error err = {0, ""};
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, "netref"), 0);
    snprintf(path, len, "%s/%s_%s.h5", dir, kind, cnn ? "cnn" : "mlp");
    assert_int_equal(cim_mw_write(w, path), 0);
    cim_mw_free(w);
    if (cim_model_load(path, m, &err) != 0)
        fail_msg("%s", err.msg);
    cim_test_remove_tree(dir);
}

/* Generated BNN and TNN models, CNN and MLP, on 2x5 crossbars (every layer is
 * tiled in both dimensions), every mapping that holds them. */
static void test_generated_models_are_exact_without_noise(void **state)
{
    static const char *const kinds[] = {"bnn", "tnn"};
    (void)state;
    for (int k = 0; k < 2; ++k) {
        for (int cnn = 0; cnn <= 1; ++cnn) {
            cim_model m;
            char path[4200];
            uint8_t pixels[IMAGES * 36];
            load_generated(&m, kinds[k], cnn, path, sizeof path);
            random_images(pixels, (size_t)IMAGES * cim_shape_size(&m.input_shape), 99 + k);
            for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
                if (m.kind == CIM_MODEL_TNN && !cim_mapping_desc_of((cim_mapping_id)id)->ternary)
                    continue;
                for (int digital = 0; digital <= 1; ++digital) {
                    cim_config cfg = make_config((cim_mapping_id)id, digital, 2, 5, 0.0, 0);
                    expect_exact(&m, &cfg, pixels, IMAGES, 0);
                    cim_config_free(&cfg);
                }
            }
            cim_model_free(&m);
        }
    }
}

/* A ternary model cannot run on a binary mapping; the error names the layer. */
static void test_ternary_model_needs_tnn_mapping(void **state)
{
    cim_model m;
    char path[4200];
    cim_error err = {0, ""};
    (void)state;
    load_generated(&m, "tnn", 1, path, sizeof path);
    cim_config cfg = make_config(CIM_BNN_V, 0, 8, 8, 0.0, 0);
    cim_xbar *xbars = calloc((size_t)m.num_layers, sizeof *xbars);
    assert_int_equal(cim_netref_resolve(&m, &cfg, 1, xbars, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "BNN_V"));
    assert_non_null(strstr(err.msg, "_conv2d"));
    free(xbars);
    cim_config_free(&cfg);
    cim_model_free(&m);
}

/* With D2D and C2C noise: the same trial twice gives the same scores, and the
 * chips of different trials do not all agree (so noise reaches the result). */
static void test_noisy_chips_replay_and_differ(void **state)
{
    cim_model m;
    char path[4200];
    uint8_t pixels[IMAGES * 36];
    cim_error err = {0, ""};
    int differ = 0;
    (void)state;
    load_generated(&m, "tnn", 1, path, sizeof path);
    random_images(pixels, sizeof pixels, 5);
    cim_config cfg = make_config(CIM_TNN_I, 0, 4, 8, 12.0, 1);
    cim_xbar *xbars = calloc((size_t)m.num_layers, sizeof *xbars);
    int32_t a[4], b[4], c[4];
    assert_int_equal(cim_netref_resolve(&m, &cfg, 1234, xbars, &err), 0);
    for (int k = 0; k < IMAGES; ++k) {
        const uint8_t *px = pixels + (size_t)k * 36;
        assert_true(cim_netref_image(&m, xbars, px, (uint32_t)k, 7, a, &err) >= 0);
        assert_true(cim_netref_image(&m, xbars, px, (uint32_t)k, 7, b, &err) >= 0);
        assert_memory_equal(a, b, sizeof a);
        assert_true(cim_netref_image(&m, xbars, px, (uint32_t)k, 8, c, &err) >= 0);
        differ += memcmp(a, c, sizeof a) != 0;
    }
    assert_true(differ > 0);
    free(xbars);
    cim_config_free(&cfg);
    cim_model_free(&m);
}

/* im2col of a 1x3x3 input, 2x2 kernel, stride 1, padding 1 with pad value
 * -1: position (0,0) sees [pad pad pad x00], position (1,1) sees
 * [x00 x01 x10 x11]. */
static void test_im2col_pads_and_orders(void **state)
{
    cim_layer L;
    const int32_t x[9] = {1, 0, -1, 1, 1, 0, -1, -1, 1};
    int8_t v[16 * 4];
    (void)state;
    memset(&L, 0, sizeof L);
    L.type = CIM_LAYER_CONV2D;
    L.in_shape = (cim_shape){3, {1, 3, 3}};
    L.out_shape = (cim_shape){3, {1, 4, 4}};
    L.conv2d.in_channels = 1;
    L.conv2d.out_channels = 1;
    L.conv2d.kernel[0] = L.conv2d.kernel[1] = 2;
    L.conv2d.stride[0] = L.conv2d.stride[1] = 1;
    L.conv2d.padding[0] = L.conv2d.padding[1] = 1;
    L.conv2d.pad_value = -1;
    cim_netref_im2col(&L, x, v);
    static const int8_t p00[4] = {-1, -1, -1, 1}, p11[4] = {1, 0, 1, 1}, p33[4] = {1, -1, -1, -1};
    assert_memory_equal(v, p00, 4);
    assert_memory_equal(v + 5 * 4, p11, 4);
    assert_memory_equal(v + 15 * 4, p33, 4);
}

/* Shipped models on Fashion-MNIST test images: exact without noise for a
 * TNN and a BNN mapping each (256x256 crossbars, as the default run). */
static void test_shipped_models_are_exact_without_noise(void **state)
{
    char *paths[16];
    const int n = cim_test_list_models(paths, 16);
    cim_dataset ds;
    cim_error err = {0, ""};
    (void)state;
    if (n == 0 || cim_idx_load_split(CIM_IDX_DEFAULT_DIR, "t10k", &ds, &err) != 0) {
        for (int k = 0; k < n; ++k)
            free(paths[k]);
        skip();
    }
    for (int k = 0; k < n; ++k) {
        cim_model m;
        if (cim_model_load(paths[k], &m, &err) != 0)
            fail_msg("%s", err.msg);
        for (int digital = 0; digital <= 1; ++digital) {
            cim_config cfg = make_config(digital ? CIM_TNN_IV : CIM_TNN_I, digital, 256, 256, 0, 0);
            expect_exact(&m, &cfg, ds.images, 2, 0);
            cim_config_free(&cfg);
        }
        if (m.kind == CIM_MODEL_BNN) {
            cim_config cfg = make_config(CIM_BNN_V, 0, 256, 256, 0, 0);
            expect_exact(&m, &cfg, ds.images, 2, 0);
            cim_config_free(&cfg);
        }
        cim_model_free(&m);
        free(paths[k]);
    }
    cim_dataset_free(&ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_im2col_pads_and_orders),
        cmocka_unit_test(test_generated_models_are_exact_without_noise),
        cmocka_unit_test(test_ternary_model_needs_tnn_mapping),
        cmocka_unit_test(test_noisy_chips_replay_and_differ),
        cmocka_unit_test(test_shipped_models_are_exact_without_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
