/* cim_disturb.c -- the read-disturb drift law and a tile's schedule of drift
 * and refreshes over its MVMs (cim_disturb.h; docs/physics/read_disturb.md).
 *
 * The law is evaluated in long double in the form that never underflows:
 * log tau(n) = log t0 + (log F + log h) / p with h = 1 - k n^m, and
 * g = (tau / (r t_read))^p = F h (t0 / (r t_read))^p, so tau^(1/p)-sized
 * intermediates (1e-1000 at |V_read| = 0.2 V near the cycle bound) never
 * appear. Its results become integers once (lrs_fine, g_q32).
 *
 * The schedule is built run by run: a run of epoch e starts at MVM s (the
 * programming or the MVM after a refresh) and ends with the first update j
 * (after MVM s + j f - 1) whose refresh test holds:
 *   SOFTWARE    j f t_read >= fp tau(1 + e)   (write = 1 plus e refreshes)
 *   CELL_BASED  g(j f, n0 + e) < 1 - tol      (the band's lower edge; g <= 1
 *                                              never leaves the upper one)
 *   OFF         never
 * The first such j comes from the closed form of the test, made exact by
 * evaluating the test itself next to it. Both tests are monotone in j and
 * in e (tau falls with its cycle count, g with r and n), so the run length
 * never grows with e; the runs of one length form a group, whose end is
 * found by a galloping then binary search over e. A run that does not end
 * within the schedule is the final, open group.
 *
 * Invariants: groups are in k order and cover [0, n_mvms) without gaps;
 * group g's epoch equals the number of closed runs before it.
 */
#include "cim_disturb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cim_mapping.h"

/* ---------------------------------------------------------------------------
 * The law
 */

long double cim_disturb_p(double v_read)
{
    return CIM_DISTURB_C1 * expl(CIM_DISTURB_A * fabsl((long double)v_read) / CIM_DISTURB_KT_Q);
}

void cim_disturb_law_init(cim_disturb_law *law, double v_read, double t_read)
{
    law->p = cim_disturb_p(v_read);
    law->t_read = t_read;
    law->log_t0 = logl(CIM_DISTURB_T0);
    law->log_f = logl(CIM_DISTURB_F);
}

/* What the law needs of one cycle count n: h = 1 - k n^m (tau > 0 exactly
 * when h > 0), log h and tau(n). */
typedef struct law_at_n {
    int alive; /* h > 0 */
    long double log_h, tau;
} law_at_n;

static law_at_n law_at(const cim_disturb_law *law, int64_t n)
{
    law_at_n a = {0, 0, 0};
    const long double h = 1.0L - CIM_DISTURB_K * powl((long double)n, CIM_DISTURB_M);
    if (h > 0) {
        a.alive = 1;
        a.log_h = logl(h);
        a.tau = expl(law->log_t0 + (law->log_f + a.log_h) / law->p);
    }
    return a;
}

/* g(r, n) from the law at n. */
static long double g_at(const cim_disturb_law *law, const law_at_n *a, int64_t r)
{
    if (!a->alive)
        return 0;
    const long double rt = (long double)r * law->t_read;
    if (rt < a->tau)
        return 1;
    /* rt >= tau > 0: (tau / rt)^p = F h (t0 / rt)^p, at most 1 up to rounding */
    const long double g = expl(law->p * (law->log_t0 - logl(rt)) + law->log_f + a->log_h);
    return g < 1 ? g : 1;
}

long double cim_disturb_tau(const cim_disturb_law *law, int64_t n)
{
    return law_at(law, n).tau;
}

long double cim_disturb_g(const cim_disturb_law *law, int64_t r, int64_t n)
{
    const law_at_n a = law_at(law, n);
    return g_at(law, &a, r);
}

int64_t cim_disturb_lrs_fine(int32_t lrs_na, long double g)
{
    return llroundl(ldexpl((long double)lrs_na * g, CIM_FINE_FRAC_BITS));
}

int64_t cim_disturb_g_q32(long double g)
{
    return llroundl(ldexpl(g, CIM_DRIFT_G_FRAC_BITS));
}

