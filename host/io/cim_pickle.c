/* cim_pickle.c -- the restricted pickle reader of cim_pickle.h, written for
 * hostile input.
 *
 * One loop reads an opcode, checks everything it needs (the bytes that
 * follow it, the values it takes from the stack and their types) and pushes
 * what it makes. Python's machine is kept in its shape: a stack of values,
 * marks that open a frame on it (MARK ... TUPLE / APPENDS / SETITEMS take the
 * values above the last mark), and a memo of values by index. An opcode may
 * only take values of the frame it runs in, as in Python.
 *
 * Values live in chunks of PK_CHUNK_VALUES owned by the pickle and are freed
 * together, never one by one, so nothing walks the (possibly deep) value
 * graph: freeing, like reading, has no recursion. The integers 0..255, None,
 * True and False are made once and shared, so a list of 50000 labels costs
 * its items only.
 *
 * Limits (cim_pickle.h): values, container items, stack, marks, memo, arrays,
 * string length and total string bytes. A string's buffer starts at
 * PK_FIRST_CHUNK bytes (or less) and doubles only as its bytes arrive.
 *
 * Ownership: the reader owns the stack and memo arrays (freed when it ends);
 * the pickle owns the values, their bytes, items and arrays, until
 * cim_pickle_free(); cim_pk_take_bytes() hands one buffer to the caller.
 */
#include "cim_pickle.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#define PK_CHUNK_VALUES 4096
#define PK_FIRST_CHUNK ((int64_t)1 << 20) /* first buffer of a string; doubles as data arrives */
#define PK_MAX_READ (1 << 30)             /* bytes per gzread call */
#define PK_GZ_BUFFER_BYTES (1 << 17)
#define PK_MAX_PROTOCOL 5
#define PK_DESCR_MAX 16 /* bytes of a dtype's descr, NUL included */
#define PK_FIRST_ITEMS 8

/* The opcodes read. */
enum {
    OP_MARK = '(',
    OP_STOP = '.',
    OP_BININT = 'J',
    OP_BININT1 = 'K',
    OP_BININT2 = 'M',
    OP_NONE = 'N',
    OP_REDUCE = 'R',
    OP_BINSTRING = 'T',
    OP_SHORT_BINSTRING = 'U',
    OP_BINUNICODE = 'X',
    OP_APPEND = 'a',
    OP_BUILD = 'b',
    OP_GLOBAL = 'c',
    OP_APPENDS = 'e',
    OP_BINGET = 'h',
    OP_LONG_BINGET = 'j',
    OP_EMPTY_LIST = ']',
    OP_BINPUT = 'q',
    OP_LONG_BINPUT = 'r',
    OP_SETITEM = 's',
    OP_TUPLE = 't',
    OP_EMPTY_TUPLE = ')',
    OP_SETITEMS = 'u',
    OP_EMPTY_DICT = '}',
    OP_PROTO = 0x80,
    OP_TUPLE1 = 0x85,
    OP_TUPLE2 = 0x86,
    OP_TUPLE3 = 0x87,
    OP_NEWTRUE = 0x88,
    OP_NEWFALSE = 0x89,
    OP_LONG1 = 0x8a,
    OP_SHORT_BINUNICODE = 0x8c,
    OP_STACK_GLOBAL = 0x93,
    OP_MEMOIZE = 0x94,
    OP_FRAME = 0x95,
    OP_BINBYTES = 'B',
    OP_SHORT_BINBYTES = 'C',
};

/* Every opcode of protocols 0 to 5 by name, those refused included; NULL
 * for a byte that is none. */
