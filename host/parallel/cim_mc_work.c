/* cim_mc_work.c -- see cim_mc_work.h.
 *
 * Messages (MPI_COMM_WORLD), between rank 0 and each other rank:
 *   WORK   0 -> k: an item (config, trial_first, n); n = 0 is STOP, its
 *          trial_first the exit status every rank returns, its config 1 when
 *          a rank is gone (then nobody calls MPI_Finalize, whose closing
 *          fence would wait for the dead);
 *   RESULT k -> 0: a result block (cim_mc_result.h) of k's oldest item;
 *   FAIL   k -> 0: k's error (code, then its message) -- k then waits for STOP;
 *   BYE    k -> 0: after STOP; rank 0 receives (and drops) whatever k still
 *          sent before it, so that every send completes.
 * Messages between two ranks arrive in the order sent, so rank 0 knows
 * which item a RESULT is: the oldest it gave that rank and has not heard of.
 * Results are sent and received without waiting (MPI_Isend, MPI_Irecv): a
 * large message moves only while both ends call MPI, and neither should
 * stop computing or serving for the other.
 * Nobody blocks inside MPI while work is pending: waits poll (MPI_Iprobe)
 * with short sleeps, so that signals are seen.
 */
#include "cim_mc_work.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cim_clock.h"
#include "cim_ranks.h"
#include "cim_signal.h"

#ifdef CIM_HAVE_MPI
#include <mpi.h>
#endif

enum { TAG_WORK = 7101, TAG_RESULT, TAG_FAIL, TAG_BYE };

static int stop_status; /* what STOP said (or rank 0 decided) */

int cim_mc_work_exit_status(void)
{
    return stop_status;
}

/* The status for a failure rc: 128 + the signal for an interruption. */
static int status_of(int rc)
{
    const int sig = cim_signal_caught();
    if (rc == 0)
        return 0;
    return rc == CIM_ERR_INTERRUPTED && sig ? cim_signal_exit_status(sig) : cim_error_exit_code(rc);
}

/* ---- one item's computation ------------------------------------------- */

typedef struct emit_ctx {
    const cim_mc_work_ops *ops;
    cim_mc_item item;
    double start;
    uint64_t *const *profiles; /* the chunk's, until its counts arrive */
    cim_mc_result result;      /* the captured chunk */
    int captured;
    void (*on_progress)(struct emit_ctx *e, double done); /* rank 0 only */
    void *owner;
} emit_ctx;

int cim_mc_work_profiles(void *emit, int64_t trial_first, int32_t n, uint64_t *const *profiles,
                         cim_error *err)
{
    emit_ctx *e = emit;
    (void)trial_first;
    (void)n;
    (void)err;
    e->profiles = profiles;
    return 0;
}

int cim_mc_work_sink(void *emit, const cim_mc_chunk *chunk, cim_error *err)
{
    emit_ctx *e = emit;
    if (e->captured || chunk->trial_first != e->item.trial_first || chunk->n != e->item.n)
        return cim_error_set(
            err, CIM_ERR_INPUT, "work item of trials %lld..+%d came back as trials %lld..+%d",
            (long long)e->item.trial_first, e->item.n, (long long)chunk->trial_first, chunk->n);
    const int rc = cim_mc_result_capture(&e->result, &e->item, &e->ops->shape, chunk, e->profiles,
                                         cim_ranks_self()->rank, cim_clock_now_s() - e->start, err);
    e->captured = rc == 0;
    return rc;
}

void cim_mc_work_progress(void *emit, double done)
{
    emit_ctx *e = emit;
    if (e->on_progress)
        e->on_progress(e, done);
}

/* Item it computed here into *out (owned by the caller on success). */
static int compute_item(const cim_mc_work_ops *ops, const cim_mc_item *it, emit_ctx *e,
                        cim_mc_result *out, cim_error *err)
{
    e->ops = ops;
    e->item = *it;
    e->start = cim_clock_now_s();
    e->profiles = NULL;
    e->captured = 0;
    int rc = ops->compute(ops->ctx, it, e, err);
    if (rc == 0 && !e->captured)
        rc = cim_error_set(err, CIM_ERR_INPUT, "work item of trials %lld..+%d gave no result",
                           (long long)it->trial_first, it->n);
    if (rc != 0) {
        if (e->captured)
            cim_mc_result_free(&e->result);
        return rc;
    }
    *out = e->result;
    return 0;
}

/* Item r to the caller, in its turn, and into the accounts; chips: the
 * delivered ones, r's added. r is freed. */
