// Generator of SSE2 packed-integer and MMX differential cases (test/sse-int.test.ts,
// scripts/diff-sse-int.mjs): integer SIMD code shaped as gcc and clang emit it -- vectorized loops
// over arrays (load, arithmetic, store, add/cmp/jne), memset-style broadcasts (MOVD + PUNPCKL +
// PSHUFD/PSHUFLW + stores), memcpy-style moves (MOVDQU/MOVDQA/MOVQ/MOVNTDQ), strlen/memchr-style
// scans (PCMPEQB + PMOVMSKB), plus straight-line random sequences of every SSE2 integer and MMX
// form with edge-heavy inputs (saturation limits, 0x8000 pairs, shift counts around the lane width
// and from 64-bit sources). The encoder here lays out the 0F-map forms (SDM Vol. 2A 2.1, 2.2.1).
import { Rng, DATA_BASE } from './gen.js';
import type { DiffCase } from './diffcase.js';

// ------------------------------------------------------------------------------- encoding --

/** A ModRM.rm operand: a register number, or memory [base + index*scale + disp]. */
export type Rm = number | { base: number; index?: number; scale?: number; disp: number };

/**
 * One 0F-map instruction: [prefix] [REX] 0F op ModRM [SIB] [disp] [imm8]. `pfx` is 0x66/0xF3/0xF2
 * or 0; `w` sets REX.W; `rex` forces a REX byte (e.g. 0x40) even when no bit is needed.
 */
export function ins(pfx: number, op: number, reg: number, rm: Rm, imm?: number, w = false, rex = false): number[] {
  const out: number[] = [];
  if (pfx) out.push(pfx);
  let r = (w ? 8 : 0) | ((reg >> 3) & 1) << 2;
  const body: number[] = [];
  if (typeof rm === 'number') {
    r |= (rm >> 3) & 1;
    body.push(0xc0 | ((reg & 7) << 3) | (rm & 7));
  } else {
    const { base, index, scale = 0, disp } = rm;
    const mod = disp === 0 && (base & 7) !== 5 ? 0 : disp >= -128 && disp <= 127 ? 1 : 2;
    r |= (base >> 3) & 1;
    if (index !== undefined || (base & 7) === 4) {
      const ix = index ?? 4;
      r |= ((ix >> 3) & 1) << 1;
      body.push((mod << 6) | ((reg & 7) << 3) | 4, (scale << 6) | ((ix & 7) << 3) | (base & 7));
    } else body.push((mod << 6) | ((reg & 7) << 3) | (base & 7));
    if (mod === 1) body.push(disp & 0xff);
    if (mod === 2) for (let i = 0; i < 4; i++) body.push((disp >> (8 * i)) & 0xff);
  }
  if (r || rex) out.push(0x40 | r);
  out.push(0x0f, op, ...body);
  if (imm !== undefined) out.push(imm & 0xff);
  return out;
}

export const hex = (b: number[]): string => b.map((x) => x.toString(16).padStart(2, '0')).join('');

// ------------------------------------------------------------------------------- the forms --

