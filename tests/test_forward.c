/* test_forward.c -- the plain-C integer forward pass (host/network/cim_forward.h),
 * the definition of digital inference, checked three independent ways:
 *
 * 1. Hand-computed networks: tiny models whose every intermediate value is
 *    worked out in the comments (an MLP on a 2x2 image with thresholds hit
 *    exactly, convolutions with padding, pad_value and uneven strides,
 *    max-pooling that drops incomplete windows), and the threshold rule of
 *    model_format.md §4 on each side of lo and hi for both flips.
 * 2. data/cimgpu_model.py (IntModel.forward, numpy) on random models and
 *    random images: every class score must be equal. Skipped when
 *    /usr/bin/python3 lacks numpy or h5py.
 * 3. The shipped models (data/models) on the Fashion-MNIST test set: the
 *    number of correct predictions must equal the digital_test_correct the
 *    training tool stored (all 10 000 images where that fits the time budget,
 *    else a prefix checked against Python's predictions). Skipped without
 *    models or without the dataset.
 */
#include "cim_test_util.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cim_forward.h"
#include "cim_model.h"
#include "cim_model_writer.h"

#define PYTHON CIM_PYTHON /* Debian's python3, found by CMake */
#define SEED 77u
#define RANDOM_IMAGES 24
#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_IMAGES 10000
#define FASHION_SIDE 28
/* MACs the shipped-model check may spend on the host reference (about 6 s
 * of straight loops on one core); past it, a prefix of the test set is
 * compared image by image with Python instead of the stored accuracy. */
#define SHIPPED_MAC_BUDGET 6e9

typedef struct fixture {
    char dir[CIM_TEST_SCRATCH_DIR_MAX]; /* first: cim_test_scratch */
} fixture;

static int setup(void **state)
{
    return cim_test_scratch_setup(state, sizeof(fixture), "forward");
}

static void path_in(void **state, const char *name, char *path)
{
    const fixture *fx = *state;
    snprintf(path, CIM_TEST_PATH_MAX, "%s/%s", fx->dir, name);
}

/* Writes the model, frees the writer's copy and loads it. */
static void write_and_load(void **state, cim_mw_model *w, const char *name, cim_model *m)
{
    char path[CIM_TEST_PATH_MAX];
    path_in(state, name, path);
    assert_int_equal(cim_mw_write(w, path), 0);
    cim_mw_free(w);
    cim_error err = {0};
    if (cim_model_load(path, m, &err) != 0)
        fail_msg("%s does not load: %s", name, err.msg);
}

static void assert_values(const int32_t *got, const int32_t *want, int n, const char *what)
{
    for (int i = 0; i < n; ++i)
        if (got[i] != want[i])
            fail_msg("%s[%d] = %d, expected %d", what, i, got[i], want[i]);
}

/* Runs layer `l` of m on x and checks its output. */
static void expect_layer(const cim_model *m, int l, const int32_t *x, const int32_t *want)
{
    const cim_layer *L = &m->layers[l];
    int n = (int)cim_shape_size(&L->out_shape);
    int32_t *y = malloc((size_t)n * sizeof *y);
    assert_non_null(y);
    cim_forward_layer(L, x, y);
    assert_values(y, want, n, L->name);
    free(y);
}

static void expect_image(const cim_model *m, const uint8_t *pixels, const int32_t *scores,
                         int predicted)
{
    int32_t got[16];
    cim_error err = {0};
    assert_true(m->num_classes <= 16);
    assert_int_equal(cim_forward_image(m, pixels, got, &err), predicted);
    assert_values(got, scores, m->num_classes, "score");
}

/* ---------------------------------------------------------------------------
 * Hand-computed networks
 */

static void test_argmax_ties_go_to_the_lowest_index(void **state)
{
    (void)state;
    const int32_t a[] = {3, 7, 7, -1}, b[] = {-5, -5, -5}, c[] = {0, 1, 2, 2, 9};
    assert_int_equal(cim_forward_argmax(a, 4), 1);
    assert_int_equal(cim_forward_argmax(b, 3), 0);
    assert_int_equal(cim_forward_argmax(c, 5), 4);
}

/* The label's rank under the same tie rule: rank 0 is the argmax, equal
 * scores rank by index, so top-k membership never depends on anything but
 * the scores and the class order. */
