/* cim_disturb.h -- read disturb on the host: the drift law of LRS cells under
 * repeated reads, and the schedule of drift and refreshes that one tile of a
 * chip goes through over its MVMs (docs/physics/read_disturb.md).
 *
 * The law. With p = c1 exp(a |V_read| / (kT/q)), a cell of n write cycles
 * keeps its LRS current until its accumulated read time r * t_read reaches
 *     tau(n) = t0 F^(1/p) (1 - k n^m)^(1/p)      (tau = 0 once k n^m >= 1)
 * and then carries LRS * g with g(r, n) = (r t_read / tau(n))^(-p) (g = 0
 * when tau = 0). Evaluated in long double, once, on the host; the results
 * become integers once: LRS * g in fine units (2^-CIM_FINE_FRAC_BITS nA) and
 * g in Q32, both rounded to nearest (ties away from zero).
 *
 * The schedule. A tile is its own crossbar, programmed once per chip (trial)
 * at MVM index 0; MVM k of the tile is the (k+1)-th MVM since then (k =
 * image position in the trial's image order * MVMs per image of the layer +
 * MVM within the image). Every state rule depends on k alone, never on data,
 * and every drifting LRS cell of a tile has the same history: the same
 * initial cycles n0, the same read counts (R, or r for CELL_BASED: all reset
 * together), the same nominal LRS * g and therefore the same refresh
 * decisions. So one schedule per layer serves every chip, every tile and
 * every drifting LRS cell of that layer. Over k it is a sequence of runs,
 * each opened by the programming (epoch 0) or by a refresh (epoch e >= 1:
 * the e-th refresh, whose fresh D2D draws the caller keys by (chip, tile,
 * cell, e) through cim_rng.h; this module only reports e). Inside a run that
 * starts at MVM s, the update after MVM s + j*f - 1 (j >= 1) sets
 * g(j*f, n0 + e); MVM k sees the value of the last update before it, so:
 *     [s, s + f)                the programmed currents of epoch e
 *     [s + j f, s + (j+1) f)    drifted, g(j f, n0 + e)   (j >= 1)
 * and a run ends with the update that triggers a refresh (that update's
 * drift is never seen). Runs of equal length are stored as one group, so the
 * schedule is small whatever the number of MVMs (docs: cost).
 *
 * Intended use (the integration into the reads): build one schedule per
 * layer for the MVMs a chip's tile sees in the run (images x MVMs per
 * image), then for the MVMs of a batch ask cim_disturb_at(k) -- or walk
 * k = seg.k_end from one segment to the next -- and give each drifting LRS
 * cell cim_drift_current(programmed current of seg.epoch, seg.drifted, model,
 * seg.lrs_fine, seg.g_q32) (kernels/cim_drift.h). Cells that do not drift
 * (HRS cells, the slots cim_disturb_slot_drifts rejects, stuck cells) carry
 * their programmed current of seg.xbar_epoch. Counters for a results file:
 * cim_disturb_counters_at(K) with the tile's cell counts.
 *
 * Nothing here allocates except cim_disturb_schedule_build (freed by
 * cim_disturb_schedule_free); every other function is pure.
 */
#ifndef CIM_DISTURB_H
#define CIM_DISTURB_H

#include <stdint.h>

#include "cim_drift.h"
#include "cim_mappings.h"

/* Mitigation strategies (config key read_disturb_mitigation_strategy). */
#define CIM_DISTURB_OFF 0
#define CIM_DISTURB_SOFTWARE 1
#define CIM_DISTURB_CELL_BASED 2

/* The law's constants (the analytical post-cycling read-disturb model). */
#define CIM_DISTURB_T0 1.55e-8L /* s */
#define CIM_DISTURB_F 1.43339L
#define CIM_DISTURB_C1 0.0068L
#define CIM_DISTURB_A 0.11L
#define CIM_DISTURB_K 0.003L
#define CIM_DISTURB_M 0.41L
#define CIM_DISTURB_KT_Q (1.38064852e-23L * 300.0L / 1.602176634e-19L) /* V */