/** "op mm, mm/m64" / "op xmm, xmm/m128" rows of Vol. 2D Table A-3 (no prefix and 66). */
export const BINARY: [number, string][] = [
  [0x60, 'punpcklbw'], [0x61, 'punpcklwd'], [0x62, 'punpckldq'], [0x63, 'packsswb'], [0x64, 'pcmpgtb'],
  [0x65, 'pcmpgtw'], [0x66, 'pcmpgtd'], [0x67, 'packuswb'], [0x68, 'punpckhbw'], [0x69, 'punpckhwd'],
  [0x6a, 'punpckhdq'], [0x6b, 'packssdw'], [0x74, 'pcmpeqb'], [0x75, 'pcmpeqw'], [0x76, 'pcmpeqd'],
  [0xd1, 'psrlw'], [0xd2, 'psrld'], [0xd3, 'psrlq'], [0xd4, 'paddq'], [0xd5, 'pmullw'], [0xd8, 'psubusb'],
  [0xd9, 'psubusw'], [0xda, 'pminub'], [0xdb, 'pand'], [0xdc, 'paddusb'], [0xdd, 'paddusw'], [0xde, 'pmaxub'],
  [0xdf, 'pandn'], [0xe0, 'pavgb'], [0xe1, 'psraw'], [0xe2, 'psrad'], [0xe3, 'pavgw'], [0xe4, 'pmulhuw'],
  [0xe5, 'pmulhw'], [0xe8, 'psubsb'], [0xe9, 'psubsw'], [0xea, 'pminsw'], [0xeb, 'por'], [0xec, 'paddsb'],
  [0xed, 'paddsw'], [0xee, 'pmaxsw'], [0xef, 'pxor'], [0xf1, 'psllw'], [0xf2, 'pslld'], [0xf3, 'psllq'],
  [0xf4, 'pmuludq'], [0xf5, 'pmaddwd'], [0xf6, 'psadbw'], [0xf8, 'psubb'], [0xf9, 'psubw'], [0xfa, 'psubd'],
  [0xfb, 'psubq'], [0xfc, 'paddb'], [0xfd, 'paddw'], [0xfe, 'paddd'],
];
/** The 66-only binary rows. */
export const BINARY_66: [number, string][] = [[0x6c, 'punpcklqdq'], [0x6d, 'punpckhqdq']];
/** Shift by immediate: [opcode, digit, name, 66 only]. */
export const SHIFT_IMM: [number, number, string, boolean][] = [
  [0x71, 2, 'psrlw', false], [0x71, 4, 'psraw', false], [0x71, 6, 'psllw', false],
  [0x72, 2, 'psrld', false], [0x72, 4, 'psrad', false], [0x72, 6, 'pslld', false],
  [0x73, 2, 'psrlq', false], [0x73, 6, 'psllq', false], [0x73, 3, 'psrldq', true], [0x73, 7, 'pslldq', true],
];

const RSI = 6, RDI = 7, RAX = 0, RDX = 2, RCX = 1;
/** The generator's memory: RSI = source area, RDI = destination area, RDX = a second source (16-aligned). */
const SRC = Number(DATA_BASE) + 0x1000, DST = Number(DATA_BASE) + 0x8000, SRC2 = Number(DATA_BASE) + 0x4000;

// ------------------------------------------------------------------------------- values --

const BYTES = [0, 1, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x40, 0x3f];
const WORDS = [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff, 0xfffe, 0x00ff, 0xff00, 0x0080, 0x7f7f];
const DWORDS = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x00007fff, 0xffff8000, 0x00008000, 0x0000ffff];

/** A 64-bit value with edge-heavy lanes. */
function edge64(g: Rng): bigint {
  const k = g.int(5);
  let v = 0n;
  if (k === 0) return g.u64();
  if (k === 1) for (let i = 0; i < 8; i++) v |= BigInt(g.chance(0.6) ? g.pick(BYTES) : g.int(256)) << BigInt(8 * i);
  else if (k === 2 || k === 3) for (let i = 0; i < 4; i++) v |= BigInt(g.chance(0.6) ? g.pick(WORDS) : g.int(65536)) << BigInt(16 * i);
  else for (let i = 0; i < 2; i++) v |= BigInt(g.chance(0.6) ? g.pick(DWORDS) : g.u32()) << BigInt(32 * i);
  return v;
}
const edge128 = (g: Rng): bigint => (edge64(g) << 64n) | edge64(g);

/** A shift count: small, around the lane widths, or huge (a full 64-bit count). */
function shiftCount(g: Rng): bigint {
  const k = g.int(6);
  if (k === 0) return BigInt(g.pick([15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, 256]));
  if (k === 1) return g.u64();
  if (k === 2) return 1n << BigInt(g.range(8, 63));
  return BigInt(g.int(70));
}

const xname = (i: number) => `xmm${i}`;
const h = (v: bigint) => '0x' + v.toString(16);

// ------------------------------------------------------------------------------- cases --

interface Build { code: number[]; xmm: Record<string, string>; regs: Record<string, string> }