static void test_label_rank_ties_rank_by_index(void **state)
{
    const int32_t s[] = {3, 7, 7, 1, 7, 0, 3};
    (void)state;
    assert_int_equal(cim_forward_label_rank(s, 7, 1), 0); /* the argmax */
    assert_int_equal(cim_forward_label_rank(s, 7, 2), 1);
    assert_int_equal(cim_forward_label_rank(s, 7, 4), 2);
    assert_int_equal(cim_forward_label_rank(s, 7, 0), 3);
    assert_int_equal(cim_forward_label_rank(s, 7, 6), 4); /* tied with 0, after it: top-5 */
    assert_int_equal(cim_forward_label_rank(s, 7, 3), 5); /* not in the top 5 */
    assert_int_equal(cim_forward_label_rank(s, 7, 5), 6);
    for (int32_t k = 0; k < 7; ++k)
        assert_int_equal(cim_forward_label_rank(s, 7, k) == 0, cim_forward_argmax(s, 7) == k);
}

/* batchnorm_threshold then sign/ternary on z at each side of [lo, hi],
 * against the table of model_format.md §4 (row: flip; column: activation). */
static void test_threshold_rule_at_the_edges(void **state)
{
    (void)state;
    /* 1-D input of 7 channels: the same z per channel through different
     * (lo, hi, flip); then the same thresholds on every z. */
    enum { N = 5 };
    const int32_t z[N] = {-3, -2, 0, 3, 4}; /* lo - 1, lo, inside, hi, hi + 1 */
    int32_t lo[N], hi[N];
    int8_t flip_pos[N], flip_neg[N];
    for (int i = 0; i < N; ++i) {
        lo[i] = -2;
        hi[i] = 3;
        flip_pos[i] = 1;
        flip_neg[i] = -1;
    }
    cim_layer bn = {.type = CIM_LAYER_BATCHNORM_THRESHOLD,
                    .in_shape = {1, {N, 1, 1}},
                    .out_shape = {1, {N, 1, 1}},
                    .bn = {N, lo, hi, flip_pos}};
    cim_layer sign = {
        .type = CIM_LAYER_SIGN, .in_shape = {1, {N, 1, 1}}, .out_shape = {1, {N, 1, 1}}};
    cim_layer ternary = sign;
    ternary.type = CIM_LAYER_TERNARY;
    int32_t u[N], act[N];

    /* flip +1: u = z - lo below, 0 inside (ends included), z - hi above */
    const int32_t u_pos[N] = {-1, 0, 0, 0, 1};
    const int32_t ternary_pos[N] = {-1, 0, 0, 0, 1}; /* +1 if z > hi, -1 if z < lo */
    const int32_t sign_pos[N] = {-1, 1, 1, 1, 1};    /* +1 if z >= lo */
    cim_forward_layer(&bn, z, u);
    assert_values(u, u_pos, N, "u, flip +1");
    cim_forward_layer(&ternary, u, act);
    assert_values(act, ternary_pos, N, "ternary, flip +1");
    cim_forward_layer(&sign, u, act);
    assert_values(act, sign_pos, N, "sign, flip +1");

    /* flip -1: y = -u */
    const int32_t u_neg[N] = {1, 0, 0, 0, -1};
    const int32_t ternary_neg[N] = {1, 0, 0, 0, -1}; /* +1 if z < lo, -1 if z > hi */
    const int32_t sign_neg[N] = {1, 1, 1, 1, -1};    /* +1 if z <= hi */
    bn.bn.flip = flip_neg;
    cim_forward_layer(&bn, z, u);
    assert_values(u, u_neg, N, "u, flip -1");
    cim_forward_layer(&ternary, u, act);
    assert_values(act, ternary_neg, N, "ternary, flip -1");
    cim_forward_layer(&sign, u, act);
    assert_values(act, sign_neg, N, "sign, flip -1");

    /* empty dead zone lo = hi + 1 = 5: no z gives 0 */
    const int32_t z2[N] = {3, 4, 5, 6, -100};
    const int32_t u_empty[N] = {-2, -1, 1, 2, -105};
    for (int i = 0; i < N; ++i) {
        lo[i] = 5;
        hi[i] = 4;
    }
    bn.bn.flip = flip_pos;
    cim_forward_layer(&bn, z2, u);
    assert_values(u, u_empty, N, "u, empty dead zone");

    /* thresholds at +-2^30 with |z| < 2^28 stay in int32: z - lo = -2^28 - 2^30 */
    const int32_t z3[N] = {-(1 << 28) + 1, 0, 1 << 27, (1 << 28) - 1, -5};
    const int32_t u_far[N] = {-(1 << 28) + 1 - (1 << 30), -(1 << 30), (1 << 27) - (1 << 30),
                              (1 << 28) - 1 - (1 << 30), -5 - (1 << 30)};
    for (int i = 0; i < N; ++i) {
        lo[i] = 1 << 30;
        hi[i] = 1 << 30;
    }
    cim_forward_layer(&bn, z3, u);
    assert_values(u, u_far, N, "u, thresholds at 2^30");
}

