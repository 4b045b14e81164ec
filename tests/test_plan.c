/* test_plan.c -- the layer plan and the layer walk (host/network/cim_plan.h,
 * cim_walk.h): where each layer of a model is placed, what the plan records
 * about it, and how the walk visits layers and hands buffers to the steps.
 * The arithmetic the steps do is tested elsewhere (test_forward, test_netref,
 * test_executor); here the steps are recorders.
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
#include "cim_model.h"
#include "cim_model_writer.h"
#include "cim_plan.h"
#include "cim_test_util.h"
#include "cim_walk.h"

static cim_config tnn_config(int32_t xm, int32_t xn)
{
    char json[256];
    cim_config cfg;
    cim_error err = {0, ""};
    snprintf(json, sizeof json,
             "{\"m_mode\": \"TNN_I\", \"M\": %d, \"N\": %d, \"HRS\": 5, \"LRS\": 30, "
             "\"LRS_NOISE\": 1, \"HRS_NOISE\": 0.5}",
             xm, xn);
    if (cim_config_parse(json, "test", &cfg, &err) != 0)
        fail_msg("%s", err.msg);
    return cfg;
}

static void load_cnn(cim_model *m, const char *kind)
{
    cim_mw_load_scratch(cim_mw_cnn(kind, 3), "plan", "model.h5", m);
}

static int is_weight_layer(const cim_layer *L)
{
    return L->type == CIM_LAYER_DENSE || L->type == CIM_LAYER_CONV2D;
}

/* Weight layers on binary/ternary inputs go on crossbars; the first layer on
 * raw pixels only when asked; nothing else ever. The plan's counts, indices
 * and tables follow from that. */
static void test_placement_and_plan_fields(void **state)
{
    cim_model m;
    (void)state;
    load_cnn(&m, "tnn");
    cim_config cfg = tnn_config(4, 8);
    for (int pixels = 0; pixels <= 1; ++pixels) {
        const cim_pixel_layers where = pixels ? CIM_PIXELS_ON_CROSSBAR : CIM_PIXELS_ON_HOST;
        cim_plan *p = cim_test_plan(&m, &cfg, 9, where);
        int32_t n = 0, first = -1, planes = 1;
        int64_t vectors = 0;
        for (int32_t l = 0; l < m.num_layers; ++l) {
            const cim_layer *L = &m.layers[l];
            const cim_layer_plan *lp = &p->layers[l];
            const int want = is_weight_layer(L) && (L->in_alphabet != CIM_ALPHABET_IMAGE || pixels);
            assert_int_equal(cim_plan_places_on_crossbar(L, where), want);
            assert_int_equal(cim_plan_on_crossbar(lp), want);
            assert_ptr_equal(lp->layer, L);
            CIM_ASSERT_I64_EQ(lp->in_size, cim_shape_size(&L->in_shape));
            CIM_ASSERT_I64_EQ(lp->out_size, cim_shape_size(&L->out_shape));
            assert_int_equal(cim_plan_shared_input(p, l), first < 0 || l == first);
            if (!want) {
                assert_null(lp->gather);
                continue;
            }
            if (first < 0) {
                first = l;
                assert_int_equal(cim_plan_shared_input(p, l), 1);
            }
            assert_int_equal(lp->crossbar, n++);
            assert_int_equal(lp->xbar.layer, (uint32_t)l); /* the RNG layer key */
            assert_int_equal(lp->xbar.xbar_m, 4);
            assert_non_null(lp->gather);
            assert_non_null(lp->row_sums);
            assert_int_equal(lp->mvm.planes,
                             L->in_alphabet == CIM_ALPHABET_IMAGE ? CIM_PIXEL_PLANES : 1);
            planes = lp->mvm.planes > planes ? lp->mvm.planes : planes;
            const int64_t v = (int64_t)lp->mvm.positions * lp->mvm.planes;
            vectors = v > vectors ? v : vectors;
        }
        assert_int_equal(p->n_crossbar, n);
        assert_true(n >= 2 + pixels);
        assert_int_equal(p->first_crossbar, first);
        assert_int_equal(p->max_planes, planes);
        CIM_ASSERT_I64_EQ(p->vectors_per_image, vectors);
        cim_test_plan_free(p);
    }
    cim_config_free(&cfg);
    cim_model_free(&m);
}

