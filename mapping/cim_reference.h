/* cim_reference.h -- the plain-C reference MVM: the definition of a correct
 * result. Kernels are optimisations of it and are tested against it bit for
 * bit.
 */
#ifndef CIM_REFERENCE_H
#define CIM_REFERENCE_H

#include <stdint.h>

#include "cim_xbar.h"

/* Optional per-conversion trace; any pointer may be NULL.
 * Shape of current and adc: [n_inputs][tiles_n][n_convs][rows], where
 * tiles_n is the number of input tiles and n_convs the mapping's conversions
 * per read. profile: the ADC input histogram of x->profile (cim_profile.h,
 * CIM_PROFILE_SLOTS(bins) counters, used only when bins > 0), to which every
 * conversion adds its column current's count (fine currents in the fine
 * unit, exactly). */
typedef struct cim_mvm_trace {
    int32_t *current;  /* column current I_j, nA (fine currents: the nearest nA) */
    int64_t *adc;      /* ADC output A_j (see cim_column_result) */
    uint64_t *profile; /* histogram counters, added to */
} cim_mvm_trace;

/* out[i*rows + m] = result of matrix w (rows x cols, row-major, values in the
 * mapping's alphabet) times input vector i of `in` (n_inputs x cols), for
 * chip instance `trial`. Input vector i is keyed as input_first + i in the
 * C2C streams. Returns 0, or -1 when out of memory. */
int cim_reference_mvm(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                      const int8_t *in, int32_t n_inputs, uint32_t input_first, uint32_t trial,
                      int32_t *out, const cim_mvm_trace *trace);

/* The programmed (D2D-perturbed, not yet clipped) current of every cell slot
 * of tile `tile` whose weights are the sub-matrix at (m0, n0) of w, written
 * to raw[slot][ml][nl] (n_slots x xbar_m x xbar_n; unused positions 0). In
 * digital mode the current is the state bit. */
void cim_reference_program_tile(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                                int32_t tile, int32_t m0, int32_t n0, uint32_t trial, int32_t *raw);

/* The read step: programmed cells `raw` of tile `tile` (as
 * cim_reference_program_tile wrote them) under the row drives of input vector
 * xin (cols values; input index `input` in the C2C streams), to the column
 * currents of every conversion j of every output m of the tile:
 * current[(m - m0) * CIM_MAX_CONVS + j], in nA, or in fine units
 * (2^-CIM_FINE_FRAC_BITS nA) when x->column.fine (bit-line IR drop: each
 * physical column walks its wire ladder, cim_ladder.h; read disturb). dr:
 * what the drifting cells carry in this read (read disturb), else NULL. */
void cim_reference_read_tile_columns(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                                     const int32_t *raw, int32_t tile, int32_t m0, int32_t n0,
                                     const int8_t *xin, uint32_t input, uint32_t trial,
                                     const cim_drift_read *dr, int64_t *current);

/* Read disturb: the drift table of n_inputs reads from MVM index mvm_first
 * of a chip's tiles (cim_disturb_reads on the crossbar's schedule), malloc'd
 * into *reads, or *reads = NULL without read disturb. 0, or -1 when out of
 * memory. */
int cim_reference_drift_reads(const cim_xbar *x, int64_t mvm_first, int32_t n_inputs,
                              cim_drift_read **reads);

/* Read disturb: the counters (cim_disturb_counters) of a chip's tiles of
 * matrix w after n_mvms reads each, summed over the tiles, and the number of
 * tiles. The same for every chip (the schedule depends on neither data nor
 * D2D); every cell of a tile is counted as programmed (stuck cells too).
 * 0, or -1 when out of memory or without read disturb. */
int cim_reference_disturb_counters(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                                   int64_t n_mvms, cim_disturb_counters *sum, int64_t *tiles);

/* As cim_reference_mvm, with the MVM index of input 0 given apart from its
 * C2C key: with read disturb, input i is MVM mvm_first + i of every tile of
 * the chip (which has seen MVMs 0 .. mvm_first + i - 1 since its
 * programming); cim_reference_mvm takes mvm_first = input_first. */
int cim_reference_mvm_at(const cim_xbar *x, const int8_t *w, int32_t rows, int32_t cols,
                         const int8_t *in, int32_t n_inputs, uint32_t input_first,
                         int64_t mvm_first, uint32_t trial, int32_t *out,
                         const cim_mvm_trace *trace);

/* The conversion step on the read step's currents, the ADC by its divisions
 * (the definition): cim_column_result for whole-nA currents,
 * cim_column_result_fine for fine ones. */
int32_t cim_reference_convert(const cim_column_params *p, const int64_t *current, int32_t s,
                              int32_t n_used, int32_t sumw, int64_t *adc_out);

#endif /* CIM_REFERENCE_H */
