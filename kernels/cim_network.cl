/* cim_network.cl -- the network executor's device pipeline (cim_network.h):
 * a crossbar layer read straight from the activations of the layer before,
 * and the element-wise layers between crossbar layers (cim_layer_ops.h).
 * tests/test_executor.c checks the pipeline against the host pipeline and
 * the plain-C reference network, prediction for prediction. */

/* global: (rows_pad / CIM_VW, n_images * positions, trials of the call).
 * lp, cp, g, sumw, adc_table, weights_t: the layer's chips as
 * cim_engine_chips_program left them (g holds those trials). x: the input
 * activations [set][image][in_size]; y: the output activations
 * [trial][image][rows][positions]; mismatch (count_exact):
 * [trial][image * positions][rows_pad / CIM_VW], how many of the work-item's
 * outputs differ from the exact W x of the same input vector. Per tile the
 * arithmetic is cim_read_g's (column sums of g, cim_column_result_lanes);
 * bit planes fold as cim_fold_planes and become outputs as cim_plane_output. */
__kernel void cim_read_layer(__constant const cim_launch_params *lp,
                             __constant const cim_column_params *cp, __global const int *g,
                             __global const int *sumw, __global const long *adc_table,
                             __global const char *weights_t, __constant const cim_layer_launch *nl,
                             __global const int *gather, __global const int *x,
                             __global const long *row_sums, __global int *y,
                             __global int *mismatch)
{
    const long m0 = get_global_id(0) * CIM_VW, v = get_global_id(1), b = get_global_id(2);
    const long positions = nl->positions, k = v / positions, p = v % positions;
    const cim_column_params prm = *cp;
    __constant const cim_mapping_desc *d = &CIM_MAPPINGS[prm.mapping];
    const int classes = cim_value_classes(d);
    __global const int *gb = g + cim_g_offset(d->n_convs, classes, lp->cols, lp->rows_pad,
                                              lp->g_block, b, 0, 0, 0, m0);
    const long class_stride = lp->cols * lp->g_block;
    const long conv_stride = (lp->rows_pad / lp->g_block) * classes * class_stride;
    __global const int *xi = x + ((nl->inputs_per_trial ? b : 0) * nl->n_images + k) * nl->in_size;
    __global const int *gat = gather + p * lp->cols;
    const int planes = (int)nl->planes, binary = (int)nl->plane_binary, pad = (int)nl->pad_value;
    const int count_exact = (int)nl->count_exact;
    int class_of[CIM_VALUE_CLASSES];
    for (int u = 0; u < CIM_VALUE_CLASSES; ++u)
        class_of[u] = cim_value_class(d, u);
    cim_lvec folded = 0, folded_exact = 0;
    for (int pl = planes - 1; pl >= 0; --pl) {
        cim_vec result = 0, exact = 0;
        for (long tn = 0; tn < lp->tiles_n; ++tn) {
            const long n0 = tn * lp->xbar_n;
            const long n1 = n0 + lp->xbar_n < lp->cols ? n0 + lp->xbar_n : lp->cols;
            cim_vec sums[CIM_MAX_CONVS];
            for (int j = 0; j < CIM_MAX_CONVS; ++j)
                sums[j] = 0;
            int s = 0;
            for (long n = n0; n < n1; ++n) {
                const int src = gat[n];
                int xv = src >= 0 ? xi[src] : pad;
                if (planes > 1) {
                    const int bit = (xv >> pl) & 1;
                    xv = binary ? 2 * bit - 1 : bit;
                }
                s += xv;
                const int c = class_of[xv + 1];
                if (c >= 0) {
                    __global const int *gn = gb + c * class_stride + n * lp->g_block;
                    for (int j = 0; j < d->n_convs; ++j)
                        sums[j] += CIM_VLOAD(gn + j * conv_stride);
                }
                if (count_exact && xv != 0)
                    exact += xv * CIM_VLOAD_INT(weights_t + n * lp->rows_pad + m0);
            }
            result += cim_column_result_lanes(&prm, sums, s, (int)(n1 - n0),
                                              CIM_VLOAD(sumw + tn * lp->rows_pad + m0), adc_table);
        }
        folded = 2 * folded + CIM_TO_LONG(result);
        folded_exact = 2 * folded_exact + CIM_TO_LONG(exact);
    }
    int differ = 0;
    for (int l = 0; l < CIM_VW && m0 + l < lp->rows; ++l) {
        const long m = m0 + l;
        long f = CIM_LLANE(folded, l), fe = CIM_LLANE(folded_exact, l);
        f = f > INT32_MAX ? INT32_MAX : f < INT32_MIN ? INT32_MIN : f;
        fe = fe > INT32_MAX ? INT32_MAX : fe < INT32_MIN ? INT32_MIN : fe;
        differ += f != fe;
        y[((b * nl->n_images + k) * lp->rows + m) * positions + p] =
            cim_plane_output((int)f, row_sums[m], planes, binary);
    }
    if (count_exact)
        mismatch[(b * get_global_size(1) + v) * get_global_size(0) + get_global_id(0)] = differ;
}

/* maxpool2d, global (out_size, sets * images); geo = {C, H, W, Ho, Wo, kh,
 * kw, sh, sw}; windows lie inside the input (model_format.md). */
__kernel void cim_layer_maxpool2d(__constant const int *geo, long in_size, long out_size,
                               __global const int *x, __global int *y)
{
    const long o = get_global_id(0), si = get_global_id(1);
    const long H = geo[1], W = geo[2], Ho = geo[3], Wo = geo[4];
    const long c = o / (Ho * Wo), i = (o / Wo) % Ho, j = o % Wo;
    __global const int *xc = x + si * in_size + c * H * W;
    int best = INT32_MIN;
    for (long u = 0; u < geo[5]; ++u)
        for (long w = 0; w < geo[6]; ++w) {
            const int value = xc[(i * geo[7] + u) * W + j * geo[8] + w];
            best = value > best ? value : best;
        }
    y[si * out_size + o] = best;
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
