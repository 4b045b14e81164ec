/* cim_csv.c -- integer CSV reader, written for hostile input.
 *
 * Lines come from getline(), so a line of any length is read whole and an
 * embedded NUL byte is just another invalid character (the scanner walks by
 * length, never by strlen). Each line is scanned once: values are appended to
 * a buffer that grows geometrically up to CIM_CSV_MAX_VALUES; the first row
 * fixes the column count and every later row must match it. Blank lines are
 * skipped before the first row and allowed after the last: a blank line after
 * a row is remembered and becomes an error if another row follows it.
 *
 * Messages are compiler style, "path:line:column: what", quoting the offending
 * token with non-printable bytes escaped, so a binary file still yields one
 * readable line. Ownership: the reader owns its line and value buffers until
 * it succeeds, when the value buffer passes to the caller.
 */
#include "cim_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cim_text.h"

#define CIM_CSV_MIN_VALUE (-128)
#define CIM_CSV_MAX_VALUE 127
#define CIM_CSV_QUOTE_MAX 32 /* token bytes shown in a message */
#define CIM_CSV_MAGNITUDE_CAP                                                                      \
    1000000 /* parsing stops growing a value here: already out of range                            \
             */
#define CIM_CSV_INITIAL_CAPACITY 1024

static const char utf8_bom[] = "\xEF\xBB\xBF";

typedef struct csv_reader {
    const char *path;
    cim_error *err;
    int8_t *values;
    int64_t count, capacity;
    int32_t rows, cols;
    long line;       /* 1-based number of the line being scanned */
    long blank_line; /* first blank line after a row, 0 if none */
    long first_row_line;
} csv_reader;

static int is_blank_char(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int append_value(csv_reader *r, int v)
{
    if (r->count >= CIM_CSV_MAX_VALUES)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s:%ld: more than %lld values: too large for a weight or input file",
                             r->path, r->line, (long long)CIM_CSV_MAX_VALUES);
    if (r->count == r->capacity) {
        int64_t cap = r->capacity ? 2 * r->capacity : CIM_CSV_INITIAL_CAPACITY;
        if (cap > CIM_CSV_MAX_VALUES)
            cap = CIM_CSV_MAX_VALUES;
        int8_t *grown = realloc(r->values, (size_t)cap);
        if (!grown)
            return cim_error_set(r->err, CIM_ERR_NOMEM, "%s:%ld: out of memory", r->path, r->line);
        r->values = grown;
        r->capacity = cap;
    }
    r->values[r->count++] = (int8_t)v;
    return 0;
}

/* Scans one value starting at s[*pos] and advances *pos past it and its
 * trailing blanks; stops at ',' or the end of the line. */
static int scan_value(csv_reader *r, const char *s, size_t n, size_t *pos)
{
    size_t i = *pos;
    while (i < n && is_blank_char(s[i]))
        ++i;
    size_t start = i;
    int negative = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        negative = s[i++] == '-';
    size_t digits = i;
    long magnitude = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        if (magnitude < CIM_CSV_MAGNITUDE_CAP)
            magnitude = magnitude * 10 + (s[i] - '0');
        ++i;
    }
    size_t token_end = i;
    while (i < n && is_blank_char(s[i]))
        ++i;
    if (token_end == digits || (i < n && s[i] != ',')) {
        size_t end = start;
        while (end < n && s[end] != ',')
            ++end;
        while (end > start && is_blank_char(s[end - 1]))
            --end;
        if (end == start)
            return cim_error_set(r->err, CIM_ERR_INPUT,
                                 "%s:%ld:%zu: empty value, expected an integer", r->path, r->line,
                                 start + 1);
        char quoted[CIM_TEXT_QUOTE_SIZE(CIM_CSV_QUOTE_MAX)];
        cim_text_quote(quoted, sizeof quoted, s + start, end - start, CIM_CSV_QUOTE_MAX);
        return cim_error_set(r->err, CIM_ERR_INPUT, "%s:%ld:%zu: %s is not an integer", r->path,
                             r->line, start + 1, quoted);
    }
    long v = negative ? -magnitude : magnitude;
    if (v < CIM_CSV_MIN_VALUE || v > CIM_CSV_MAX_VALUE) {
        char quoted[CIM_TEXT_QUOTE_SIZE(CIM_CSV_QUOTE_MAX)];
        cim_text_quote(quoted, sizeof quoted, s + start, token_end - start, CIM_CSV_QUOTE_MAX);
        return cim_error_set(r->err, CIM_ERR_INPUT, "%s:%ld:%zu: value %s is outside %d..%d",
                             r->path, r->line, start + 1, quoted, CIM_CSV_MIN_VALUE,
                             CIM_CSV_MAX_VALUE);
    }
    *pos = i;
    return append_value(r, (int)v);
}