/* Without a crossbar config every layer is exact and every input shared; the
 * digital twin reads every crossbar layer exactly and keeps its tiles. */
static void test_exact_plan_and_digital_twin(void **state)
{
    cim_model m;
    cim_plan p;
    cim_error err = {0, ""};
    (void)state;
    load_cnn(&m, "bnn");
    assert_int_equal(cim_plan_init(&p, &m, NULL, 0, CIM_PIXELS_ON_CROSSBAR, &err), 0);
    assert_int_equal(p.n_crossbar, 0);
    assert_int_equal(p.first_crossbar, -1);
    for (int32_t l = 0; l < m.num_layers; ++l)
        assert_int_equal(cim_plan_shared_input(&p, l), 1);
    for (int32_t t = CIM_MODEL_INPUT; t < m.num_layers; ++t)
        assert_int_equal(cim_plan_shared(&p, t), 1);
    cim_plan_free(&p);
    cim_plan_free(&p); /* a freed plan is a zeroed plan */

    cim_config cfg = tnn_config(3, 5);
    cim_plan *d = cim_test_plan(&m, &cfg, 1, CIM_PIXELS_ON_HOST);
    cim_plan *a = cim_test_plan(&m, &cfg, 1, CIM_PIXELS_ON_HOST);
    cim_plan_make_digital(d);
    for (int32_t l = 0; l < m.num_layers; ++l) {
        if (!cim_plan_on_crossbar(&a->layers[l]))
            continue;
        const cim_xbar *x = &a->layers[l].xbar, *y = &d->layers[l].xbar;
        assert_int_equal(x->column.digital, 0);
        assert_int_equal(y->column.digital, 1);
        assert_int_equal(y->xbar_m, x->xbar_m);
        assert_int_equal(y->xbar_n, x->xbar_n);
        assert_int_equal(y->mapping, x->mapping);
        assert_int_equal(y->layer, x->layer);
    }
    cim_test_plan_free(a);
    cim_test_plan_free(d);
    cim_config_free(&cfg);
    cim_model_free(&m);
}

/* A step that records what the walk gave it. */
typedef struct trace {
    int32_t layers[64];
    int crossbar[64];
    void *x[64][CIM_MODEL_MAX_INPUTS], *y[64];
    int n;
    int32_t fail_at; /* layer whose step fails, -1: none */
} trace;

static int record(trace *t, const cim_plan *p, int32_t l, void *const *x, void *y, int crossbar)
{
    t->layers[t->n] = l;
    t->crossbar[t->n] = crossbar;
    for (int j = 0; j < p->layers[l].layer->n_inputs; ++j)
        t->x[t->n][j] = x[j];
    t->y[t->n] = y;
    ++t->n;
    return l == t->fail_at ? CIM_ERR_INPUT : 0;
}

static int crossbar_step(void *ctx, const cim_plan *p, int32_t l, void *const *x, void *y,
                         cim_error *e)
{
    (void)e;
    return record(ctx, p, l, x, y, 1);
}

static int exact_step(void *ctx, const cim_plan *p, int32_t l, void *const *x, void *y,
                      cim_error *e)
{
    (void)e;
    return record(ctx, p, l, x, y, 0);
}

/* The walk of layers [from, to) of p, checked against the buffers' contents:
 * each layer but a flatten is visited once, in order, by its placement's
 * step; every input it is given is the buffer that holds that tensor (a
 * flatten's output is its input's data), and it writes a buffer whose
 * tensor nobody reads any more. */