/* ---------------------------------------------------------------------------
 * Which cells take part
 */

int cim_disturb_q_cells_drift(cim_mapping_id mapping)
{
    /* exactly the mappings whose column current is a difference */
    return (unsigned)mapping < CIM_MAPPING_COUNT && CIM_MAPPINGS[mapping].signed_current;
}

int cim_disturb_slot_drifts(cim_mapping_id mapping, int slot)
{
    if ((unsigned)mapping >= CIM_MAPPING_COUNT || slot < 0 || slot >= CIM_MAPPINGS[mapping].n_slots)
        return 0;
    return cim_drift_slot(&CIM_MAPPINGS[mapping], slot); /* kernels/cim_drift.h */
}

void cim_disturb_count_weight(cim_mapping_id mapping, int w, cim_disturb_cells *c)
{
    const cim_mapping_desc *d = &CIM_MAPPINGS[mapping];
    for (int s = 0; s < d->n_slots; ++s) {
        const int lrs = cim_mapping_cell_state(mapping, s, w) == 1;
        c->cells += 1;
        c->lrs += lrs;
        c->lrs_drifting += lrs && cim_disturb_slot_drifts(mapping, s);
    }
}

/* ---------------------------------------------------------------------------
 * Refresh tests
 */

int cim_disturb_params_valid(const cim_disturb_params *p)
{
    if (!(isfinite(p->v_read) && isfinite(p->t_read) && p->t_read > 0))
        return 0;
    if (p->update_freq < 1 || p->initial_cycles < 0 || p->lrs_na < 0)
        return 0;
    switch (p->strategy) {
    case CIM_DISTURB_OFF:
        return 1;
    case CIM_DISTURB_SOFTWARE:
        return isfinite(p->fp) && p->fp >= 1;
    case CIM_DISTURB_CELL_BASED:
        return isfinite(p->tol) && p->tol >= 0 && p->tol <= 1;
    default:
        return 0;
    }
}

/* A j beyond every horizon (j * f stays far below INT64_MAX). */
#define NEVER ((int64_t)1 << 62)

/* Whether the update j (>= 1) of a run of epoch e triggers a refresh. */
static int refresh_test(const cim_disturb_schedule *s, int64_t j, int64_t e)
{
    const cim_disturb_params *p = &s->params;
    const int64_t reads = j * p->update_freq;
    switch (p->strategy) {
    case CIM_DISTURB_SOFTWARE:
        return (long double)reads * s->law.t_read >=
               (long double)p->fp * cim_disturb_tau(&s->law, 1 + e);
    case CIM_DISTURB_CELL_BASED:
        return cim_disturb_g(&s->law, reads, p->initial_cycles + e) < 1.0L - (long double)p->tol;
    default:
        return 0;
    }
}

/* An estimate (within one, up to rounding) of the first j whose test holds
 * in a run of epoch e, from the tests' closed forms; NEVER if none does. */
static int64_t refresh_estimate(const cim_disturb_schedule *s, int64_t e)
{
    const cim_disturb_params *p = &s->params;
    const long double per_update = s->law.t_read * (long double)p->update_freq;
    long double x;
    switch (p->strategy) {
    case CIM_DISTURB_SOFTWARE:
        /* j >= fp tau / (f t_read) */
        x = ceill((long double)p->fp * cim_disturb_tau(&s->law, 1 + e) / per_update);
        break;
    case CIM_DISTURB_CELL_BASED: {
        /* g(r) < c  <=>  r t_read > tau c^(-1/p), for 0 < c <= 1 */
        const long double c = 1.0L - (long double)p->tol;
        if (!(c > 0))
            return NEVER;
        const long double tau = cim_disturb_tau(&s->law, p->initial_cycles + e);
        x = floorl(tau * expl(-logl(c) / s->law.p) / per_update) + 1;
        break;
    }
    default:
        return NEVER;
    }
    if (!(x < (long double)NEVER))
        return NEVER;
    return x < 1 ? 1 : (int64_t)x;
}

