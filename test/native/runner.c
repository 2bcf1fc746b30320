/*
 * Native side of the differential CPU tests: runs `exec` cases (JSONL on stdin) on the host
 * x86-64 CPU and prints one result object per line on stdout.
 *
 * Case:   {"code":"<hex>","regs":{"rax":"0x..",...},"rflags":"0x..","max_insns":N,
 *          "xmm":{"xmm0":"0x<up to 32 digits>",...},"mxcsr":"0x..","fcw":"0x.."}
 * Result: {"stop":"end"|"exception","vector":N,"error_code":"0x..","cr2":"0x..","rip":"0x..",
 *          "regs":{rax..r15},"rflags":"0x..","insns":0,"data_fnv1a64":"0x..",
 *          "xmm":{xmm0..xmm15: 0x + 32 digits},"mxcsr":"0x..",
 *          "fpu":{"fcw","fsw","ftw" (abridged, as FXSAVE stores it),"st0".."st7" (0x + 20 digits)}}
 * (the same contract as `vmfunc-vmi exec`, src/exec.ts).
 *
 * Environment per case: code at 0x10000000 (64 KiB, read/execute; a UD2 sentinel follows the
 * code and a #UD exactly at code_end means "end"), data window at 0x20000000 (64 KiB,
 * read/write, byte i = (i*131+7) & 255). All 16 GPRs and the status flags + DF are loaded by
 * a trampoline, and the SIMD/FPU state: FNINIT, FLDCW fcw (default 0x37f), LDMXCSR mxcsr (default
 * 0x1f80), XMM0-15 (default 0); every exit is a signal caught on an alternate stack (the guest RSP
 * points into the data window), after which siglongjmp returns to the driver loop. The state at
 * the exit is the FXSAVE image the kernel puts in the signal frame (uc_mcontext.fpregs); where its
 * XSAVE header says a component was in its initial configuration (and so may not have been
 * written), the initial values are reported.
 *
 * The code region is a memfd mapped twice: read/execute at 0x10000000 for the guest and
 * read/write elsewhere for the runner, so no mprotect is needed per case. Both windows are
 * populated up front so that page-fault error codes never depend on what was touched before.
 * A watchdog on user CPU time stops a case that runs for more than ~0.5-1 s ("stop":"timeout").
 * The data hash skips the unchanged prefix of the window with a precomputed FNV table.
 *
 * `runner --features` prints the host CPUID features the generator cares about.
 *
 * Build: gcc -O2 -o runner runner.c   (no _FORTIFY_SOURCE: longjmp leaves a signal handler)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <cpuid.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CODE_BASE 0x10000000UL
#define DATA_BASE 0x20000000UL
#define WIN 0x10000UL
#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* rflags bits loaded from the case: CF PF AF ZF SF OF and DF. IF and bit 1 always set. */
#define RFLAGS_LOAD_MASK 0xcd5ULL | 0x400ULL

static const char *const REG_NAMES[16] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                          "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
/* ucontext gregs index for each architectural register number */
static const int GREG_IDX[16] = {REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP,
                                 REG_RSI, REG_RDI, REG_R8,  REG_R9,  REG_R10, REG_R11,
                                 REG_R12, REG_R13, REG_R14, REG_R15};

struct gstate {
  uint64_t r[16]; /* offsets 0..120 */
  uint64_t rflags; /* offset 128 */
  uint32_t mxcsr;  /* offset 136 */
  uint16_t fcw;    /* offset 140 */
  uint16_t pad;
  uint8_t xmm[16][16]; /* offset 144 */
};

/* MXCSR bits a case may set: the emulator's MXCSR_MASK (assembly/shared/fxsave.ts). */
#define MXCSR_CASE_MASK 0xffffu
#define FP_XSTATE_MAGIC1_ 0x46505853u

struct outstate {
  uint64_t r[16];
  uint64_t rip, rflags, trapno, err, cr2;
  int sig;
  int timeout;
  uint8_t fx[512]; /* FXSAVE image at the exit */
};

/* Trampoline: load flags, all 16 GPRs (RSP included) and jump to the code.
 * Never returns: every exit is a signal. */
