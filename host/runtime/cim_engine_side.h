/* cim_engine_side.h -- the host-side preparation of an engine call (internal
 * to host/runtime/): the digital side information of a job (tiles, padding,
 * weight sums per tile column, input sums per tile) and the tables the read
 * kernels index -- the entry lists of driving inputs and the bit-planes of
 * the digital kernel (layouts: kernels/cim_launch.h). Pure host code; no
 * OpenCL. Functions return 0 or CIM_ERR_NOMEM with its message in err.
 * cim_side_free releases what cim_side_weights / cim_side_init allocated.
 */
#ifndef CIM_ENGINE_SIDE_H
#define CIM_ENGINE_SIDE_H

#include <stddef.h>
#include <stdint.h>

#include "cim_engine.h"
#include "cim_input_chain.h"

#define CIM_BITS_PER_WORD 32

/* The weights' side information, shared by every path. */
typedef struct cim_side_info {
    int32_t tiles_n;
    int64_t rows_pad; /* rows rounded up to the kernels' SIMD width */
    int32_t *sumw;    /* [tiles_n][rows_pad] */
} cim_side_info;

/* rows rounded up to the kernels' SIMD width: the padded rows of every
 * column-blocked table. */
static inline int64_t cim_side_rows_pad(int32_t rows, int vector_width)
{
    return ((int64_t)rows + vector_width - 1) / vector_width * vector_width;
}

/* Tiles, padding, weight sums. */
int cim_side_weights(cim_side_info *si, const cim_mvm_job *job, int vector_width, cim_error *err);

void cim_side_free(cim_side_info *si);

/* The inputs' side information: the input sum of every input tile and, for
 * the g read, the entry lists of cim_launch.h (offsets class(x + 1) * cols *
 * W + n * W of the positions that drive a row, W = g_block), built in one
 * pass over the inputs. List row r lists input r from zero, or with a chain
 * (cim_input_chain.h) chain position r: input link[r] from zero where it
 * restarts, else its difference from the input of position r - 1. */
typedef struct cim_side_lists {
    int64_t input_rows;   /* n_inputs, or n_trials * n_inputs with inputs per trial */
    int32_t *tile_s;      /* [input_rows][tiles_n], by input */
    int32_t *entries;     /* NULL unless asked for; n_entries of them are uploaded */
    int32_t *entry_range; /* [input_rows][tiles_n][3], by list row: the first entry that
                           * adds, the first that subtracts, one past the last */
    size_t n_entries;
    int64_t terms; /* entries inside the ranges: the terms one chip's read adds */
} cim_side_lists;

int cim_side_lists_build(const cim_mvm_job *job, int32_t tiles_n, int64_t g_block, int entries,
                         const cim_input_chain *chain, cim_side_lists *l, cim_error *err);
void cim_side_lists_free(cim_side_lists *l);

/* The cell bit-planes of cim_read_digital: states [slot][tile][word][rows_pad]
 * (the drives [input][drive][tile][word] are packed on the device,
 * cim_pack_drives). */
int cim_side_state_planes(const cim_mvm_job *job, const cim_side_info *si, int64_t wpt,
                          int64_t rows_pad, uint32_t **state_bits, cim_error *err);

#endif /* CIM_ENGINE_SIDE_H */
