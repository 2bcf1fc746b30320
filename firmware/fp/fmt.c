/* The freestanding printf of fmt.h. Floating-point conversion works in long double (the x87's
 * 64-bit significand): the value is scaled by powers of ten into [1, 10) for %e, or split into
 * integer digits (repeated division) and fraction digits (repeated multiplication) for %f, then
 * rounded half-up on the digit string. Not correctly rounded like glibc for every input, but
 * deterministic: the same binary code gives the same digits on any x86-64. */
#include "fmt.h"

void *memcpy(void *d, const void *s, size_t n) { char *a = d; const char *b = s; while (n--) *a++ = *b++; return d; }
void *memset(void *d, int c, size_t n) { char *a = d; while (n--) *a++ = (char)c; return d; }
size_t strlen(const char *s) { size_t n = 0; while (s[n]) n++; return n; }

static void put(struct outbuf *o, char c) { if (o->len + 1 < o->cap) o->p[o->len] = c; o->len++; }

static void pad(struct outbuf *o, int n, char c) { while (n-- > 0) put(o, c); }

static void emit(struct outbuf *o, const char *s, int n, int width, int left, int zero) {
  int fill = width > n ? width - n : 0;
  if (!left && zero && n > 0 && (s[0] == '-' || s[0] == '+')) { put(o, s[0]); s++; n--; pad(o, fill, '0'); }
  else if (!left) pad(o, fill, zero ? '0' : ' ');
  for (int i = 0; i < n; i++) put(o, s[i]);
  if (left) pad(o, fill, ' ');
}

static int utoa(char *b, unsigned long long v, unsigned base, int upper) {
  char t[24]; int n = 0;
  const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  do { t[n++] = dig[v % base]; v /= base; } while (v);
  for (int i = 0; i < n; i++) b[i] = t[n - 1 - i];
  return n;
}

/* Rounds the digit string d[0..n) at position keep (half up); returns 1 if it carried out. */
static int round_digits(char *d, int n, int keep) {
  if (keep >= n || d[keep] < '5') return 0;
  for (int i = keep - 1; i >= 0; i--) {
    if (d[i] < '9') { d[i]++; return 0; }
    d[i] = '0';
  }
  return 1;
}

static int special(char *b, long double v) {
  if (v != v) { memcpy(b, "nan", 3); return 3; }
  if (v > 1e4932L || v < -1e4932L) { int n = 0; if (v < 0) b[n++] = '-'; memcpy(b + n, "inf", 3); return n + 3; }
  return 0;
}

/* %f: up to 40 integer digits (larger values print in %e form). */
static int ftoa(char *b, long double v, int prec) {
  int n = special(b, v);
  if (n) return n;
  if (v < 0 || (v == 0 && 1 / v < 0)) { b[n++] = '-'; v = -v; }
  if (v >= 1e40L) return n;  /* caller falls back */
  long double ip = v, pow = 1;
  int id = 0;
  while (pow * 10 <= ip) { pow *= 10; id++; }
  char d[96]; int nd = 0;
  long double r = ip;
  for (int i = 0; i <= id; i++) {           /* integer digits, most significant first */
    int dig = (int)(r / pow);
    if (dig > 9) dig = 9;
    if (dig < 0) dig = 0;
    d[nd++] = (char)('0' + dig);
    r -= dig * pow;
    pow /= 10;
  }
  long double fr = r < 0 ? 0 : r;
  for (int i = 0; i < prec + 1 && nd < 95; i++) {   /* fraction digits and one for rounding */
    fr *= 10;
    int dig = (int)fr;
    if (dig > 9) dig = 9;
    d[nd++] = (char)('0' + dig);
    fr -= dig;
  }
  int intd = id + 1;
  if (round_digits(d, nd, intd + prec)) { b[n++] = '1'; }
  for (int i = 0; i < intd; i++) b[n++] = d[i];
  if (prec > 0) { b[n++] = '.'; for (int i = 0; i < prec; i++) b[n++] = d[intd + i]; }
  return n;
}

static int etoa(char *b, long double v, int prec) {
  int n = special(b, v);
  if (n) return n;
  if (v < 0 || (v == 0 && 1 / v < 0)) { b[n++] = '-'; v = -v; }
  int e = 0;
  if (v != 0) {
    while (v >= 10) { v /= 10; e++; }
    while (v < 1) { v *= 10; e--; }
  }
  char d[64]; int nd = 0;
  for (int i = 0; i < prec + 2 && nd < 63; i++) { int dig = (int)v; if (dig > 9) dig = 9; d[nd++] = (char)('0' + dig); v = (v - dig) * 10; }
  if (round_digits(d, nd, prec + 1)) { d[0] = '1'; for (int i = 1; i <= prec; i++) d[i] = '0'; e++; }
  b[n++] = d[0];
  if (prec > 0) { b[n++] = '.'; for (int i = 1; i <= prec; i++) b[n++] = d[i]; }
  b[n++] = 'e'; b[n++] = e < 0 ? '-' : '+';
  if (e < 0) e = -e;
  if (e < 10) b[n++] = '0';
  n += utoa(b + n, (unsigned)e, 10, 0);
  return n;
}

int fmt_vprintf(struct outbuf *o, const char *f, va_list ap) {
  size_t start = o->len;
  char b[160];
  for (; *f; f++) {
    if (*f != '%') { put(o, *f); continue; }
    f++;
    int left = 0, zero = 0, width = 0, prec = -1, lng = 0, ldbl = 0;
    for (;; f++) { if (*f == '-') left = 1; else if (*f == '0') zero = 1; else break; }
    while (*f >= '0' && *f <= '9') width = width * 10 + (*f++ - '0');
    if (*f == '.') { f++; prec = 0; while (*f >= '0' && *f <= '9') prec = prec * 10 + (*f++ - '0'); }
    for (;; f++) { if (*f == 'l') lng++; else if (*f == 'z') lng = 2; else if (*f == 'L') ldbl = 1; else break; }
    int n = 0;
    switch (*f) {
    case 'd': case 'i': {
      long long v = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
      unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
      if (v < 0) b[n++] = '-';
      n += utoa(b + n, u, 10, 0);
      break;
    }
    case 'u': case 'x': case 'X': {
      unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long) : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
      n = utoa(b, v, *f == 'u' ? 10 : 16, *f == 'X');
      break;
    }
    case 'c': b[n++] = (char)va_arg(ap, int); break;
    case 's': { const char *s = va_arg(ap, const char *); emit(o, s, (int)strlen(s), width, left, 0); continue; }
    case 'f': case 'e': {
      long double v = ldbl ? va_arg(ap, long double) : (long double)va_arg(ap, double);
      if (prec < 0) prec = 6;
      if (prec > 30) prec = 30;
      n = *f == 'f' ? ftoa(b, v, prec) : 0;
      if (*f == 'e' || n == 0 || (n == 1 && b[0] == '-')) n = etoa(b, v, prec);
      break;
    }
    case '%': b[n++] = '%'; break;
    default: b[n++] = '%'; b[n++] = *f; if (!*f) f--; break;
    }
    emit(o, b, n, width, left, zero);
  }
  if (o->cap) o->p[o->len < o->cap ? o->len : o->cap - 1] = 0;
  return (int)(o->len - start);
}

int fmt_printf(struct outbuf *o, const char *f, ...) {
  va_list ap;
  va_start(ap, f);
  int n = fmt_vprintf(o, f, ap);
  va_end(ap);
  return n;
}
