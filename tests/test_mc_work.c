/* test_mc_work.c -- the work items of the Monte-Carlo in one process
 * (cim_mc_work.h) and their result blocks (cim_mc_result.h): a block read
 * back in place holds exactly what was captured, every malformed block is
 * refused, items reach the writer in order with their chunks, and a failing
 * item or a stop request ends the work at an item boundary. The same code
 * runs on every rank of an MPI job; tests/mpi/test_mpi.py runs the ranks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cim_mc_result.h"
#include "cim_mc_work.h"

enum { N = 5, LAYERS = 3, PRED = 7 };

/* A chunk of n chips from trial t0 whose every value tells where it is. */
typedef struct fake_chunk {
    int64_t correct[16], top5[16];
    double layer_error[16 * LAYERS];
    int32_t pred[16 * PRED];
    uint64_t prof0[16 * 4], prof2[16 * 6];
    uint64_t *profiles[LAYERS];
    cim_mc_chunk chunk;
} fake_chunk;

static const int64_t slots[LAYERS] = {4, 0, 6};

static void fill(fake_chunk *f, int64_t t0, int32_t n)
{
    memset(f, 0, sizeof *f);
    for (int32_t t = 0; t < n; ++t) {
        f->correct[t] = 1000 * t0 + t;
        f->top5[t] = 2000 * t0 + t;
        for (int l = 0; l < LAYERS; ++l)
            f->layer_error[t * LAYERS + l] = (double)(t0 + t) / (l + 3.0);
        for (int k = 0; k < PRED; ++k)
            f->pred[t * PRED + k] = (int32_t)((t0 + t) * 10 + k);
        for (int s = 0; s < 4; ++s)
            f->prof0[t * 4 + s] = (uint64_t)((t0 + t) * 100 + s);
        for (int s = 0; s < 6; ++s)
            f->prof2[t * 6 + s] = (uint64_t)((t0 + t) * 1000 + s);
    }
    f->profiles[0] = f->prof0;
    f->profiles[1] = NULL;
    f->profiles[2] = f->prof2;
    f->chunk = (cim_mc_chunk){.trial_first = t0,
                              .n = n,
                              .correct = f->correct,
                              .top5_correct = f->top5,
                              .layer_error = f->layer_error,
                              .predictions = f->pred};
}

static const cim_mc_result_shape shape = {LAYERS, PRED, LAYERS, slots};

static void assert_holds(const cim_mc_result *r, const fake_chunk *f, int64_t t0, int32_t n)
{
    assert_int_equal(r->item.trial_first, t0);
    assert_int_equal(r->item.n, n);
    assert_int_equal(r->chunk.trial_first, t0);
    assert_int_equal(r->chunk.n, n);
    assert_memory_equal(r->chunk.correct, f->correct, sizeof(int64_t) * (size_t)n);
    assert_memory_equal(r->chunk.top5_correct, f->top5, sizeof(int64_t) * (size_t)n);
    assert_memory_equal(r->chunk.layer_error, f->layer_error, sizeof(double) * (size_t)n * LAYERS);
    assert_memory_equal(r->chunk.predictions, f->pred, sizeof(int32_t) * (size_t)n * PRED);
    assert_int_equal(r->n_profiles, LAYERS);
    assert_memory_equal(r->profiles[0], f->prof0, sizeof(uint64_t) * (size_t)n * 4);
    assert_null(r->profiles[1]);
    assert_memory_equal(r->profiles[2], f->prof2, sizeof(uint64_t) * (size_t)n * 6);
}

/* The block of a full fake chunk of N chips from trial t0 (f keeps the
 * values it was made from). */
static void capture_full(cim_mc_result *r, fake_chunk *f, int64_t config, int64_t t0, int32_t rank,
                         double seconds)
{
    cim_error err;
    const cim_mc_item it = {config, t0, N};
    fill(f, t0, N);
    assert_int_equal(
        cim_mc_result_capture(r, &it, &shape, &f->chunk, f->profiles, rank, seconds, &err), 0);
}

static void test_block_round_trip(void **state)
{
    (void)state;
    fake_chunk f;
    cim_mc_result r, back;
    cim_error err;
    const cim_mc_item it = {3, 40, N};
    fill(&f, 40, N);
    assert_int_equal(cim_mc_result_capture(&r, &it, &shape, &f.chunk, f.profiles, 2, 1.25, &err),
                     0);
    assert_holds(&r, &f, 40, N);
    assert_int_equal(r.item.config, 3);
    assert_int_equal(r.rank, 2);
    assert_true(r.seconds == 1.25);
    /* what a receiver gets: the same bytes, read in place */
    unsigned char *copy = malloc(r.size);
    memcpy(copy, r.bytes, r.size);
    assert_int_equal(cim_mc_result_adopt(&back, copy, r.size, &err), 0);
    assert_holds(&back, &f, 40, N);
    assert_int_equal(back.item.config, 3);
    assert_int_equal(back.rank, 2);
    cim_mc_result_free(&back);
    cim_mc_result_free(&r);
}

