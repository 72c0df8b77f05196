/* io/json_util.h (internal): small jansson helpers shared by the JSON parsers. */
#ifndef NA_IO_JSON_UTIL_H
#define NA_IO_JSON_UTIL_H

#include <jansson.h>

/* "an object", "an array", "a string", "an integer", "a real number", "a boolean", "null":
 * for messages like "expected a number, got a string". */
const char *na__json_type_name(const json_t *v);

#endif
