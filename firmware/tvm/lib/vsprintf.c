/* vsnprintf: the formatter shared by the kernel and the user library (%d %i %u %x %X %p %c %s %%, width, 0, -, l, ll, z). */
#include <tvm/types.h>
#include <tvm/string.h>

static char *put_num(char *p, char *end, u64 v, int base, int width, bool zero, bool neg, bool left, bool upper)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;
	do { tmp[n++] = digits[v % base]; v /= base; } while (v);
	int len = n + (neg ? 1 : 0);
	if (!left && !zero) for (; width > len; width--) if (p < end) *p++ = ' ';
	if (neg && p < end) *p++ = '-';
	if (!left && zero) for (; width > len; width--) if (p < end) *p++ = '0';
	while (n) if (p < end) *p++ = tmp[--n]; else n--;
	if (left) for (; width > len; width--) if (p < end) *p++ = ' ';
	return p;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	char *p = buf, *end = buf + (size ? size - 1 : 0);
	for (; *fmt; fmt++) {
		if (*fmt != '%') { if (p < end) *p++ = *fmt; continue; }
		fmt++;
		bool zero = false, left = false;
		int width = 0, lng = 0;
		for (;; fmt++) {
			if (*fmt == '0') zero = true;
			else if (*fmt == '-') left = true;
			else break;
		}
		while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') { lng++; fmt++; }
		if (*fmt == 'z') { lng = 1; fmt++; }
		switch (*fmt) {
		case 'd': case 'i': {
			s64 v = lng ? va_arg(ap, long) : va_arg(ap, int);
			p = put_num(p, end, v < 0 ? -(u64)v : (u64)v, 10, width, zero, v < 0, left, false);
			break;
		}
		case 'u': {
			u64 v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			p = put_num(p, end, v, 10, width, zero, false, left, false);
			break;
		}
		case 'x': case 'X': {
			u64 v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			p = put_num(p, end, v, 16, width, zero, false, left, *fmt == 'X');
			break;
		}
		case 'p':
			p = put_num(p, end, (u64)va_arg(ap, void *), 16, 16, true, false, false, false);
			break;
		case 'c':
			if (p < end) *p++ = (char)va_arg(ap, int);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s) s = "(null)";
			int n = (int)strlen(s);
			if (!left) for (; width > n; width--) if (p < end) *p++ = ' ';
			while (*s) if (p < end) *p++ = *s++; else s++;
			if (left) for (; width > n; width--) if (p < end) *p++ = ' ';
			break;
		}
		case '%':
			if (p < end) *p++ = '%';
			break;
		default:
			if (p < end) *p++ = '%';
			if (p < end && *fmt) *p++ = *fmt;
			if (!*fmt) fmt--;
		}
	}
	if (size) *p = 0;
	return (int)(p - buf);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