static void check_walk(const cim_plan *p, int32_t from, int32_t to)
{
    const cim_model *m = p->model;
    enum { SLOTS = 8 };
    int bufs[SLOTS];
    void *slots[SLOTS];
    int32_t holds[SLOTS]; /* the data (a non-flatten tensor, or -1 the input) in each */
    static const cim_walk_steps steps = {crossbar_step, exact_step};
    cim_error err = {0, ""};
    int32_t data[65]; /* data[t + 1]: the tensor whose values tensor t is */
    assert_true(p->n_slots >= 1 && p->n_slots <= SLOTS && m->num_layers <= 64);
    for (int s = 0; s < SLOTS; ++s) {
        slots[s] = &bufs[s];
        holds[s] = -2;
    }
    data[0] = CIM_MODEL_INPUT;
    for (int32_t l = 0; l < m->num_layers; ++l)
        data[l + 1] = m->layers[l].type == CIM_LAYER_FLATTEN ? data[m->layers[l].inputs[0] + 1] : l;
    /* the buffers as the layers before `from` left them */
    holds[cim_plan_slot(p, CIM_MODEL_INPUT)] = CIM_MODEL_INPUT;
    for (int32_t l = 0; l < from; ++l)
        holds[cim_plan_slot(p, l)] = data[l + 1];
    trace t = {.fail_at = -1};
    assert_int_equal(cim_walk(p, from, to, &steps, &t, slots, &err), 0);
    int i = 0;
    for (int32_t l = from; l < to; ++l) {
        const cim_layer *L = &m->layers[l];
        if (L->type == CIM_LAYER_FLATTEN) {
            assert_int_equal(cim_plan_slot(p, l), cim_plan_slot(p, L->inputs[0]));
            continue;
        }
        assert_true(i < t.n);
        assert_int_equal(t.layers[i], l);
        assert_int_equal(t.crossbar[i], cim_plan_on_crossbar(&p->layers[l]));
        for (int j = 0; j < L->n_inputs; ++j) {
            const int32_t s = cim_plan_slot(p, L->inputs[j]);
            assert_ptr_equal(t.x[i][j], slots[s]);
            assert_int_equal(holds[s], data[L->inputs[j] + 1]);
        }
        const int32_t s = cim_plan_slot(p, l);
        assert_ptr_equal(t.y[i], slots[s]);
        for (int32_t u = CIM_MODEL_INPUT; u < l; ++u) /* nothing still read lives there */
            if (data[u + 1] == holds[s] &&
                (u == CIM_MODEL_INPUT ? m->input_last_use : m->layers[u].last_use) >= l)
                fail_msg("layer %d overwrites tensor %d, which layer %d still reads", l, u,
                         u == CIM_MODEL_INPUT ? m->input_last_use : m->layers[u].last_use);
        holds[s] = l;
        ++i;
    }
    assert_int_equal(t.n, i);
}

/* The walk over a chain: two buffers taking turns; a failing step stops it
 * with its code; an empty range visits nothing. */
static void test_walk_visits_layers_in_their_buffers(void **state)
{
    cim_model m;
    int bufs[2];
    void *const act[2] = {&bufs[0], &bufs[1]};
    static const cim_walk_steps steps = {crossbar_step, exact_step};
    cim_error err = {0, ""};
    (void)state;
    load_cnn(&m, "tnn");
    cim_config cfg = tnn_config(4, 8);
    cim_plan *p = cim_test_plan(&m, &cfg, 1, CIM_PIXELS_ON_HOST);
    assert_true(m.num_layers >= 4 && m.num_layers <= 64);
    assert_int_equal(p->n_slots, 2);
    for (int32_t from = 0; from < 2; ++from)
        check_walk(p, from, m.num_layers);
    {
        trace t = {.fail_at = 2};
        assert_int_equal(cim_walk(p, 0, m.num_layers, &steps, &t, act, &err), CIM_ERR_INPUT);
        assert_int_equal(t.n, 3);
    }
    {
        trace t = {.fail_at = -1};
        assert_int_equal(cim_walk(p, 3, 3, &steps, &t, act, &err), 0);
        assert_int_equal(t.n, 0);
    }
    cim_test_plan_free(p);
    cim_config_free(&cfg);
    cim_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_placement_and_plan_fields),
        cmocka_unit_test(test_exact_plan_and_digital_twin),
        cmocka_unit_test(test_walk_visits_layers_in_their_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
