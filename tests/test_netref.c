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
#include "cim_plan.h"
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
             cim_mapping_name(id), xm, xn, digital ? "true" : "false", lrs_noise, lrs_noise / 3,
             c2c ? "true" : "false");
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

static void expect_exact_with(const cim_model *m, const cim_config *cfg, cim_pixel_layers pixels,
                              const uint8_t *images, int n_images, uint32_t first_index)
{
    int32_t *want = malloc(sizeof(int32_t) * (size_t)m->num_classes);
    int32_t *got = malloc(sizeof(int32_t) * (size_t)m->num_classes);
    const size_t image_size = (size_t)cim_shape_size(&m->input_shape);
    cim_error err = {0, ""};
    cim_plan *xbars = cim_test_plan(m, cfg, 42, pixels);
    /* the first weight layer of every model here is on raw pixels */
    int32_t first = 0;
    while (m->layers[first].type != CIM_LAYER_DENSE && m->layers[first].type != CIM_LAYER_CONV2D)
        ++first;
    assert_int_equal(m->layers[first].in_alphabet, CIM_ALPHABET_IMAGE);
    assert_int_equal(cim_plan_on_crossbar(&xbars->layers[first]), pixels == CIM_PIXELS_ON_CROSSBAR);
    for (int k = 0; k < n_images; ++k) {
        const uint8_t *px = images + (size_t)k * image_size;
        int pw = cim_forward_image(m, px, want, &err);
        int pg = cim_netref_image(xbars, px, first_index + (uint32_t)k, 3, got, &err);
        assert_int_equal(pg, pw);
        if (memcmp(got, want, sizeof(int32_t) * (size_t)m->num_classes) != 0)
            fail_msg("%s, %s, first layer on the %s: image %d scores differ from the exact "
                     "forward pass",
                     m->path, cim_mapping_name(cfg->mapping),
                     pixels == CIM_PIXELS_ON_CROSSBAR ? "crossbar" : "host", k);
    }
    cim_test_plan_free(xbars);
    free(want);
    free(got);
}

/* Every image: the crossbar network's scores equal the exact forward pass,
 * with the layers on raw pixels on the host or bit-sliced onto crossbars. */
static void expect_exact(const cim_model *m, const cim_config *cfg, const uint8_t *pixels,
                         int n_images, uint32_t first_index)
{
    for (int on_xbar = 0; on_xbar <= 1; ++on_xbar)
        expect_exact_with(m, cfg, on_xbar ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST, pixels,
                          n_images, first_index);
}

/* The generated model of `kind` in a scratch file, loaded. */
static void load_generated(cim_model *m, const char *kind, int shape, char *path, size_t len)
{
    char dir[4096];
    cim_mw_model *w = cim_mw_generated(shape, kind, 7);
    cim_error err = {0, ""};
    assert_int_equal(cim_test_make_scratch_dir(dir, sizeof dir, "netref"), 0);
    snprintf(path, len, "%s/%s_%d.h5", dir, kind, shape);
    assert_int_equal(cim_mw_write(w, path), 0);
    cim_mw_free(w);
    if (cim_model_load(path, m, &err) != 0)
        fail_msg("%s", err.msg);
    cim_test_remove_tree(dir);
}

/* Generated BNN and TNN models, CNN, MLP and graphs, on 2x5 crossbars (every
 * layer is tiled in both dimensions), every mapping that holds them. */