static const char *op_name(int op)
{
    static const struct {
        int op;
        const char *name;
    } names[] = {
        {'(', "MARK"},
        {'.', "STOP"},
        {'0', "POP"},
        {'1', "POP_MARK"},
        {'2', "DUP"},
        {'F', "FLOAT"},
        {'I', "INT"},
        {'J', "BININT"},
        {'K', "BININT1"},
        {'L', "LONG"},
        {'M', "BININT2"},
        {'N', "NONE"},
        {'P', "PERSID"},
        {'Q', "BINPERSID"},
        {'R', "REDUCE"},
        {'S', "STRING"},
        {'T', "BINSTRING"},
        {'U', "SHORT_BINSTRING"},
        {'V', "UNICODE"},
        {'X', "BINUNICODE"},
        {'a', "APPEND"},
        {'b', "BUILD"},
        {'c', "GLOBAL"},
        {'d', "DICT"},
        {'}', "EMPTY_DICT"},
        {'e', "APPENDS"},
        {'g', "GET"},
        {'h', "BINGET"},
        {'i', "INST"},
        {'j', "LONG_BINGET"},
        {'l', "LIST"},
        {']', "EMPTY_LIST"},
        {'o', "OBJ"},
        {'p', "PUT"},
        {'q', "BINPUT"},
        {'r', "LONG_BINPUT"},
        {'s', "SETITEM"},
        {'t', "TUPLE"},
        {')', "EMPTY_TUPLE"},
        {'u', "SETITEMS"},
        {'G', "BINFLOAT"},
        {0x80, "PROTO"},
        {0x81, "NEWOBJ"},
        {0x82, "EXT1"},
        {0x83, "EXT2"},
        {0x84, "EXT4"},
        {0x85, "TUPLE1"},
        {0x86, "TUPLE2"},
        {0x87, "TUPLE3"},
        {0x88, "NEWTRUE"},
        {0x89, "NEWFALSE"},
        {0x8a, "LONG1"},
        {0x8b, "LONG4"},
        {'B', "BINBYTES"},
        {'C', "SHORT_BINBYTES"},
        {0x8c, "SHORT_BINUNICODE"},
        {0x8d, "BINUNICODE8"},
        {0x8e, "BINBYTES8"},
        {0x8f, "EMPTY_SET"},
        {0x90, "ADDITEMS"},
        {0x91, "FROZENSET"},
        {0x92, "NEWOBJ_EX"},
        {0x93, "STACK_GLOBAL"},
        {0x94, "MEMOIZE"},
        {0x95, "FRAME"},
        {0x96, "BYTEARRAY8"},
        {0x97, "NEXT_BUFFER"},
        {0x98, "READONLY_BUFFER"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; ++i)
        if (names[i].op == op)
            return names[i].name;
    return NULL;
}

typedef struct pk_chunk {
    struct pk_chunk *next;
    int n;
    cim_pk_value v[PK_CHUNK_VALUES];
} pk_chunk;

struct cim_pickle {
    pk_chunk *chunks;
    int64_t n_values, n_items, total_bytes, n_arrays;
    cim_pk_value *root;
    cim_pk_value *small_int[256], *none, *truth[2]; /* shared values, made on first use */
};

typedef struct pk_reader {
    const char *name;   /* the file, for messages */
    gzFile gz;          /* or, when NULL, the bytes in memory: */
    const uint8_t *mem; /* mem_n of them */
    int64_t mem_n;
    int64_t pos;   /* bytes read */
    int64_t op_at; /* where the current opcode starts */
    int op;        /* the current opcode */
    int rc;        /* the first error */
    cim_error *err;
    cim_pickle *p;
    cim_pk_value **stack;
    int64_t n_stack, cap_stack;
    int64_t marks[CIM_PICKLE_MAX_MARKS]; /* stack heights at each open MARK */
    int n_marks;
    cim_pk_value **memo;
    int64_t cap_memo, n_memo; /* slots allocated; entries set */
} pk_reader;

/* ---- errors -------------------------------------------------------------- */

/* "NAME at byte N: <message>", once. */
static int pk_fail(pk_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int pk_fail(pk_reader *r, const char *fmt, ...)
{
    char what[CIM_ERROR_MSG_MAX], code[8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *name = op_name(r->op);
    snprintf(code, sizeof code, "0x%02x", (unsigned)r->op);
    if (!r->rc)
        r->rc = cim_error_set(r->err, CIM_ERR_INPUT, "%s: pickle %s at byte %lld: %s", r->name,
                              name ? name : code, (long long)r->op_at, what);
    return r->rc;
}

static int pk_nomem(pk_reader *r)
{
    if (!r->rc)
        r->rc = cim_error_set(r->err, CIM_ERR_NOMEM,
                              "%s: out of memory reading the pickle (at byte %lld)", r->name,
                              (long long)r->op_at);
    return r->rc;
}

/* zlib's message for the last error, without the "path: " it puts in front. */
static const char *pk_gz_message(const pk_reader *r, int *errnum)
{
    const char *msg = gzerror(r->gz, errnum);
    size_t n = strlen(r->name);
    if (msg && strncmp(msg, r->name, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        msg += n + 2;
    return msg ? msg : "unknown zlib error";
}

static int pk_read_failed(pk_reader *r)
{
    int errnum = Z_OK;
    const char *msg = pk_gz_message(r, &errnum);
    if (!r->rc)
        r->rc = cim_error_set(r->err, CIM_ERR_INPUT, "%s: %s the pickle at byte %lld: %s", r->name,
                              errnum == Z_ERRNO ? "cannot read" : "corrupt gzip data in",
                              (long long)r->pos, msg);
    return r->rc;
}

/* The file ended inside the current opcode: `found` of `expected` bytes. */
static int pk_truncated(pk_reader *r, int64_t expected, int64_t found)
{
    return pk_fail(r, "truncated pickle: expected %lld more bytes, found %lld", (long long)expected,
                   (long long)found);
}

/* Up to `max` bytes of s as printable ASCII ('?' for others), for messages. */
static const char *pk_printable(const uint8_t *s, int64_t len, char *out, size_t max)
{
    size_t n = 0;
    for (int64_t i = 0; i < len && n + 4 < max; ++i)
        out[n++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    if (len > (int64_t)n && n + 4 <= max) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
}

/* ---- reading bytes ------------------------------------------------------- */

/* Up to n bytes into buf, *got of them: 0, or the error of a failed read. */
static int pk_read(pk_reader *r, uint8_t *buf, int64_t n, int64_t *got)
{
    *got = 0;
    if (!r->gz) {
        const int64_t left = r->mem_n - r->pos;
        *got = n < left ? n : left;
        if (*got > 0)
            memcpy(buf, r->mem + r->pos, (size_t)*got);
        r->pos += *got;
        return 0;
    }
    while (*got < n) {
        const int64_t want = n - *got < PK_MAX_READ ? n - *got : PK_MAX_READ;
        const int k = gzread(r->gz, buf + *got, (unsigned)want);
        if (k < 0)
            return pk_read_failed(r);
        if (k == 0)
            break;
        *got += k;
    }
    r->pos += *got;
    return 0;
}

/* Exactly n (at most 8) bytes of the current opcode's argument. */
static int pk_arg(pk_reader *r, uint8_t *buf, int64_t n)
{
    int64_t got = 0;
    int rc = pk_read(r, buf, n, &got);
    if (!rc && got < n)
        rc = pk_truncated(r, n, got);
    return rc;
}

static int pk_arg_u8(pk_reader *r, int64_t *v)
{
    uint8_t b[1];
    int rc = pk_arg(r, b, 1);
    *v = b[0];
    return rc;
}

static int pk_arg_u16(pk_reader *r, int64_t *v)
{
    uint8_t b[2];
    int rc = pk_arg(r, b, 2);
    *v = (int64_t)b[0] | (int64_t)b[1] << 8;
    return rc;
}

static int pk_arg_u32(pk_reader *r, int64_t *v)
{
    uint8_t b[4];
    int rc = pk_arg(r, b, 4);
    *v = (int64_t)b[0] | (int64_t)b[1] << 8 | (int64_t)b[2] << 16 | (int64_t)b[3] << 24;
    return rc;
}

static int pk_arg_i32(pk_reader *r, int64_t *v)
{
    int rc = pk_arg_u32(r, v);
    if (*v >= (int64_t)1 << 31)
        *v -= (int64_t)1 << 32;
    return rc;
}

/* A string of len bytes into a malloc'd buffer of len + 1 (NUL-terminated),
 * grown as the bytes arrive. */
static int pk_blob(pk_reader *r, int64_t len, uint8_t **out)
{
    int64_t cap = len < PK_FIRST_CHUNK ? len : PK_FIRST_CHUNK, done = 0;
    uint8_t *buf = malloc((size_t)cap + 1);
    *out = NULL;
    if (!buf)
        return pk_nomem(r);
    for (;;) {
        int64_t got = 0;
        int rc = pk_read(r, buf + done, cap - done, &got);
        done += got;
        if (!rc && done < cap)
            rc = pk_truncated(r, len, done);
        if (rc) {
            free(buf);
            return rc;
        }
        if (done == len)
            break;
        cap = 2 * cap < len ? 2 * cap : len;
        uint8_t *grown = realloc(buf, (size_t)cap + 1);
        if (!grown) {
            free(buf);
            return pk_nomem(r);
        }
        buf = grown;
    }
    buf[len] = '\0';
    *out = buf;
    return 0;
}

/* ---- values -------------------------------------------------------------- */

static cim_pk_value *pk_new(pk_reader *r, cim_pk_type type)
{
    cim_pickle *p = r->p;
    if (p->n_values >= CIM_PICKLE_MAX_VALUES) {
        pk_fail(r, "more than %lld values (the limit)", (long long)CIM_PICKLE_MAX_VALUES);
        return NULL;
    }
    if (!p->chunks || p->chunks->n == PK_CHUNK_VALUES) {
        pk_chunk *c = calloc(1, sizeof *c);
        if (!c) {
            pk_nomem(r);
            return NULL;
        }
        c->next = p->chunks;
        p->chunks = c;
    }
    cim_pk_value *v = &p->chunks->v[p->chunks->n++];
    memset(v, 0, sizeof *v);
    v->type = type;
    ++p->n_values;
    return v;
}

/* A shared value (an integer 0..255, None, True, False), made on first use. */
static cim_pk_value *pk_shared(pk_reader *r, cim_pk_value **slot, cim_pk_type type, int64_t i)
{
    if (!*slot && (*slot = pk_new(r, type)) != NULL)
        (*slot)->i = i;
    return *slot;
}

static cim_pk_value *pk_int(pk_reader *r, int64_t i)
{
    if (i >= 0 && i < 256)
        return pk_shared(r, &r->p->small_int[i], CIM_PK_INT, i);
    cim_pk_value *v = pk_new(r, CIM_PK_INT);
    if (v)
        v->i = i;
    return v;
}

static int pk_add_item(pk_reader *r, cim_pk_value *c, cim_pk_value *item)
{
    if (r->p->n_items >= CIM_PICKLE_MAX_ITEMS)
        return pk_fail(r, "more than %lld items in tuples, lists and dicts (the limit)",
                       (long long)CIM_PICKLE_MAX_ITEMS);
    if (c->len == c->cap) {
        const int64_t cap = c->cap ? 2 * c->cap : PK_FIRST_ITEMS;
        cim_pk_value **grown = realloc(c->items, (size_t)cap * sizeof *grown);
        if (!grown)
            return pk_nomem(r);
        c->items = grown;
        c->cap = cap;
    }
    c->items[c->len++] = item;
    ++r->p->n_items;
    return 0;
}

/* ---- the stack ----------------------------------------------------------- */

static int pk_push(pk_reader *r, cim_pk_value *v)
{
    if (!v)
        return r->rc;
    if (r->n_stack >= CIM_PICKLE_MAX_STACK)
        return pk_fail(r, "more than %lld values on the stack (the limit)",
                       (long long)CIM_PICKLE_MAX_STACK);
    if (r->n_stack == r->cap_stack) {
        const int64_t cap = r->cap_stack ? 2 * r->cap_stack : 64;
        cim_pk_value **grown = realloc(r->stack, (size_t)cap * sizeof *grown);
        if (!grown)
            return pk_nomem(r);
        r->stack = grown;
        r->cap_stack = cap;
    }
    r->stack[r->n_stack++] = v;
    return 0;
}

/* Where the current frame starts: the height at the last MARK, or 0. */
static int64_t pk_frame(const pk_reader *r)
{
    return r->n_marks ? r->marks[r->n_marks - 1] : 0;
}

/* The current frame must hold at least k values. */
static int pk_need(pk_reader *r, int64_t k)
{
    const int64_t have = r->n_stack - pk_frame(r);
    if (have < k)
        return pk_fail(r, "stack underflow: needs %lld value%s%s, found %lld", (long long)k,
                       k == 1 ? "" : "s", r->n_marks ? " after the last MARK" : "",
                       (long long)have);
    return 0;
}

static cim_pk_value *pk_pop(pk_reader *r)
{
    return r->stack[--r->n_stack];
}

/* Closes the last MARK: its values are stack[*first .. n_stack). */
static int pk_pop_mark(pk_reader *r, int64_t *first)
{
    if (!r->n_marks)
        return pk_fail(r, "no MARK open");
    *first = r->marks[--r->n_marks];
    return 0;
}

/* The value the frame below the last MARK ends with (a list or dict that
 * APPENDS or SETITEMS fill), checked to be of `type`. */
static int pk_below_mark(pk_reader *r, cim_pk_type type, cim_pk_value **out)
{
    if (!r->n_marks)
        return pk_fail(r, "no MARK open");
    const int64_t at = r->marks[r->n_marks - 1];
    const int64_t below = r->n_marks > 1 ? r->marks[r->n_marks - 2] : 0;
    if (at <= below)
        return pk_fail(r, "stack underflow: nothing before the MARK (expected %s)",
                       cim_pk_type_name(type));
    *out = r->stack[at - 1];
    if ((*out)->type != type)
        return pk_fail(r, "applies to %s, expected %s", cim_pk_type_name((*out)->type),
                       cim_pk_type_name(type));
    return 0;
}

/* ---- the memo ------------------------------------------------------------ */

static int pk_memo_put(pk_reader *r, int64_t index)
{
    int rc = pk_need(r, 1);
    if (rc)
        return rc;
    if (index < 0 || index >= CIM_PICKLE_MAX_MEMO)
        return pk_fail(r, "memo index %lld is outside 0..%lld", (long long)index,
                       (long long)CIM_PICKLE_MAX_MEMO - 1);
    if (index >= r->cap_memo) {
        int64_t cap = r->cap_memo ? r->cap_memo : 256;
        while (cap <= index)
            cap *= 2;
        if (cap > CIM_PICKLE_MAX_MEMO)
            cap = CIM_PICKLE_MAX_MEMO;
        cim_pk_value **grown = realloc(r->memo, (size_t)cap * sizeof *grown);
        if (!grown)
            return pk_nomem(r);
        memset(grown + r->cap_memo, 0, (size_t)(cap - r->cap_memo) * sizeof *grown);
        r->memo = grown;
        r->cap_memo = cap;
    }
    if (!r->memo[index])
        ++r->n_memo;
    r->memo[index] = r->stack[r->n_stack - 1];
    return 0;
}

static int pk_memo_get(pk_reader *r, int64_t index)
{
    if (index >= r->cap_memo || !r->memo[index])
        return pk_fail(r, "memo entry %lld was never set", (long long)index);
    return pk_push(r, r->memo[index]);
}

/* ---- strings ------------------------------------------------------------- */

static int pk_string(pk_reader *r, int64_t len, cim_pk_type type)
{
    if (len < 0 || len > CIM_PICKLE_MAX_STRING)
        return pk_fail(r, "a string of %lld bytes (expected 0..%lld)", (long long)len,
                       (long long)CIM_PICKLE_MAX_STRING);
    if (r->p->total_bytes + len > CIM_PICKLE_MAX_TOTAL)
        return pk_fail(r, "more than %lld bytes of strings (the limit)",
                       (long long)CIM_PICKLE_MAX_TOTAL);
    uint8_t *buf = NULL;
    int rc = pk_blob(r, len, &buf);
    if (rc)
        return rc;
    cim_pk_value *v = pk_new(r, type);
    if (!v) {
        free(buf);
        return r->rc;
    }
    v->bytes = buf;
    v->len = len;
    r->p->total_bytes += len;
    return pk_push(r, v);
}

static int is_text(const cim_pk_value *v)
{
    return v->type == CIM_PK_BYTES || v->type == CIM_PK_STR;
}

static int text_is(const cim_pk_value *v, const char *s)
{
    const size_t n = strlen(s);
    return is_text(v) && v->len == (int64_t)n && memcmp(v->bytes, s, n) == 0;
}

/* ---- globals ------------------------------------------------------------- */

static const struct {
    const char *module, *name;
    cim_pk_global global;
} allowed_globals[] = {
    {"numpy.core.multiarray", "_reconstruct", CIM_PK_RECONSTRUCT},
    {"numpy._core.multiarray", "_reconstruct", CIM_PK_RECONSTRUCT},
    {"numpy", "ndarray", CIM_PK_NDARRAY_TYPE},
    {"numpy", "dtype", CIM_PK_DTYPE_TYPE},
    {"_codecs", "encode", CIM_PK_CODECS_ENCODE},
};

static int pk_resolve(pk_reader *r, const uint8_t *module, int64_t module_len, const uint8_t *name,
                      int64_t name_len)
{
    for (size_t i = 0; i < sizeof allowed_globals / sizeof *allowed_globals; ++i)
        if ((int64_t)strlen(allowed_globals[i].module) == module_len &&
            (int64_t)strlen(allowed_globals[i].name) == name_len &&
            memcmp(allowed_globals[i].module, module, (size_t)module_len) == 0 &&
            memcmp(allowed_globals[i].name, name, (size_t)name_len) == 0) {
            cim_pk_value *v = pk_new(r, CIM_PK_GLOBAL);
            if (v)
                v->i = allowed_globals[i].global;
            return pk_push(r, v);
        }
    char m[CIM_PICKLE_MAX_GLOBAL + 4], n[CIM_PICKLE_MAX_GLOBAL + 4];
    return pk_fail(r,
                   "global %s.%s is not allowed (only numpy's _reconstruct, ndarray and dtype, "
                   "and _codecs.encode)",
                   pk_printable(module, module_len, m, sizeof m),
                   pk_printable(name, name_len, n, sizeof n));
}

/* One line of GLOBAL's argument, without its newline. */
static int pk_line(pk_reader *r, uint8_t *buf, int64_t *len)
{
    for (*len = 0;; ++*len) {
        uint8_t b[1];
        int rc = pk_arg(r, b, 1);
        if (rc)
            return rc;
        if (b[0] == '\n')
            return 0;
        if (*len == CIM_PICKLE_MAX_GLOBAL)
            return pk_fail(r, "a module or name longer than %d bytes", CIM_PICKLE_MAX_GLOBAL);
        buf[*len] = b[0];
    }
}

static int pk_global(pk_reader *r)
{
    uint8_t module[CIM_PICKLE_MAX_GLOBAL], name[CIM_PICKLE_MAX_GLOBAL];
    int64_t module_len = 0, name_len = 0;
    int rc = pk_line(r, module, &module_len);
    if (!rc)
        rc = pk_line(r, name, &name_len);
    return rc ? rc : pk_resolve(r, module, module_len, name, name_len);
}

static int pk_stack_global(pk_reader *r)
{
    int rc = pk_need(r, 2);
    if (rc)
        return rc;
    cim_pk_value *name = pk_pop(r), *module = pk_pop(r);
    if (module->type != CIM_PK_STR || name->type != CIM_PK_STR)
        return pk_fail(r, "module and name are %s and %s, expected two str",
                       cim_pk_type_name(module->type), cim_pk_type_name(name->type));
    if (module->len > CIM_PICKLE_MAX_GLOBAL || name->len > CIM_PICKLE_MAX_GLOBAL)
        return pk_fail(r, "a module or name longer than %d bytes", CIM_PICKLE_MAX_GLOBAL);
    return pk_resolve(r, module->bytes, module->len, name->bytes, name->len);
}

/* ---- REDUCE and BUILD: numpy's arrays and dtypes, _codecs.encode --------- */

static int is_int_or_bool(const cim_pk_value *v)
{
    return v->type == CIM_PK_INT || v->type == CIM_PK_BOOL;
}

/* _codecs.encode(text, "latin1"): the UTF-8 text's code points, each < 256,
 * as bytes. */
static int pk_latin1(pk_reader *r, const cim_pk_value *text, const cim_pk_value *encoding)
{
    if (text->type != CIM_PK_STR)
        return pk_fail(r, "_codecs.encode of %s, expected a str", cim_pk_type_name(text->type));
    if (!text_is(encoding, "latin1") && !text_is(encoding, "latin-1"))
        return pk_fail(r, "_codecs.encode to an encoding other than latin1");
    uint8_t *out = malloc((size_t)text->len + 1);
    if (!out)
        return pk_nomem(r);
    int64_t n = 0;
    for (int64_t i = 0; i < text->len; ++n) {
        const uint8_t b = text->bytes[i];
        if (b < 0x80) {
            out[n] = b;
            ++i;
        } else if ((b & 0xE0) == 0xC0 && i + 1 < text->len && (text->bytes[i + 1] & 0xC0) == 0x80 &&
                   b >= 0xC2) {
            const int cp = (b & 0x1F) << 6 | (text->bytes[i + 1] & 0x3F);
            if (cp > 0xFF) {
                free(out);
                return pk_fail(r,
                               "_codecs.encode: code point U+%04X at byte %lld of the text is "
                               "not latin1",
                               (unsigned)cp, (long long)i);
            }
            out[n] = (uint8_t)cp;
            i += 2;
        } else {
            free(out);
            return pk_fail(r,
                           "_codecs.encode: byte %lld of the text (0x%02x) is not UTF-8 of a "
                           "latin1 character",
                           (long long)i, b);
        }
    }
    out[n] = '\0';
    cim_pk_value *v = pk_new(r, CIM_PK_BYTES);
    if (!v) {
        free(out);
        return r->rc;
    }
    v->bytes = out;
    v->len = n;
    r->p->total_bytes += n;
    return pk_push(r, v);
}

static int pk_reduce(pk_reader *r)
{
    int rc = pk_need(r, 2);
    if (rc)
        return rc;
    cim_pk_value *args = pk_pop(r), *f = pk_pop(r);
    if (f->type != CIM_PK_GLOBAL)
        return pk_fail(r, "calls %s, expected one of the allowed globals",
                       cim_pk_type_name(f->type));
    if (args->type != CIM_PK_TUPLE)
        return pk_fail(r, "arguments are %s, expected a tuple", cim_pk_type_name(args->type));
    cim_pk_value **a = args->items;
    switch ((cim_pk_global)f->i) {
    case CIM_PK_RECONSTRUCT: {
        if (args->len != 3 || a[0]->type != CIM_PK_GLOBAL || a[0]->i != CIM_PK_NDARRAY_TYPE ||
            a[1]->type != CIM_PK_TUPLE || !is_text(a[2]))
            return pk_fail(r, "_reconstruct takes (numpy.ndarray, shape, typecode)");
        if (r->p->n_arrays >= CIM_PICKLE_MAX_ARRAYS)
            return pk_fail(r, "more than %d numpy arrays (the limit)", CIM_PICKLE_MAX_ARRAYS);
        cim_pk_value *v = pk_new(r, CIM_PK_NDARRAY);
        if (!v)
            return r->rc;
        if (!(v->array = calloc(1, sizeof *v->array)))
            return pk_nomem(r);
        ++r->p->n_arrays;
        return pk_push(r, v);
    }
    case CIM_PK_DTYPE_TYPE: {
        if (args->len != 3 || !is_text(a[0]) || a[0]->len < 1 || a[0]->len >= PK_DESCR_MAX ||
            !is_int_or_bool(a[1]) || !is_int_or_bool(a[2]))
            return pk_fail(r, "numpy.dtype takes (descr, align, copy), a descr of 1..%d bytes",
                           PK_DESCR_MAX - 1);
        cim_pk_value *v = pk_new(r, CIM_PK_DTYPE);
        if (!v)
            return r->rc;
        if (!(v->bytes = malloc(PK_DESCR_MAX)))
            return pk_nomem(r);
        memcpy(v->bytes, a[0]->bytes, (size_t)a[0]->len);
        v->bytes[a[0]->len] = '\0';
        v->len = a[0]->len;
        return pk_push(r, v);
    }
    case CIM_PK_CODECS_ENCODE:
        if (args->len != 2)
            return pk_fail(r, "_codecs.encode takes (text, encoding)");
        return pk_latin1(r, a[0], a[1]);
    case CIM_PK_NDARRAY_TYPE:
        break;
    }
    return pk_fail(r, "numpy.ndarray is called directly (expected numpy's _reconstruct)");
}

/* BUILD of an array: state (version, shape, dtype, is_fortran, data), the
 * version optional, as numpy's ndarray.__setstate__ takes it. */
static int pk_build_array(pk_reader *r, cim_pk_array *arr, const cim_pk_value *state)
{
    if (state->type != CIM_PK_TUPLE || (state->len != 4 && state->len != 5))
        return pk_fail(r,
                       "the state of a numpy array is %s of %lld items, expected (version, "
                       "shape, dtype, is_fortran, data)",
                       cim_pk_type_name(state->type), (long long)state->len);
    cim_pk_value *const *s = state->items + (state->len == 5);
    if (state->len == 5 && (state->items[0]->type != CIM_PK_INT || state->items[0]->i != 1))
        return pk_fail(r, "numpy array state version is not 1");
    const cim_pk_value *shape = s[0];
    if (shape->type != CIM_PK_TUPLE || shape->len > CIM_PICKLE_MAX_RANK)
        return pk_fail(r,
                       "a numpy array's shape is %s of %lld items, expected a tuple of at "
                       "most %d",
                       cim_pk_type_name(shape->type), (long long)shape->len, CIM_PICKLE_MAX_RANK);
    int64_t elements = 1;
    for (int64_t k = 0; k < shape->len; ++k) {
        const cim_pk_value *d = shape->items[k];
        if (d->type != CIM_PK_INT || d->i < 0 || d->i > CIM_PICKLE_MAX_STRING)
            return pk_fail(r,
                           "dimension %lld of a numpy array's shape is not an integer in 0..%lld",
                           (long long)k, (long long)CIM_PICKLE_MAX_STRING);
        if (d->i && elements > CIM_PICKLE_MAX_STRING / d->i)
            return pk_fail(r, "a numpy array of more than %lld elements",
                           (long long)CIM_PICKLE_MAX_STRING);
        elements *= d->i;
        arr->shape[k] = d->i;
    }
    if (s[1]->type != CIM_PK_DTYPE || !s[1]->built)
        return pk_fail(r, "a numpy array's dtype is %s, expected a numpy.dtype",
                       cim_pk_type_name(s[1]->type));
    if (!is_int_or_bool(s[2]))
        return pk_fail(r, "a numpy array's is_fortran is %s, expected a bool",
                       cim_pk_type_name(s[2]->type));
    if (s[3]->type != CIM_PK_BYTES)
        return pk_fail(r, "a numpy array's data is %s, expected bytes",
                       cim_pk_type_name(s[3]->type));
    arr->rank = (int)shape->len;
    arr->dtype = s[1];
    arr->fortran = s[2]->i != 0;
    arr->data = s[3];
    arr->built = 1;
    return 0;
}

/* BUILD of a dtype: state (version, byte order, subarray, names, fields,
 * elsize, alignment, flags[, metadata]); only a plain one (no subarray, no
 * fields) is read. */
static int pk_build_dtype(pk_reader *r, cim_pk_value *dtype, const cim_pk_value *state)
{
    if (state->type != CIM_PK_TUPLE || (state->len != 8 && state->len != 9))
        return pk_fail(r, "the state of a numpy dtype is %s of %lld items, expected 8 or 9",
                       cim_pk_type_name(state->type), (long long)state->len);
    cim_pk_value *const *s = state->items;
    if (s[0]->type != CIM_PK_INT || !is_text(s[1]) || s[1]->len != 1 || !s[1]->bytes[0] ||
        !strchr("|<>=", s[1]->bytes[0]) || s[2]->type != CIM_PK_NONE || s[3]->type != CIM_PK_NONE ||
        s[4]->type != CIM_PK_NONE)
        return pk_fail(r, "not the state of a plain numpy dtype (version, byte order, None, None, "
                          "None, ...)");
    dtype->i = s[1]->bytes[0];
    dtype->built = 1;
    return 0;
}

static int pk_build(pk_reader *r)
{
    int rc = pk_need(r, 2);
    if (rc)
        return rc;
    cim_pk_value *state = pk_pop(r), *obj = r->stack[r->n_stack - 1];
    if (obj->type == CIM_PK_NDARRAY && !obj->array->built)
        return pk_build_array(r, obj->array, state);
    if (obj->type == CIM_PK_DTYPE && !obj->built)
        return pk_build_dtype(r, obj, state);
    return pk_fail(r, "applies to %s%s, expected a numpy array or dtype being made",
                   cim_pk_type_name(obj->type),
                   obj->built || (obj->array && obj->array->built) ? " already made" : "");
}

/* ---- containers ---------------------------------------------------------- */

static int pk_tuple_of(pk_reader *r, int64_t first)
{
    cim_pk_value *t = pk_new(r, CIM_PK_TUPLE);
    if (!t)
        return r->rc;
    for (int64_t i = first; i < r->n_stack; ++i) {
        int rc = pk_add_item(r, t, r->stack[i]);
        if (rc)
            return rc;
    }
    r->n_stack = first;
    return pk_push(r, t);
}

static int pk_tuple_n(pk_reader *r, int64_t k)
{
    int rc = pk_need(r, k);
    return rc ? rc : pk_tuple_of(r, r->n_stack - k);
}

static int pk_check_key(pk_reader *r, const cim_pk_value *key)
{
    if (key->type == CIM_PK_LIST || key->type == CIM_PK_DICT || key->type == CIM_PK_NDARRAY)
        return pk_fail(r, "a dict key is %s (unhashable)", cim_pk_type_name(key->type));
    return 0;
}

/* Adds stack[first .. n_stack) to `c` (a list: each; a dict: pairs) and
 * drops them. */
static int pk_fill(pk_reader *r, cim_pk_value *c, int64_t first)
{
    if (c->type == CIM_PK_DICT && (r->n_stack - first) % 2)
        return pk_fail(r, "an odd number of values (%lld) for keys and values",
                       (long long)(r->n_stack - first));
    for (int64_t i = first; i < r->n_stack; ++i) {
        int rc = c->type == CIM_PK_DICT && (i - first) % 2 == 0 ? pk_check_key(r, r->stack[i]) : 0;
        if (rc || (rc = pk_add_item(r, c, r->stack[i])))
            return rc;
    }
    r->n_stack = first;
    return 0;
}

/* APPEND, SETITEM: the container `k` values down in the current frame. */
static int pk_fill_one(pk_reader *r, cim_pk_type type, int64_t k)
{
    int rc = pk_need(r, k + 1);
    if (rc)
        return rc;
    cim_pk_value *c = r->stack[r->n_stack - k - 1];
    if (c->type != type)
        return pk_fail(r, "applies to %s, expected %s", cim_pk_type_name(c->type),
                       cim_pk_type_name(type));
    return pk_fill(r, c, r->n_stack - k);
}

/* APPENDS, SETITEMS: the values since the last MARK into the container
 * before it. */
static int pk_fill_mark(pk_reader *r, cim_pk_type type)
{
    cim_pk_value *c = NULL;
    int64_t first = 0;
    int rc = pk_below_mark(r, type, &c);
    if (!rc)
        rc = pk_pop_mark(r, &first);
    return rc ? rc : pk_fill(r, c, first);
}

/* ---- the machine --------------------------------------------------------- */

/* After STOP: one value on the stack, no MARK open, and the end of the file. */
static int pk_stop(pk_reader *r)
{
    if (r->n_marks || r->n_stack != 1)
        return pk_fail(r,
                       "the pickle ends with %lld values on the stack and %d MARK%s open, "
                       "expected one value",
                       (long long)r->n_stack, r->n_marks, r->n_marks == 1 ? "" : "s");
    uint8_t extra[1];
    int64_t got = 0;
    int rc = pk_read(r, extra, 1, &got);
    if (rc)
        return rc;
    if (got)
        return pk_fail(r, "unexpected bytes after the STOP opcode (expected the end of the file)");
    if (r->gz) {
        int errnum = Z_OK;
        const char *msg = pk_gz_message(r, &errnum);
        if (errnum != Z_OK)
            return pk_fail(r,
                           "truncated gzip file: the pickle is complete but the gzip stream "
                           "does not end (%s)",
                           msg);
    }
    r->p->root = r->stack[0];
    return 0;
}

/* One opcode (r->op, its byte read): 0, 1 after STOP, or an error. */
static int pk_step(pk_reader *r)
{
    int64_t n = 0;
    int rc = 0;
    cim_pickle *p = r->p;
    switch (r->op) {
    case OP_PROTO:
        if ((rc = pk_arg_u8(r, &n)) == 0 && n > PK_MAX_PROTOCOL)
            rc = pk_fail(r, "protocol %lld (this reader takes 2 to %d)", (long long)n,
                         PK_MAX_PROTOCOL);
        return rc;
    case OP_FRAME: {
        uint8_t b[8];
        return pk_arg(r, b, 8); /* a frame only groups the opcodes that follow */
    }
    case OP_STOP:
        return (rc = pk_stop(r)) ? rc : 1;
    case OP_MARK:
        if (r->n_marks == CIM_PICKLE_MAX_MARKS)
            return pk_fail(r, "more than %d MARKs open (the limit)", CIM_PICKLE_MAX_MARKS);
        r->marks[r->n_marks++] = r->n_stack;
        return 0;
    case OP_EMPTY_DICT:
        return pk_push(r, pk_new(r, CIM_PK_DICT));
    case OP_EMPTY_LIST:
        return pk_push(r, pk_new(r, CIM_PK_LIST));
    case OP_EMPTY_TUPLE:
        return pk_push(r, pk_new(r, CIM_PK_TUPLE));
    case OP_TUPLE:
        return (rc = pk_pop_mark(r, &n)) ? rc : pk_tuple_of(r, n);
    case OP_TUPLE1:
    case OP_TUPLE2:
    case OP_TUPLE3:
        return pk_tuple_n(r, r->op - OP_TUPLE1 + 1);
    case OP_SETITEM:
        return pk_fill_one(r, CIM_PK_DICT, 2);
    case OP_SETITEMS:
        return pk_fill_mark(r, CIM_PK_DICT);
    case OP_APPEND:
        return pk_fill_one(r, CIM_PK_LIST, 1);
    case OP_APPENDS:
        return pk_fill_mark(r, CIM_PK_LIST);
    case OP_BINPUT:
        return (rc = pk_arg_u8(r, &n)) ? rc : pk_memo_put(r, n);
    case OP_LONG_BINPUT:
        return (rc = pk_arg_u32(r, &n)) ? rc : pk_memo_put(r, n);
    case OP_MEMOIZE:
        return pk_memo_put(r, r->n_memo);
    case OP_BINGET:
        return (rc = pk_arg_u8(r, &n)) ? rc : pk_memo_get(r, n);
    case OP_LONG_BINGET:
        return (rc = pk_arg_u32(r, &n)) ? rc : pk_memo_get(r, n);
    case OP_BININT:
        return (rc = pk_arg_i32(r, &n)) ? rc : pk_push(r, pk_int(r, n));
    case OP_BININT1:
        return (rc = pk_arg_u8(r, &n)) ? rc : pk_push(r, pk_int(r, n));
    case OP_BININT2:
        return (rc = pk_arg_u16(r, &n)) ? rc : pk_push(r, pk_int(r, n));
    case OP_LONG1: {
        uint8_t b[8];
        if ((rc = pk_arg_u8(r, &n)) != 0)
            return rc;
        if (n > 8)
            return pk_fail(r, "an integer of %lld bytes (at most 8 are read)", (long long)n);
        if (n && (rc = pk_arg(r, b, n)) != 0)
            return rc;
        uint64_t u = 0;
        for (int64_t k = 0; k < n; ++k)
            u |= (uint64_t)b[k] << (8 * k);
        if (n && n < 8 && (b[n - 1] & 0x80))
            u |= ~(uint64_t)0 << (8 * n); /* sign extension */
        int64_t v;
        memcpy(&v, &u, sizeof v);
        return pk_push(r, pk_int(r, v));
    }
    case OP_SHORT_BINSTRING:
    case OP_SHORT_BINBYTES:
        return (rc = pk_arg_u8(r, &n)) ? rc : pk_string(r, n, CIM_PK_BYTES);
    case OP_BINSTRING:
        return (rc = pk_arg_i32(r, &n)) ? rc : pk_string(r, n, CIM_PK_BYTES);
    case OP_BINBYTES:
        return (rc = pk_arg_u32(r, &n)) ? rc : pk_string(r, n, CIM_PK_BYTES);
    case OP_SHORT_BINUNICODE:
        return (rc = pk_arg_u8(r, &n)) ? rc : pk_string(r, n, CIM_PK_STR);
    case OP_BINUNICODE:
        return (rc = pk_arg_u32(r, &n)) ? rc : pk_string(r, n, CIM_PK_STR);
    case OP_GLOBAL:
        return pk_global(r);
    case OP_STACK_GLOBAL:
        return pk_stack_global(r);
    case OP_REDUCE:
        return pk_reduce(r);
    case OP_BUILD:
        return pk_build(r);
    case OP_NONE:
        return pk_push(r, pk_shared(r, &p->none, CIM_PK_NONE, 0));
    case OP_NEWTRUE:
        return pk_push(r, pk_shared(r, &p->truth[1], CIM_PK_BOOL, 1));
    case OP_NEWFALSE:
        return pk_push(r, pk_shared(r, &p->truth[0], CIM_PK_BOOL, 0));
    default:
        if (!op_name(r->op))
            return pk_fail(r, "not an opcode of protocols 0 to %d", PK_MAX_PROTOCOL);
        return pk_fail(r,
                       "opcode 0x%02x is not read (only those of dicts, lists, strings and "
                       "numpy arrays, protocols 2 to 4)",
                       (unsigned)r->op);
    }
}

static int pk_run(pk_reader *r)
{
    for (;;) {
        uint8_t b[1];
        int64_t got = 0;
        r->op_at = r->pos;
        int rc = pk_read(r, b, 1, &got);
        if (rc)
            return rc;
        if (!got) {
            if (r->pos == 0)
                return cim_error_set(r->err, CIM_ERR_INPUT, "%s: empty file, expected a pickle",
                                     r->name);
            return cim_error_set(r->err, CIM_ERR_INPUT,
                                 "%s: truncated pickle: the file ends at byte %lld before the "
                                 "STOP opcode",
                                 r->name, (long long)r->pos);
        }
        r->op = b[0];
        if (r->pos == 1 && r->op != OP_PROTO)
            return pk_fail(r, "the file does not start with a pickle's PROTO opcode (0x80): not "
                              "a pickle of protocol 2 or later");
        if ((rc = pk_step(r)) != 0)
            return rc < 0 ? rc : 0;
    }
}

static int pk_read_all(pk_reader *r, cim_pickle **out)
{
    *out = NULL;
    r->p = calloc(1, sizeof *r->p);
    int rc = r->p ? pk_run(r)
                  : cim_error_set(r->err, CIM_ERR_NOMEM, "%s: out of memory reading the pickle",
                                  r->name);
    free(r->stack);
    free(r->memo);
    if (rc) {
        cim_pickle_free(r->p);
        return rc;
    }
    *out = r->p;
    return 0;
}

int cim_pickle_read_file(const char *path, cim_pickle **out, cim_error *err)
{
    pk_reader r;
    memset(&r, 0, sizeof r);
    r.name = path;
    r.err = err;
    *out = NULL;
    errno = 0;
    r.gz = gzopen(path, "rb");
    if (!r.gz)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open: %s", path,
                             errno ? strerror(errno) : "out of memory");
    gzbuffer(r.gz, PK_GZ_BUFFER_BYTES);
    int rc = pk_read_all(&r, out);
    gzclose_r(r.gz);
    return rc;
}

int cim_pickle_read_memory(const char *name, const uint8_t *bytes, size_t n, cim_pickle **out,
                           cim_error *err)
{
    pk_reader r;
    memset(&r, 0, sizeof r);
    r.name = name;
    r.err = err;
    r.mem = bytes;
    r.mem_n = (int64_t)n;
    return pk_read_all(&r, out);
}

cim_pk_value *cim_pickle_root(const cim_pickle *p)
{
    return p ? p->root : NULL;
}

void cim_pickle_free(cim_pickle *p)
{
    if (!p)
        return;
    for (pk_chunk *c = p->chunks, *next; c; c = next) {
        next = c->next;
        for (int i = 0; i < c->n; ++i) {
            free(c->v[i].bytes);
            free(c->v[i].items);
            free(c->v[i].array);
        }
        free(c);
    }
    free(p);
}

cim_pk_value *cim_pk_dict_get(const cim_pk_value *dict, const char *key)
{
    if (!dict || dict->type != CIM_PK_DICT)
        return NULL;
    for (int64_t i = dict->len - 2; i >= 0; i -= 2)
        if (text_is(dict->items[i], key))
            return dict->items[i + 1];
    return NULL;
}

uint8_t *cim_pk_take_bytes(cim_pk_value *v)
{
    uint8_t *b = v->bytes;
    v->bytes = NULL;
    v->len = 0;
    return b;
}

const char *cim_pk_type_name(cim_pk_type type)
{
    static const char *const names[] = {"None",     "a bool",        "an int",         "a bytes",
                                        "a str",    "a tuple",       "a list",         "a dict",
                                        "a global", "a numpy.dtype", "a numpy.ndarray"};
    return (unsigned)type < sizeof names / sizeof *names ? names[type] : "an unknown value";
}
