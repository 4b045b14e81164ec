/* test_input_chain.c -- the planned input chain of the g read
 * (host/runtime/cim_input_chain.h) and the entry lists built from it
 * (cim_side_lists_build): a chain is a permutation that restarts at every
 * group, its term count is what its lists hold, and the column sums carried
 * along it equal the sums from zero of every input, for every mapping, on a
 * random table of g -- exact identities. Host code only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cim_engine_side.h"
#include "cim_input_chain.h"
#include "cim_launch.h"
#include "cim_mapping.h"

/* A small deterministic generator (xorshift64*), so the inputs do not
 * depend on the C library. */
static uint64_t next_u64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* n inputs of cols values, the first `distinct` random ternary (or binary
 * with `binary`), each later one a copy of an earlier with `flips` values
 * redrawn: inputs that lie close together, as a conv layer's patches do. */
static int8_t *make_inputs(int32_t n, int32_t cols, int32_t distinct, int flips, int binary,
                           uint64_t seed)
{
    int8_t *x = malloc((size_t)n * (size_t)cols);
    assert_non_null(x);
    uint64_t s = seed | 1;
    for (int32_t i = 0; i < n; ++i) {
        int8_t *xi = x + (size_t)i * cols;
        if (i < distinct) {
            for (int32_t c = 0; c < cols; ++c)
                xi[c] = binary ? (int8_t)(next_u64(&s) % 2 ? 1 : -1)
                               : (int8_t)((int)(next_u64(&s) % 3) - 1);
        } else {
            memcpy(xi, x + (size_t)(next_u64(&s) % (uint64_t)i) * cols, (size_t)cols);
            for (int f = 0; f < flips; ++f) {
                const int32_t c = (int32_t)(next_u64(&s) % (uint64_t)cols);
                xi[c] = binary ? (int8_t)-xi[c] : (int8_t)((int)(next_u64(&s) % 3) - 1);
            }
        }
    }
    return x;
}

static void classes_of(cim_mapping_id id, int class_of[3])
{
    const cim_mapping_desc *d = cim_mapping_desc_of(id);
    for (int v = 0; v < 3; ++v)
        class_of[v] = cim_value_class(d, v);
}

/* The plan's invariants: a permutation, restarts at each group and block
 * start, and terms = the sum of each position's cost (from zero where it
 * restarts, else from the input before), never more than listing every
 * input from zero. */
static int64_t check_plan(const cim_input_chain *c, const int8_t *x, int32_t n, int32_t cols,
                          const int class_of[3], int32_t group)
{
    char *seen = calloc((size_t)n, 1);
    assert_non_null(seen);
    int64_t terms = 0, own = 0;
    for (int32_t k = 0; k < n; ++k) {
        const int32_t i = c->link[2 * k], restart = c->link[2 * k + 1];
        assert_true(i >= 0 && i < n);
        assert_false(seen[i]);
        seen[i] = 1;
        assert_true(restart == 0 || restart == 1);
        if (k % group == 0 || k % CIM_CHAIN_BLOCK == 0)
            assert_int_equal(restart, 1);
        const int8_t *xi = x + (size_t)i * cols;
        const int64_t from_zero = cim_input_chain_cost(NULL, xi, cols, class_of);
        const int64_t step = restart ? from_zero
                                     : cim_input_chain_cost(x + (size_t)c->link[2 * (k - 1)] * cols,
                                                            xi, cols, class_of);
        if (!restart) /* it restarts wherever that is no dearer */
            assert_true(step < from_zero);
        terms += step;
        own += from_zero;
    }
    assert_int_equal(terms, c->terms);
    assert_true(terms <= own);
    free(seen);
    return own;
}

static void test_cost(void **state)
{
    (void)state;
    int cls[3];
    classes_of(CIM_TNN_I, cls); /* -1 and +1 drive planes 0 and 1, 0 none */
    const int8_t a[] = {1, 0, -1, 1, 0}, b[] = {1, 1, 1, 0, 0};
    /* from zero: the driving positions; a -> b: position 1 adds, 2 swaps
     * (subtract one plane, add the other), 3 subtracts */
    assert_int_equal(cim_input_chain_cost(NULL, a, 5, cls), 3);
    assert_int_equal(cim_input_chain_cost(a, b, 5, cls), 4);
    assert_int_equal(cim_input_chain_cost(a, a, 5, cls), 0);
    classes_of(CIM_BNN_I, cls); /* unipolar: only +1 drives */
    const int8_t p[] = {1, -1, -1}, q[] = {-1, -1, 1};
    assert_int_equal(cim_input_chain_cost(NULL, p, 3, cls), 1);
    assert_int_equal(cim_input_chain_cost(p, q, 3, cls), 2);
}

/* Plans of close inputs: valid, far fewer terms than from zero, the same for
 * one thread and two. */
