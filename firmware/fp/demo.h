#ifndef FP_DEMO_H
#define FP_DEMO_H
#include <stddef.h>
/* Formats the demo's text into buf (NUL-terminated, truncated at cap); returns its length. */
size_t fp_demo(char *buf, size_t cap);
#endif
