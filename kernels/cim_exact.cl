/* cim_exact.cl -- the exact W x of a crossbar layer's input vectors, what the
 * per-layer error rates compare a chip's results with. Both network
 * pipelines take it from this one kernel (host/network/cim_layer_exact.h):
 * the definition is the digital network's arithmetic, sum_n x_n w_mn per bit
 * plane, folded over planes and saturated exactly as a crossbar's reads are
 * (cim_planes.h), so a noise-free ideal chip matches it everywhere.
 *
 * global: (rows_pad / CIM_VW, sets * n_images * positions): a work-item adds
 * CIM_VW neighbouring output rows at once (explicit SIMD lanes on CPUs, one
 * row on GPUs) and skips zero inputs. wt: the weights transposed and padded,
 * [cols][rows_pad] int8 (zeros past the last row); x: the layer's input
 * activations [set][image][in_size]; the input vector of output position p
 * lists x[gather[p][n]] (pad_value where gather is -1), as cim_read_layer
 * reads it. exact: [set][image * positions][rows]. Every plane's sum is an
 * int32 (|x| <= 1 per plane, fan-in <= 2^20).
 */
__kernel void cim_exact_layer(__constant const cim_layer_launch *nl, int rows, long rows_pad,
                              int cols, __global const char *wt, __global const int *gather,
                              __global const int *x, __global int *exact)
{
    const long m0 = get_global_id(0) * CIM_VW, sv = get_global_id(1);
    const long vectors = nl->n_images * nl->positions;
    const long set = sv / vectors, v = sv % vectors;
    const long k = v / nl->positions, p = v % nl->positions;
    const int planes = (int)nl->planes, binary = (int)nl->plane_binary, pad = (int)nl->pad_value;
    __global const int *xi = x + (set * nl->n_images + k) * nl->in_size;
    __global const int *gat = gather + p * cols;
    cim_lvec folded = 0;
    for (int pl = planes - 1; pl >= 0; --pl) {
        cim_vec acc = 0;
        for (long n = 0; n < cols; ++n) {
            const int src = gat[n];
            const int value = src >= 0 ? xi[src] : pad;
            const int xv = planes > 1 ? cim_plane_input(value, pl, binary) : value;
            if (xv != 0)
                acc += xv * CIM_VLOAD_INT(wt + n * rows_pad + m0);
        }
        folded = CIM_FOLD_PLANE(folded, CIM_TO_LONG(acc));
    }
    __global int *out = exact + sv * rows;
    for (int l = 0; l < CIM_VW && m0 + l < rows; ++l)
        out[m0 + l] = cim_saturate_int32(CIM_LLANE(folded, l));
}
