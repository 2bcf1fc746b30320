/* What gcc -O2 makes of ordinary floating-point C, without -mgeneral-regs-only: float and double
 * arithmetic and conversions (SSE/SSE2 scalar and packed code), long double (the x87), varargs
 * (the prologue saves XMM0-7), struct copies and zeroing (16-byte SSE moves), sqrt (SQRTSD, FSQRT)
 * and a switch of the rounding mode (LDMXCSR, FLDCW). fp_demo() formats everything with fmt.c
 * into a buffer: natively (native_main.c) and in the emulator the text must be the same. */
#include <stdint.h>
#include "fmt.h"
#include "demo.h"

struct particle { double x, y, z, vx, vy, vz, m; };
struct stats { double sum, min, max; float fsum; long double lsum; int n; };

static double sqrt_d(double v) { return __builtin_sqrt(v); }
static long double sqrt_ld(long double v) { return __builtin_sqrtl(v); }

/* A varargs sum of n doubles: the callee's prologue stores XMM0-7 when AL != 0. */
static double vsum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  double s = 0;
  for (int i = 0; i < n; i++) s += va_arg(ap, double);
  va_end(ap);
  return s;
}

static void stats_add(struct stats *s, double v) {
  s->sum += v;
  s->fsum += (float)v;
  s->lsum += v;
  if (s->n == 0 || v < s->min) s->min = v;
  if (s->n == 0 || v > s->max) s->max = v;
  s->n++;
}

static void set_mxcsr_rc(unsigned rc) {
  unsigned m;
  __asm__ volatile("stmxcsr %0" : "=m"(m));
  m = (m & ~0x6000u) | (rc << 13);
  __asm__ volatile("ldmxcsr %0" : : "m"(m));
}

static void set_fcw_rc(unsigned rc) {
  unsigned short c;
  __asm__ volatile("fnstcw %0" : "=m"(c));
  c = (unsigned short)((c & ~0x0c00u) | (rc << 10));
  __asm__ volatile("fldcw %0" : : "m"(c));
}

static volatile double sink_d;

size_t fp_demo(char *buf, size_t cap) {
  struct outbuf o = { buf, 0, cap };
  struct particle p[4] = {
    { 0, 0, 0, 0, 0, 0, 39.47841760435743 },
    { 4.84143144246472090, -1.16032004402742839, -0.103622044471123109, 0.606326392995832, 2.81198684491626, -0.02521836165988763, 0.03769367487038949 },
    { 8.34336671824457987, 4.12479856412430479, -0.403523417114321381, -1.01077434617879, 1.82566237123041, 0.008415761376584154, 0.011286326131968767 },
    { 12.8943695621391310, -15.1111514016986312, -0.223307578892655734, 1.08279100644154, 0.868713018169608, -0.01010836618475557, 0.0017237240570597112 },
  };
  struct particle q = p[2];          /* a struct copy: SSE moves */
  struct stats s;
  memset(&s, 0, sizeof s);           /* zeroing: SSE stores */
  for (int i = 0; i < 4; i++) {
    double r = sqrt_d(p[i].x * p[i].x + p[i].y * p[i].y + p[i].z * p[i].z);
    stats_add(&s, r);
  }
  fmt_printf(&o, "distances: sum %f min %f max %f (n=%d)\n", s.sum, s.min, s.max, s.n);
  fmt_printf(&o, "float sum %.7e, long double sum %.15Lf\n", (double)s.fsum, s.lsum);
  fmt_printf(&o, "copy: %.17e %.17e %e\n", q.x, q.vy, q.m);
  fmt_printf(&o, "varargs: %f %f\n", vsum(3, 1.5, 2.25, -0.125), vsum(9, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.5));

  /* conversions */
  long long big = 9007199254740993LL;      /* 2^53 + 1: not a double */
  double dbig = (double)big;
  float f = 16777217.0f;                   /* rounds to 2^24 */
  int trunc = (int)-2.75, itr = (int)2.999999;
  unsigned long long u = (unsigned long long)1.8e19;
  fmt_printf(&o, "conv: %.1f %.1f %d %d %llu %lld\n", dbig, (double)f, trunc, itr, u, (long long)-1e18);
  fmt_printf(&o, "float: %.9e %.9e %.9e\n", (double)(1.0f / 3.0f), (double)(float)(0.1 + 0.2), (double)((float)1e-40 * 1e30f));

  /* long double: 64-bit significand */
  long double third = 1.0L / 3.0L, e = 1, term = 1;
  for (int i = 1; i < 25; i++) { term /= i; e += term; }
  fmt_printf(&o, "long double: 1/3 %.20Lf e %.20Lf sqrt2 %.20Lf\n", third, e, sqrt_ld(2.0L));
  fmt_printf(&o, "long double vs double: %.20Lf %.20f\n", (long double)0.1L * 3, 0.1 * 3);
  long long li = (long long)(e * 1e18L);
  fmt_printf(&o, "fistp: %lld %d\n", li, (int)(third * -7.0L));

  /* special values */
  volatile double zero = 0.0, one = 1.0;
  double inf = one / zero, nan = zero / zero, negz = -zero;
  fmt_printf(&o, "special: %f %f %f %d %d %d\n", inf, -inf, negz, nan == nan, inf > 1e308, (1.0 / negz) < 0);
  double tiny = 4.9406564584124654e-324;
  fmt_printf(&o, "denormal: %e %e %e\n", tiny, tiny * 0.5, 2.2250738585072014e-308 / 3);

  /* rounding modes: SSE via MXCSR, x87 via FCW */
  static const char *const rc_name[4] = { "nearest", "down", "up", "zero" };
  for (unsigned rc = 0; rc < 4; rc++) {
    set_mxcsr_rc(rc);
    set_fcw_rc(rc);
    volatile double a = 1.0, b = 3.0;
    volatile long double la = 1.0L, lb = 3.0L;
    double d = a / b, nd = -a / b;
    long double ld = la / lb;
    volatile float fa = 2.0f;
    float fs = __builtin_sqrtf(fa);
    sink_d = d;
    fmt_printf(&o, "rc %-7s %.17e %.17e %.19Le %.9e\n", rc_name[rc], d, nd, ld, (double)fs);
  }
  set_mxcsr_rc(0);
  set_fcw_rc(0);

  /* a little numeric kernel: Newton for cube roots, Horner for exp */
  double acc = 0;
  for (int k = 1; k <= 20; k++) {
    double x = k, y = x / 3;
    for (int it = 0; it < 30; it++) y = y - (y * y * y - x) / (3 * y * y);
    acc += y;
  }
  double ex = 0, xx = 0.5;
  for (int k = 20; k >= 0; k--) { double c = 1; for (int j = 2; j <= k; j++) c /= j; ex = ex * xx + c; }
  fmt_printf(&o, "kernels: %.15f %.15f\n", acc, ex);
  return o.len;
}