/* The first update j in 1 .. jmax of a run of epoch e that triggers a
 * refresh, or 0 if none does. */
static int64_t first_refresh(const cim_disturb_schedule *s, int64_t e, int64_t jmax)
{
    if (jmax < 1 || s->params.strategy == CIM_DISTURB_OFF)
        return 0;
    int64_t j = refresh_estimate(s, e);
    if (j > jmax + 1)
        j = jmax + 1;
    while (j > 1 && refresh_test(s, j - 1, e))
        --j;
    while (j <= jmax && !refresh_test(s, j, e))
        ++j;
    return j <= jmax ? j : 0;
}

/* Whether a run of epoch e has its first refresh at update j exactly. */
static int run_ends_at(const cim_disturb_schedule *s, int64_t e, int64_t j)
{
    return refresh_test(s, j, e) && (j == 1 || !refresh_test(s, j - 1, e));
}

/* ---------------------------------------------------------------------------
 * Building
 */

static int add_group(cim_disturb_schedule *s, int64_t *cap, cim_disturb_group g)
{
    if (s->n_groups == *cap) {
        const int64_t grown = *cap ? 2 * *cap : 16;
        cim_disturb_group *p = realloc(s->groups, (size_t)grown * sizeof *p);
        if (!p)
            return CIM_DISTURB_ERR_NOMEM;
        s->groups = p;
        *cap = grown;
    }
    s->groups[s->n_groups++] = g;
    return 0;
}

/* How many consecutive runs, from epoch e on, end at update j, at most
 * max_runs (>= 1; the first is known to). The runs that do form a prefix
 * (run lengths never grow with e): gallop, then bisect. */
static int64_t runs_of_length(const cim_disturb_schedule *s, int64_t e, int64_t j, int64_t max_runs)
{
    int64_t good = 0, bad = max_runs; /* offsets: good ends at j, bad does not (or is too far) */
    for (int64_t step = 1; good + step < bad; step *= 2) {
        if (!run_ends_at(s, e + good + step, j)) {
            bad = good + step;
            break;
        }
        good += step;
    }
    while (bad - good > 1) {
        const int64_t mid = good + (bad - good) / 2;
        if (run_ends_at(s, e + mid, j))
            good = mid;
        else
            bad = mid;
    }
    return good + 1;
}

int cim_disturb_schedule_build(cim_disturb_schedule *s, const cim_disturb_params *p, int64_t n_mvms)
{
    memset(s, 0, sizeof *s);
    if (!cim_disturb_params_valid(p) || n_mvms < 0)
        return CIM_DISTURB_ERR_PARAMS;
    s->params = *p;
    cim_disturb_law_init(&s->law, p->v_read, p->t_read);
    s->n_mvms = n_mvms;
    const int64_t f = p->update_freq;
    int64_t cap = 0, k = 0, e = 0;
    while (k < n_mvms) {
        const int64_t j = first_refresh(s, e, (n_mvms - k) / f);
        cim_disturb_group g = {k, n_mvms - k, 1, e, 0};
        if (j > 0) {
            g.run_len = j * f;
            g.runs = runs_of_length(s, e, j, (n_mvms - k) / g.run_len);
            g.closed = 1;
        }
        if (add_group(s, &cap, g)) {
            cim_disturb_schedule_free(s);
            return CIM_DISTURB_ERR_NOMEM;
        }
        k += g.run_len * g.runs;
        e += g.closed ? g.runs : 0;
    }
    s->refreshes = e;
    return 0;
}

void cim_disturb_schedule_free(cim_disturb_schedule *s)
{
    free(s->groups);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------
 * Lookups
 */

/* The last group whose k_begin <= k (n_groups >= 1). */
static const cim_disturb_group *group_of(const cim_disturb_schedule *s, int64_t k)
{
    int64_t lo = 0, hi = s->n_groups;
    while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (s->groups[mid].k_begin <= k)
            lo = mid;
        else
            hi = mid;
    }
    return &s->groups[lo];
}

