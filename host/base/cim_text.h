/* cim_text.h -- text for messages: a byte string from a hostile file shown
 * so that the message stays one readable line.
 */
#ifndef CIM_TEXT_H
#define CIM_TEXT_H

#include <stddef.h>

/* Bytes of buf that cim_text_quote needs to show up to `max_shown` bytes. */
#define CIM_TEXT_QUOTE_SIZE(max_shown) (4 * (max_shown) + 8)

/* Writes the bytes [s, s+n) into buf (size bytes, at least 8) in double
 * quotes: at most max_shown of them, printable ASCII as itself, anything
 * else -- and '"' and '\\' -- as \xNN, then "..." when bytes were left out.
 * Always NUL-terminated; a buf of CIM_TEXT_QUOTE_SIZE(max_shown) bytes never
 * cuts the quoted text short. */
void cim_text_quote(char *buf, size_t size, const char *s, size_t n, size_t max_shown);

#endif /* CIM_TEXT_H */
