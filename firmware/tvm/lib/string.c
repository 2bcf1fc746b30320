/* The few string functions the kernel and the user library need. */
#include <tvm/types.h>
#include <tvm/string.h>

void *memset(void *d, int c, size_t n)
{
	u8 *p = d;
	while (n--) *p++ = (u8)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	u8 *p = d;
	const u8 *q = s;
	while (n--) *p++ = *q++;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *p = a, *q = b;
	for (; n; n--, p++, q++) if (*p != *q) return *p - *q;
	return 0;
}

size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }
size_t strnlen(const char *s, size_t max) { size_t n = 0; while (n < max && s[n]) n++; return n; }

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) { a++; b++; }
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b) return (u8)*a - (u8)*b;
		if (!*a) return 0;
	}
	return 0;
}

/* Copies at most size-1 characters and always terminates. */
char *strscpy(char *d, const char *s, size_t size)
{
	size_t i = 0;
	if (!size) return d;
	for (; i + 1 < size && s[i]; i++) d[i] = s[i];
	d[i] = 0;
	return d;
}
