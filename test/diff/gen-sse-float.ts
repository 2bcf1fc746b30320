// Deterministic generator of SSE/SSE2 floating-point sequences for differential testing against the
// host CPU (issue 13): the instructions gcc and clang emit for `float`/`double` code -- scalar
// arithmetic, compares into flags (COMISD/UCOMISD), conversions to and from integers, packed
// arithmetic and shuffles from vectorised loops, spills through memory -- over operands drawn from
// special-value pools (SDM Vol. 1 4.8.3: signed zeros, denormals, infinities, QNaN/SNaN with
// payloads, the smallest and largest normals, values one rounding step apart, integer-conversion
// limits), under random MXCSR (all four rounding modes, FTZ, DAZ, sticky flags, and now and then
// unmasked exceptions, which must fault with #XM = 19 leaving the destination alone).
// Case `index` of seed `seed` is always the same. Nothing is masked: every result bit these
// instructions produce is defined by the SDM (RCPPS/RSQRTPS are the host's table, rcp-table.ts).
import { DATA_BASE, Rng } from './gen.js';
import type { DiffCase } from './diffcase.js';
import { GPR_NAMES } from '../../assembly/shared/regs.js';

const hex = (v: bigint, digits: number): string => '0x' + v.toString(16).padStart(digits, '0');

// ---- value pools ----------------------------------------------------------------------------
const F32_SPECIAL: number[] = [
  0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000, 0x00000100,
  0x00800000, 0x80800000, 0x00800001, 0x3f800000, 0xbf800000, 0x3fc00000, 0x3f800001, 0x3f7fffff,
  0x7f7fffff, 0xff7fffff, 0x7f000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc12345,
  0x7f800001, 0xff812345, 0x7fa00000, 0x4f000000, 0xcf000000, 0x4effffff, 0x5f000000, 0xdf000000,
  0x3f000000, 0xbf000000, 0x3fc00000, 0x40200000, 0x4b800000, 0x4b7fffff, 0x33800000, 0x34000000,
  0x0c000000, 0x1f800000, 0x5e800000, 0x01000000,
];
const F64_SPECIAL: bigint[] = [
  0x0000000000000000n, 0x8000000000000000n, 0x0000000000000001n, 0x8000000000000001n, 0x000fffffffffffffn,
  0x800fffffffffffffn, 0x0008000000000000n, 0x0010000000000000n, 0x8010000000000000n, 0x0010000000000001n,
  0x3ff0000000000000n, 0xbff0000000000000n, 0x3ff8000000000000n, 0x3ff0000000000001n, 0x3fefffffffffffffn,
  0x7fefffffffffffffn, 0xffefffffffffffffn, 0x7fe0000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n,
  0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff8000000012345n, 0x7ff0000000000001n, 0xfff4000000012345n,
  0x41e0000000000000n, 0xc1e0000000000000n, 0x41dfffffffffffffn, 0xc1e0000000200000n, 0x41dfffffffc00000n,
  0x43e0000000000000n, 0xc3e0000000000000n, 0x43dfffffffffffffn, 0x3fe0000000000000n, 0xbfe0000000000000n,
  0x3ff8000000000000n, 0x4004000000000000n, 0x4330000000000000n, 0x432fffffffffffffn, 0x3ca0000000000000n,
  0x47efffffe0000000n, 0x47efffffffffffffn, 0x36a0000000000000n, 0x3690000000000000n, 0x380fffffffffffffn,
  0x3810000000000000n, 0x36a8000000000001n, 0x1ff0000000000000n, 0x5ff0000000000000n, 0x0020000000000000n,
];
const INTS: bigint[] = [0n, 1n, 0xffffffffn, 0x7fffffffn, 0x80000000n, 0x1000001n, 0xff000001n, 0x7fffffffffffffffn,
  0x8000000000000000n, 0xffffffffffffffffn, 0x20000000000001n, 0x7ffffffffffffdffn, 0x12345678n, 0xfffffffe00000001n];

