/* cim_network.cl -- the network executor's device pipeline (cim_network.h):
 * a crossbar layer read straight from the activations of the layer before,
 * and the element-wise layers between crossbar layers (cim_layer_ops.h).
 * tests/test_executor.c checks the pipeline against the host pipeline and
 * the plain-C reference network, prediction for prediction.
 *
 * cim_read_layer has the read steps of cim_kernels.cl: the chips come
 * programmed (g, cim_program_g); per tile, the column-currents step is the
 * g-sum loop over the gathered inputs (`sums`), then conversion
 * (cim_column_result_lanes) and the plane fold (cim_planes.h). A column model
 * other than a plain sum (IR drop) or read disturb changes the column-currents
 * step; such chips are read through the engine's per-cell path instead of g
 * (cim_kernels.cl says how), so this kernel keeps serving plain-sum chips. */

/* CIM_NET_BLOCKS and the accumulator macros (CIM_NET_EACH_BLOCK, ...):
 * cim_network.h and cim_kernels.cl, shared with cim_read_g. */
/* Inputs whose g offsets a CPU work-item lists before adding them up
 * (cim_read_layer's fast path). */
#define CIM_NET_CHUNK 64

/* global: (ceil(rows_pad / (CIM_VW * CIM_NET_BLOCKS)), n_images * positions,
 * trials of the call). lp, cp, g, sumw, adc_table: the layer's
 * chips as cim_engine_chips_program left them (g holds those trials). x: the
 * input activations [set][image][in_size]; y: the output activations
 * [trial][image][rows][positions]; with count_exact, exact: the exact W x of
 * the same input vectors [set][image * positions][rows] (cim_exact.cl) and
 * mismatch [trial][image * positions][global size 0]: how many of the
 * work-item's folded results differ from it. Per tile the
 * arithmetic is cim_read_g's (column sums of g, cim_column_result_lanes);
 * bit planes fold as cim_fold_planes and become outputs as cim_plane_output.
 * With nl->profile, profile [trial][CIM_PROFILE_SLOTS(lp->profile_bins)]
 * counts every conversion's column current (every plane's read), as the
 * engine's read kernels do. */
