/* cim_mappings.h -- the eleven crossbar mappings as data (docs/semantics.md).
 *
 * A mapping is described by four small tables instead of code:
 *   - slot_state[s][w+1]: the state bit (1 = LRS, 0 = HRS) of physical cell slot
 *     s of a weight w in {-1, 0, +1}; -1 where w is not in the alphabet.
 *     A weight occupies n_slots physical cells, each its own device.
 *   - drive[d][x+1]: the row-drive bit of drive vector d for an input x.
 *   - conv[j]: one ADC conversion per read. Its column current is
 *     I_j = sum_n sum_terms sign * c(slot) * drive(d, x_n); the ADC input is
 *     J_j = I_j + (offset_half_s * S + offset_half_n * N) * HRS / 2, converted
 *     with scale k / Delta; the tile result is
 *     r = sum_j sign_j * A(J_j, k_j) + corr_sumw * sumw + corr_s * S + corr_n * N.
 * With c = s (digital mode: HRS = 0, Delta = 1) or noise-free currents and an ideal
 * ADC, r equals (W x)_m exactly for every mapping; tests/test_mapping.c proves it.
 *
 * The table is compiled into host C and OpenCL C alike, so both evaluate the
 * same definition. Order and ids are part of the file formats (the `mapping`
 * attribute names them); append, never reorder.
 */
#ifndef CIM_MAPPINGS_H
#define CIM_MAPPINGS_H

#include "cim_portable.h"

#define CIM_MAX_SLOTS 4
#define CIM_MAX_DRIVES 2
#define CIM_MAX_CONVS 4
#define CIM_MAX_TERMS 4

/* The mappings in id order: one list generates the enum (CIM_BNN_I ...) and
 * the names ("BNN_I" ..., mapping/cim_mapping.c). XX(name) */
#define CIM_MAPPING_LIST(XX)                                                                       \
    XX(BNN_I)                                                                                      \
    XX(BNN_II)                                                                                     \
    XX(BNN_III)                                                                                    \
    XX(BNN_IV)                                                                                     \
    XX(BNN_V)                                                                                      \
    XX(BNN_VI)                                                                                     \
    XX(TNN_I)                                                                                      \
    XX(TNN_II)                                                                                     \
    XX(TNN_III)                                                                                    \
    XX(TNN_IV)                                                                                     \
    XX(TNN_V)

typedef enum cim_mapping_id {
#define CIM_MAPPING_ENUM(name) CIM_##name,
    CIM_MAPPING_LIST(CIM_MAPPING_ENUM)
#undef CIM_MAPPING_ENUM
        CIM_MAPPING_COUNT
} cim_mapping_id;

typedef struct cim_term {
    int8_t slot;  /* which physical cell of the weight */
    int8_t drive; /* which drive vector selects the row */
    int8_t sign;  /* +1 or -1: the column of a differential pair it feeds */
    int8_t pad;
} cim_term;

typedef struct cim_conv {
    int32_t k;             /* digital weight of this read: scale k / Delta */
    int32_t sign;          /* +1 or -1 in the recombination */
    int32_t offset_half_s; /* ADC offset, in units of S * HRS / 2 */
    int32_t offset_half_n; /* ADC offset, in units of N * HRS / 2 */
    int32_t n_terms;
    int32_t pad;
    cim_term terms[CIM_MAX_TERMS];
} cim_conv;

typedef struct cim_mapping_desc {
    int32_t ternary;        /* 1: weights and inputs in {-1,0,+1}; 0: {-1,+1} */
    int32_t signed_current; /* 1: column current is a difference (SYM ADC) */
    int32_t n_slots;        /* physical cells per weight */
    int32_t n_drives;
    int32_t n_convs;   /* ADC conversions (reads) per tile and input */
    int32_t corr_sumw; /* digital correction coefficients */
    int32_t corr_s;
    int32_t corr_n;
    int32_t rows_per_input; /* physical footprint (docs/semantics.md table) */
    int32_t cols_per_output;
    int8_t slot_state[CIM_MAX_SLOTS][3];
    int8_t drive[CIM_MAX_DRIVES][3];
    cim_conv conv[CIM_MAX_CONVS];
} cim_mapping_desc;

/* Weight encodings: state of each slot for w = -1, 0, +1 (-1: not allowed). */
#define CIM_ENC_DIFF_P                                                                             \
    {                                                                                              \
        0, 0, 1                                                                                    \
    } /* differential: w = P - Q */