function f32(r: Rng): number {
  const k = r.int(10);
  if (k < 4) return r.pick(F32_SPECIAL) >>> 0;
  if (k < 6) return (((r.int(2) << 31) | ((r.range(100, 155)) << 23) | (r.int(0x800000))) >>> 0); // near 1
  if (k < 7) return (((r.int(2) << 31) | r.int(0x800000)) >>> 0);                                   // denormal
  if (k < 8) { const b = r.pick(F32_SPECIAL); return (b + r.range(-2, 2)) >>> 0; }                    // neighbours
  return Number(r.u64() & 0xffffffffn) >>> 0;
}
function f64(r: Rng): bigint {
  const k = r.int(10);
  if (k < 4) return r.pick(F64_SPECIAL);
  if (k < 6) return (BigInt(r.int(2)) << 63n) | (BigInt(r.range(990, 1060)) << 52n) | (r.u64() & 0xfffffffffffffn);
  if (k < 7) return (BigInt(r.int(2)) << 63n) | (r.u64() & 0xfffffffffffffn);
  if (k < 8) return (r.pick(F64_SPECIAL) + BigInt(r.range(-2, 2))) & 0xffffffffffffffffn;
  // Products/quotients near the underflow and overflow thresholds.
  if (k < 9) return (BigInt(r.int(2)) << 63n) | (BigInt(r.pick([1, 2, 3, 511, 512, 513, 1534, 1535, 2045, 2046])) << 52n) | (r.u64() & 0xfffffffffffffn);
  return r.u64();
}
/** A 128-bit register value: four singles, two doubles, or integer lanes. */
function xmmValue(r: Rng): bigint {
  const k = r.int(6);
  if (k < 3) { let v = 0n; for (let i = 0; i < 4; i++) v |= BigInt(f32(r)) << BigInt(32 * i); return v; }
  if (k < 5) return f64(r) | (f64(r) << 64n);
  let v = 0n; for (let i = 0; i < 2; i++) v |= (r.chance(0.5) ? r.pick(INTS) : r.u64()) << BigInt(64 * i);
  return v & ((1n << 128n) - 1n);
}

// ---- encodings ------------------------------------------------------------------------------
type Pfx = 0 | 0x66 | 0xf3 | 0xf2;
/** Operand kinds: x = XMM, m = memory [rsi+disp8], g = GPR, q = MMX register. */
interface Tmpl { name: string; p: Pfx; op: number; reg: 'x' | 'g' | 'q'; rm: 'x' | 'g' | 'q'; mem: 'no' | 'yes' | 'only'; memBytes: number; aligned: boolean; imm?: boolean; w?: boolean }
const T: Tmpl[] = [];
const add = (name: string, p: Pfx, op: number, o: Partial<Tmpl> = {}): void => {
  T.push({ name, p, op, reg: 'x', rm: 'x', mem: 'yes', memBytes: 16, aligned: true, ...o });
};
const PFX: [string, Pfx, number][] = [['ps', 0, 16], ['pd', 0x66, 16], ['ss', 0xf3, 4], ['sd', 0xf2, 8]];
for (const [n, op] of [['add', 0x58], ['mul', 0x59], ['sub', 0x5c], ['min', 0x5d], ['div', 0x5e], ['max', 0x5f], ['sqrt', 0x51]] as const)
  for (const [s, p, b] of PFX) add(n + s, p, op, { memBytes: b, aligned: b === 16 });