__kernel void cim_read_layer(__constant const cim_launch_params *lp,
                             __constant const cim_column_params *cp, __global const int *g,
                             __global const int *sumw, __global const long *adc_table,
                             __global const int *exact, __constant const cim_layer_launch *nl,
                             __global const int *gather, __global const int *x,
                             __global const long *row_sums, __global int *y, __global int *mismatch,
                             __global uint *profile)
{
    const long m0 = get_global_id(0) * CIM_VW * CIM_NET_BLOCKS, v = get_global_id(1);
    const long b = get_global_id(2);
    const long positions = nl->positions, k = v / positions, p = v % positions;
    const cim_column_params prm = *cp;
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[prm.mapping];
    const int classes = cim_value_classes(d);
    /* column blocks of this work-item inside rows_pad, and their offsets in g */
    const long left = (lp->rows_pad - m0) / CIM_VW;
    const int nq = left < CIM_NET_BLOCKS ? (int)left : CIM_NET_BLOCKS;
    const long g0 =
        cim_g_offset(d->n_convs, classes, lp->cols, lp->rows_pad, lp->g_block, b, 0, 0, 0, m0);
    long qoff[CIM_NET_BLOCKS];
#pragma unroll
    for (int q = 0; q < CIM_NET_BLOCKS; ++q)
        qoff[q] = q < nq ? cim_g_offset(d->n_convs, classes, lp->cols, lp->rows_pad, lp->g_block, b,
                                        0, 0, 0, m0 + q * CIM_VW) -
                               g0
                         : 0;
    __global const int *gb = g + g0;
    const long class_stride = lp->cols * lp->g_block;
    const long conv_stride = (lp->rows_pad / lp->g_block) * classes * class_stride;
    const long set = nl->inputs_per_trial ? b : 0;
    __global const int *xi = x + (set * nl->n_images + k) * nl->in_size;
    __global const int *gat = gather + p * lp->cols;
    const int planes = (int)nl->planes, binary = (int)nl->plane_binary, pad = (int)nl->pad_value;
    const int count_exact = (int)nl->count_exact;
    int class_of[CIM_VALUE_CLASSES];
    for (int u = 0; u < CIM_VALUE_CLASSES; ++u)
        class_of[u] = cim_value_class(d, u);
    const int c_minus = class_of[0], c_zero = class_of[1], c_plus = class_of[2];
    cim_lvec folded[CIM_NET_BLOCKS];
#pragma unroll
    for (int q = 0; q < CIM_NET_BLOCKS; ++q)
        folded[q] = 0;
    for (int pl = planes - 1; pl >= 0; --pl) {
        cim_vec result[CIM_NET_BLOCKS];
#pragma unroll
        for (int q = 0; q < CIM_NET_BLOCKS; ++q)
            result[q] = 0;
        for (long tn = 0; tn < lp->tiles_n; ++tn) {
            const long n0 = tn * lp->xbar_n;
            const long n1 = n0 + lp->xbar_n < lp->cols ? n0 + lp->xbar_n : lp->cols;
            /* column currents: one pass per conversion; the input sum
             * rides along the first */
            cim_vec sums[CIM_MAX_CONVS][CIM_NET_BLOCKS];
            int s = 0;
            for (int j = 0; j < d->n_convs; ++j) {
                __global const int *gj = gb + j * conv_stride;
                /* named accumulators, not an array: they stay in registers */
                CIM_NET_EACH_BLOCK(CIM_NET_DECLARE)
                const int first_pass = j == 0;
#if CIM_VW > 1
                if (planes == 1) {
                    /* CPUs, plain inputs: the g offsets of a chunk of inputs
                     * first (an entry list, zeros dropped), then the column
                     * sums, so that the g loads do not wait on the chain
                     * gather -> activation -> value class */
                    for (long c0 = n0; c0 < n1; c0 += CIM_NET_CHUNK) {
                        const long c1 = c0 + CIM_NET_CHUNK < n1 ? c0 + CIM_NET_CHUNK : n1;
                        int offs[CIM_NET_CHUNK];
                        int used = 0;
                        for (long n = c0; n < c1; ++n) {
                            const int src = gat[n];
                            const int xv = src >= 0 ? xi[src] : pad;
                            const int c = xv < 0 ? c_minus : xv == 0 ? c_zero : c_plus;
                            if (first_pass)
                                s += xv;
                            offs[used] = (int)(c * class_stride + n * lp->g_block);
                            used += c >= 0;
                        }
                        if (nq == CIM_NET_BLOCKS) {
                            for (int e = 0; e < used; ++e) {
                                __global const int *gn = gj + offs[e];
                                CIM_NET_EACH_BLOCK(CIM_NET_ADD_G)
                            }
                        } else {
                            for (int e = 0; e < used; ++e) {
                                __global const int *gn = gj + offs[e];
                                CIM_NET_EACH_BLOCK(CIM_NET_ADD_G_PARTIAL)
                            }
                        }
                    }
                    CIM_NET_EACH_BLOCK(CIM_NET_STORE_SUMS)
                    continue;
                }
#endif
                for (long n = n0; n < n1; ++n) {
                    const int src = gat[n];
                    const int value = src >= 0 ? xi[src] : pad;
                    const int xv = planes > 1 ? cim_plane_input(value, pl, binary) : value;
                    const int c = xv < 0 ? c_minus : xv == 0 ? c_zero : c_plus;
                    if (first_pass)
                        s += xv;
                    if (c >= 0) {
                        __global const int *gn = gj + c * class_stride + n * lp->g_block;
                        CIM_NET_EACH_BLOCK(CIM_NET_ADD_G_LIVE)
                    }
                }
                CIM_NET_EACH_BLOCK(CIM_NET_STORE_SUMS)
            }
#pragma unroll
            for (int q = 0; q < CIM_NET_BLOCKS; ++q) {
                if (q < nq) {
                    cim_vec conv_sums[CIM_MAX_CONVS];
                    for (int j = 0; j < d->n_convs; ++j)
                        conv_sums[j] = sums[j][q];
                    if (nl->profile) /* as cim_read_g counts */
                        cim_profile_count_lanes(lp, d, b, conv_sums, m0 + q * CIM_VW, profile);
                    result[q] += cim_column_result_lanes(
                        &prm, conv_sums, s, (int)(n1 - n0),
                        CIM_VLOAD(sumw + tn * lp->rows_pad + m0 + q * CIM_VW), adc_table, 0);
                }
            }
        }
#pragma unroll
        for (int q = 0; q < CIM_NET_BLOCKS; ++q)
            folded[q] = CIM_FOLD_PLANE(folded[q], CIM_TO_LONG(result[q]));
    }
    __global const int *exact_v = exact + (set * get_global_size(1) + v) * lp->rows;
    int differ = 0;
#pragma unroll
    for (int q = 0; q < CIM_NET_BLOCKS; ++q) {
        for (int l = 0; l < CIM_VW && q < nq; ++l) {
            const long m = m0 + q * CIM_VW + l;
            if (m >= lp->rows)
                break;
            const int f = cim_saturate_int32(CIM_LLANE(folded[q], l));
            if (count_exact)
                differ += f != exact_v[m];
            y[((b * nl->n_images + k) * lp->rows + m) * positions + p] =
                cim_plane_output(f, row_sums[m], planes, binary);
        }
    }
    if (count_exact)
        mismatch[(b * get_global_size(1) + v) * get_global_size(0) + get_global_id(0)] = differ;
}