void run_guest(struct gstate *g);
uint64_t guest_entry = CODE_BASE;
__asm__(".text\n"
        ".globl run_guest\n"
        ".type run_guest,@function\n"
        "run_guest:\n"
        "  fninit\n"
        "  fldcw 140(%rdi)\n"
        "  ldmxcsr 136(%rdi)\n"
        "  movdqu 144(%rdi), %xmm0\n"
        "  movdqu 160(%rdi), %xmm1\n"
        "  movdqu 176(%rdi), %xmm2\n"
        "  movdqu 192(%rdi), %xmm3\n"
        "  movdqu 208(%rdi), %xmm4\n"
        "  movdqu 224(%rdi), %xmm5\n"
        "  movdqu 240(%rdi), %xmm6\n"
        "  movdqu 256(%rdi), %xmm7\n"
        "  movdqu 272(%rdi), %xmm8\n"
        "  movdqu 288(%rdi), %xmm9\n"
        "  movdqu 304(%rdi), %xmm10\n"
        "  movdqu 320(%rdi), %xmm11\n"
        "  movdqu 336(%rdi), %xmm12\n"
        "  movdqu 352(%rdi), %xmm13\n"
        "  movdqu 368(%rdi), %xmm14\n"
        "  movdqu 384(%rdi), %xmm15\n"
        "  pushq 128(%rdi)\n"
        "  popfq\n"
        "  movq %rdi, %rax\n"
        "  movq 8(%rax), %rcx\n"
        "  movq 16(%rax), %rdx\n"
        "  movq 24(%rax), %rbx\n"
        "  movq 40(%rax), %rbp\n"
        "  movq 48(%rax), %rsi\n"
        "  movq 56(%rax), %rdi\n"
        "  movq 64(%rax), %r8\n"
        "  movq 72(%rax), %r9\n"
        "  movq 80(%rax), %r10\n"
        "  movq 88(%rax), %r11\n"
        "  movq 96(%rax), %r12\n"
        "  movq 104(%rax), %r13\n"
        "  movq 112(%rax), %r14\n"
        "  movq 120(%rax), %r15\n"
        "  movq 32(%rax), %rsp\n"
        "  movq 0(%rax), %rax\n"
        "  jmp *guest_entry(%rip)\n"
        ".size run_guest, .-run_guest\n");

static uint8_t *code_rw;   /* read/write alias of the code region */
static uint8_t *data_win;  /* the data window at DATA_BASE */
static uint8_t pattern[WIN];
static uint64_t prefix_hash[WIN + 1];
static size_t prev_code_len;

static sigjmp_buf jb;
static volatile sig_atomic_t in_guest;
static volatile uint64_t case_seq;
static uint64_t alarm_seen_seq = (uint64_t)-1;
static struct outstate out;

static void capture(int sig, ucontext_t *uc) {
  greg_t *g = uc->uc_mcontext.gregs;
  for (int i = 0; i < 16; i++) out.r[i] = (uint64_t)g[GREG_IDX[i]];
  out.rip = (uint64_t)g[REG_RIP];
  out.rflags = (uint64_t)g[REG_EFL];
  out.trapno = (uint64_t)g[REG_TRAPNO];
  out.err = (uint64_t)g[REG_ERR];
  out.cr2 = (uint64_t)g[REG_CR2];
  out.sig = sig;
  const uint8_t *fp = (const uint8_t *)uc->uc_mcontext.fpregs;
  memcpy(out.fx, fp, 512);
  uint32_t magic1;
  memcpy(&magic1, fp + 464, 4);
  if (magic1 == FP_XSTATE_MAGIC1_) {
    uint64_t bv;
    memcpy(&bv, fp + 512, 8); /* XSAVE header: XSTATE_BV */
    if (!(bv & 1)) { /* x87 in its initial configuration: FCW 0x37f, the rest 0 */
      memset(out.fx, 0, 24);
      memset(out.fx + 32, 0, 128);
      out.fx[0] = 0x7f;
      out.fx[1] = 0x03;
    }
    if (!(bv & 2)) { /* XMM registers in their initial configuration (zero) */
      memset(out.fx + 160, 0, 256);
      uint32_t mx;
      memcpy(&mx, out.fx + 24, 4);
      if (mx == 0) { mx = 0x1f80; memcpy(out.fx + 24, &mx, 4); }
    }
  }
}