/* Without layer errors, predictions or profiles the block has none. */
static void test_block_without_extras(void **state)
{
    (void)state;
    fake_chunk f;
    cim_mc_result r;
    cim_error err;
    const cim_mc_item it = {0, 0, N};
    fill(&f, 0, N);
    f.chunk.layer_error = NULL;
    f.chunk.predictions = NULL;
    assert_int_equal(cim_mc_result_capture(&r, &it, &shape, &f.chunk, NULL, 0, 0.0, &err), 0);
    assert_null(r.chunk.layer_error);
    assert_null(r.chunk.predictions);
    assert_int_equal(r.n_profiles, 0);
    assert_int_equal(r.size, 8 * (10 + 2 * N));
    cim_mc_result_free(&r);
    /* a chunk that is not its item's */
    const cim_mc_item other = {0, 0, N + 1};
    assert_int_equal(cim_mc_result_capture(&r, &other, &shape, &f.chunk, NULL, 0, 0.0, &err),
                     CIM_ERR_INPUT);
}

/* A block fits only the shape it was captured with (a rank with other
 * inputs gives another). */
static void test_block_fits_its_shape(void **state)
{
    (void)state;
    fake_chunk f;
    cim_mc_result r;
    capture_full(&r, &f, 0, 0, 0, 0.0);
    assert_true(cim_mc_result_fits(&r, &shape));
    const int64_t other_slots[LAYERS] = {4, 0, 7};
    const cim_mc_result_shape others[] = {
        {LAYERS - 1, PRED, LAYERS, slots},   {LAYERS, PRED + 1, LAYERS, slots},
        {LAYERS, PRED, LAYERS, other_slots}, {0, PRED, LAYERS, slots},
        {LAYERS, 0, LAYERS, slots},          {LAYERS, PRED, 0, NULL}};
    for (size_t i = 0; i < sizeof others / sizeof *others; ++i)
        assert_false(cim_mc_result_fits(&r, &others[i]));
    cim_mc_result_free(&r);
}

static int adopt_copy(const unsigned char *bytes, size_t size)
{
    cim_mc_result r;
    cim_error err;
    unsigned char *copy = malloc(size > 0 ? size : 1);
    memcpy(copy, bytes, size);
    cim_error_clear(&err);
    const int rc = cim_mc_result_adopt(&r, copy, size, &err);
    if (rc == 0)
        cim_mc_result_free(&r);
    else
        assert_non_null(strstr(err.msg, "malformed result block"));
    return rc;
}

static void test_malformed_blocks_refused(void **state)
{
    (void)state;
    fake_chunk f;
    cim_mc_result r;
    capture_full(&r, &f, 1, 16, 1, 0.5);
    assert_int_equal(adopt_copy(r.bytes, r.size), 0);
    for (size_t cut = 0; cut < r.size; cut += 8) /* every truncation */
        assert_int_equal(adopt_copy(r.bytes, cut), CIM_ERR_IO);
    unsigned char *bad = malloc(r.size);
    int64_t *h = (int64_t *)bad;
    const int words[] = {0, 3, 6, 7, 8, 9}; /* magic, n, n_layers, n_pred, n_profiles, size */
    const int64_t values[] = {0, -1, 1 << 21, INT64_MAX / 2};
    for (size_t w = 0; w < sizeof words / sizeof *words; ++w)
        for (size_t v = 0; v < sizeof values / sizeof *values; ++v) {
            memcpy(bad, r.bytes, r.size);
            h[words[w]] = values[v];
            assert_int_equal(adopt_copy(bad, r.size), CIM_ERR_IO);
        }
    /* a profile slot count that points past the end */
    memcpy(bad, r.bytes, r.size);
    h[10 + 2 * N + N * LAYERS + 2] = 1000;
    assert_int_equal(adopt_copy(bad, r.size), CIM_ERR_IO);
    free(bad);
    cim_mc_result_free(&r);
}

/* ---- the work in one process ---------------------------------------------- */

typedef struct job {
    int64_t n_trials;
    int32_t chunk;
    int64_t delivered, fail_at, stop_after;
    int64_t next_trial;
    double last_progress;
} job;

static void item_of(void *ctx, int64_t k, cim_mc_item *it)
{
    const job *j = ctx;
    const int64_t t0 = k * j->chunk;
    *it =
        (cim_mc_item){7, t0, (int32_t)(j->n_trials - t0 < j->chunk ? j->n_trials - t0 : j->chunk)};
}

static int compute(void *ctx, const cim_mc_item *it, void *emit, cim_error *err)
{
    const job *j = ctx;
    fake_chunk f;
    if (it->trial_first == j->fail_at)
        return cim_error_set(err, CIM_ERR_OPENCL, "fake device lost at trial %lld",
                             (long long)it->trial_first);
    fill(&f, it->trial_first, it->n);
    cim_mc_work_progress(emit, 0.5);
    int rc = cim_mc_work_profiles(emit, it->trial_first, it->n, f.profiles, err);
    return rc != 0 ? rc : cim_mc_work_sink(emit, &f.chunk, err);
}