/* Return codes of cim_disturb_schedule_build. */
#define CIM_DISTURB_ERR_NOMEM (-1)
#define CIM_DISTURB_ERR_PARAMS (-2)

/* ---------------------------------------------------------------------------
 * The law
 */

typedef struct cim_disturb_law {
    long double p;             /* exponent, from |V_read| */
    long double t_read;        /* s per read */
    long double log_t0, log_f; /* log t0, log F */
} cim_disturb_law;

/* p = c1 exp(a |v_read| / (kT/q)); only |v_read| is used. */
long double cim_disturb_p(double v_read);

void cim_disturb_law_init(cim_disturb_law *law, double v_read, double t_read);

/* tau(n) in s; exactly 0 when k n^m >= 1, which in this long double form
 * holds from n = 1423518 on (the exact bound is 1423517.44). n >= 0. */
long double cim_disturb_tau(const cim_disturb_law *law, int64_t n);

/* g(r, n) in [0, 1]: 1 while r t_read < tau(n), else (r t_read / tau)^-p,
 * 0 when tau(n) = 0 (any r). Non-increasing in r and in n. r, n >= 0. */
long double cim_disturb_g(const cim_disturb_law *law, int64_t r, int64_t n);

/* round(lrs_na * 2^CIM_FINE_FRAC_BITS * g): the drifted nominal LRS current
 * in fine units, to nearest, ties away from zero. */
int64_t cim_disturb_lrs_fine(int32_t lrs_na, long double g);

/* round(g * 2^32), to nearest, ties away from zero: 0 ... 2^32. */
int64_t cim_disturb_g_q32(long double g);

/* ---------------------------------------------------------------------------
 * Which cells take part
 */

/* 1 if the Q cells of `mapping` drift and are refreshed: BNN_I, BNN_II,
 * BNN_VI, TNN_I, TNN_II, TNN_III. In BNN_III/IV there are none; in BNN_V,
 * TNN_IV and TNN_V they never drift, are never refreshed and never counted
 * as refreshed, though a SOFTWARE refresh counts their cycles. */
int cim_disturb_q_cells_drift(cim_mapping_id mapping);

/* 1 if cell slot `slot` of `mapping` (cim_mappings.h) drifts when LRS: the
 * P slots always, the Q slots where cim_disturb_q_cells_drift. */
int cim_disturb_slot_drifts(cim_mapping_id mapping, int slot);

/* Cell counts of a tile, for the counters. */
typedef struct cim_disturb_cells {
    int64_t cells;        /* cells whose cycles are summed (every used slot) */
    int64_t lrs;          /* LRS cells among them */
    int64_t lrs_drifting; /* LRS cells in slots that drift */
} cim_disturb_cells;

/* Adds the cells of one weight w (valid for the mapping) to *c: every used
 * slot is a cell; its state from the mapping's table. Stuck cells take no
 * part in read disturb: a caller with stuck-at faults leaves them out. */
void cim_disturb_count_weight(cim_mapping_id mapping, int w, cim_disturb_cells *c);

/* ---------------------------------------------------------------------------
 * The schedule
 */

typedef struct cim_disturb_params {
    double v_read;          /* V; only |V_read| is used (the config requires < 0) */
    double t_read;          /* s per read, > 0 */
    int32_t update_freq;    /* f: update after every f-th MVM, >= 1 */
    int strategy;           /* CIM_DISTURB_OFF / SOFTWARE / CELL_BASED */
    double fp;              /* SOFTWARE: refresh once R t_read >= fp tau(write + refreshes), >= 1 */
    double tol;             /* CELL_BASED: refresh once LRS g < (1 - tol) LRS, in [0, 1] */
    int64_t initial_cycles; /* n0: cycles of every cell before the programming, >= 0 */
    int32_t lrs_na;         /* nominal LRS current (nA, the resolved cim_xbar value), >= 0 */
} cim_disturb_params;

/* 1 if every field is in its range (fp only for SOFTWARE, tol only for
 * CELL_BASED); 0 otherwise. */