static void test_generated_models_are_exact_without_noise(void **state)
{
    static const char *const kinds[] = {"bnn", "tnn"};
    (void)state;
    for (int k = 0; k < 2; ++k) {
        for (int shape = 0; shape < CIM_MW_SHAPES; ++shape) {
            cim_model m;
            char path[4200];
            uint8_t pixels[IMAGES * 36];
            load_generated(&m, kinds[k], shape, path, sizeof path);
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

/* A first layer on 3-channel pixels (an RGB image, [3,5,5]) with padding,
 * then a crossbar layer: exact without noise on every mapping, the first
 * layer on the host or bit-sliced onto crossbars. */
static void test_multi_channel_pixels_are_exact_without_noise(void **state)
{
    static const char *const kinds[] = {"bnn", "tnn"};
    (void)state;
    for (int k = 0; k < 2; ++k) {
        cim_mw_model *w = cim_mw_new(kinds[k], 3, 5, 5, 4, 17);
        cim_mw_conv2d(w, 3, 4, 3, 3, 1, 1, 1, 1, 9, NULL); /* [4,5,5], pixels, pad 9 */
        cim_mw_maxpool2d(w, 2, 2, 2, 2);                   /* [4,2,2] */
        cim_mw_batchnorm_random(w, 4, 400);
        cim_mw_activation(w);
        cim_mw_flatten(w);
        cim_mw_dense(w, 16, 4, NULL);
        cim_model m;
        cim_mw_load_scratch(w, "netref", "rgb.h5", &m);
        uint8_t pixels[IMAGES * 75];
        random_images(pixels, sizeof pixels, 7 + k);
        for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
            if (m.kind == CIM_MODEL_TNN && !cim_mapping_desc_of((cim_mapping_id)id)->ternary)
                continue;
            cim_config cfg = make_config((cim_mapping_id)id, 0, 4, 9, 0.0, 0);
            expect_exact(&m, &cfg, pixels, IMAGES, 0);
            cim_config_free(&cfg);
        }
        cim_model_free(&m);
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
    cim_plan plan;
    assert_int_equal(cim_plan_init(&plan, &m, &cfg, 1, CIM_PIXELS_ON_HOST, &err), CIM_ERR_CONFIG);
    assert_non_null(strstr(err.msg, "BNN_V"));
    assert_non_null(strstr(err.msg, "_conv2d"));
    cim_plan_free(&plan);
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
    int32_t a[4], b[4], c[4];
    cim_plan *xbars = cim_test_plan(&m, &cfg, 1234, CIM_PIXELS_ON_HOST);
    for (int k = 0; k < IMAGES; ++k) {
        const uint8_t *px = pixels + (size_t)k * 36;
        assert_true(cim_netref_image(xbars, px, (uint32_t)k, 7, a, &err) >= 0);
        assert_true(cim_netref_image(xbars, px, (uint32_t)k, 7, b, &err) >= 0);
        assert_memory_equal(a, b, sizeof a);
        assert_true(cim_netref_image(xbars, px, (uint32_t)k, 8, c, &err) >= 0);
        differ += memcmp(a, c, sizeof a) != 0;
    }
    assert_true(differ > 0);
    cim_test_plan_free(xbars);
    cim_config_free(&cfg);
    cim_model_free(&m);
}

/* A 1x3x3 input, 2x2 kernel, stride 1, padding 1 with pad value -1, 2
 * output channels. */
static cim_layer small_conv(int8_t *weight)
{
    cim_layer L;
    memset(&L, 0, sizeof L);
    L.type = CIM_LAYER_CONV2D;
    L.in_shape = (cim_shape){3, {1, 3, 3}};
    L.out_shape = (cim_shape){3, {2, 4, 4}};
    L.in_alphabet = CIM_ALPHABET_TERNARY;
    L.conv2d.in_channels = 1;
    L.conv2d.out_channels = 2;
    L.conv2d.kernel[0] = L.conv2d.kernel[1] = 2;
    L.conv2d.stride[0] = L.conv2d.stride[1] = 1;
    L.conv2d.padding[0] = L.conv2d.padding[1] = 1;
    L.conv2d.pad_value = -1;
    L.conv2d.weight = weight;
    return L;
}

/* im2col: position (0,0) sees [pad pad pad x00], position (1,1) sees
 * [x00 x01 x10 x11], position (3,3) [x22 pad pad pad]. */
static void test_im2col_pads_and_orders(void **state)
{
    int8_t w[8] = {1, -1, 0, 1, -1, -1, 1, 0};
    const cim_layer L = small_conv(w);
    const cim_xbar xbar = {.mapping = CIM_TNN_I, .xbar_m = 1};
    const int32_t x[9] = {1, 0, -1, 1, 1, 0, -1, -1, 1};
    int8_t v[16 * 4];
    (void)state;
    const cim_layer_mvm g = cim_geometry_layer_mvm(&L, &xbar);
    assert_int_equal(g.rows, 2);
    assert_int_equal(g.cols, 4);
    assert_int_equal(g.positions, 16);
    assert_int_equal(g.planes, 1);
    int32_t gather[16 * 4];
    cim_geometry_gather(&L, &g, gather);
    /* position (0,0): three pads, then x00 at index 0 */
    static const int32_t gather00[4] = {-1, -1, -1, 0};
    assert_memory_equal(gather, gather00, sizeof gather00);
    cim_geometry_vectors(&g, gather, x, v);
    static const int8_t p00[4] = {-1, -1, -1, 1}, p11[4] = {1, 0, 1, 1}, p33[4] = {1, -1, -1, -1};
    assert_memory_equal(v, p00, 4);
    assert_memory_equal(v + 5 * 4, p11, 4);
    assert_memory_equal(v + 15 * 4, p33, 4);
}

/* Raw pixels: 8 bit planes per position, least significant first, {0,1} on
 * a TNN mapping and {-1,+1} on a BNN mapping; shifting and adding the planes'
 * exact products gives W x in both cases. */
static void test_pixel_bit_planes(void **state)
{
    int8_t w[8] = {1, -1, 0, 1, -1, -1, 1, 0};
    cim_layer L = small_conv(w);
    const int32_t x[9] = {0xB1, 0, 255, 7, 128, 64, 1, 2, 200};
    int8_t v[16 * 8 * 4];
    int32_t planes[16 * 8 * 2], folded[16 * 2], y[2 * 16];
    int64_t sums[2];
    (void)state;
    L.in_alphabet = CIM_ALPHABET_IMAGE;
    L.conv2d.pad_value = 0;
    for (int binary = 0; binary <= 1; ++binary) {
        const cim_xbar xbar = {.mapping = binary ? CIM_BNN_I : CIM_TNN_I, .xbar_m = 1};
        const cim_layer_mvm g = cim_geometry_layer_mvm(&L, &xbar);
        assert_int_equal(g.planes, CIM_PIXEL_PLANES);
        assert_int_equal(g.plane_binary, binary);
        int32_t gather[16 * 4];
        cim_geometry_gather(&L, &g, gather);
        cim_geometry_vectors(&g, gather, x, v);
        /* position (1,1) sees [0xB1 0 7 128]; plane b of 0xB1 = 1011 0001 */
        for (int b = 0; b < 8; ++b) {
            const int8_t *pv = v + (5 * 8 + b) * 4;
            const int bits[4] = {(0xB1 >> b) & 1, 0, (7 >> b) & 1, (128 >> b) & 1};
            for (int n = 0; n < 4; ++n)
                assert_int_equal(pv[n], binary ? 2 * bits[n] - 1 : bits[n]);
        }
        /* the exact product of every plane, then the combination */
        for (int p = 0; p < 16; ++p)
            for (int b = 0; b < 8; ++b)
                for (int o = 0; o < 2; ++o) {
                    int32_t acc = 0;
                    for (int n = 0; n < 4; ++n)
                        acc += w[o * 4 + n] * v[(p * 8 + b) * 4 + n];
                    planes[(p * 8 + b) * 2 + o] = acc;
                }
        cim_geometry_row_sums(&g, sums);
        assert_int_equal(sums[0], 1);
        assert_int_equal(sums[1], -1);
        cim_geometry_fold(&g, planes, folded);
        cim_geometry_outputs(&g, sums, folded, y);
        /* output channel 0 at position (1,1): 0xB1 - 0 + 0 + 128 */
        assert_int_equal(y[0 * 16 + 5], 0xB1 + 128);
        /* channel 1 at position (0,0): pads are 0, x00 * 0 */
        assert_int_equal(y[1 * 16 + 0], 0);
        /* channel 1 at (3,3) sees [x22 0 0 0]: -200 */
        assert_int_equal(y[1 * 16 + 15], -200);
    }
    /* noisy plane results: the binary combination rounds half away from zero */
    {
        const cim_xbar xbar = {.mapping = CIM_BNN_I, .xbar_m = 1};
        cim_layer D;
        int8_t dw[1] = {1};
        int32_t r[8] = {1, 0, 0, 0, 0, 0, 0, 0}, f, out;
        int64_t one = 1;
        memset(&D, 0, sizeof D);
        D.type = CIM_LAYER_DENSE;
        D.in_alphabet = CIM_ALPHABET_IMAGE;
        D.dense.in_features = D.dense.out_features = 1;
        D.dense.weight = dw;
        const cim_layer_mvm g = cim_geometry_layer_mvm(&D, &xbar);
        /* (1 + 255 * 1) / 2 = 128 */
        cim_geometry_fold(&g, r, &f);
        assert_int_equal(f, 1);
        cim_geometry_outputs(&g, &one, &f, &out);
        assert_int_equal(out, 128);
        /* (2 + 255) / 2 = 128.5 -> 129; (-2 + 2 * -1 + 255) / 2 = 125.5 -> 126 */
        r[0] = 2;
        cim_geometry_fold(&g, r, &f);
        cim_geometry_outputs(&g, &one, &f, &out);
        assert_int_equal(out, 129);
        r[0] = -2;
        r[1] = -1;
        cim_geometry_fold(&g, r, &f);
        assert_int_equal(f, -4);
        cim_geometry_outputs(&g, &one, &f, &out);
        assert_int_equal(out, 126);
        /* reads that would overflow int32 saturate */
        for (int b = 0; b < 8; ++b)
            r[b] = INT32_MAX;
        cim_geometry_fold(&g, r, &f);
        assert_int_equal(f, INT32_MAX);
        for (int b = 0; b < 8; ++b)
            r[b] = INT32_MIN;
        cim_geometry_fold(&g, r, &f);
        assert_int_equal(f, INT32_MIN);
    }
}

/* The C2C key budget of the default model: 12x12 positions of its second
 * conv on the host-first-layer plan, 28x28 positions x 8 planes of its first
 * conv when that layer is bit-sliced onto crossbars. */
static void test_vectors_per_image(void **state)
{
    cim_model m;
    cim_error err = {0, ""};
    (void)state;
    if (cim_model_load(CIM_SOURCE_DIR "/data/models/tnn_cnn.h5", &m, &err) != 0)
        skip();
    cim_config cfg = make_config(CIM_TNN_I, 0, 256, 256, 0, 0);
    cim_plan *xbars = cim_test_plan(&m, &cfg, 1, CIM_PIXELS_ON_HOST);
    CIM_ASSERT_I64_EQ(xbars->vectors_per_image, 12 * 12);
    CIM_ASSERT_I64_EQ(xbars->n_crossbar, 2);
    cim_test_plan_free(xbars);
    xbars = cim_test_plan(&m, &cfg, 1, CIM_PIXELS_ON_CROSSBAR);
    CIM_ASSERT_I64_EQ(xbars->vectors_per_image, 28 * 28 * CIM_PIXEL_PLANES);
    CIM_ASSERT_I64_EQ(xbars->n_crossbar, 3);
    cim_test_plan_free(xbars);
    cim_config_free(&cfg);
    cim_model_free(&m);
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
        cmocka_unit_test(test_pixel_bit_planes),
        cmocka_unit_test(test_vectors_per_image),
        cmocka_unit_test(test_generated_models_are_exact_without_noise),
        cmocka_unit_test(test_multi_channel_pixels_are_exact_without_noise),
        cmocka_unit_test(test_ternary_model_needs_tnn_mapping),
        cmocka_unit_test(test_noisy_chips_replay_and_differ),
        cmocka_unit_test(test_shipped_models_are_exact_without_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