/* maxpool2d (geo[9] = 0) or sumpool2d (geo[9] = 1), global (out_size,
 * sets * images); geo = {C, H, W, Ho, Wo, kh, kw, sh, sw, sum}; windows lie
 * inside the input (model_format.md). */
__kernel void cim_layer_pool2d(__constant const int *geo, long in_size, long out_size,
                               __global const int *x, __global int *y)
{
    const long o = get_global_id(0), si = get_global_id(1);
    const long H = geo[1], W = geo[2], Ho = geo[3], Wo = geo[4];
    const long c = o / (Ho * Wo), i = (o / Wo) % Ho, j = o % Wo;
    const int sum = geo[9];
    __global const int *xc = x + si * in_size + c * H * W;
    int acc = sum ? 0 : INT32_MIN;
    for (long u = 0; u < geo[5]; ++u)
        for (long w = 0; w < geo[6]; ++w) {
            const int value = xc[(i * geo[7] + u) * W + j * geo[8] + w];
            acc = sum ? acc + value : value > acc ? value : acc;
        }
    y[si * out_size + o] = acc;
}

/* global_sumpool, global (C, sets * images): y[c] = the sum of channel c's
 * `area` values, in order. */
__kernel void cim_layer_global_sumpool(long area, long in_size, long out_size,
                                       __global const int *x, __global int *y)
{
    const long c = get_global_id(0), si = get_global_id(1);
    __global const int *xc = x + si * in_size + c * area;
    int acc = 0;
    for (long k = 0; k < area; ++k)
        acc += xc[k];
    y[si * out_size + c] = acc;
}

/* One input of add, global (size, sets * images): y = scale * x for the
 * first input, y += scale * x for each further one. */
__kernel void cim_layer_add_into(int first, int scale, long size, __global const int *x,
                                 __global int *y)
{
    const long at = get_global_id(1) * size + get_global_id(0);
    y[at] = (first ? 0 : y[at]) + scale * x[at];
}

/* One input of concat, global (in_size, sets * images): its block of each
 * tensor at `offset` in the output's. */
__kernel void cim_layer_concat(long in_size, long out_size, long offset, __global const int *x,
                               __global int *y)
{
    const long i = get_global_id(0), si = get_global_id(1);
    y[si * out_size + offset + i] = x[si * in_size + i];
}

/* batchnorm_threshold, global (size, sets * images): channel o / per_channel. */
__kernel void cim_layer_threshold(__global const int *lo, __global const int *hi,
                                  __global const char *flip, long per_channel, long size,
                                  __global const int *x, __global int *y)
{
    const long o = get_global_id(0), at = get_global_id(1) * size + o, c = o / per_channel;
    y[at] = cim_op_threshold(x[at], lo[c], hi[c], flip[c]);
}

/* sign (ternary = 0) or ternary (ternary = 1), global (size, sets * images). */
__kernel void cim_layer_activation(int ternary, long size, __global const int *x, __global int *y)
{
    const long at = get_global_id(1) * size + get_global_id(0);
    y[at] = ternary ? cim_op_ternary(x[at]) : cim_op_sign(x[at]);
}
