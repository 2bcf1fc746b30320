/* A small freestanding printf (no libc): the same code formats natively and in the emulator,
 * so the two outputs must agree byte for byte. Conversions: %d %i %u %x %X %c %s %% with the
 * l/ll/z length modifiers, width, '-' and '0' flags; %f %e (double, precision default 6) and
 * %Lf %Le (long double, done in x87 80-bit arithmetic). */
#ifndef FP_FMT_H
#define FP_FMT_H
#include <stdarg.h>
#include <stddef.h>

struct outbuf { char *p; size_t len, cap; };

int fmt_vprintf(struct outbuf *o, const char *f, va_list ap);
int fmt_printf(struct outbuf *o, const char *f, ...) __attribute__((format(printf, 2, 3)));

void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
size_t strlen(const char *s);

#endif