/** A memory operand in the source area (16-aligned for m128, any for narrower). */
function srcMem(g: Rng, aligned: boolean): Rm {
  const base = g.pick([RSI, RDX]);
  const disp = aligned ? 16 * g.int(64) : g.int(1024);
  return { base, disp };
}

function randomXmm(b: Build, g: Rng): void { for (let i = 0; i < 16; i++) if (g.chance(0.8)) b.xmm[xname(i)] = h(edge128(g)); }

/** Loads MM0-7 (all of them: the host keeps stale ST(i) contents across cases) from the source area or GPRs. */
function loadAllMm(b: Build, g: Rng): void {
  for (let i = 0; i < 8; i++) {
    if (g.chance(0.5)) b.code.push(...ins(0, 0x6f, i, { base: RSI, disp: 8 * g.int(120) }));
    else {
      const r = 8 + g.int(8); // R8-R15 hold edge values
      b.code.push(...ins(0, 0x6e, i, r, undefined, true));
    }
  }
}

/** One random SSE2-integer (66) or MMX instruction. */
function randomOp(g: Rng, mmx: boolean): number[] {
  const pfx = mmx ? 0 : 0x66;
  const nr = mmx ? 8 : 16;
  // MMX register numbers ignore REX.R/REX.B (SDM Vol. 2A 2.2.1.2): sometimes encode MMi as i + 8.
  const hi = () => (mmx && g.chance(0.15) ? 8 : 0);
  const reg = g.int(nr) + hi(), rr = g.int(nr) + hi();
  const mem = g.chance(0.3);
  const k = g.int(100);
  if (k < 60) {
    const [op] = !mmx && g.chance(0.05) ? g.pick(BINARY_66) : g.pick(BINARY);
    const narrow = mmx && op <= 0x62;
    return ins(pfx, op, reg, mem ? srcMem(g, !mmx && !narrow) : rr);
  }
  if (k < 72) {
    const forms = SHIFT_IMM.filter((f) => !mmx || !f[3]);
    const [op, digit] = g.pick(forms);
    const cnt = g.chance(0.7) ? g.int(70) : g.int(256);
    return ins(pfx, op, digit, rr, cnt);
  }
  if (k < 78) { // PSHUFW / PSHUFD / PSHUFHW / PSHUFLW
    const p = mmx ? 0 : g.pick([0x66, 0xf3, 0xf2]);
    return ins(p, 0x70, reg, mem ? srcMem(g, !mmx) : rr, g.int(256));
  }
  if (k < 83) { // PINSRW from a GPR or m16 (any imm8: only the low bits select the word)
    return ins(pfx, 0xc4, reg, mem ? srcMem(g, false) : g.pick([RAX, 8, 9, 10, 11]), g.int(256));
  }
  if (k < 87) return ins(pfx, 0xc5, g.pick([RAX, RCX, 8, 9]), rr, g.int(256), g.chance(0.3)); // PEXTRW
  if (k < 90) return ins(pfx, 0xd7, g.pick([RAX, RCX, 9]), rr, undefined, g.chance(0.3)); // PMOVMSKB
  if (k < 94) { // MOVD/MOVQ to and from GPRs
    const w = g.chance(0.5);
    return g.chance(0.5) ? ins(pfx, 0x6e, reg, mem ? srcMem(g, false) : g.pick([RAX, 8, 9, 10]), undefined, w)
      : ins(pfx, 0x7e, reg, mem ? { base: RDI, disp: g.int(512) } : g.pick([RAX, RCX, 9, 11]), undefined, w);
  }
  if (mmx) { // MOVQ mm, mm/m64 and stores
    if (g.chance(0.5)) return ins(0, 0x6f, reg, mem ? srcMem(g, false) : rr);
    return ins(0, g.pick([0x7f, 0xe7]), reg, { base: RDI, disp: g.int(512) });
  }
  const f = g.int(6);
  if (f === 0) return ins(0xf3, 0x7e, reg, mem ? srcMem(g, false) : rr);                  // MOVQ xmm, xmm/m64
  if (f === 1) return ins(0x66, 0xd6, reg, mem ? { base: RDI, disp: g.int(512) } : rr); // MOVQ xmm/m64, xmm
  if (f === 2) { // MOVDQA / MOVDQU; a few MOVDQA from a misaligned address (#GP(0), SDM Vol. 2B MOVDQA)
    const p = g.pick([0x66, 0xf3]);
    return ins(p, 0x6f, reg, mem ? srcMem(g, p === 0x66 && g.chance(0.9)) : rr);
  }
  if (f === 3) return ins(0xf3, 0x7f, reg, mem ? { base: RDI, disp: g.int(512) } : rr);
  if (f === 4) return ins(0x66, g.pick([0x7f, 0xe7]), reg, { base: RDI, disp: 16 * g.int(32) });
  return ins(0x66, 0x7f, reg, rr);
}

