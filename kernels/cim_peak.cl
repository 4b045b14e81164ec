/* cim_peak.cl -- peak micro-kernels for benchmarks/ (device only): the
 * device's own rate for the operation each MVM kernel is made of, measured
 * in the same run as the kernels (docs/design.md §5). */

/* cim_peak_int_add: 16 independent int32 vector accumulator chains, one add
 * each per step (2 * CIM_PEAK_PAIRS * CIM_VW adds per step and work-item). */
#define CIM_PEAK_PAIRS 8
__kernel void cim_peak_int_add(__global int *out, int steps)
{
    cim_vec a[2 * CIM_PEAK_PAIRS];
    for (int k = 0; k < 2 * CIM_PEAK_PAIRS; ++k)
        a[k] = (cim_vec)((int)get_global_id(0) + k);
    for (int s = 0; s < steps; ++s) {
#pragma unroll
        for (int k = 0; k < CIM_PEAK_PAIRS; ++k) {
            a[2 * k] += a[2 * k + 1];
            a[2 * k + 1] += a[2 * k];
        }
    }
    cim_vec sum = 0;
    for (int k = 0; k < 2 * CIM_PEAK_PAIRS; ++k)
        sum += a[k];
    out[get_global_id(0)] = ((int *)&sum)[0];
}

/* cim_peak_and_popcount: the digital kernel's unit -- a word of cell bits
 * ANDed with a word of drive bits and counted the way the digital kernel
 * counts (cim_popcount_bytes, summed per CIM_POPCOUNT_BLOCK words) -- on
 * CIM_PEAK_PAIRS independent streams of CIM_VW words per step and
 * work-item. */
__kernel void cim_peak_and_popcount(__global uint *out, int steps)
{
    cim_uvec a[CIM_PEAK_PAIRS], bytes[CIM_PEAK_PAIRS], acc = 0;
    for (int k = 0; k < CIM_PEAK_PAIRS; ++k)
        a[k] = (cim_uvec)((uint)get_global_id(0) * 2654435761u + (uint)k) +
               CIM_TO_UINT(CIM_LANE_INDEX);
    const uint drive = (uint)get_global_id(0) | 0x5a5a5a5au;
    for (int s0 = 0; s0 < steps; s0 += CIM_POPCOUNT_BLOCK) {
        for (int k = 0; k < CIM_PEAK_PAIRS; ++k)
            bytes[k] = 0;
        for (int s = s0; s < s0 + CIM_POPCOUNT_BLOCK && s < steps; ++s) {
#pragma unroll
            for (int k = 0; k < CIM_PEAK_PAIRS; ++k) {
                bytes[k] += cim_popcount_bytes(a[k] & drive);
                a[k] = a[k] ^ (a[k] >> 3); /* new bits each step, one op */
            }
        }
        for (int k = 0; k < CIM_PEAK_PAIRS; ++k)
            acc += cim_bytes_sum(bytes[k]);
    }
    out[get_global_id(0)] = CIM_ULANE(acc, 0);
}

/* cim_peak_ladder_step: the IR-drop read's unit -- one wire segment of
 * cim_ladder.h, floor(s I_w / (s + I_w)) with its 128-bit product and
 * quotient -- on CIM_PEAK_PAIRS independent chains per work-item, each step
 * adding a cell current as a driven row does (CIM_PEAK_PAIRS steps per step
 * and work-item). */
__kernel void cim_peak_ladder_step(__global int *out, int steps)
{
    long u[CIM_PEAK_PAIRS];
    const long iw = (long)200000000 << CIM_FINE_FRAC_BITS; /* 200 mA */
    const long cell = (long)(30000 + (int)get_global_id(0) % 7) << CIM_FINE_FRAC_BITS;
    for (int k = 0; k < CIM_PEAK_PAIRS; ++k)
        u[k] = (long)k << CIM_FINE_FRAC_BITS;
    for (int s = 0; s < steps; ++s) {
#pragma unroll
        for (int k = 0; k < CIM_PEAK_PAIRS; ++k)
            u[k] = cim_ladder_step(u[k] + cell, iw);
    }
    long sum = 0;
    for (int k = 0; k < CIM_PEAK_PAIRS; ++k)
        sum += u[k];
    out[get_global_id(0)] = (int)(sum >> CIM_FINE_FRAC_BITS);
}

/* cim_peak_load_add: the analog read's unit -- the inner loop of cim_read_g,
 * an indexed vector load from a small table (a block of g) added to an
 * accumulator, acc += *(cim_vec *)(table + idx[e]), with the index stream
 * precomputed (the read's entry list: offsets class * cols * w + n * w of
 * the driving inputs). Every work-item walks the whole stream `steps` times
 * at its own lane offset (get_global_id(0) * CIM_VW) % w of the table --
 * w = CIM_VW on CPUs, whose work-items each read their own block of g, and
 * w = the padded rows on GPUs, whose neighbouring work-items read
 * neighbouring columns -- so the table stays in cache as g does between
 * the inputs of one work-item. Four accumulators (cim_read_g has two), so
 * that the loads, not an add chain, set the rate: n_idx * steps * CIM_VW
 * adds per work-item, each with its index load and its vector load. */
__kernel void cim_peak_load_add(__global int *out, int steps, __global const int *table,
                                __global const int *idx, int n_idx, int w)
{
    __global const int *t = table + (int)((get_global_id(0) * CIM_VW) % (ulong)w);
    cim_vec a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    for (int s = 0; s < steps; ++s) {
        int e = 0;
        for (; e + 3 < n_idx; e += 4) {
            a0 += CIM_VLOAD_ALIGNED(t + idx[e]);
            a1 += CIM_VLOAD_ALIGNED(t + idx[e + 1]);
            a2 += CIM_VLOAD_ALIGNED(t + idx[e + 2]);
            a3 += CIM_VLOAD_ALIGNED(t + idx[e + 3]);
        }
        for (; e < n_idx; ++e)
            a0 += CIM_VLOAD_ALIGNED(t + idx[e]);
    }
    const cim_vec sum = (a0 + a1) + (a2 + a3);
    out[get_global_id(0)] = ((const int *)&sum)[0];
}