/* On a 3-D input the channel is the first index: [2,1,2] with thresholds
 * (lo, hi, flip) = (0, 0, +1) for channel 0 and (10, 20, -1) for channel 1. */
static void test_threshold_channel_of_a_3d_tensor(void **state)
{
    (void)state;
    int32_t lo[2] = {0, 10}, hi[2] = {0, 20};
    int8_t flip[2] = {1, -1};
    cim_layer bn = {.type = CIM_LAYER_BATCHNORM_THRESHOLD,
                    .in_shape = {3, {2, 1, 2}},
                    .out_shape = {3, {2, 1, 2}},
                    .bn = {2, lo, hi, flip}};
    const int32_t z[4] = {5, -5, 5, 25};
    /* channel 0: 5 - 0 = 5, -5 - 0 = -5; channel 1: -(5 - 10) = 5, -(25 - 20) = -5 */
    const int32_t want[4] = {5, -5, 5, -5};
    int32_t y[4];
    cim_forward_layer(&bn, z, y);
    assert_values(y, want, 4, "u");
}

/* bnn MLP on a 2x2 image [p0 p1; p2 p3]:
 *   flatten -> x = [p0, p1, p2, p3]
 *   dense W1 = [[1,-1,1,-1], [1,1,-1,-1]]: z0 = p0-p1+p2-p3, z1 = p0+p1-p2-p3
 *   batchnorm lo = hi = [-186, -200], flip = [+1, -1], then sign:
 *     a0 = +1 iff z0 >= -186;  a1 = +1 iff z1 <= -200
 *   dense W2 = [[1,1], [1,-1], [-1,1]]: scores = [a0+a1, a0-a1, a1-a0]
 * a = [+1,-1] -> [0,2,-2] (class 1); a = [-1,-1] -> [-2,0,0] (tie: class 1);
 * a = [+1,+1] -> [2,0,0] (class 0). */
static cim_mw_model *hand_mlp(void)
{
    const int8_t w1[8] = {1, -1, 1, -1, 1, 1, -1, -1}, w2[6] = {1, 1, 1, -1, -1, 1};
    const int32_t lo[2] = {-186, -200}, hi[2] = {-186, -200};
    const int8_t flip[2] = {1, -1};
    cim_mw_model *w = cim_mw_new("bnn", 1, 2, 2, 3, SEED);
    cim_mw_flatten(w);
    cim_mw_dense(w, 4, 2, w1);
    cim_mw_batchnorm(w, 2, lo, hi, flip);
    cim_mw_activation(w);
    cim_mw_dense(w, 2, 3, w2);
    return w;
}

static const uint8_t hand_mlp_images[5][4] = {
    {10, 3, 7, 200},  /* z = [-186, -194]: a0 = +1 (z0 = lo), a1 = -1 (z1 > -200) */
    {0, 255, 0, 0},   /* z = [-255, 255]: a = [-1, -1] */
    {0, 0, 255, 255}, /* z = [0, -510]: a = [+1, +1] */
    {0, 0, 7, 193},   /* z = [-186, -200]: both exactly on their threshold: a = [+1, +1] */
    {0, 1, 7, 193},   /* one pixel more: z = [-187, -199]: a = [-1, -1] */
};
static const int32_t hand_mlp_scores[5][3] = {
    {0, 2, -2}, {-2, 0, 0}, {2, 0, 0}, {2, 0, 0}, {-2, 0, 0}};
static const int hand_mlp_classes[5] = {1, 1, 0, 0, 1};

static void test_mlp_on_a_2x2_image(void **state)
{
    cim_model m;
    write_and_load(state, hand_mlp(), "hand_mlp.h5", &m);
    const int32_t x0[4] = {10, 3, 7, 200}, z0[2] = {-186, -194};
    expect_layer(&m, 1, x0, z0);
    for (int i = 0; i < 5; ++i)
        expect_image(&m, hand_mlp_images[i], hand_mlp_scores[i], hand_mlp_classes[i]);
    cim_model_free(&m);
}