#define CIM_ENC_DIFF_Q                                                                             \
    {                                                                                              \
        1, 0, 0                                                                                    \
    }
#define CIM_ENC_OFFSET_P                                                                           \
    {                                                                                              \
        0, -1, 1                                                                                   \
    } /* offset: w = 2P - 1 */
#define CIM_ENC_OFFSET_INV_P                                                                       \
    {                                                                                              \
        1, -1, 0                                                                                   \
    } /* offset inverted: w = 1 - 2P */
#define CIM_ENC_TWOS_P                                                                             \
    {                                                                                              \
        1, 0, 1                                                                                    \
    } /* two's complement: w = P - 2Q */
#define CIM_ENC_TWOS_Q                                                                             \
    {                                                                                              \
        1, 0, 0                                                                                    \
    }
#define CIM_ENC_SHIFT_P                                                                            \
    {                                                                                              \
        0, 1, 0                                                                                    \
    } /* shifted two's complement: w = P + 2Q - 1 */
#define CIM_ENC_SHIFT_Q                                                                            \
    {                                                                                              \
        0, 0, 1                                                                                    \
    }
#define CIM_ENC_NONE                                                                               \
    {                                                                                              \
        -1, -1, -1                                                                                 \
    }

/* Input encodings: drive bit for x = -1, 0, +1. */
#define CIM_DRV_POS                                                                                \
    {                                                                                              \
        0, 0, 1                                                                                    \
    } /* d+ = [x = +1] (also unipolar d) */
#define CIM_DRV_NEG                                                                                \
    {                                                                                              \
        1, 0, 0                                                                                    \
    } /* d- = [x = -1] (also inverted unipolar d) */
#define CIM_DRV_NONZERO                                                                            \
    {                                                                                              \
        1, 0, 1                                                                                    \
    } /* d0 = [x != 0] (two's complement bit 0) */
#define CIM_DRV_ZERO                                                                               \
    {                                                                                              \
        0, 1, 0                                                                                    \
    } /* d0 = [x = 0] (shifted bits, bit 0) */
#define CIM_DRV_NONE                                                                               \
    {                                                                                              \
        0, 0, 0                                                                                    \
    }

#define CIM_T(slot, drive, sign)                                                                   \
    {                                                                                              \
        slot, drive, sign, 0                                                                       \
    }
#define CIM_T0                                                                                     \
    {                                                                                              \
        0, 0, 0, 0                                                                                 \
    }
/* conversion: k, sign, offset_half_s, offset_half_n, terms... */
#define CIM_CONV1(k, sg, os, on, a)                                                                \
    {                                                                                              \
        k, sg, os, on, 1, 0,                                                                       \
        {                                                                                          \
            a, CIM_T0, CIM_T0, CIM_T0                                                              \
        }                                                                                          \
    }
#define CIM_CONV2(k, sg, os, on, a, b)                                                             \
    {                                                                                              \
        k, sg, os, on, 2, 0,                                                                       \
        {                                                                                          \
            a, b, CIM_T0, CIM_T0                                                                   \
        }                                                                                          \
    }
#define CIM_CONV4(k, sg, os, on, a, b, c, d)                                                       \
    {                                                                                              \
        k, sg, os, on, 4, 0,                                                                       \
        {                                                                                          \
            a, b, c, d                                                                             \
        }                                                                                          \
    }
#define CIM_CONV_NONE                                                                              \
    {                                                                                              \
        0, 0, 0, 0, 0, 0,                                                                          \
        {                                                                                          \
            CIM_T0, CIM_T0, CIM_T0, CIM_T0                                                         \
        }                                                                                          \
    }

/* BNN_VI / TNN_I: four cells per weight. Slot 0: P on the d+ row, positive
 * column; 1: Q on the d- row, positive column; 2: Q on the d+ row, negative
 * column; 3: P on the d- row, negative column. */
#define CIM_FOUR_CELL_SLOTS                                                                        \
    {                                                                                              \
        CIM_ENC_DIFF_P, CIM_ENC_DIFF_Q, CIM_ENC_DIFF_Q, CIM_ENC_DIFF_P                             \
    }