for (const [s, p, b] of PFX) add('cmp' + s, p, 0xc2, { memBytes: b, aligned: b === 16, imm: true });
for (const [n, op] of [['rcp', 0x53], ['rsqrt', 0x52]] as const) { add(n + 'ps', 0, op); add(n + 'ss', 0xf3, op, { memBytes: 4, aligned: false }); }
for (const [n, op] of [['and', 0x54], ['andn', 0x55], ['or', 0x56], ['xor', 0x57], ['unpckl', 0x14], ['unpckh', 0x15]] as const) { add(n + 'ps', 0, op); add(n + 'pd', 0x66, op); }
add('shufps', 0, 0xc6, { imm: true }); add('shufpd', 0x66, 0xc6, { imm: true });
add('comiss', 0, 0x2f, { memBytes: 4, aligned: false }); add('comisd', 0x66, 0x2f, { memBytes: 8, aligned: false });
add('ucomiss', 0, 0x2e, { memBytes: 4, aligned: false }); add('ucomisd', 0x66, 0x2e, { memBytes: 8, aligned: false });
add('cvtps2pd', 0, 0x5a, { memBytes: 8, aligned: false }); add('cvtpd2ps', 0x66, 0x5a);
add('cvtss2sd', 0xf3, 0x5a, { memBytes: 4, aligned: false }); add('cvtsd2ss', 0xf2, 0x5a, { memBytes: 8, aligned: false });
add('cvtdq2ps', 0, 0x5b); add('cvtps2dq', 0x66, 0x5b); add('cvttps2dq', 0xf3, 0x5b);
add('cvttpd2dq', 0x66, 0xe6); add('cvtdq2pd', 0xf3, 0xe6, { memBytes: 8, aligned: false }); add('cvtpd2dq', 0xf2, 0xe6);
for (const [n, op] of [['cvtt', 0x2c], ['cvt', 0x2d]] as const) {
  for (const w of [false, true]) {
    add(n + 'ss2si', 0xf3, op, { reg: 'g', memBytes: 4, aligned: false, w });
    add(n + 'sd2si', 0xf2, op, { reg: 'g', memBytes: 8, aligned: false, w });
  }
  add(n + 'ps2pi', 0, op, { reg: 'q', memBytes: 8, aligned: false });
  add(n + 'pd2pi', 0x66, op, { reg: 'q' });
}
for (const w of [false, true]) { add('cvtsi2ss', 0xf3, 0x2a, { rm: 'g', memBytes: w ? 8 : 4, aligned: false, w }); add('cvtsi2sd', 0xf2, 0x2a, { rm: 'g', memBytes: w ? 8 : 4, aligned: false, w }); }
add('cvtpi2ps', 0, 0x2a, { rm: 'q', memBytes: 8, aligned: false }); add('cvtpi2pd', 0x66, 0x2a, { rm: 'q', memBytes: 8, aligned: false });
add('movmskps', 0, 0x50, { reg: 'g', mem: 'no' }); add('movmskpd', 0x66, 0x50, { reg: 'g', mem: 'no' });
for (const [s, p, b] of PFX) { add('movu/s' + s, p, 0x10, { memBytes: b, aligned: false }); add('movu/s.st' + s, p, 0x11, { memBytes: b, aligned: false }); }
add('movaps', 0, 0x28); add('movapd', 0x66, 0x28); add('movaps.st', 0, 0x29); add('movapd.st', 0x66, 0x29);
add('movlps/hlps', 0, 0x12, { memBytes: 8, aligned: false }); add('movhps/lhps', 0, 0x16, { memBytes: 8, aligned: false });
add('movlpd', 0x66, 0x12, { mem: 'only', memBytes: 8, aligned: false }); add('movhpd', 0x66, 0x16, { mem: 'only', memBytes: 8, aligned: false });
add('movlps.st', 0, 0x13, { mem: 'only', memBytes: 8, aligned: false }); add('movhpd.st', 0x66, 0x17, { mem: 'only', memBytes: 8, aligned: false });
add('movntps', 0, 0x2b, { mem: 'only' }); add('movntpd', 0x66, 0x2b, { mem: 'only' });
/** The templates gcc/clang use most for scalar double code weigh more (nbody-like code). */
const HOT = T.filter((t) => /^(add|sub|mul|div|sqrt|min|max)sd$|^u?comisd$|^cvtsi2sd|^cvtt?sd2si|^movu\/ssd|^xorpd$|^andpd$/.test(t.name));