static void test_count_correct_against_labels(void **state)
{
    cim_model m;
    write_and_load(state, hand_mlp(), "hand_mlp_count.h5", &m);
    const uint8_t labels[5] = {1, 2, 0, 0, 1}; /* the second is wrong (predicted 1) */
    int32_t predictions[5];
    int64_t correct = -1;
    cim_error err = {0};
    assert_int_equal(cim_forward_count_correct(&m, &hand_mlp_images[0][0], labels, 5, predictions,
                                               &correct, &err),
                     0);
    CIM_ASSERT_I64_EQ(correct, 4);
    for (int i = 0; i < 5; ++i)
        assert_int_equal(predictions[i], hand_mlp_classes[i]);
    assert_int_equal(
        cim_forward_count_correct(&m, &hand_mlp_images[0][0], labels, 3, NULL, &correct, &err), 0);
    CIM_ASSERT_I64_EQ(correct, 2);
    cim_model_free(&m);
}

/* tnn on a 3x3 image x = [1 2 3; 4 5 6; 7 8 9]:
 *   conv 1->1, kernel [2,2], stride [2,2], padding [1,1], pad_value 100,
 *   W = [[1,-1],[0,1]]: z(i,j) = xp[2i][2j] - xp[2i][2j+1] + xp[2i+1][2j+1]
 *   with the padded input xp (5x5, 100 around x); Ho = Wo = floor(3/2)+1 = 2
 *   (the last padded row and column are dropped):
 *     z(0,0) = 100 - 100 + 1 = 1     z(0,1) = 100 - 100 + 3 = 3
 *     z(1,0) = 100 - 4 + 7 = 103     z(1,1) = 5 - 6 + 9 = 8
 *   batchnorm lo = 2, hi = 5, flip -1: u = [1-2, 0, 103-5, 8-5] = [-1, 0, 98, 3],
 *     y = -u = [1, 0, -98, -3]; ternary: [1, 0, -1, -1]
 *   flatten; dense [[1,1,1,1], [1,-1,0,-1]]: scores [-1, 2], class 1. */