#define CIM_FOUR_CELL_CONV                                                                         \
    CIM_CONV4(1, 1, 0, 0, CIM_T(0, 0, 1), CIM_T(1, 1, 1), CIM_T(2, 0, -1), CIM_T(3, 1, -1))

CIM_CONSTANT cim_mapping_desc CIM_MAPPINGS[CIM_MAPPING_COUNT] = {
    /* BNN_I: I = sum (cP - cQ) d, d = [x=+1]; r = A(I,2,0) - sumw */
    {0,
     1,
     2,
     1,
     1,
     -1,
     0,
     0,
     1,
     2,
     {CIM_ENC_DIFF_P, CIM_ENC_DIFF_Q, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_POS, CIM_DRV_NONE},
     {CIM_CONV2(2, 1, 0, 0, CIM_T(0, 0, 1), CIM_T(1, 0, -1)), CIM_CONV_NONE, CIM_CONV_NONE,
      CIM_CONV_NONE}},
    /* BNN_II: I = sum (cQ - cP) d, d = [x=-1]; r = A(I,2,0) + sumw */
    {0,
     1,
     2,
     1,
     1,
     1,
     0,
     0,
     1,
     2,
     {CIM_ENC_DIFF_P, CIM_ENC_DIFF_Q, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_NEG, CIM_DRV_NONE},
     {CIM_CONV2(2, 1, 0, 0, CIM_T(1, 0, 1), CIM_T(0, 0, -1)), CIM_CONV_NONE, CIM_CONV_NONE,
      CIM_CONV_NONE}},
    /* BNN_III: reads I+ = sum cP d+, I- = sum cP d-;
     * r = A(I+,2,-S*HRS) - A(I-,2,0) - S */
    {0,
     0,
     1,
     2,
     2,
     0,
     -1,
     0,
     1,
     1,
     {CIM_ENC_OFFSET_P, CIM_ENC_NONE, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_POS, CIM_DRV_NEG},
     {CIM_CONV1(2, 1, -2, 0, CIM_T(0, 0, 1)), CIM_CONV1(2, -1, 0, 0, CIM_T(0, 1, 1)), CIM_CONV_NONE,
      CIM_CONV_NONE}},
    /* BNN_IV: same reads, inverted offset weights; r = A(I-,2,0) - A(I+,2,-S*HRS) + S */
    {0,
     0,
     1,
     2,
     2,
     0,
     1,
     0,
     1,
     1,
     {CIM_ENC_OFFSET_INV_P, CIM_ENC_NONE, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_POS, CIM_DRV_NEG},
     {CIM_CONV1(2, -1, -2, 0, CIM_T(0, 0, 1)), CIM_CONV1(2, 1, 0, 0, CIM_T(0, 1, 1)), CIM_CONV_NONE,
      CIM_CONV_NONE}},
    /* BNN_V (XNOR): I = sum (cP d+ + cQ d-); r = A(I,2,-N*HRS) - N */
    {0,
     0,
     2,
     2,
     1,
     0,
     0,
     -1,
     2,
     1,
     {CIM_ENC_DIFF_P, CIM_ENC_DIFF_Q, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_POS, CIM_DRV_NEG},
     {CIM_CONV2(2, 1, 0, -2, CIM_T(0, 0, 1), CIM_T(1, 1, 1)), CIM_CONV_NONE, CIM_CONV_NONE,
      CIM_CONV_NONE}},
    /* BNN_VI: I = sum (cP d+ + cQ d- - cQ d+ - cP d-); r = A(I,1,0) */
    {0,
     1,
     4,
     2,
     1,
     0,
     0,
     0,
     2,
     2,
     CIM_FOUR_CELL_SLOTS,
     {CIM_DRV_POS, CIM_DRV_NEG},
     {CIM_FOUR_CELL_CONV, CIM_CONV_NONE, CIM_CONV_NONE, CIM_CONV_NONE}},
    /* TNN_I: as BNN_VI with ternary weights and inputs */
    {1,
     1,
     4,
     2,
     1,
     0,
     0,
     0,
     2,
     2,
     CIM_FOUR_CELL_SLOTS,
     {CIM_DRV_POS, CIM_DRV_NEG},
     {CIM_FOUR_CELL_CONV, CIM_CONV_NONE, CIM_CONV_NONE, CIM_CONV_NONE}},
    /* TNN_II: d0 = [x!=0], d1 = [x=-1]; r = A(I0,1,0) - A(I1,2,0) */
    {1,
     1,
     2,
     2,
     2,
     0,
     0,
     0,
     1,
     2,
     {CIM_ENC_DIFF_P, CIM_ENC_DIFF_Q, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_NONZERO, CIM_DRV_NEG},
     {CIM_CONV2(1, 1, 0, 0, CIM_T(0, 0, 1), CIM_T(1, 0, -1)),
      CIM_CONV2(2, -1, 0, 0, CIM_T(0, 1, 1), CIM_T(1, 1, -1)), CIM_CONV_NONE, CIM_CONV_NONE}},
    /* TNN_III: d0 = [x=0], d1 = [x=+1]; r = A(I0,1,0) + A(I1,2,0) - sumw */
    {1,
     1,
     2,
     2,
     2,
     -1,
     0,
     0,
     1,
     2,
     {CIM_ENC_DIFF_P, CIM_ENC_DIFF_Q, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_ZERO, CIM_DRV_POS},
     {CIM_CONV2(1, 1, 0, 0, CIM_T(0, 0, 1), CIM_T(1, 0, -1)),
      CIM_CONV2(2, 1, 0, 0, CIM_T(0, 1, 1), CIM_T(1, 1, -1)), CIM_CONV_NONE, CIM_CONV_NONE}},
    /* TNN_IV: two's complement weights, split inputs; a = sum cP d+, b = sum cP d-,
     * e = sum cQ d+, f = sum cQ d-;
     * r = A(a,1,+S*HRS/2) - A(b,1,-S*HRS/2) - A(e,2,0) + A(f,2,0) */
    {1,
     0,
     2,
     2,
     4,
     0,
     0,
     0,
     1,
     2,
     {CIM_ENC_TWOS_P, CIM_ENC_TWOS_Q, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_POS, CIM_DRV_NEG},
     {CIM_CONV1(1, 1, 1, 0, CIM_T(0, 0, 1)), CIM_CONV1(1, -1, -1, 0, CIM_T(0, 1, 1)),
      CIM_CONV1(2, -1, 0, 0, CIM_T(1, 0, 1)), CIM_CONV1(2, 1, 0, 0, CIM_T(1, 1, 1))}},
    /* TNN_V: shifted two's complement weights, split inputs;
     * r = A(a,1,0) - A(b,1,3*S*HRS) + A(e,2,0) - A(f,2,0) - S */
    {1,
     0,
     2,
     2,
     4,
     0,
     -1,
     0,
     1,
     2,
     {CIM_ENC_SHIFT_P, CIM_ENC_SHIFT_Q, CIM_ENC_NONE, CIM_ENC_NONE},
     {CIM_DRV_POS, CIM_DRV_NEG},
     {CIM_CONV1(1, 1, 0, 0, CIM_T(0, 0, 1)), CIM_CONV1(1, -1, 6, 0, CIM_T(0, 1, 1)),
      CIM_CONV1(2, 1, 0, 0, CIM_T(1, 0, 1)), CIM_CONV1(2, -1, 0, 0, CIM_T(1, 1, 1))}},
};

/* Where the reference simulator truncates toward zero when its ideal ADC's
 * real-valued results enter its integer accumulator (cim_column.h applies
 * this chain to fine currents: bit-line IR drop), per mapping in id order:
 * {trunc_each: after every conversion as well as at the end, corr_after:
 * the digital correction is added after the last truncation instead of
 * before the first}. BNN_I trunc(A - sumw) ... TNN_II r = trunc(A0),
 * r = trunc(r - A1); TNN_III the same with + A1, then r - sumw; TNN_V
 * trunc(A0 - A1 + A2 - A3) - S. */
CIM_CONSTANT int8_t CIM_TRUNC_CHAIN[CIM_MAPPING_COUNT][2] = {
    {0, 0}, /* BNN_I */
    {0, 0}, /* BNN_II */
    {0, 0}, /* BNN_III */
    {0, 0}, /* BNN_IV */
    {0, 0}, /* BNN_V */
    {0, 0}, /* BNN_VI */
    {0, 0}, /* TNN_I */
    {1, 0}, /* TNN_II */
    {1, 1}, /* TNN_III */
    {0, 0}, /* TNN_IV */
    {0, 1}, /* TNN_V */
};

#endif /* CIM_MAPPINGS_H */
