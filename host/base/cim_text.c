/* cim_text.c -- see cim_text.h. The loaders (CSV, model files) quote an
 * offending token with it, so a binary file still yields one readable line
 * and every loader escapes the same way. The scan walks by length, never by
 * strlen, so an embedded NUL is just another escaped byte. Nothing is
 * allocated: the caller owns buf.
 */
#include "cim_text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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