static int64_t min64(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

/* The last update j' >= j (whose g is 1) of the plateau g(j' f, n) = 1,
 * at most jlast. */
static int64_t plateau_end(const cim_disturb_schedule *s, const law_at_n *a, int64_t j,
                           int64_t jlast)
{
    const int64_t f = s->params.update_freq;
    /* g = 1 exactly while j' f t_read < tau(n) */
    const long double x = ceill(a->tau / (s->law.t_read * (long double)f)) - 1;
    int64_t end = x < (long double)jlast ? (int64_t)x : jlast;
    if (end < j)
        end = j;
    while (end < jlast && g_at(&s->law, a, (end + 1) * f) == 1)
        ++end;
    while (end > j && g_at(&s->law, a, end * f) != 1)
        --end;
    return end;
}

int cim_disturb_at(const cim_disturb_schedule *s, int64_t k, cim_disturb_segment *seg)
{
    memset(seg, 0, sizeof *seg);
    if (k < 0 || k >= s->n_mvms)
        return -1;
    const cim_disturb_group *g = group_of(s, k);
    const int64_t f = s->params.update_freq;
    const int64_t i = (k - g->k_begin) / g->run_len;
    const int64_t start = g->k_begin + i * g->run_len, end = start + g->run_len;
    const int64_t j = (k - start) / f;
    seg->epoch = g->epoch + i;
    seg->xbar_epoch = s->params.strategy == CIM_DISTURB_SOFTWARE ? seg->epoch : 0;
    seg->cycles = s->params.initial_cycles + seg->epoch;
    seg->g_q32 = (int64_t)1 << CIM_DRIFT_G_FRAC_BITS;
    if (j == 0) {
        seg->k_begin = start;
        seg->k_end = min64(start + f, end);
        return 0;
    }
    const law_at_n a = law_at(&s->law, seg->cycles);
    const long double gv = g_at(&s->law, &a, j * f);
    seg->drifted = 1;
    seg->lrs_fine = cim_disturb_lrs_fine(s->params.lrs_na, gv);
    seg->g_q32 = cim_disturb_g_q32(gv);
    if (gv == 1) {
        seg->k_begin = start + f;
        seg->k_end = min64(start + (plateau_end(s, &a, j, (end - 1 - start) / f) + 1) * f, end);
    } else {
        seg->k_begin = start + j * f;
        seg->k_end = min64(start + (j + 1) * f, end);
    }
    return 0;
}

int cim_disturb_counters_at(const cim_disturb_schedule *s, int64_t k,
                            const cim_disturb_cells *cells, cim_disturb_counters *c)
{
    memset(c, 0, sizeof *c);
    if (k < 0 || k > s->n_mvms)
        return -1;
    int64_t e = 0;
    if (s->n_groups > 0) {
        const cim_disturb_group *g = group_of(s, k);
        e = g->epoch + (g->closed ? min64((k - g->k_begin) / g->run_len, g->runs) : 0);
    }
    const int strategy = s->params.strategy;
    c->write = 1;
    c->refresh_xbar = strategy == CIM_DISTURB_SOFTWARE ? e : 0;
    c->refresh_cell = e * cells->lrs_drifting;
    c->cycles = s->params.initial_cycles * cells->cells;
    if (strategy == CIM_DISTURB_SOFTWARE)
        c->cycles += e * cells->lrs; /* every LRS cell is re-programmed */
    else if (strategy == CIM_DISTURB_CELL_BASED)
        c->cycles += e * cells->lrs_drifting;
    return 0;
}

int cim_disturb_reads(const cim_disturb_schedule *s, int64_t mvm_first, int64_t n,
                      cim_drift_read *out)
{
    int64_t i = 0;
    while (i < n) {
        cim_disturb_segment seg;
        if (cim_disturb_at(s, mvm_first + i, &seg) != 0)
            return -1;
        const cim_drift_read r = {seg.drifted,  seg.epoch, seg.xbar_epoch,
                                  seg.lrs_fine, seg.g_q32, 0};
        for (; i < n && mvm_first + i < seg.k_end; ++i)
            out[i] = r;
    }
    return 0;
}
