/* cim_pickle.h -- a restricted reader of Python pickles: the subset that a
 * dict of lists, strings and one numpy uint8 array is written with (the
 * CIFAR "python" batches, cim_cifar.h), by Python 2's cPickle (protocol 2)
 * and by Python 3's pickle (protocols 2 to 4).
 *
 * The reader builds values (None, bools, 64-bit integers, byte strings,
 * unicode strings, tuples, lists, dicts, numpy arrays and dtypes) and never
 * executes anything: the only callables a pickle may name are numpy's
 * _reconstruct (numpy.core.multiarray or numpy._core.multiarray), ndarray
 * and dtype, which REDUCE and BUILD turn into an array value, and
 * _codecs.encode(text, "latin1"), which is how Python 3 writes bytes in
 * protocol 2. Opcodes read:
 *   PROTO FRAME STOP MARK  EMPTY_DICT EMPTY_LIST EMPTY_TUPLE TUPLE TUPLE1..3
 *   SETITEM SETITEMS APPEND APPENDS  BINPUT LONG_BINPUT MEMOIZE BINGET
 *   LONG_BINGET  BININT BININT1 BININT2 LONG1  SHORT_BINSTRING BINSTRING
 *   SHORT_BINBYTES BINBYTES SHORT_BINUNICODE BINUNICODE  GLOBAL STACK_GLOBAL
 *   REDUCE BUILD  NONE NEWTRUE NEWFALSE
 * Any other opcode, any other global, and any misuse (a REDUCE of something
 * else, a stack underflow, an unknown memo entry, a value of the wrong type)
 * is refused with one line naming the file, the byte offset and the opcode.
 * Every length, count and depth is bounded (CIM_PICKLE_MAX_*); a string is
 * read into a buffer that grows only as its bytes arrive, so a short file
 * that promises gigabytes costs little before it is refused as truncated.
 * After STOP the file must end.
 *
 * Files are read through zlib (plain or gzip). Every function returns 0 or a
 * negative CIM_ERR_* code (CIM_ERR_INPUT for a bad file, CIM_ERR_NOMEM) with
 * a one-line message. The pickle owns every value until cim_pickle_free().
 */
#ifndef CIM_PICKLE_H
#define CIM_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "cim_error.h"

#define CIM_PICKLE_MAX_STRING (((int64_t)1 << 31) - 1) /* bytes of one string */
#define CIM_PICKLE_MAX_TOTAL ((int64_t)1 << 32)        /* bytes of all strings */
#define CIM_PICKLE_MAX_VALUES ((int64_t)1 << 20)       /* values made */
#define CIM_PICKLE_MAX_ITEMS ((int64_t)1 << 22)        /* items of all containers */
#define CIM_PICKLE_MAX_STACK ((int64_t)1 << 20)        /* values on the stack */
#define CIM_PICKLE_MAX_MARKS 64                        /* marks open at once */
#define CIM_PICKLE_MAX_MEMO ((int64_t)1 << 22)         /* memo indices 0 .. this - 1 */
#define CIM_PICKLE_MAX_ARRAYS 64                       /* numpy arrays */
#define CIM_PICKLE_MAX_RANK 8                          /* dimensions of an array */
#define CIM_PICKLE_MAX_GLOBAL 128                      /* bytes of a global's module or name */

typedef enum cim_pk_type {
    CIM_PK_NONE,
    CIM_PK_BOOL,
    CIM_PK_INT,
    CIM_PK_BYTES, /* SHORT_BINSTRING, BINSTRING (Python 2's str), *BINBYTES */
    CIM_PK_STR,   /* *BINUNICODE: UTF-8 bytes as stored */
    CIM_PK_TUPLE,
    CIM_PK_LIST,
    CIM_PK_DICT,
    CIM_PK_GLOBAL,  /* an allowed callable (cim_pk_global) */
    CIM_PK_DTYPE,   /* numpy.dtype(descr) */
    CIM_PK_NDARRAY, /* numpy.ndarray */
} cim_pk_type;

typedef enum cim_pk_global {
    CIM_PK_RECONSTRUCT, /* numpy.core.multiarray._reconstruct */
    CIM_PK_NDARRAY_TYPE,
    CIM_PK_DTYPE_TYPE,
    CIM_PK_CODECS_ENCODE,
} cim_pk_global;

typedef struct cim_pk_value cim_pk_value;

/* A numpy array once BUILD has given it its state. */
typedef struct cim_pk_array {
    int built;
    int rank;
    int64_t shape[CIM_PICKLE_MAX_RANK];
    cim_pk_value *dtype; /* CIM_PK_DTYPE */
    int fortran;         /* Fortran order */
    cim_pk_value *data;  /* CIM_PK_BYTES: the elements */
} cim_pk_array;

struct cim_pk_value {
    cim_pk_type type;
    int built;            /* DTYPE: BUILD has given its state */
    int64_t i;            /* BOOL, INT; GLOBAL: its cim_pk_global; DTYPE: the byte order */
    uint8_t *bytes;       /* BYTES, STR; DTYPE: its descr ("u1"); NUL-terminated */
    int64_t len;          /* of bytes; TUPLE, LIST, DICT: of items */
    cim_pk_value **items; /* TUPLE, LIST; DICT: key 0, value 0, key 1, ... */
    int64_t cap;
    cim_pk_array *array; /* NDARRAY */
};

typedef struct cim_pickle cim_pickle;

/* Reads the pickle file at `path` into *out (NULL on failure). */
int cim_pickle_read_file(const char *path, cim_pickle **out, cim_error *err);

/* The same over n bytes in memory; `name` stands for the file in messages. */
int cim_pickle_read_memory(const char *name, const uint8_t *bytes, size_t n, cim_pickle **out,
                           cim_error *err);

/* The value the pickle holds. */
cim_pk_value *cim_pickle_root(const cim_pickle *p);

/* Frees every value; NULL is harmless. */
void cim_pickle_free(cim_pickle *p);

/* The value of `key` in a DICT whose key is that byte string or unicode
 * string (the last one set), or NULL. */
cim_pk_value *cim_pk_dict_get(const cim_pk_value *dict, const char *key);

/* The buffer of a BYTES value, which then holds nothing: the caller owns
 * it (free()). */
uint8_t *cim_pk_take_bytes(cim_pk_value *v);

/* "an int", "a list", "a numpy.ndarray", "None", ...: for messages. */
const char *cim_pk_type_name(cim_pk_type type);

#endif /* CIM_PICKLE_H */