static int deliver(void *ctx, const cim_mc_result *r, cim_error *err)
{
    job *j = ctx;
    fake_chunk f;
    (void)err;
    assert_int_equal(r->item.config, 7);
    assert_int_equal(r->chunk.trial_first, j->next_trial); /* in order, none missing */
    fill(&f, r->chunk.trial_first, r->chunk.n);
    assert_holds(r, &f, r->chunk.trial_first, r->chunk.n);
    j->next_trial += r->chunk.n;
    j->delivered++;
    return 0;
}

static int poll_stop(void *ctx, cim_error *err)
{
    const job *j = ctx;
    return j->delivered == j->stop_after
               ? cim_error_set(err, CIM_ERR_INTERRUPTED, "stop requested after %lld items",
                               (long long)j->delivered)
               : 0;
}

static void progress(void *ctx, double chips)
{
    job *j = ctx;
    assert_true(chips >= j->last_progress); /* never backwards */
    j->last_progress = chips;
}

static cim_mc_work_ops ops_for(job *j)
{
    return (cim_mc_work_ops){.ctx = j,
                             .n_items = (j->n_trials + j->chunk - 1) / j->chunk,
                             .shape = shape,
                             .item = item_of,
                             .compute = compute,
                             .deliver = deliver,
                             .poll = poll_stop,
                             .progress = progress};
}

static void test_items_delivered_in_order(void **state)
{
    (void)state;
    job j = {.n_trials = 37, .chunk = 16, .fail_at = -1, .stop_after = -1};
    const cim_mc_work_ops ops = ops_for(&j);
    cim_mc_work_stats st;
    cim_error err;
    cim_error_clear(&err);
    assert_int_equal(cim_mc_work_run(&ops, &st, &err), 0);
    assert_int_equal(j.delivered, 3); /* 16 + 16 + 5 */
    assert_int_equal(j.next_trial, 37);
    assert_true(j.last_progress == 37.0);
    assert_int_equal(st.items, 3);
    assert_int_equal(st.items_here, 3);
    assert_int_equal(st.bytes_received, 0);
    assert_int_equal(cim_mc_work_exit_status(), 0);
}

static void test_failure_stops_at_item_boundary(void **state)
{
    (void)state;
    job j = {.n_trials = 64, .chunk = 16, .fail_at = 32, .stop_after = -1};
    const cim_mc_work_ops ops = ops_for(&j);
    cim_error err;
    cim_error_clear(&err);
    assert_int_equal(cim_mc_work_run(&ops, NULL, &err), CIM_ERR_OPENCL);
    assert_string_equal(err.msg, "fake device lost at trial 32");
    assert_int_equal(j.delivered, 2); /* the items before it stay delivered */
    assert_int_equal(cim_mc_work_exit_status(), 1);
}

static void test_poll_stops_the_work(void **state)
{
    (void)state;
    job j = {.n_trials = 64, .chunk = 8, .fail_at = -1, .stop_after = 3};
    const cim_mc_work_ops ops = ops_for(&j);
    cim_error err;
    cim_error_clear(&err);
    assert_int_equal(cim_mc_work_run(&ops, NULL, &err), CIM_ERR_INTERRUPTED);
    assert_int_equal(j.delivered, 3);
}

/* An item whose chunk is not the item's is a bug the work refuses. */
static int compute_wrong(void *ctx, const cim_mc_item *it, void *emit, cim_error *err)
{
    fake_chunk f;
    (void)ctx;
    fill(&f, it->trial_first + 1, it->n);
    return cim_mc_work_sink(emit, &f.chunk, err);
}

static int compute_nothing(void *ctx, const cim_mc_item *it, void *emit, cim_error *err)
{
    (void)ctx;
    (void)it;
    (void)emit;
    (void)err;
    return 0;
}

static void test_wrong_or_missing_chunk_refused(void **state)
{
    (void)state;
    job j = {.n_trials = 16, .chunk = 16, .fail_at = -1, .stop_after = -1};
    cim_mc_work_ops ops = ops_for(&j);
    cim_error err;
    ops.compute = compute_wrong;
    cim_error_clear(&err);
    assert_int_equal(cim_mc_work_run(&ops, NULL, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "came back as trials 1..+16"));
    ops.compute = compute_nothing;
    cim_error_clear(&err);
    assert_int_equal(cim_mc_work_run(&ops, NULL, &err), CIM_ERR_INPUT);
    assert_non_null(strstr(err.msg, "gave no result"));
    assert_int_equal(j.delivered, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_round_trip),
        cmocka_unit_test(test_block_without_extras),
        cmocka_unit_test(test_malformed_blocks_refused),
        cmocka_unit_test(test_block_fits_its_shape),
        cmocka_unit_test(test_items_delivered_in_order),
        cmocka_unit_test(test_failure_stops_at_item_boundary),
        cmocka_unit_test(test_poll_stops_the_work),
        cmocka_unit_test(test_wrong_or_missing_chunk_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