/** GPR inputs: pointers to the areas, edge values in RAX and R8-R15. */
function baseRegs(g: Rng): Record<string, string> {
  const r: Record<string, string> = { rsi: h(BigInt(SRC)), rdi: h(BigInt(DST)), rdx: h(BigInt(SRC2)), rax: h(edge64(g)) };
  for (let i = 8; i < 16; i++) r[`r${i}`] = h(g.chance(0.3) ? shiftCount(g) : edge64(g));
  return r;
}

function straight(g: Rng, mmx: boolean): Build {
  const b: Build = { code: [], xmm: {}, regs: baseRegs(g) };
  randomXmm(b, g);
  if (mmx) loadAllMm(b, g);
  const n = 1 + g.int(5);
  for (let i = 0; i < n; i++) b.code.push(...randomOp(g, mmx));
  if (mmx && g.chance(0.1)) b.code.push(...ins(0xf3, 0xd6, g.int(16), g.int(8)));  // MOVQ2DQ
  if (mmx && g.chance(0.1)) b.code.push(...ins(0xf2, 0xd6, g.int(8), g.int(16)));  // MOVDQ2Q
  if (mmx && g.chance(0.3)) b.code.push(0x0f, 0x77); // EMMS, as compilers end MMX code
  return b;
}

/** Shifts by a count from a register (XMM low quadword / MM / memory), the counts edge-heavy. */
function shifts(g: Rng): Build {
  const mmx = g.chance(0.4);
  const b: Build = { code: [], xmm: {}, regs: baseRegs(g) };
  randomXmm(b, g);
  if (mmx) loadAllMm(b, g);
  const ops = [0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3];
  for (let i = 0; i < 3; i++) {
    const c = 8 + g.int(8);
    const dst = g.int(mmx ? 8 : 16), cr = g.int(mmx ? 8 : 16);
    b.regs[`r${c}`] = h(shiftCount(g));
    if (cr !== dst) b.code.push(...ins(mmx ? 0 : 0x66, 0x6e, cr, c, undefined, true)); // count register from R8-R15
    b.code.push(...ins(mmx ? 0 : 0x66, g.pick(ops), dst, cr));
  }
  return b;
}

/** A vectorized loop: for (i = 0; i < n; i += 16) dst[i] = op(src[i], src2[i]) (clang -O2 shape). */
function loop(g: Rng): Build {
  const b: Build = { code: [], xmm: {}, regs: baseRegs(g) };
  b.regs.rax = '0x0';
  const n = 1 + g.int(8);
  const body: number[] = [];
  const x = g.int(8), y = 8 + g.int(8);
  const aligned = g.chance(0.5);
  body.push(...ins(aligned ? 0x66 : 0xf3, 0x6f, x, { base: RSI, index: RAX, disp: 0 }));
  body.push(...ins(0xf3, 0x6f, y, { base: RDX, index: RAX, disp: 0 }));
  const [op] = g.pick(BINARY.filter(([o]) => o >= 0xd4 && ![0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3].includes(o)));
  body.push(...ins(0x66, op, x, y));
  if (g.chance(0.5)) body.push(...ins(0x66, g.pick([0xd4, 0xfe, 0xef, 0xeb, 0xdb]), x, { base: RDX, index: RAX, disp: 0 }));
  body.push(...ins(g.chance(0.5) ? 0x66 : 0xf3, 0x7f, x, { base: RDI, index: RAX, disp: 0 }));
  body.push(0x48, 0x83, 0xc0, 0x10);                           // add rax, 16
  body.push(0x48, 0x3d, ...le32(16 * n));                      // cmp rax, 16*n
  body.push(0x75, (-(body.length + 2)) & 0xff);                // jne body
  b.code.push(...body);
  // A reduction tail as compilers emit: fold the high quadword and move the result out.
  if (g.chance(0.5)) {
    b.code.push(...ins(0x66, 0x70, y, x, 0x4e));                // pshufd y, x, 0x4e
    b.code.push(...ins(0x66, 0xd4, x, y));                      // paddq x, y
    b.code.push(...ins(0x66, 0x7e, RCX, x, undefined, true));   // movq rcx, x
  }
  return b;
}
const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];

