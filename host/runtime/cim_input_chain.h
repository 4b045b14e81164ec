/* cim_input_chain.h -- the order in which a read work-item takes its inputs,
 * so that each input's column sums follow from the one before it (internal
 * to host/runtime/; pure host code, no OpenCL).
 *
 * A g read (kernels/cim_kernels.cl, cim_read_g) forms every column current
 * as a sum over the input positions that drive a row. Two input vectors that
 * agree in most positions have most of that sum in common: input b's sums are
 * input a's plus the terms b drives and a does not, less those a drives and b
 * does not. The sums are exact integers, so the difference gives the same
 * bits as the sum from zero, with fewer terms when a and b are close.
 *
 * When the chips of a call all read the same inputs (a layer whose input
 * every chip shares), the order is worth planning once for all of them:
 * cim_input_chain_plan lays the inputs out in groups of `group` (one read
 * work-item's inputs) and, inside blocks of CIM_CHAIN_BLOCK inputs, orders
 * them by a greedy nearest-neighbour walk under the cost of that difference
 * (the number of terms it adds and subtracts). A position restarts from zero
 * (link restart flag) at the start of each group and wherever the input's
 * own terms are no more than the difference. The plan depends only on the
 * inputs, the mapping's value classes and `group` -- not on the thread count.
 */
#ifndef CIM_INPUT_CHAIN_H
#define CIM_INPUT_CHAIN_H

#include <stdint.h>

#include "cim_error.h"

/* Inputs planned together: the walk costs CIM_CHAIN_BLOCK^2 / 2 distance
 * evaluations per block; a multiple of every group size the engine uses. */
#define CIM_CHAIN_BLOCK 1024

typedef struct cim_input_chain {
    int32_t n_inputs;
    int32_t group; /* chain positions per read work-item */
    int32_t *link; /* [n_inputs][2]: the input read at chain position k, and
                    * 1 when its sums start from zero (0: from position k - 1) */
    int64_t terms; /* terms the plan reads in all (entries of its lists) */
} cim_input_chain;

/* Plans the chain of n_inputs inputs (row-major int8, cols each; values -1,
 * 0, 1) for the value classes class_of[x + 1] (cim_value_class: the plane a
 * value drives, -1 for none). 0, or CIM_ERR_NOMEM. */
int cim_input_chain_plan(const int8_t *inputs, int32_t n_inputs, int32_t cols,
                         const int class_of[3], int32_t group, cim_input_chain *c, cim_error *err);
void cim_input_chain_free(cim_input_chain *c);

/* The terms of moving from input a (NULL: from zero) to input b: the
 * positions whose class differs, counted once for the class b drives and
 * once for the class a drove. */
int64_t cim_input_chain_cost(const int8_t *a, const int8_t *b, int32_t cols, const int class_of[3]);

#endif /* CIM_INPUT_CHAIN_H */