function encode(t: Tmpl, reg: number, rm: number, mem: boolean, disp: number, imm: number): number[] {
  const b: number[] = [];
  if (t.p) b.push(t.p);
  const rx = t.reg === 'q' ? 0 : reg >> 3, bx = mem || t.rm === 'q' ? 0 : rm >> 3;
  const rexv = (t.w ? 8 : 0) | (rx << 2) | bx;
  if (rexv) b.push(0x40 | rexv);
  b.push(0x0f, t.op);
  if (mem) b.push(0x46 | ((reg & 7) << 3), disp & 0xff); // [rsi + disp8]
  else b.push(0xc0 | ((reg & 7) << 3) | (rm & 7));
  if (t.imm) b.push(imm & 0xff);
  return b;
}

const GPRS: readonly string[] = GPR_NAMES;

export interface SseCase extends DiffCase { listing: string[] }

/** Case `index` of seed `seed`. */
export function genSseFloatCase(seed: number, index: number): SseCase {
  const r = new Rng(seed, index);
  const xmm: Record<string, string> = {};
  for (let i = 0; i < 16; i++) if (r.chance(0.9)) xmm[`xmm${i}`] = hex(xmmValue(r), 32);
  const regs: Record<string, string> = {};
  for (const g of GPRS) if (g !== 'rsp' && g !== 'rsi') regs[g] = hex(r.chance(0.6) ? r.pick(INTS) : r.chance(0.5) ? BigInt(f32(r)) : f64(r), 1);
  regs.rsi = hex(DATA_BASE + 0x100n, 1);
  // MXCSR: mostly the default; else any rounding mode, FTZ/DAZ, sticky flags, sometimes unmasked.
  let mx = 0x1f80;
  if (r.chance(0.6)) {
    mx = (r.int(4) << 13) | (r.chance(0.4) ? 0x8000 : 0) | (r.chance(0.4) ? 0x40 : 0) | 0x1f80 | (r.chance(0.2) ? r.int(64) : 0);
    if (r.chance(0.15)) mx &= ~(r.pick([0x80, 0x100, 0x200, 0x400, 0x800, 0x1000, 0x1f80]));
  }
  const code: number[] = [];
  const listing: string[] = [];
  // Spill a register so memory forms see pool values (as compiled code reloads spilled values).
  const spills = r.int(3);
  for (let i = 0; i < spills; i++) {
    const x = r.int(16), disp = 16 * r.int(8);
    code.push(...encode(T.find((t) => t.name === 'movu/s.stps')!, x, 0, true, disp, 0));
    listing.push(`movups [rsi+${disp}], xmm${x}`);
  }
  // Half the cases work on three or four registers, so results feed the next instruction as in
  // compiled expressions (a product added, compared, converted back).
  const n = r.range(1, 5);
  const few = r.chance(0.5) ? [r.int(16), r.int(16), r.int(16), r.int(16)].slice(0, r.range(3, 4)) : undefined;
  for (let i = 0; i < n; i++) {
    const t = r.chance(0.35) ? r.pick(HOT) : r.pick(T);
    let reg = few ? r.pick(few) : r.int(16), rm = few ? r.pick(few) : r.int(16);
    if (t.reg === 'g' && reg === 4) reg = 0;                   // keep RSP and RSI
    if (t.reg === 'g' && reg === 6) reg = 1;
    const mem = t.mem === 'only' || (t.mem === 'yes' && r.chance(0.3));
    // 16-byte operands: aligned displacements, now and then a misaligned one (#GP(0) for the aligned forms).
    const disp = t.memBytes === 16 ? (r.chance(0.05) ? 16 * r.int(7) + r.range(1, 15) : 16 * r.int(8)) : r.int(120);
    const imm = r.chance(0.8) ? r.int(8) : r.int(256);
    code.push(...encode(t, reg, rm, mem, disp, imm));
    listing.push(`${t.name} ${t.reg}${reg}, ${mem ? `[rsi+${disp}]` : t.rm + rm}${t.imm ? `, ${imm}` : ''}`);
  }
  return { code: Uint8Array.from(code), xmm, regs, mxcsr: hex(BigInt(mx), 4), listing };
}

/** Cases [from, from + count) of seed `seed`. */
export function genSseFloatCases(seed: number, count: number, from = 0): SseCase[] {
  return Array.from({ length: count }, (_, i) => genSseFloatCase(seed, from + i));
}