/** memset: broadcast a byte/word/dword from a GPR, then aligned, unaligned and partial stores. */
function memset(g: Rng): Build {
  const b: Build = { code: [], xmm: {}, regs: baseRegs(g) };
  b.code.push(...ins(0x66, 0x6e, 0, RAX));                          // movd xmm0, eax
  const k = g.int(3);
  if (k === 0) {                                                    // byte: punpcklbw + pshuflw + pshufd (gcc)
    b.code.push(...ins(0x66, 0x60, 0, 0), ...ins(0xf2, 0x70, 0, 0, 0), ...ins(0x66, 0x70, 0, 0, 0));
  } else if (k === 1) {                                             // punpcklbw, punpcklwd, pshufd 0
    b.code.push(...ins(0x66, 0x60, 0, 0), ...ins(0x66, 0x61, 0, 0), ...ins(0x66, 0x70, 0, 0, 0));
  } else b.code.push(...ins(0x66, 0x6c, 0, 0));                     // punpcklqdq (a 64-bit pattern)
  const n = 1 + g.int(6);
  for (let i = 0; i < n; i++) {
    const f = g.int(5);
    const d = f < 2 ? 16 * g.int(64) : g.int(1024);
    if (f === 0) b.code.push(...ins(0x66, 0x7f, 0, { base: RDI, disp: d }));
    else if (f === 1) b.code.push(...ins(0x66, 0xe7, 0, { base: RDI, disp: d }));
    else if (f === 2) b.code.push(...ins(0xf3, 0x7f, 0, { base: RDI, disp: d }));
    else if (f === 3) b.code.push(...ins(0x66, 0xd6, 0, { base: RDI, disp: d }));
    else b.code.push(...ins(0x66, 0x7e, 0, { base: RDI, disp: d }));
  }
  return b;
}

/** memcpy: blocks of loads and stores through several registers (MOVDQU/MOVDQA/MOVQ, MMX MOVQ/MOVNTQ). */
function memcpy(g: Rng): Build {
  const b: Build = { code: [], xmm: {}, regs: baseRegs(g) };
  const mmx = g.chance(0.25);
  if (mmx) loadAllMm(b, g);
  const n = 1 + g.int(4);
  for (let i = 0; i < n; i++) {
    const r = g.int(mmx ? 8 : 16);
    const off = g.chance(0.5) ? 16 * g.int(60) : g.int(1000);
    const al = (off & 15) === 0;
    if (mmx) {
      b.code.push(...ins(0, 0x6f, r, { base: RSI, disp: off }));
      b.code.push(...ins(0, g.pick([0x7f, 0xe7]), r, { base: RDI, disp: off }));
    } else if (g.chance(0.2)) {
      b.code.push(...ins(0xf3, 0x7e, r, { base: RSI, disp: off }));
      b.code.push(...ins(0x66, 0xd6, r, { base: RDI, disp: off }));
    } else {
      b.code.push(...ins(al && g.chance(0.5) ? 0x66 : 0xf3, 0x6f, r, { base: RSI, disp: off }));
      const nt = al && g.chance(0.3); // MOVNTDQ exists only as 66 0F E7
      b.code.push(...ins(nt ? 0x66 : al ? g.pick([0x66, 0xf3]) : 0xf3, nt ? 0xe7 : 0x7f, r, { base: RDI, disp: off }));
    }
  }
  // MOVNTI stores of GPRs (gcc's non-temporal memcpy/memset tail).
  if (g.chance(0.3)) b.code.push(...ins(0, 0xc3, g.pick([RAX, 8, 9, 10]), { base: RDI, disp: g.int(1024) }, undefined, g.chance(0.5)));
  if (mmx) b.code.push(0x0f, 0x77);
  return b;
}