static void test_conv_with_padding_value_and_stride(void **state)
{
    const int8_t wc[4] = {1, -1, 0, 1}, wd[8] = {1, 1, 1, 1, 1, -1, 0, -1};
    const int32_t lo[1] = {2}, hi[1] = {5};
    const int8_t flip[1] = {-1};
    cim_mw_model *w = cim_mw_new("tnn", 1, 3, 3, 2, SEED);
    cim_mw_conv2d(w, 1, 1, 2, 2, 2, 2, 1, 1, 100, wc);
    cim_mw_batchnorm(w, 1, lo, hi, flip);
    cim_mw_activation(w);
    cim_mw_flatten(w);
    cim_mw_dense(w, 4, 2, wd);
    cim_model m;
    write_and_load(state, w, "hand_conv.h5", &m);

    const uint8_t pixels[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int32_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int32_t z[4] = {1, 3, 103, 8}, y[4] = {1, 0, -98, -3}, a[4] = {1, 0, -1, -1};
    const int32_t scores[2] = {-1, 2};
    expect_layer(&m, 0, x, z);
    expect_layer(&m, 1, z, y);
    expect_layer(&m, 2, y, a);
    expect_image(&m, pixels, scores, 1);
    cim_model_free(&m);
}

/* tnn, uneven kernel, stride and padding on the same 3x3 image:
 *   conv kernel [3,1], stride [1,2], padding [1,0], pad_value 0, W = [1,0,-1]
 *   (rows u = 0,1,2): z(i,j) = xp[i][2j] - xp[i+2][2j], xp = x with a zero row
 *   above and below; Ho = (3+2-3)/1+1 = 3, Wo = (3-1)/2+1 = 2 (column 1 unused):
 *     z = [0-4, 0-6;  1-7, 3-9;  4-0, 6-0] = [-4, -6, -6, -6, 4, 6]
 *   ternary (no batchnorm): [-1,-1,-1,-1,1,1]; flatten;
 *   dense [[1,1,1,1,1,1], [1,0,0,0,0,-1]]: scores [-2, -2]: a tie, class 0. */
static void test_conv_with_uneven_kernel_stride_and_padding(void **state)
{
    const int8_t wc[3] = {1, 0, -1}, wd[12] = {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, -1};
    cim_mw_model *w = cim_mw_new("tnn", 1, 3, 3, 2, SEED);
    cim_mw_conv2d(w, 1, 1, 3, 1, 1, 2, 1, 0, 0, wc);
    cim_mw_activation(w);
    cim_mw_flatten(w);
    cim_mw_dense(w, 6, 2, wd);
    cim_model m;
    write_and_load(state, w, "hand_conv_uneven.h5", &m);
    const uint8_t pixels[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int32_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    const int32_t z[6] = {-4, -6, -6, -6, 4, 6}, scores[2] = {-2, -2};
    expect_layer(&m, 0, x, z);
    expect_image(&m, pixels, scores, 0);
    cim_model_free(&m);
}

/* bnn, maxpool on the raw image [1,3,5]:
 *     1 9 2 8 50
 *     3 4 7 6 60
 *     5 0 1 2 70
 *   kernel [2,2], stride [1,2]: Ho = (3-2)/1+1 = 2, Wo = floor((5-2)/2)+1 = 2;
 *   column 4 (the largest values) fits no window and is dropped:
 *     y = [max(1,9,3,4), max(2,8,7,6); max(3,4,5,0), max(7,6,1,2)] = [9, 8, 5, 7]
 *   flatten; dense [[1,-1,1,-1], [-1,1,1,1]]: scores [9-8+5-7, -9+8+5+7] = [-1, 11]. */
static void test_maxpool_drops_incomplete_windows(void **state)
{
    const int8_t wd[8] = {1, -1, 1, -1, -1, 1, 1, 1};
    cim_mw_model *w = cim_mw_new("bnn", 1, 3, 5, 2, SEED);
    cim_mw_maxpool2d(w, 2, 2, 1, 2);
    cim_mw_flatten(w);
    cim_mw_dense(w, 4, 2, wd);
    cim_model m;
    write_and_load(state, w, "hand_pool.h5", &m);
    const uint8_t pixels[15] = {1, 9, 2, 8, 50, 3, 4, 7, 6, 60, 5, 0, 1, 2, 70};
    const int32_t x[15] = {1, 9, 2, 8, 50, 3, 4, 7, 6, 60, 5, 0, 1, 2, 70};
    const int32_t y[4] = {9, 8, 5, 7}, scores[2] = {-1, 11};
    expect_layer(&m, 0, x, y);
    expect_image(&m, pixels, scores, 1);
    cim_model_free(&m);
}

/* Max-pooling of negative pre-activations: the maximum of [-7, -3; -9, -4] is -3. */
static void test_maxpool_of_negative_values(void **state)
{
    (void)state;
    cim_layer L = {.type = CIM_LAYER_MAXPOOL2D,
                   .in_shape = {3, {1, 2, 2}},
                   .out_shape = {3, {1, 1, 1}},
                   .maxpool2d = {{2, 2}, {2, 2}}};
    const int32_t x[4] = {-7, -3, -9, -4};
    int32_t y = 0;
    cim_forward_layer(&L, x, &y);
    assert_int_equal(y, -3);
}

/* ---------------------------------------------------------------------------
 * Agreement with data/cimgpu_model.py on random models
 */

static int python_available(void)
{
    return system(PYTHON " -c 'import numpy, h5py' >/dev/null 2>&1") == 0;
}

static const char forward_script[] =
    "import sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "import numpy as np\n"
    "from cimgpu_model import IntModel\n"
    "args = sys.argv[2:]\n"
    "for k in range(0, len(args), 3):\n"
    "    m = IntModel(args[k])\n"
    "    shape = (-1,) + tuple(m.root['input_shape'])\n"
    "    x = np.fromfile(args[k + 1], dtype=np.uint8).reshape(shape).astype(np.int32)\n"
    "    np.savetxt(args[k + 2], m.forward(x).reshape(len(x), -1), fmt='%d')\n";

/* bnn MLP [1,5,7]: thresholds of the first layer spread like its z (pixels). */
static cim_mw_model *random_mlp_bnn(void)
{
    cim_mw_model *w = cim_mw_new("bnn", 1, 5, 7, 10, 101);
    cim_mw_flatten(w);
    cim_mw_dense(w, 35, 20, NULL);
    cim_mw_batchnorm_random(w, 20, 600);
    cim_mw_activation(w);
    cim_mw_dense(w, 20, 16, NULL);
    cim_mw_batchnorm_random(w, 16, 5);
    cim_mw_activation(w);
    cim_mw_dense(w, 16, 10, NULL);
    return w;
}

/* tnn CNN [2,9,8]: conv k3 s[2,1] p[1,2] pad 37 -> [4,5,10]; maxpool k[2,3]
 * s[2,2] on the ternary output -> [4,2,4]; conv k2 p1 pad 0 -> [5,3,5]. */
static cim_mw_model *random_cnn_tnn(void)
{
    cim_mw_model *w = cim_mw_new("tnn", 2, 9, 8, 7, 202);
    cim_mw_conv2d(w, 2, 4, 3, 3, 2, 1, 1, 2, 37, NULL);
    cim_mw_batchnorm_random(w, 4, 900);
    cim_mw_activation(w);
    cim_mw_maxpool2d(w, 2, 3, 2, 2);
    cim_mw_conv2d(w, 4, 5, 2, 2, 1, 1, 1, 1, 0, NULL);
    cim_mw_batchnorm_random(w, 5, 6);
    cim_mw_activation(w);
    cim_mw_flatten(w);
    cim_mw_dense(w, 75, 7, NULL);
    return w;
}

/* bnn CNN [1,8,8]: conv k3 -> [3,6,6]; maxpool on the pre-activation ->
 * [3,3,3]; batchnorm, sign; conv k3 p1 pad -1 -> [4,3,3]; sign without
 * batchnorm; flatten; dense. */
static cim_mw_model *random_cnn_bnn(void)
{
    cim_mw_model *w = cim_mw_new("bnn", 1, 8, 8, 5, 303);
    cim_mw_conv2d(w, 1, 3, 3, 3, 1, 1, 0, 0, 0, NULL);
    cim_mw_maxpool2d(w, 2, 2, 2, 2);
    cim_mw_batchnorm_random(w, 3, 700);
    cim_mw_activation(w);
    cim_mw_conv2d(w, 3, 4, 3, 3, 1, 1, 1, 1, -1, NULL);
    cim_mw_activation(w);
    cim_mw_flatten(w);
    cim_mw_dense(w, 36, 5, NULL);
    return w;
}

/* tnn MLP with a ternary activation straight after dense (dead zone {0}). */
static cim_mw_model *random_mlp_tnn(void)
{
    cim_mw_model *w = cim_mw_new("tnn", 1, 6, 6, 4, 404);
    cim_mw_flatten(w);
    cim_mw_dense(w, 36, 12, NULL);
    cim_mw_activation(w);
    cim_mw_dense(w, 12, 4, NULL);
    return w;
}

/* Version-2 graphs (cim_model_writer.h): residual adds with scales, concat
 * of 3-D and 1-D tensors, sumpool2d, global_sumpool, a dense layer on a
 * pre-activation, an add of a chip's tensor and a shared one. */
static cim_mw_model *random_graph_bnn(void)
{
    return cim_mw_graph("bnn", 505);
}

static cim_mw_model *random_graph_tnn(void)
{
    return cim_mw_graph("tnn", 606);
}

static cim_mw_model *random_graph_host_bnn(void)
{
    return cim_mw_graph_host("bnn", 707);
}

static cim_mw_model *random_graph_host_tnn(void)
{
    return cim_mw_graph_host("tnn", 808);
}

/* Random pixels, then an all-0 and an all-255 image. */
static uint8_t *random_images(int64_t image_bytes, int n, uint64_t seed)
{
    uint8_t *p = malloc((size_t)(image_bytes * n));
    assert_non_null(p);
    cim_test_rng r = cim_test_rng_init(seed);
    for (int64_t i = 0; i < image_bytes * (n - 2); ++i)
        p[i] = (uint8_t)cim_test_rng_int(&r, 0, 255);
    memset(p + image_bytes * (n - 2), 0, (size_t)image_bytes);
    memset(p + image_bytes * (n - 1), 255, (size_t)image_bytes);
    return p;
}

static void test_python_reference_gives_the_same_scores(void **state)
{
    if (!python_available())
        skip();
    cim_mw_model *(*const builders[])(void) = {
        random_mlp_bnn,   random_cnn_tnn,   random_cnn_bnn,        random_mlp_tnn,
        random_graph_bnn, random_graph_tnn, random_graph_host_bnn, random_graph_host_tnn};
    enum { N_MODELS = sizeof builders / sizeof builders[0] };
    char model_path[N_MODELS][CIM_TEST_PATH_MAX], image_path[N_MODELS][CIM_TEST_PATH_MAX],
        score_path[N_MODELS][CIM_TEST_PATH_MAX], script[CIM_TEST_PATH_MAX];
    cim_model models[N_MODELS];
    uint8_t *images[N_MODELS];
    char *cmd = malloc(4 * N_MODELS * CIM_TEST_PATH_MAX);
    assert_non_null(cmd);
    path_in(state, "forward.py", script);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs(forward_script, f);
    fclose(f);
    int used = snprintf(cmd, 4 * CIM_TEST_PATH_MAX, PYTHON " %s %s/data", script, CIM_SOURCE_DIR);
    for (int k = 0; k < N_MODELS; ++k) {
        char name[32];
        snprintf(name, sizeof name, "random_%d.h5", k);
        path_in(state, name, model_path[k]);
        write_and_load(state, builders[k](), name, &models[k]);
        int64_t bytes = cim_shape_size(&models[k].input_shape);
        images[k] = random_images(bytes, RANDOM_IMAGES, 1000 + (uint64_t)k);
        snprintf(name, sizeof name, "random_%d.u8", k);
        path_in(state, name, image_path[k]);
        f = fopen(image_path[k], "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(images[k], 1, (size_t)(bytes * RANDOM_IMAGES), f),
                         (size_t)(bytes * RANDOM_IMAGES));
        fclose(f);
        snprintf(name, sizeof name, "random_%d.txt", k);
        path_in(state, name, score_path[k]);
        used += snprintf(cmd + used, (size_t)(4 * N_MODELS * CIM_TEST_PATH_MAX - used), " %s %s %s",
                         model_path[k], image_path[k], score_path[k]);
    }
    assert_int_equal(system(cmd), 0);
    free(cmd);

    for (int k = 0; k < N_MODELS; ++k) {
        const cim_model *m = &models[k];
        int64_t bytes = cim_shape_size(&m->input_shape);
        f = fopen(score_path[k], "r");
        assert_non_null(f);
        int distinct_classes = 0, seen[16] = {0};
        for (int i = 0; i < RANDOM_IMAGES; ++i) {
            int32_t mine[16];
            cim_error err = {0};
            int predicted = cim_forward_image(m, images[k] + i * bytes, mine, &err);
            for (int c = 0; c < m->num_classes; ++c) {
                long theirs;
                if (fscanf(f, "%ld", &theirs) != 1)
                    fail_msg("model %d: Python wrote fewer scores than expected", k);
                if (theirs != mine[c])
                    fail_msg("model %d (%s), image %d, class %d: C %d, Python %ld", k, m->name, i,
                             c, mine[c], theirs);
            }
            distinct_classes += !seen[predicted];
            seen[predicted] = 1;
        }
        fclose(f);
        /* the random models are not degenerate: they tell images apart */
        assert_true(distinct_classes >= 2);
        free(images[k]);
        cim_model_free(&models[k]);
    }
}

/* ---------------------------------------------------------------------------
 * Shipped models on Fashion-MNIST
 */

/* An IDX file of unsigned bytes (gzip or plain) with `dims` dimensions
 * whose first is `count`: its data, malloc'd, or NULL when absent. */
static uint8_t *read_idx(const char *path, int dims, int64_t count, int64_t item_bytes)
{
    gzFile g = gzopen(path, "rb");
    if (!g)
        return NULL;
    unsigned char header[4 + 4 * 3];
    int header_bytes = 4 + 4 * dims;
    if (gzread(g, header, (unsigned)header_bytes) != header_bytes || header[2] != 0x08 ||
        header[3] != dims)
        fail_msg("%s: not an unsigned-byte IDX file of %d dimensions", path, dims);
    uint32_t n = (uint32_t)header[4] << 24 | (uint32_t)header[5] << 16 | (uint32_t)header[6] << 8 |
                 header[7];
    if ((int64_t)n != count)
        fail_msg("%s: %u items, expected %lld", path, n, (long long)count);
    uint8_t *data = malloc((size_t)(count * item_bytes));
    assert_non_null(data);
    int64_t want = count * item_bytes;
    if (gzread(g, data, (unsigned)want) != want)
        fail_msg("%s: short file", path);
    gzclose(g);
    return data;
}

/* Python's predictions for the first n test images. */
static void python_predictions(void **state, const char *model_path, int n, int32_t *pred)
{
    char script[CIM_TEST_PATH_MAX], out[CIM_TEST_PATH_MAX], cmd[4 * CIM_TEST_PATH_MAX];
    path_in(state, "predict.py", script);
    path_in(state, "predictions.txt", out);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fprintf(f, "import sys\n"
               "sys.path.insert(0, sys.argv[1])\n"
               "import numpy as np\n"
               "from cimgpu_model import IntModel, load_split\n"
               "x, y = load_split(sys.argv[3], 'test')\n"
               "n = int(sys.argv[4])\n"
               "np.savetxt(sys.argv[5], IntModel(sys.argv[2]).predict(x[:n]), fmt='%%d')\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, PYTHON " %s %s/data %s %s %d %s", script, CIM_SOURCE_DIR, model_path,
             FASHION_DIR, n, out);
    assert_int_equal(system(cmd), 0);
    f = fopen(out, "r");
    assert_non_null(f);
    for (int i = 0; i < n; ++i)
        assert_int_equal(fscanf(f, "%d", &pred[i]), 1);
    fclose(f);
}

static void check_shipped_model(void **state, const char *path, const uint8_t *images,
                                const uint8_t *labels, int have_python)
{
    cim_model m;
    cim_error err = {0};
    if (cim_model_load(path, &m, &err) != 0)
        fail_msg("%s", err.msg);
    assert_true(m.input_shape.dim[0] == 1 && m.input_shape.dim[1] == FASHION_SIDE &&
                m.input_shape.dim[2] == FASHION_SIDE);
    double macs = (double)m.macs_per_image * FASHION_IMAGES;
    int n = macs <= SHIPPED_MAC_BUDGET ? FASHION_IMAGES
                                       : (int)(SHIPPED_MAC_BUDGET / (double)m.macs_per_image);
    int32_t *pred = malloc((size_t)n * sizeof *pred);
    assert_non_null(pred);
    int64_t correct = 0;
    assert_int_equal(cim_forward_count_correct(&m, images, labels, n, pred, &correct, &err), 0);
    if (n == FASHION_IMAGES && m.has_digital_test_correct &&
        m.digital_test_images == FASHION_IMAGES) {
        print_message("%s: %lld/%d correct, stored %lld\n", m.name, (long long)correct, n,
                      (long long)m.digital_test_correct);
        CIM_ASSERT_I64_EQ(correct, m.digital_test_correct);
    } else if (have_python) {
        int32_t *theirs = malloc((size_t)n * sizeof *theirs);
        assert_non_null(theirs);
        python_predictions(state, path, n, theirs);
        for (int i = 0; i < n; ++i)
            if (pred[i] != theirs[i])
                fail_msg("%s, test image %d: C predicts %d, Python %d", m.name, i, pred[i],
                         theirs[i]);
        print_message("%s: first %d test images predicted as Python does (%lld correct)\n", m.name,
                      n, (long long)correct);
        free(theirs);
    } else {
        print_message("%s: %lld/%d correct (not compared: too slow for all images, no Python)\n",
                      m.name, (long long)correct, n);
    }
    free(pred);
    cim_model_free(&m);
}

static void test_shipped_models_reproduce_their_accuracy(void **state)
{
    const char *folder = CIM_SOURCE_DIR "/data/models";
    uint8_t *images = read_idx(FASHION_DIR "/t10k-images-idx3-ubyte.gz", 3, FASHION_IMAGES,
                               FASHION_SIDE * FASHION_SIDE);
    uint8_t *labels = read_idx(FASHION_DIR "/t10k-labels-idx1-ubyte.gz", 1, FASHION_IMAGES, 1);
    DIR *d = opendir(folder);
    int checked = 0, have_python = python_available();
    struct dirent *e;
    while (images && labels && d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 3, ".h5") != 0)
            continue;
        char path[CIM_TEST_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        check_shipped_model(state, path, images, labels, have_python);
        ++checked;
    }
    if (d)
        closedir(d);
    free(images);
    free(labels);
    if (checked == 0)
        skip();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argmax_ties_go_to_the_lowest_index),
        cmocka_unit_test(test_label_rank_ties_rank_by_index),
        cmocka_unit_test(test_threshold_rule_at_the_edges),
        cmocka_unit_test(test_threshold_channel_of_a_3d_tensor),
        cmocka_unit_test(test_mlp_on_a_2x2_image),
        cmocka_unit_test(test_count_correct_against_labels),
        cmocka_unit_test(test_conv_with_padding_value_and_stride),
        cmocka_unit_test(test_conv_with_uneven_kernel_stride_and_padding),
        cmocka_unit_test(test_maxpool_drops_incomplete_windows),
        cmocka_unit_test(test_maxpool_of_negative_values),
        cmocka_unit_test(test_python_reference_gives_the_same_scores),
        cmocka_unit_test(test_shipped_models_reproduce_their_accuracy),
    };
    return cmocka_run_group_tests(tests, setup, cim_test_scratch_teardown);
}