static int deliver(const cim_mc_work_ops *ops, cim_mc_work_stats *st, cim_mc_result *r,
                   double *chips, cim_error *err)
{
    const double t0 = cim_clock_now_s();
    const int rc = ops->deliver(ops->ctx, r, err);
    st->deliver_s += cim_clock_now_s() - t0;
    st->compute_s += r->seconds;
    st->items++;
    st->items_here += r->rank == 0;
    *chips += r->item.n;
    cim_mc_result_free(r);
    if (rc == 0 && ops->progress)
        ops->progress(ops->ctx, *chips);
    return rc;
}

/* ---- one process ------------------------------------------------------ */

typedef struct local_ctx {
    const cim_mc_work_ops *ops;
    double chips; /* delivered */
} local_ctx;

static void local_progress(emit_ctx *e, double done)
{
    const local_ctx *l = e->owner;
    if (l->ops->progress)
        l->ops->progress(l->ops->ctx, l->chips + done * (double)e->item.n);
}

static int run_local(const cim_mc_work_ops *ops, cim_mc_work_stats *st, cim_error *err)
{
    local_ctx l = {ops, 0};
    emit_ctx e;
    memset(&e, 0, sizeof e);
    e.on_progress = local_progress;
    e.owner = &l;
    for (int64_t k = 0; k < ops->n_items; ++k) {
        cim_mc_item it;
        cim_mc_result r;
        ops->item(ops->ctx, k, &it);
        int rc = compute_item(ops, &it, &e, &r, err);
        if (rc != 0)
            return rc;
        rc = deliver(ops, st, &r, &l.chips, err);
        if (rc == 0 && ops->poll)
            rc = ops->poll(ops->ctx, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

#ifdef CIM_HAVE_MPI

static void nap(void)
{
    const struct timespec ts = {0, 200000}; /* 0.2 ms */
    nanosleep(&ts, NULL);
}

static void send_work(int to, const cim_mc_item *it)
{
    int64_t w[3] = {it->config, it->trial_first, it->n};
    MPI_Send(w, 3, MPI_INT64_T, to, TAG_WORK, MPI_COMM_WORLD);
}

/* ---- rank 0 ------------------------------------------------------------- */

typedef struct incoming { /* a result being received */
    MPI_Request req;
    unsigned char *buf;
    int count, from;
    int64_t k;
} incoming;

typedef struct writer {
    const cim_mc_work_ops *ops;
    cim_mc_work_stats *st;
    int size;
    int64_t window;
    cim_mc_result *ring; /* [window]: finished, not yet delivered; bytes NULL: not finished */
    int64_t next_hand, next_deliver;
    int64_t *given; /* [size][CIM_MC_WORK_AHEAD] items given to each rank, oldest first */
    int *n_given;   /* [size] */
    char *bye;      /* [size]: 1 once rank r said BYE (or is gone) */
    incoming *in;   /* [size * (CIM_MC_WORK_AHEAD + 1)]: a rank's send slots */
    int n_in;
    cim_error *err;    /* the job's error (the first one set wins) */
    int failed;        /* a rank's failure was recorded */
    int fail_rc;       /* its code */
    double chips;      /* delivered */
    double last_check; /* when the ranks of this node were last seen alive */
    int lost;          /* a rank is gone: every rank leaves without MPI_Finalize */
} writer;

static int64_t hand_limit(const writer *w)
{
    const int64_t lim = w->next_deliver + w->window;
    return lim < w->ops->n_items ? lim : w->ops->n_items;
}

/* Records the job's first failure (err keeps the first message). */
static void fail(writer *w, int rc)
{
    if (!w->failed) {
        w->failed = 1;
        w->fail_rc = rc;
    }
}

/* One message from another rank, if one is waiting: 1 when one was taken.
 * A result is received without waiting (MPI_Irecv, completed by
 * complete_results): a large message moves only while its sender calls
 * MPI, and the sender is computing its next item. */
static int receive_one(writer *w, cim_error *err)
{
    MPI_Status status;
    int flag = 0, count = 0;
    if (w->n_in >= w->size * (CIM_MC_WORK_AHEAD + 1)) /* full: complete some first */
        return 0;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status);
    if (!flag)
        return 0;
    const int from = status.MPI_SOURCE, tag = status.MPI_TAG;
    const double t0 = cim_clock_now_s();
    MPI_Get_count(&status, MPI_BYTE, &count);
    unsigned char *buf = malloc(count > 0 ? (size_t)count : 1);
    if (!buf) { /* left in the queue: stop_all drains it */
        fail(w, cim_error_set(err, CIM_ERR_NOMEM, "out of memory for a message of %s",
                              cim_ranks_name(from)));
        return 0;
    }
    if (tag == TAG_RESULT && w->n_given[from] > 0) {
        incoming *in = &w->in[w->n_in++];
        in->k = w->given[from * CIM_MC_WORK_AHEAD];
        memmove(&w->given[from * CIM_MC_WORK_AHEAD], &w->given[from * CIM_MC_WORK_AHEAD + 1],
                sizeof *w->given * (CIM_MC_WORK_AHEAD - 1));
        w->n_given[from]--;
        in->from = from;
        in->buf = buf;
        in->count = count;
        MPI_Irecv(buf, count, MPI_BYTE, from, TAG_RESULT, MPI_COMM_WORLD, &in->req);
        w->st->receive_s += cim_clock_now_s() - t0;
        return 1;
    }
    MPI_Recv(buf, count, MPI_BYTE, from, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    if (tag == TAG_FAIL && count >= (int)sizeof(int)) {
        int code;
        memcpy(&code, buf, sizeof code);
        fail(w, cim_error_set(err, code, "%s: %.*s", cim_ranks_name(from), count - (int)sizeof code,
                              (const char *)buf + sizeof code));
    } else
        fail(w, cim_error_set(err, CIM_ERR_IO, "%s sent an unexpected message (tag %d)",
                              cim_ranks_name(from), tag));
    free(buf);
    return 1;
}

/* The results whose receive has completed, checked, into the ring. */
static void complete_results(writer *w, cim_error *err)
{
    const double t0 = cim_clock_now_s();
    for (int i = 0; i < w->n_in;) {
        incoming *in = &w->in[i];
        int done = 0;
        MPI_Test(&in->req, &done, MPI_STATUS_IGNORE);
        if (!done) {
            ++i;
            continue;
        }
        cim_mc_result *slot = &w->ring[in->k % w->window];
        cim_mc_item it;
        w->st->bytes_received += in->count;
        int rc = cim_mc_result_adopt(slot, in->buf, (size_t)in->count, err);
        w->ops->item(w->ops->ctx, in->k, &it);
        if (rc == 0 && (slot->item.config != it.config ||
                        slot->item.trial_first != it.trial_first || slot->item.n != it.n)) {
            cim_mc_result_free(slot);
            rc = cim_error_set(err, CIM_ERR_IO, "%s sent the result of another item",
                               cim_ranks_name(in->from));
        } else if (rc == 0 && !cim_mc_result_fits(slot, &w->ops->shape)) {
            cim_mc_result_free(slot);
            rc = cim_error_set(err, CIM_ERR_IO,
                               "%s sent a result of another shape than rank 0's (other inputs?)",
                               cim_ranks_name(in->from));
        }
        if (rc != 0)
            fail(w, rc);
        *in = w->in[--w->n_in];
    }
    w->st->receive_s += cim_clock_now_s() - t0;
}

/* Reads every waiting message, then gives every other rank work up to
 * CIM_MC_WORK_AHEAD items. */
static void serve(writer *w, cim_error *err)
{
    while (receive_one(w, err))
        ;
    complete_results(w, err);
    if (w->failed)
        return;
    for (int r = 1; r < w->size; ++r)
        while (w->n_given[r] < CIM_MC_WORK_AHEAD && w->next_hand < hand_limit(w)) {
            cim_mc_item it;
            w->ops->item(w->ops->ctx, w->next_hand, &it);
            send_work(r, &it);
            w->given[r * CIM_MC_WORK_AHEAD + w->n_given[r]++] = w->next_hand++;
        }
}

/* The finished items at the head of the order, to the caller. */
static int deliver_ready(writer *w, cim_error *err)
{
    while (w->next_deliver < w->ops->n_items) {
        cim_mc_result *r = &w->ring[w->next_deliver % w->window];
        if (!r->bytes)
            return 0;
        w->next_deliver++;
        const int rc = deliver(w->ops, w->st, r, &w->chips, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void writer_progress(emit_ctx *e, double done)
{
    writer *w = e->owner;
    (void)done;
    serve(w, w->err); /* a failure recorded here ends the main loop after this item */
}

/* STOP with the job's status to every other rank, then every message they
 * still send until their BYE. */
static void stop_all(writer *w, int status)
{
    int byes = 0;
    double last_check = cim_clock_now_s();
    const cim_mc_item stop = {w->lost, status, 0};
    for (int r = 1; r < w->size; ++r)
        send_work(r, &stop);
    while (byes < w->size - 1) {
        MPI_Status st;
        int flag = 0, count = 0;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
        if (!flag) {
            nap();
            if (cim_clock_now_s() - last_check > 1.0) { /* a rank that is gone says no BYE */
                last_check = cim_clock_now_s();
                for (int r = 1; w->bye && r < w->size; ++r)
                    if (!w->bye[r] && cim_ranks_gone(r)) {
                        w->lost = 1;
                        w->bye[r] = 1;
                        ++byes;
                    }
            }
            continue;
        }
        MPI_Get_count(&st, MPI_BYTE, &count);
        unsigned char *buf = malloc(count > 0 ? (size_t)count : 1);
        MPI_Recv(buf, buf ? count : 0, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD,
                 MPI_STATUS_IGNORE);
        free(buf);
        if (st.MPI_TAG == TAG_BYE && !(w->bye && w->bye[st.MPI_SOURCE])) {
            if (w->bye)
                w->bye[st.MPI_SOURCE] = 1;
            ++byes;
        }
    }
    for (int i = 0; i < w->n_in; ++i) { /* their senders are finishing their sends */
        if (cim_ranks_gone(w->in[i].from))
            MPI_Cancel(&w->in[i].req);
        MPI_Wait(&w->in[i].req, MPI_STATUS_IGNORE);
        free(w->in[i].buf);
    }
    w->n_in = 0;
}

static int run_writer(const cim_mc_work_ops *ops, cim_mc_work_stats *st, cim_error *err)
{
    const int size = cim_ranks_self()->size;
    writer w = {.ops = ops, .st = st, .size = size, .err = err};
    emit_ctx e;
    int rc = 0;
    memset(&e, 0, sizeof e);
    e.on_progress = writer_progress;
    e.owner = &w;
    w.window = (int64_t)CIM_MC_WORK_WINDOW_PER_RANK * size;
    w.ring = calloc((size_t)w.window, sizeof *w.ring);
    w.given = calloc((size_t)size * CIM_MC_WORK_AHEAD, sizeof *w.given);
    w.n_given = calloc((size_t)size, sizeof *w.n_given);
    w.in = calloc((size_t)size * (CIM_MC_WORK_AHEAD + 1), sizeof *w.in);
    w.bye = calloc((size_t)size, 1);
    if (!w.ring || !w.given || !w.n_given || !w.in || !w.bye)
        rc = cim_error_set(err, CIM_ERR_NOMEM, "out of memory for %d ranks", size);
    while (rc == 0 && w.next_deliver < ops->n_items) {
        serve(&w, err);
        if (w.failed) {
            rc = w.fail_rc;
            break;
        }
        if ((rc = deliver_ready(&w, err)) != 0 || (ops->poll && (rc = ops->poll(ops->ctx, err))))
            break;
        if (w.next_hand < hand_limit(&w)) {
            const int64_t k = w.next_hand++;
            cim_mc_item it;
            cim_mc_result r;
            ops->item(ops->ctx, k, &it);
            if ((rc = compute_item(ops, &it, &e, &r, err)) != 0)
                break;
            w.ring[k % w.window] = r;
        } else if (w.next_deliver < ops->n_items && !w.ring[w.next_deliver % w.window].bytes) {
            const double t0 = cim_clock_now_s();
            nap();
            st->wait_s += cim_clock_now_s() - t0;
            if (t0 - w.last_check > 1.0) { /* the ranks of this node that hold work live */
                w.last_check = t0;
                for (int r = 1; r < size && !w.failed; ++r)
                    if (w.n_given[r] > 0 && cim_ranks_gone(r)) {
                        w.lost = 1;
                        fail(&w, cim_error_set(err, CIM_ERR_IO,
                                               "%s ended without a word (its process is gone)",
                                               cim_ranks_name(r)));
                    }
            }
        }
    }
    if (w.failed && rc == 0)
        rc = w.fail_rc;
    stop_status = status_of(rc);
    stop_all(&w, stop_status);
    if (w.lost)
        cim_ranks_lost();
    for (int64_t i = 0; w.ring && i < w.window; ++i)
        cim_mc_result_free(&w.ring[i]);
    free(w.ring);
    free(w.given);
    free(w.n_given);
    free(w.in);
    free(w.bye);
    return rc;
}

/* ---- the other ranks ----------------------------------------------------- */

typedef struct pending_send {
    MPI_Request req;
    cim_mc_result r;
} pending_send;

static void send_fail(int rc, const cim_error *err)
{
    unsigned char buf[sizeof(int) + CIM_ERROR_MSG_MAX];
    const char *msg = err->msg[0] ? err->msg : cim_error_name(rc);
    const size_t len = strnlen(msg, CIM_ERROR_MSG_MAX - 1);
    memcpy(buf, &rc, sizeof rc);
    memcpy(buf + sizeof rc, msg, len);
    MPI_Send(buf, (int)(sizeof rc + len), MPI_BYTE, 0, TAG_FAIL, MPI_COMM_WORLD);
}

static int run_worker(const cim_mc_work_ops *ops, cim_error *err)
{
    cim_mc_item queue[CIM_MC_WORK_AHEAD + 1];
    pending_send sends[CIM_MC_WORK_AHEAD + 1];
    int n_queue = 0, stopped = 0, failed = 0;
    emit_ctx e;
    memset(&e, 0, sizeof e);
    memset(sends, 0, sizeof sends);
    for (int i = 0; i <= CIM_MC_WORK_AHEAD; ++i)
        sends[i].req = MPI_REQUEST_NULL;
    while (!stopped) {
        int flag = 0;
        MPI_Iprobe(0, TAG_WORK, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
        if (flag) {
            int64_t wk[3];
            MPI_Recv(wk, 3, MPI_INT64_T, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (wk[2] == 0) {
                stopped = 1;
                stop_status = (int)wk[1];
                if (wk[0]) /* a rank is gone */
                    cim_ranks_lost();
            } else if (n_queue <= CIM_MC_WORK_AHEAD) {
                queue[n_queue++] = (cim_mc_item){wk[0], wk[1], (int32_t)wk[2]};
            } else if (!failed) { /* rank 0 gives at most CIM_MC_WORK_AHEAD */
                cim_error_set(err, CIM_ERR_IO, "more than %d work items given at once",
                              CIM_MC_WORK_AHEAD + 1);
                send_fail(CIM_ERR_IO, err);
                failed = 1;
            }
            continue;
        }
        if (!failed && cim_signal_caught()) {
            cim_error_set(err, CIM_ERR_INTERRUPTED, "interrupted by %s",
                          cim_signal_name(cim_signal_caught()));
            send_fail(CIM_ERR_INTERRUPTED, err);
            failed = 1;
        }
        if (failed || n_queue == 0) {
            nap();
            continue;
        }
        /* a free send slot: the oldest send has completed or is waited for */
        int slot = -1;
        for (int i = 0; i <= CIM_MC_WORK_AHEAD && slot < 0; ++i) {
            int done = 1;
            if (sends[i].req != MPI_REQUEST_NULL)
                MPI_Test(&sends[i].req, &done, MPI_STATUS_IGNORE);
            if (done) {
                cim_mc_result_free(&sends[i].r);
                slot = i;
            }
        }
        if (slot < 0) {
            nap();
            continue;
        }
        const cim_mc_item it = queue[0];
        memmove(queue, queue + 1, sizeof *queue * (size_t)--n_queue);
        int rc = compute_item(ops, &it, &e, &sends[slot].r, err);
        if (rc == 0)
            MPI_Isend(sends[slot].r.bytes, (int)sends[slot].r.size, MPI_BYTE, 0, TAG_RESULT,
                      MPI_COMM_WORLD, &sends[slot].req);
        else {
            send_fail(rc, err);
            failed = 1;
        }
    }
    MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_BYE, MPI_COMM_WORLD);
    for (int i = 0; i <= CIM_MC_WORK_AHEAD; ++i) {
        MPI_Wait(&sends[i].req, MPI_STATUS_IGNORE);
        cim_mc_result_free(&sends[i].r);
    }
    return stop_status == 0 ? 0 : CIM_ERR_INTERRUPTED;
}

#endif /* CIM_HAVE_MPI */

int cim_mc_work_run(const cim_mc_work_ops *ops, cim_mc_work_stats *stats, cim_error *err)
{
    cim_mc_work_stats scratch;
    cim_mc_work_stats *st = stats ? stats : &scratch;
    const double t0 = cim_clock_now_s();
    int rc;
    memset(st, 0, sizeof *st);
    stop_status = 0;
#ifdef CIM_HAVE_MPI
    if (cim_ranks_many())
        rc = cim_ranks_self()->rank == 0 ? run_writer(ops, st, err) : run_worker(ops, err);
    else
#endif
    {
        rc = run_local(ops, st, err);
        stop_status = status_of(rc);
    }
    st->wall_s = cim_clock_now_s() - t0;
    return rc;
}