static void on_fault(int sig, siginfo_t *si, void *uctx) {
  (void)si;
  if (!in_guest) {
    /* A fault in the runner itself: die loudly. */
    signal(sig, SIG_DFL);
    return;
  }
  in_guest = 0;
  capture(sig, (ucontext_t *)uctx);
  out.timeout = 0;
  siglongjmp(jb, 1);
}

static void on_alarm(int sig, siginfo_t *si, void *uctx) {
  (void)si;
  if (in_guest && alarm_seen_seq == case_seq) {
    in_guest = 0;
    capture(sig, (ucontext_t *)uctx);
    out.timeout = 1;
    siglongjmp(jb, 1);
  }
  alarm_seen_seq = case_seq;
}

static void die(const char *what) {
  fprintf(stderr, "runner: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint8_t altstack[1 << 16];

static void setup(void) {
  stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
  if (sigaltstack(&ss, NULL)) die("sigaltstack");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
  sigemptyset(&sa.sa_mask);
  int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
    if (sigaction(sigs[i], &sa, NULL)) die("sigaction");
  sa.sa_sigaction = on_alarm;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER | SA_RESTART;
  if (sigaction(SIGVTALRM, &sa, NULL)) die("sigaction alarm");
  /* Watchdog on user CPU time (not wall time, so a busy machine cannot trip it): a case that
   * is still running at two consecutive ticks is stopped with "stop":"timeout". */
  struct itimerval it = {{0, 500000}, {0, 500000}};
  if (setitimer(ITIMER_VIRTUAL, &it, NULL)) die("setitimer");

  int fd = memfd_create("code", 0);
  if (fd < 0) die("memfd_create");
  if (ftruncate(fd, WIN)) die("ftruncate");
  code_rw = mmap(NULL, WIN, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  if (code_rw == MAP_FAILED) die("mmap code alias");
  memset(code_rw, 0, WIN); /* allocate every page of the file */
  /* Every page must be present in the guest's page tables from the start: a write to a
   * never-touched read-only page would otherwise fault as not-present (error code 6, not 7),
   * depending on what earlier cases happened to read. */
  void *rx = mmap((void *)CODE_BASE, WIN, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED_NOREPLACE | MAP_POPULATE, fd, 0);
  if (rx != (void *)CODE_BASE) die("mmap code");
  close(fd);
  for (size_t i = 0; i < WIN; i += 4096) (void)*(volatile uint8_t *)(CODE_BASE + i);
  void *d = mmap((void *)DATA_BASE, WIN, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_POPULATE, -1, 0);
  if (d != (void *)DATA_BASE) die("mmap data");
  data_win = d;
  memset(data_win, 0, WIN);

  uint64_t h = FNV_BASIS;
  for (size_t i = 0; i < WIN; i++) {
    pattern[i] = (uint8_t)((i * 131 + 7) & 255);
    prefix_hash[i] = h;
    h = (h ^ pattern[i]) * FNV_PRIME;
  }
  prefix_hash[WIN] = h;
}

/* FNV-1a over the window, skipping the unchanged prefix via the precomputed table. */
static uint64_t data_hash(void) {
  size_t i = 0;
  while (i + 64 <= WIN && memcmp(data_win + i, pattern + i, 64) == 0) i += 64;
  while (i < WIN && data_win[i] == pattern[i]) i++;
  uint64_t h = prefix_hash[i];
  for (; i < WIN; i++) h = (h ^ data_win[i]) * FNV_PRIME;
  return h;
}

/* ---------- minimal JSON reader for exactly the case format ---------- */

struct parser {
  const char *p;
  const char *start;
  char err[160];
};

static void ws(struct parser *ps) {
  while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n') ps->p++;
}

static int expect(struct parser *ps, char c) {
  ws(ps);
  if (*ps->p != c) {
    snprintf(ps->err, sizeof ps->err, "expected '%c' at column %ld", c, (long)(ps->p - ps->start) + 1);
    return 0;
  }
  ps->p++;
  return 1;
}

/* Reads a JSON string without escapes into buf (truncated to cap-1). Returns length or -1. */
static long read_str(struct parser *ps, char *buf, size_t cap) {
  ws(ps);
  if (*ps->p != '"') {
    snprintf(ps->err, sizeof ps->err, "expected a string");
    return -1;
  }
  ps->p++;
  size_t n = 0;
  while (*ps->p && *ps->p != '"') {
    if (*ps->p == '\\') {
      snprintf(ps->err, sizeof ps->err, "escapes are not supported");
      return -1;
    }
    if (n + 1 < cap) buf[n] = *ps->p;
    n++;
    ps->p++;
  }
  if (*ps->p != '"') {
    snprintf(ps->err, sizeof ps->err, "unterminated string");
    return -1;
  }
  ps->p++;
  if (n >= cap) {
    snprintf(ps->err, sizeof ps->err, "string too long");
    return -1;
  }
  buf[n] = 0;
  return (long)n;
}

/* A number: "0x..." string or a bare non-negative JSON integer. */
static int read_u64(struct parser *ps, uint64_t *v) {
  ws(ps);
  char buf[64];
  if (*ps->p == '"') {
    if (read_str(ps, buf, sizeof buf) < 0) return 0;
    char *end;
    errno = 0;
    if (buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X')) {
      if (!buf[2]) goto bad;
      *v = strtoull(buf + 2, &end, 16);
    } else {
      if (!buf[0]) goto bad;
      *v = strtoull(buf, &end, 10);
    }
    if (*end || errno) goto bad;
    return 1;
  bad:
    snprintf(ps->err, sizeof ps->err, "bad number \"%.40s\"", buf);
    return 0;
  }
  if (*ps->p >= '0' && *ps->p <= '9') {
    char *end;
    errno = 0;
    *v = strtoull(ps->p, &end, 10);
    if (errno || *end == '.' || *end == 'e' || *end == 'E') {
      snprintf(ps->err, sizeof ps->err, "bad number");
      return 0;
    }
    ps->p = end;
    return 1;
  }
  snprintf(ps->err, sizeof ps->err, "expected a number");
  return 0;
}

static int hexval(char c);

/* A 128-bit number: "0x" + 1..32 hex digits, or a non-negative integer below 2^64; little-endian bytes. */
static int read_u128(struct parser *ps, uint8_t out16[16]) {
  ws(ps);
  memset(out16, 0, 16);
  if (*ps->p == '"' && ps->p[1] == '0' && (ps->p[2] == 'x' || ps->p[2] == 'X')) {
    char buf[64];
    long n = read_str(ps, buf, sizeof buf);
    if (n < 0) return 0;
    if (n < 3 || n > 34) { snprintf(ps->err, sizeof ps->err, "bad 128-bit number \"%.40s\"", buf); return 0; }
    for (long i = n - 1, k = 0; i >= 2; i--, k++) {
      int h = hexval(buf[i]);
      if (h < 0) { snprintf(ps->err, sizeof ps->err, "bad 128-bit number \"%.40s\"", buf); return 0; }
      out16[k / 2] |= (uint8_t)(h << (4 * (k & 1)));
    }
    return 1;
  }
  uint64_t v;
  if (!read_u64(ps, &v)) return 0;
  memcpy(out16, &v, 8);
  return 1;
}

static int skip_value(struct parser *ps) {
  ws(ps);
  char c = *ps->p;
  if (c == '"') {
    ps->p++;
    while (*ps->p && *ps->p != '"') {
      if (*ps->p == '\\' && ps->p[1]) ps->p++;
      ps->p++;
    }
    if (*ps->p != '"') return snprintf(ps->err, sizeof ps->err, "unterminated string"), 0;
    ps->p++;
    return 1;
  }
  if (c == '{' || c == '[') {
    char close = c == '{' ? '}' : ']';
    ps->p++;
    ws(ps);
    if (*ps->p == close) return ps->p++, 1;
    for (;;) {
      if (c == '{') {
        char k[64];
        if (read_str(ps, k, sizeof k) < 0) return 0;
        if (!expect(ps, ':')) return 0;
      }
      if (!skip_value(ps)) return 0;
      ws(ps);
      if (*ps->p == ',') { ps->p++; continue; }
      if (*ps->p == close) { ps->p++; return 1; }
      return snprintf(ps->err, sizeof ps->err, "expected ',' or '%c'", close), 0;
    }
  }
  const char *s = ps->p;
  while (*ps->p && strchr("0123456789+-.eEtruefalsn", *ps->p)) ps->p++;
  if (ps->p == s) return snprintf(ps->err, sizeof ps->err, "unexpected character"), 0;
  return 1;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static char hexbuf[2 * WIN + 16];
static uint8_t codebuf[WIN];

static int parse_case(const char *line, struct gstate *g, size_t *code_len, char *err, size_t errcap) {
  struct parser ps = {.p = line, .start = line, .err = {0}};
  memset(g, 0, sizeof *g);
  g->rflags = 0x202;
  g->mxcsr = 0x1f80;
  g->fcw = 0x37f;
  int have_code = 0;
  if (!expect(&ps, '{')) goto fail;
  ws(&ps);
  if (*ps.p == '}') {
    snprintf(ps.err, sizeof ps.err, "missing \"code\"");
    goto fail;
  }
  for (;;) {
    char key[32];
    if (read_str(&ps, key, sizeof key) < 0) goto fail;
    if (!expect(&ps, ':')) goto fail;
    if (!strcmp(key, "code")) {
      long n = read_str(&ps, hexbuf, sizeof hexbuf);
      if (n < 0) goto fail;
      if (n % 2) { snprintf(ps.err, sizeof ps.err, "odd number of hex digits in code"); goto fail; }
      if ((size_t)n / 2 > WIN - 2) { snprintf(ps.err, sizeof ps.err, "code longer than %lu bytes", WIN - 2); goto fail; }
      for (long i = 0; i < n; i += 2) {
        int hi = hexval(hexbuf[i]), lo = hexval(hexbuf[i + 1]);
        if (hi < 0 || lo < 0) { snprintf(ps.err, sizeof ps.err, "bad hex digit in code"); goto fail; }
        codebuf[i / 2] = (uint8_t)(hi << 4 | lo);
      }
      *code_len = (size_t)n / 2;
      have_code = 1;
    } else if (!strcmp(key, "regs")) {
      if (!expect(&ps, '{')) goto fail;
      ws(&ps);
      if (*ps.p == '}') ps.p++;
      else
        for (;;) {
          char rn[16];
          if (read_str(&ps, rn, sizeof rn) < 0) goto fail;
          if (!expect(&ps, ':')) goto fail;
          int idx = -1;
          for (int i = 0; i < 16; i++)
            if (!strcmp(rn, REG_NAMES[i])) idx = i;
          if (idx < 0) { snprintf(ps.err, sizeof ps.err, "unknown register \"%.10s\"", rn); goto fail; }
          if (!read_u64(&ps, &g->r[idx])) goto fail;
          ws(&ps);
          if (*ps.p == ',') { ps.p++; continue; }
          if (*ps.p == '}') { ps.p++; break; }
          snprintf(ps.err, sizeof ps.err, "expected ',' or '}' in regs");
          goto fail;
        }
    } else if (!strcmp(key, "rflags")) {
      if (!read_u64(&ps, &g->rflags)) goto fail;
    } else if (!strcmp(key, "mxcsr") || !strcmp(key, "fcw")) {
      uint64_t v;
      if (!read_u64(&ps, &v)) goto fail;
      if (key[0] == 'm') {
        if (v & ~(uint64_t)MXCSR_CASE_MASK) { snprintf(ps.err, sizeof ps.err, "mxcsr sets reserved bits"); goto fail; }
        g->mxcsr = (uint32_t)v;
      } else {
        if (v > 0xffff) { snprintf(ps.err, sizeof ps.err, "fcw does not fit in 16 bits"); goto fail; }
        g->fcw = (uint16_t)v;
      }
    } else if (!strcmp(key, "xmm")) {
      if (!expect(&ps, '{')) goto fail;
      ws(&ps);
      if (*ps.p == '}') ps.p++;
      else
        for (;;) {
          char rn[16];
          if (read_str(&ps, rn, sizeof rn) < 0) goto fail;
          if (!expect(&ps, ':')) goto fail;
          int idx = -1;
          if (!strncmp(rn, "xmm", 3)) {
            char *end;
            long k = strtol(rn + 3, &end, 10);
            if (rn[3] && !*end && k >= 0 && k < 16 && (rn[3] != '0' || !rn[4])) idx = (int)k;
          }
          if (idx < 0) { snprintf(ps.err, sizeof ps.err, "unknown register \"%.10s\"", rn); goto fail; }
          if (!read_u128(&ps, g->xmm[idx])) goto fail;
          ws(&ps);
          if (*ps.p == ',') { ps.p++; continue; }
          if (*ps.p == '}') { ps.p++; break; }
          snprintf(ps.err, sizeof ps.err, "expected ',' or '}' in xmm");
          goto fail;
        }
    } else if (!strcmp(key, "max_insns")) {
      uint64_t ignored;
      if (!read_u64(&ps, &ignored)) goto fail;
    } else {
      if (!skip_value(&ps)) goto fail;
    }
    ws(&ps);
    if (*ps.p == ',') { ps.p++; continue; }
    if (*ps.p == '}') { ps.p++; break; }
    snprintf(ps.err, sizeof ps.err, "expected ',' or '}'");
    goto fail;
  }
  ws(&ps);
  if (*ps.p) { snprintf(ps.err, sizeof ps.err, "trailing characters"); goto fail; }
  if (!have_code) { snprintf(ps.err, sizeof ps.err, "missing \"code\""); goto fail; }
  return 1;
fail:
  snprintf(err, errcap, "%s", ps.err[0] ? ps.err : "malformed case");
  return 0;
}

/* ---------- running ---------- */

static const char HEXD[] = "0123456789abcdef";

/* Little-endian bytes [p, p+n) as 0x + 2n hex digits. */
static void put_le_hex(FILE *o, const uint8_t *p, int n) {
  char buf[2 + 64 + 1];
  buf[0] = '0';
  buf[1] = 'x';
  for (int i = 0; i < n; i++) {
    buf[2 + 2 * i] = HEXD[p[n - 1 - i] >> 4];
    buf[3 + 2 * i] = HEXD[p[n - 1 - i] & 15];
  }
  buf[2 + 2 * n] = 0;
  fputs(buf, o);
}

/* ,"xmm":{...},"mxcsr":"0x..","fpu":{...} from the FXSAVE image at the exit */
static void print_fp(FILE *o) {
  const uint8_t *fx = out.fx;
  fputs(",\"xmm\":{", o);
  for (int i = 0; i < 16; i++) {
    fprintf(o, "%s\"xmm%d\":\"", i ? "," : "", i);
    put_le_hex(o, fx + 160 + 16 * i, 16);
    fputc('"', o);
  }
  uint32_t mx;
  uint16_t fcw, fsw;
  memcpy(&mx, fx + 24, 4);
  memcpy(&fcw, fx, 2);
  memcpy(&fsw, fx + 2, 2);
  fprintf(o, "},\"mxcsr\":\"0x%x\",\"fpu\":{\"fcw\":\"0x%x\",\"fsw\":\"0x%x\",\"ftw\":\"0x%x\"", mx, fcw, fsw, fx[4]);
  for (int i = 0; i < 8; i++) {
    fprintf(o, ",\"st%d\":\"", i);
    put_le_hex(o, fx + 32 + 16 * i, 10);
    fputc('"', o);
  }
  fputc('}', o);
}

static int has_error_code(uint64_t v) {
  return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

static void run_case(const struct gstate *in, size_t len, FILE *o) {
  /* reset the code region and the data window */
  if (prev_code_len) memset(code_rw, 0, prev_code_len + 2);
  memcpy(code_rw, codebuf, len);
  code_rw[len] = 0x0f;
  code_rw[len + 1] = 0x0b;
  prev_code_len = len;
  memcpy(data_win, pattern, WIN);

  static struct gstate g;
  g = *in;
  g.rflags = (in->rflags & (RFLAGS_LOAD_MASK)) | 0x202;
  memset(&out, 0, sizeof out);
  /* the kernel's signal frame lands at the top of the alternate stack: no stale FPU image there */
  memset(altstack + sizeof altstack - 16384, 0, 16384);

  case_seq++;
  if (sigsetjmp(jb, 0) == 0) {
    in_guest = 1;
    run_guest(&g);
    __builtin_unreachable();
  }
  in_guest = 0;
  uint64_t h = data_hash();
  uint64_t code_end = CODE_BASE + len;

  if (out.timeout) {
    fprintf(o, "{\"stop\":\"timeout\"");
  } else if (out.sig == SIGILL && out.trapno == 6 && out.rip == code_end) {
    fprintf(o, "{\"stop\":\"end\"");
  } else {
    fprintf(o, "{\"stop\":\"exception\",\"vector\":%" PRIu64, out.trapno);
    if (has_error_code(out.trapno)) fprintf(o, ",\"error_code\":\"0x%" PRIx64 "\"", out.err);
    if (out.trapno == 14) fprintf(o, ",\"cr2\":\"0x%" PRIx64 "\"", out.cr2);
  }
  fprintf(o, ",\"rip\":\"0x%" PRIx64 "\",\"regs\":{", out.rip);
  for (int i = 0; i < 16; i++) fprintf(o, "%s\"%s\":\"0x%" PRIx64 "\"", i ? "," : "", REG_NAMES[i], out.r[i]);
  fprintf(o, "},\"rflags\":\"0x%" PRIx64 "\",\"insns\":0,\"data_fnv1a64\":\"0x%" PRIx64 "\"", out.rflags, h);
  print_fp(o);
  fputs("}\n", o);
}

static void print_features(void) {
  unsigned a, b, c, d;
  unsigned max = __get_cpuid_max(0, NULL);
  char vendor[13] = {0};
  __cpuid(0, a, b, c, d);
  memcpy(vendor, &b, 4);
  memcpy(vendor + 4, &d, 4);
  memcpy(vendor + 8, &c, 4);
  unsigned c1 = 0, d1 = 0, b7 = 0, c81 = 0;
  __cpuid(1, a, b, c1, d1);
  if (max >= 7) __cpuid_count(7, 0, a, b7, c, d);
  if (__get_cpuid_max(0x80000000, NULL) >= 0x80000001) __cpuid(0x80000001, a, b, c81, d);
  printf("{\"vendor\":\"%s\",\"popcnt\":%s,\"lzcnt\":%s,\"bmi1\":%s,\"movbe\":%s,\"cx8\":%s,\"cx16\":%s,"
         "\"lahf64\":%s}\n",
         vendor, (c1 >> 23) & 1 ? "true" : "false", (c81 >> 5) & 1 ? "true" : "false",
         (b7 >> 3) & 1 ? "true" : "false", (c1 >> 22) & 1 ? "true" : "false", (d1 >> 8) & 1 ? "true" : "false",
         (c1 >> 13) & 1 ? "true" : "false", c81 & 1 ? "true" : "false");
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--features")) {
    print_features();
    return 0;
  }
  setup();
  static char obuf[1 << 20];
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  int line_buffered = argc > 1 && !strcmp(argv[1], "--line-buffered");

  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  unsigned long lineno = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  while ((n = getline(&line, &cap, stdin)) >= 0) {
    lineno++;
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
    const char *s = line;
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) continue;
    struct gstate g;
    size_t len = 0;
    char err[200];
    if (!parse_case(s, &g, &len, err, sizeof err)) {
      printf("{\"error\":\"line %lu: ", lineno);
      for (const char *e = err; *e; e++) {
        if (*e == '"' || *e == '\\') putchar('\\');
        if ((unsigned char)*e >= 0x20) putchar(*e);
      }
      printf("\"}\n");
    } else {
      run_case(&g, len, stdout);
    }
    if (line_buffered) fflush(stdout);
  }
  free(line);
  fflush(stdout);
  /* RUNNER_TIMING=1: report the time spent on the batch (reading, running, printing) */
  if (getenv("RUNNER_TIMING")) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "runner-timing %lu %.3f\n", lineno,
            (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
  }
  return 0;
}