/** strlen/memchr: a zero (or the searched byte) planted, PCMPEQB against it, PMOVMSKB, TEST. */
function strlen(g: Rng): Build {
  const b: Build = { code: [], xmm: {}, regs: baseRegs(g) };
  const mmx = g.chance(0.2);
  if (mmx) loadAllMm(b, g); else randomXmm(b, g);
  const off = 16 * g.int(60);
  const pos = g.int(16);
  b.code.push(0xc6, 0x86, ...le32(off + pos), 0x00);                     // mov byte [rsi+off+pos], 0
  const pfx = mmx ? 0 : 0x66;
  const z = mmx ? 0 : g.int(16), x = mmx ? 1 + g.int(7) : g.int(16);
  b.code.push(...ins(pfx, 0xef, z, z));                                  // pxor z, z
  if (z === x) return b;
  if (g.chance(0.5)) {
    b.code.push(...ins(mmx ? 0 : 0x66, 0x6f, x, { base: RSI, disp: off }));   // movdqa/movq x, [rsi+off]
    b.code.push(...ins(pfx, 0x74, x, z));                                   // pcmpeqb x, z
  } else {
    b.code.push(...ins(pfx, 0x6f, x, z));                                   // (movq mm, mm / movdqa)
    b.code.push(...ins(pfx, 0x74, x, { base: RSI, disp: off }));            // pcmpeqb x, [rsi+off]
  }
  b.code.push(...ins(pfx, 0xd7, RAX, x));                                 // pmovmskb eax, x
  if (!mmx) b.code.push(0x0f, 0xbc, 0xc8);                                // bsf ecx, eax (the zero is in these 16 bytes)
  b.code.push(0x85, 0xc0);                                                // test eax, eax
  if (mmx) b.code.push(0x0f, 0x77);
  return b;
}

/** MASKMOVDQU / MASKMOVQ with mixed masks to DS:RDI (sometimes through 67: EDI). */
function maskmov(g: Rng): Build {
  const mmx = g.chance(0.4);
  const b: Build = { code: [], xmm: {}, regs: baseRegs(g) };
  randomXmm(b, g);
  if (mmx) loadAllMm(b, g);
  b.regs.rdi = h(BigInt(DST + g.int(2000)));
  const a32 = g.chance(0.2);
  const i = ins(mmx ? 0 : 0x66, 0xf7, g.int(mmx ? 8 : 16), g.int(mmx ? 8 : 16));
  b.code.push(...(a32 ? [0x67, ...i] : i));
  return b;
}

export const SSE_INT_KINDS: [string, (g: Rng) => Build, number][] = [
  ['sse2', (g) => straight(g, false), 30], ['mmx', (g) => straight(g, true), 18], ['shift', shifts, 10],
  ['loop', loop, 10], ['memset', memset, 8], ['memcpy', memcpy, 8], ['strlen', strlen, 8], ['maskmov', maskmov, 8],
];

/** Case `index` of seed `seed`: a DiffCase plus its kind. */
export function genSseIntCase(seed: number, index: number): { kind: string; c: DiffCase } {
  const g = new Rng(seed, index);
  const [kind, f] = g.weighted(SSE_INT_KINDS.map(([k, fn, w]) => [[k, fn] as const, w] as [readonly [string, (g: Rng) => Build], number]));
  const b = f(g);
  // TEST leaves AF undefined (SDM Vol. 2B TEST "Flags Affected"); the strlen cases end with one.
  return { kind, c: { code: hex(b.code), xmm: b.xmm, regs: b.regs, max_insns: 1000, undefFlags: kind === 'strlen' ? 0x10 : 0 } };
}