int cim_disturb_params_valid(const cim_disturb_params *p);

/* Runs of equal length: run i (0 <= i < runs) covers MVMs
 * [k_begin + i run_len, k_begin + (i+1) run_len) with epoch `epoch + i`
 * and drifting cells of n0 + epoch + i cycles. closed: each run ends with a
 * refresh after its last MVM; else the group is the one open run that lasts
 * to the end of the schedule. */
typedef struct cim_disturb_group {
    int64_t k_begin, run_len, runs, epoch;
    int closed;
} cim_disturb_group;

typedef struct cim_disturb_schedule {
    cim_disturb_params params;
    cim_disturb_law law;
    int64_t n_mvms;    /* K: MVMs 0 .. K-1 */
    int64_t refreshes; /* refresh events after MVMs 0 .. K-1 */
    cim_disturb_group *groups;
    int64_t n_groups; /* groups in k order; 0 when K = 0 */
} cim_disturb_schedule;

/* Builds the schedule of `n_mvms` MVMs (>= 0) for *p: 0, or
 * CIM_DISTURB_ERR_PARAMS (!cim_disturb_params_valid, n_mvms < 0) or
 * CIM_DISTURB_ERR_NOMEM with *s empty. Cost: a few evaluations of the law
 * per group plus a binary search per change of run length. */
int cim_disturb_schedule_build(cim_disturb_schedule *s, const cim_disturb_params *p,
                               int64_t n_mvms);

void cim_disturb_schedule_free(cim_disturb_schedule *s);

/* What the drifting LRS cells carry over MVMs [k_begin, k_end) (one value
 * for the whole interval). */
typedef struct cim_disturb_segment {
    int64_t k_begin, k_end;
    int64_t epoch;      /* their last programming: 0 the chip's, e >= 1 the e-th refresh */
    int64_t xbar_epoch; /* the programming of every other cell: SOFTWARE refreshes so far
                           (a SOFTWARE refresh re-programs the whole crossbar), else 0 */
    int64_t cycles;     /* n of the drifting LRS cells: n0 + epoch */
    int drifted;        /* 0: programmed currents of `epoch`; 1: drifted as below */
    int64_t lrs_fine;   /* drifted: cim_disturb_lrs_fine(lrs_na, g); else 0 */
    int64_t g_q32;      /* drifted: cim_disturb_g_q32(g); else 2^32 */
} cim_disturb_segment;

/* The segment valid for MVM k, 0 <= k < n_mvms: 0, or -1 for k out of range.
 * It is the programmed interval of a run, the plateau of updates whose g is
 * exactly 1 (merged), or one update interval (f MVMs, less at a run's or
 * the schedule's end); neighbouring update intervals may carry equal
 * values. O(log n_groups) plus a few evaluations of the law. */
int cim_disturb_at(const cim_disturb_schedule *s, int64_t k, cim_disturb_segment *seg);

/* Counters after MVMs 0 .. k-1 (0 <= k <= n_mvms) of one tile whose cells
 * are counted in *cells. */
typedef struct cim_disturb_counters {
    int64_t write;        /* programmings: 1 */
    int64_t refresh_xbar; /* SOFTWARE refreshes */
    int64_t refresh_cell; /* cell refreshes (drifting LRS cells, both strategies) */
    int64_t cycles;       /* sum of the cells' cycle counts, n0 included */
} cim_disturb_counters;

/* 0, or -1 for k out of range (*c then zero). */
int cim_disturb_counters_at(const cim_disturb_schedule *s, int64_t k,
                            const cim_disturb_cells *cells, cim_disturb_counters *c);

/* The drift table of the reads of one MVM call: out[i] for MVM mvm_first + i
 * (0 <= i < n), every MVM below s->n_mvms. 0, or -1 when a k is out of
 * range. Walks the segments, so it costs a lookup per segment, not per MVM. */
int cim_disturb_reads(const cim_disturb_schedule *s, int64_t mvm_first, int64_t n,
                      cim_drift_read *out);

#endif /* CIM_DISTURB_H */