static void test_plan(void **state)
{
    (void)state;
    const int32_t n = 2 * CIM_CHAIN_BLOCK + 77, cols = 300, group = 64;
    int8_t *x = make_inputs(n, cols, 40, 6, 0, 11);
    int cls[3];
    classes_of(CIM_TNN_I, cls);
    cim_input_chain c1, c2;
    omp_set_num_threads(1);
    assert_int_equal(cim_input_chain_plan(x, n, cols, cls, group, &c1, NULL), 0);
    omp_set_num_threads(2);
    assert_int_equal(cim_input_chain_plan(x, n, cols, cls, group, &c2, NULL), 0);
    assert_memory_equal(c1.link, c2.link, sizeof(int32_t) * 2 * (size_t)n);
    assert_int_equal(c1.terms, c2.terms);
    const int64_t own = check_plan(&c1, x, n, cols, cls, group);
    assert_true(c1.terms * 4 < own); /* 6 flips against ~200 driving positions */
    cim_input_chain_free(&c1);
    cim_input_chain_free(&c2);
    /* unrelated inputs gain nothing, and lose nothing either */
    int8_t *r = make_inputs(300, cols, 300, 0, 0, 5);
    assert_int_equal(cim_input_chain_plan(r, 300, cols, cls, 8, &c1, NULL), 0);
    check_plan(&c1, r, 300, cols, cls, 8);
    cim_input_chain_free(&c1);
    /* one input, and a group of one: every position restarts */
    assert_int_equal(cim_input_chain_plan(r, 1, cols, cls, 64, &c1, NULL), 0);
    assert_int_equal(c1.link[0], 0);
    assert_int_equal(c1.link[1], 1);
    cim_input_chain_free(&c1);
    assert_int_equal(cim_input_chain_plan(x, 200, cols, cls, 1, &c1, NULL), 0);
    for (int32_t k = 0; k < 200; ++k)
        assert_int_equal(c1.link[2 * k + 1], 1);
    cim_input_chain_free(&c1);
    free(r);
    free(x);
}

/* Column sums of a random g table along the chain's lists equal the sums
 * from zero of the plain lists, per input and tile, for every mapping --
 * what cim_read_g's carry relies on. */
static void test_lists(void **state)
{
    (void)state;
    const int32_t n = CIM_CHAIN_BLOCK + 300, cols = 37, xbar_n = 16, group = 64;
    const int64_t w = 1; /* one column per block: the offsets index g directly */
    for (int id = 0; id < CIM_MAPPING_COUNT; ++id) {
        const cim_mapping_desc *d = cim_mapping_desc_of((cim_mapping_id)id);
        const int binary = !cim_mapping_value_ok((cim_mapping_id)id, 0);
        int8_t *x = make_inputs(n, cols, 20, 3, binary, 100 + (uint64_t)id);
        int cls[3];
        classes_of((cim_mapping_id)id, cls);
        cim_xbar xb;
        memset(&xb, 0, sizeof xb);
        xb.mapping = (cim_mapping_id)id;
        xb.xbar_m = 16;
        xb.xbar_n = xbar_n;
        const cim_mvm_job job = {
            .xbar = &xb, .rows = 1, .cols = cols, .inputs = x, .n_inputs = n, .n_trials = 1};
        const int32_t tiles_n = (cols + xbar_n - 1) / xbar_n;
        cim_input_chain c;
        assert_int_equal(cim_input_chain_plan(x, n, cols, cls, group, &c, NULL), 0);
        cim_side_lists plain, chained;
        assert_int_equal(cim_side_lists_build(&job, tiles_n, w, 1, NULL, &plain, NULL), 0);
        assert_int_equal(cim_side_lists_build(&job, tiles_n, w, 1, &c, &chained, NULL), 0);
        assert_int_equal(chained.terms, c.terms);
        const int classes = cim_value_classes(d);
        int64_t *g = malloc(sizeof(int64_t) * (size_t)(classes > 0 ? classes : 1) * cols);
        assert_non_null(g);
        uint64_t s = 7;
        for (int64_t k = 0; k < (int64_t)classes * cols; ++k)
            g[k] = (int64_t)(next_u64(&s) % 2001) - 1000;
        int64_t *carry = calloc((size_t)tiles_n, sizeof(int64_t));
        assert_non_null(carry);
        for (int32_t k = 0; k < n; ++k) {
            const int32_t i = c.link[2 * k];
            for (int32_t tn = 0; tn < tiles_n; ++tn) {
                const int32_t *pr = plain.entry_range + 3 * ((int64_t)i * tiles_n + tn);
                const int32_t *cr = chained.entry_range + 3 * ((int64_t)k * tiles_n + tn);
                assert_int_equal(pr[1], pr[2]); /* plain lists subtract nothing */
                int64_t from_zero = 0;
                for (int32_t e = pr[0]; e < pr[1]; ++e)
                    from_zero += g[plain.entries[e]];
                if (c.link[2 * k + 1])
                    carry[tn] = 0;
                for (int32_t e = cr[0]; e < cr[1]; ++e)
                    carry[tn] += g[chained.entries[e]];
                for (int32_t e = cr[1]; e < cr[2]; ++e)
                    carry[tn] -= g[chained.entries[e]];
                assert_int_equal(carry[tn], from_zero);
                /* the input sums stay per input */
                assert_int_equal(chained.tile_s[(int64_t)i * tiles_n + tn],
                                 plain.tile_s[(int64_t)i * tiles_n + tn]);
            }
        }
        free(carry);
        free(g);
        cim_side_lists_free(&plain);
        cim_side_lists_free(&chained);
        cim_input_chain_free(&c);
        free(x);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cost),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
