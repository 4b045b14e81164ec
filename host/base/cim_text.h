/* cim_text.h -- text for messages: a byte string from a hostile file shown
 * so that the message stays one readable line, the line and column of a
 * byte, and JSON text files read whole with the one-line messages of the
 * JSON readers (crossbar configs, experiments).
 */
#ifndef CIM_TEXT_H
#define CIM_TEXT_H

#include <stddef.h>

#include "cim_error.h"

/* The shortest of x's "%.15g", "%.16g", "%.17g" texts that reads back
 * (strtod) as exactly x (x finite): 0.1 stays "0.1", 0.7 * 0.2 becomes
 * "0.13999999999999999". buf holds n >= 32 bytes. */
void cim_text_double(char *buf, size_t n, double x);

/* Bytes of buf that cim_text_quote needs to show up to `max_shown` bytes. */
#define CIM_TEXT_QUOTE_SIZE(max_shown) (4 * (max_shown) + 8)

/* Writes the bytes [s, s+n) into buf (size bytes, at least 8) in double
 * quotes: at most max_shown of them, printable ASCII as itself, anything
 * else -- and '"' and '\\' -- as \xNN, then "..." when bytes were left out.
 * Always NUL-terminated; a buf of CIM_TEXT_QUOTE_SIZE(max_shown) bytes never
 * cuts the quoted text short. */
void cim_text_quote(char *buf, size_t size, const char *s, size_t n, size_t max_shown);

/* The 1-based line and column of byte `pos` of `text` (pos bytes are read;
 * a '\n' starts a new line). */
void cim_text_line_column(const char *text, size_t pos, long *line, long *column);

/* The message for JSON text that the parser refused, `at` being where it
 * stopped (cJSON's return_parse_end; NULL or outside the text: its start or
 * end): "<origin>: invalid JSON near line L, column C", or "<origin>:
 * invalid JSON: the text is empty" for text of white space only. Returns
 * CIM_ERR_CONFIG. */
int cim_text_invalid_json(const char *origin, const char *text, const char *at, cim_error *err);

/* Reads the file at `path` whole into *text (malloc'd, NUL-terminated; the
 * caller frees it): 0, or CIM_ERR_INPUT (cannot open or read it; more than
 * max_bytes: "<path>: larger than <max_bytes> bytes, not <what>"),
 * CIM_ERR_CONFIG (a NUL byte inside: "<path>: invalid JSON at line L,
 * column C: a NUL byte") or CIM_ERR_NOMEM, with *text NULL. */
int cim_text_read_json_file(const char *path, long max_bytes, const char *what, char **text,
                            cim_error *err);

#endif /* CIM_TEXT_H */
