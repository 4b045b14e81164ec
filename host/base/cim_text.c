/* cim_text.c -- see cim_text.h. The loaders (CSV, model files) quote an
 * offending token with it, so a binary file still yields one readable line
 * and every loader escapes the same way. The scan walks by length, never by
 * strlen, so an embedded NUL is just another escaped byte. Nothing is
 * allocated there: the caller owns buf.
 *
 * The JSON readers (the crossbar config, the experiment) share the file
 * reader and the invalid-JSON message, so both point at a bad byte by the
 * same line and column. A file is read in growing chunks to its end (no
 * size is trusted from the file system: a pipe or /proc file has none) and
 * refused once it passes the caller's limit.
 */
#include "cim_text.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK 65536

void cim_text_quote(char *buf, size_t size, const char *s, size_t n, size_t max_shown)
{
    size_t used = 0;
    buf[used++] = '"';
    for (size_t i = 0; i < n && i < max_shown && used + 6 < size; ++i) {
        unsigned char ch = (unsigned char)s[i];
        if (isprint(ch) && ch != '"' && ch != '\\')
            buf[used++] = (char)ch;
        else
            used += (size_t)snprintf(buf + used, size - used, "\\x%02x", ch);
    }
    if (n > max_shown && used + 5 < size) {
        memcpy(buf + used, "...", 3);
        used += 3;
    }
    buf[used++] = '"';
    buf[used] = '\0';
}

void cim_text_line_column(const char *text, size_t pos, long *line, long *column)
{
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < pos; ++i) {
        if (text[i] == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

int cim_text_invalid_json(const char *origin, const char *text, const char *at, cim_error *err)
{
    size_t len = strlen(text);
    size_t pos = at && at >= text ? (size_t)(at - text) : 0;
    if (strspn(text, " \t\r\n") == len)
        return cim_error_set(err, CIM_ERR_CONFIG, "%s: invalid JSON: the text is empty", origin);
    long line, column;
    cim_text_line_column(text, pos > len ? len : pos, &line, &column);
    return cim_error_set(err, CIM_ERR_CONFIG, "%s: invalid JSON near line %ld, column %ld", origin,
                         line, column);
}

int cim_text_read_json_file(const char *path, long max_bytes, const char *what, char **text,
                            cim_error *err)
{
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cim_error_set(err, CIM_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
    size_t len = 0, cap = READ_CHUNK, limit = max_bytes > 0 ? (size_t)max_bytes : 0;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", path);
    while (rc == 0) {
        if (len == cap) {
            char *grown = realloc(buf, 2 * cap + 1);
            if (!grown) {
                rc = cim_error_set(err, CIM_ERR_NOMEM, "%s: out of memory", path);
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len > limit)
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: larger than %ld bytes, not %s", path,
                               max_bytes, what);
        else if (got == 0 && ferror(f))
            rc = cim_error_set(err, CIM_ERR_INPUT, "%s: cannot read: %s", path, strerror(errno));
        else if (got == 0)
            break;
    }
    fclose(f);
    if (rc == 0)
        buf[len] = '\0';
    if (rc == 0 && memchr(buf, '\0', len)) {
        long line, column;
        cim_text_line_column(buf, strlen(buf), &line, &column);
        rc = cim_error_set(err, CIM_ERR_CONFIG,
                           "%s: invalid JSON at line %ld, column %ld: a NUL byte", path, line,
                           column);
    }
    if (rc) {
        free(buf);
        return rc;
    }
    *text = buf;
    return 0;
}

void cim_text_double(char *buf, size_t n, double x)
{
    for (int digits = 15; digits <= 17; ++digits) {
        snprintf(buf, n, "%.*g", digits, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}