static int is_blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (!is_blank_char(s[i]))
            return 0;
    return 1;
}

static int scan_line(csv_reader *r, const char *s, size_t n)
{
    if (is_blank_line(s, n)) {
        if (r->rows > 0 && !r->blank_line)
            r->blank_line = r->line;
        return 0;
    }
    if (r->blank_line)
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s:%ld: blank line inside the data (the next row is on line %ld)",
                             r->path, r->blank_line, r->line);
    int64_t before = r->count;
    size_t pos = 0;
    for (;;) {
        int rc = scan_value(r, s, n, &pos);
        if (rc)
            return rc;
        if (pos >= n)
            break;
        ++pos; /* the comma */
    }
    int64_t found = r->count - before;
    if (r->rows == 0) {
        r->cols = (int32_t)found;
        r->first_row_line = r->line;
    } else if (found != r->cols) {
        return cim_error_set(r->err, CIM_ERR_INPUT,
                             "%s:%ld: line %ld has %lld value%s, expected %d (as on line %ld)",
                             r->path, r->line, r->line, (long long)found, found == 1 ? "" : "s",
                             r->cols, r->first_row_line);
    }
    r->rows++;
    return 0;
}

static int scan_file(csv_reader *r, FILE *f)
{
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    int rc = 0;
    errno = 0;
    while (!rc && (len = getline(&line, &line_cap, f)) >= 0) {
        ++r->line;
        size_t n = (size_t)len;
        const char *s = line;
        if (r->line == 1 && n >= sizeof utf8_bom - 1 &&
            memcmp(s, utf8_bom, sizeof utf8_bom - 1) == 0) {
            s += sizeof utf8_bom - 1;
            n -= sizeof utf8_bom - 1;
        }
        if (n > 0 && s[n - 1] == '\n')
            --n;
        if (n > 0 && s[n - 1] == '\r')
            --n;
        rc = scan_line(r, s, n);
        errno = 0;
    }
    if (!rc && ferror(f))
        rc = errno == ENOMEM ? cim_error_set(r->err, CIM_ERR_NOMEM, "%s:%ld: out of memory",
                                             r->path, r->line + 1)
                             : cim_error_set(r->err, CIM_ERR_INPUT, "%s: cannot read: %s", r->path,
                                             strerror(errno ? errno : EIO));
    free(line);
    if (!rc && r->rows == 0)
        rc = cim_error_set(r->err, CIM_ERR_INPUT,
                           "%s: empty file, expected lines of comma-separated integers", r->path);
    return rc;
}

int cim_csv_read_int8(const char *path, int8_t **data, int32_t *rows, int32_t *cols, cim_error *err)
{
    *data = NULL;
    *rows = *cols = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    csv_reader r = {path, err, NULL, 0, 0, 0, 0, 0, 0, 0};
    int rc = scan_file(&r, f);
    fclose(f);
    if (rc) {
        free(r.values);
        return rc;
    }
    *data = r.values;
    *rows = r.rows;
    *cols = r.cols;
    return 0;
}
