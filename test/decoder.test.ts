// Instruction-length agreement between our decoder (Machine.decodeLength) and
// capstone (capstone-wasm, x86 64-bit mode), as the instruction format is laid
// down in the Intel SDM Vol. 2A, chapter 2 "Instruction Format" (64-bit mode):
//   §2.1   prefixes | opcode (1-3 bytes) | ModR/M | SIB | displacement | immediate
//   §2.1.1 legacy prefixes (LOCK F0, REPNE F2, REP F3, segment overrides,
//          operand-size 66, address-size 67), §2.1.3 ModR/M and SIB,
//   §2.1.5 Tables 2-2 / 2-3 (mod/rm/base forms that carry disp8/disp32 or none),
//   §2.2.1 REX prefixes (must come last; REX before a legacy prefix is ignored),
//   §2.2.1.3-5 displacements stay 8/32 bits, moffs is 64-bit (32 with 67),
//          immediates stay 32 bits except MOV r64, imm64 (REX.W B8+r),
//   §2.2.1.6 RIP-relative addressing (mod=00 rm=101, also with REX.B),
//   §2.2.1.7 default 64-bit operand size (near branches ignore 66: rel32),
//   §2.2.2 MOV to/from CR/DR always use the register form (mod is ignored),
// with the opcode maps of Vol. 2D Appendix A telling which opcodes have a
// ModR/M byte and which immediate, and the 15-byte instruction length limit.
//
// The rule checked everywhere: decodeLength() returns -1 (#UD: instruction not
// supported, or invalid) or the exact length capstone gives. Capstone accepts
// many encodings we do not implement (SSE/AVX/x87, ...) and some that real
// CPUs reject: those must come back as -1, which is fine and only counted.
// An encoding we accept that capstone rejects is a failure unless it is one
// of the documented hardware encodings capstone does not know (see
// CAPSTONE_QUIRKS), where our length must be the one the SDM gives.
import { beforeAll, describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Capstone, Const, loadCapstone } from 'capstone-wasm';
import { Machine } from '../src/machine.js';
import { generateCase } from './diff/gen.js';
import { mulberry32 } from '../src/util/prng.js';

// ------------------------------------------------------------------ oracle --

let cs: Capstone;
let machine: Machine;

function csDecode(bytes: Uint8Array): { size: number; text: string } | null {
  try {
    const r = cs.disasm(bytes, { address: 0x10000000, count: 1 });
    return r.length ? { size: r[0].size, text: `${r[0].mnemonic} ${r[0].opStr}`.trim() } : null;
  } catch {
    return null; // capstone-wasm throws when nothing decodes
  }
}

const hex = (b: Uint8Array | number[]) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

/** Where capstone 5 is not the hardware: encodings it rejects that CPUs
 *  decode ('rejects'), and encodings it decodes with a wrong length ('wrong').
 *  Each rule gives the length the SDM implies; where a rule applies our
 *  length must equal that one instead of capstone's. */
interface CapstoneQuirk {
  what: string;
  when: 'rejects' | 'wrong';
  /** SDM length of the instruction in b, or null if the rule does not apply. */
  sdmLength: (b: Uint8Array) => number | null;
}

/**
 * The length of `b` for a prefix byte the processor ignores there: capstone's length of the
 * instruction without every copy of `prefix` among its legacy prefixes, plus those bytes (null when
 * `b` has none, or capstone rejects the rest too).
 */
function lengthWithoutPrefix(b: Uint8Array, prefix: number): number | null {
  const i = skipPrefixes(b);
  const pfx = Array.from(b.subarray(0, i));
  const kept = pfx.filter((x) => x !== prefix);
  if (kept.length === pfx.length) return null;
  const stripped = new Uint8Array(16);
  stripped.set([...kept, ...b.subarray(i)].slice(0, 16));
  const r = csDecode(stripped);
  return r ? r.size + (pfx.length - kept.length) : null;
}

const CAPSTONE_QUIRKS: CapstoneQuirk[] = [
  {
    // SDM Vol. 2A 2.2.1.7: Jcc rel32 (0F 80-8F) ignores 66 in 64-bit mode and F3 does not apply;
    // capstone rejects the prefix combination F3 + 66 before 0F 8x (reached by the mutation stream).
    what: 'F3 and 66 before Jcc rel32 (0F 80-8F)',
    when: 'rejects',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      const pf = Array.from(b.subarray(0, i));
      if (!pf.includes(0xf3) || !pf.includes(0x66) || b[i] !== 0x0f || b[i + 1] < 0x80 || b[i + 1] > 0x8f) return null;
      return i + 6;
    },
  },
  {
    // SDM Vol. 2A 2.1.2 / Vol. 2D A.2.5: with 66 and F2/F3 both present before an SSE opcode, the
    // F2/F3 selects the instruction (the host runs 66 F3 0F 58 as ADDSS, F2 66 0F 58 as ADDSD:
    // test/sse-float.test.ts); capstone rejects some such combinations (66 F3 0F 53, RCPSS).
    what: '66 beside F2/F3 before an SSE opcode (the F2/F3 selects)',
    when: 'rejects',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      const pfx = Array.from(b.subarray(0, i));
      if (!pfx.includes(0x66) || !(pfx.includes(0xf2) || pfx.includes(0xf3)) || b[i] !== 0x0f) return null;
      return lengthWithoutPrefix(b, 0x66);
    },
  },
  {
    // Vol. 2D Tables A-19..A-22 leave these x87 register forms blank, but the processors execute
    // them as aliases (FCOM/FCOMP: DC D0-DF, DE D0-D7; FXCH: DD C8-CF, DF C8-CF; FSTP: DF D0-DF),
    // checked against the host by test/x87-gen.test.ts; capstone rejects them.
    what: 'x87 register-form aliases (DC D0-DF, DD C8-CF, DE D0-D7, DF C8-DF)',
    when: 'rejects',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      const o = b[i], m = b[i + 1];
      const alias = (o === 0xdc && m >= 0xd0 && m <= 0xdf) || ((o === 0xdd || o === 0xdf) && m >= 0xc8 && m <= 0xcf)
        || (o === 0xde && m >= 0xd0 && m <= 0xd7) || (o === 0xdf && m >= 0xd0 && m <= 0xdf);
      return alias ? i + 2 : null;
    },
  },
  {
    // SDM Vol. 2B LFENCE/MFENCE/SFENCE: "the processor ignores the r/m field of
    // the ModR/M byte", so 0F AE E8-EF / F0-F7 / F8-FF are all fences.
    what: 'fences with r/m != 0 (0F AE E9-EF, F1-F7, F9-FF)',
    when: 'rejects',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      return b[i] === 0x0f && b[i + 1] === 0xae && b[i + 2] >= 0xe8 ? i + 3 : null;
    },
  },
  {
    // Vol. 2D Table A-3: 0F 0D and 0F 18-1F are prefetch / hint / reserved
    // NOPs with a ModR/M operand; capstone rejects several register forms
    // (0F 18 C0, 0F 0D C0, 0F 1A C0, 0F 1E C0, ...).
    what: 'hint / reserved NOPs 0F 0D, 0F 18-1F with any ModR/M',
    when: 'rejects',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      if (b[i] !== 0x0f || !(b[i + 1] === 0x0d || (b[i + 1] >= 0x18 && b[i + 1] <= 0x1f))) return null;
      return i + 2 + modrmLength(b, i + 2);
    },
  },
  {
    // SDM Vol. 2B MOVSXD: "63 /r MOVSXD r16, r/m16" and "63 /r MOVSXD r32,
    // r/m32" are valid in 64-bit mode (discouraged); capstone only knows REX.W 63.
    what: 'MOVSXD without REX.W (63 /r)',
    when: 'rejects',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      return b[i] === 0x63 ? i + 1 + modrmLength(b, i + 1) : null;
    },
  },
  {
    // Vol. 2A §2.1.1: F2 has no meaning for these opcodes (BSF/BSR, SETcc,
    // 66-prefixed Jcc, ...) and is ignored; capstone rejects some of them.
    // The SDM length is capstone's length without the F2 bytes, plus them.
    what: 'ignored F2 prefix (F2 0F BC/BD, F2 66 0F 8x, 66 F2 3E 0F 9x, ...)',
    when: 'rejects',
    sdmLength: (b) => lengthWithoutPrefix(b, 0xf2),
  },
  {
    // SDM Vol. 2A Jcc: in 64-bit mode the operand size of near Jcc is fixed
    // at 64 bits and the 66 prefix is ignored (Intel), so 0F 8x always takes
    // a rel32. Capstone 5 decodes 66 0F 80 (JO) and 66 0F 81 (JNO) with a
    // rel16 (5 bytes) but 66 0F 82..8F with a rel32.
    what: '66 0F 80 / 66 0F 81 (JO/JNO rel32; capstone: rel16)',
    when: 'wrong',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      if (b[i] !== 0x0f || (b[i + 1] !== 0x80 && b[i + 1] !== 0x81)) return null;
      return Array.from(b.subarray(0, i)).includes(0x66) ? i + 6 : null;
    },
  },
  {
    // SDM Vol. 2B RET: "C2 iw RET imm16" / "CA iw": the immediate is always
    // 16 bits. Capstone 5 takes 4 immediate bytes for 66 REX.W C2 / CA.
    what: 'RET/RETF imm16 with 66 + REX.W (capstone: imm32)',
    when: 'wrong',
    sdmLength: (b) => {
      const i = skipPrefixes(b);
      return b[i] === 0xc2 || b[i] === 0xca ? i + 3 : null;
    },
  },
];

/** Index of the first byte after legacy and REX prefixes. */
function skipPrefixes(b: Uint8Array): number {
  let i = 0;
  while (i < b.length && i < 15) {
    const x = b[i];
    if (x === 0x66 || x === 0x67 || x === 0xf0 || x === 0xf2 || x === 0xf3 ||
        x === 0x26 || x === 0x2e || x === 0x36 || x === 0x3e || x === 0x64 || x === 0x65 ||
        (x & 0xf0) === 0x40) {
      i++;
    } else break;
  }
  return i;
}

/** Bytes taken by ModR/M + SIB + displacement at b[i] (SDM Vol. 2A Tables
 *  2-2/2-3; the same forms serve 64- and 32-bit addressing). */
function modrmLength(b: Uint8Array, i: number): number {
  const mod = b[i] >> 6;
  const rm = b[i] & 7;
  if (mod === 3) return 1;
  let n = 1;
  if (rm === 4) {
    n++;
    if (mod === 0 && (b[i + 1] & 7) === 5) return n + 4; // SIB without base: disp32
  } else if (mod === 0 && rm === 5) return n + 4; // RIP-relative disp32
  return n + (mod === 1 ? 1 : mod === 2 ? 4 : 0);
}

// ----------------------------------------------------------------- tallies --

interface Finding {
  bytes: string;
  ours: number;
  capstone: number | null;
  capstoneText: string;
  source: string;
  kind?: string;
}

class Tally {
  total = 0;
  matched = 0;
  bothInvalid = 0;
  unsupported = 0; // capstone decodes, we raise #UD
  quirks = new Map<string, number>(); // capstone rejects or is wrong, ours = SDM length
  readPastEnd = 0; // random streams only: our length > given bytes (zero padding)
  mismatches: Finding[] = [];
  mismatchCount = 0;
  unsupportedByMnemonic = new Map<string, number>();
  /** mismatches per opcode (after prefixes) and length pair */
  mismatchKinds = new Map<string, number>();

  fail(f: Finding) {
    this.mismatchCount++;
    const b = f.bytes.split(' ').map((x) => parseInt(x, 16));
    const i = skipPrefixes(Uint8Array.from(b));
    const opLen = b[i] === 0x0f ? (b[i + 1] === 0x38 || b[i + 1] === 0x3a ? 3 : 2) : 1;
    const key = `${hex(b.slice(i, i + opLen))} ours=${f.ours} capstone=${f.capstone ?? 'invalid'}`;
    const seen = this.mismatchKinds.get(key) ?? 0;
    this.mismatchKinds.set(key, seen + 1);
    if (seen === 0 && this.mismatches.length < 200) this.mismatches.push({ ...f, kind: key }); // one example per kind
  }

  report(label: string) {
    const top = [...this.unsupportedByMnemonic.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25);
    const lines = [
      `[decoder] ${label}: ${this.total} encodings, ${this.matched} same length, ` +
        `${this.bothInvalid} rejected by both, ${this.unsupported} decoded by capstone but #UD for us, ` +
        `${[...this.quirks.values()].reduce((a, b) => a + b, 0)} where capstone is not the hardware (ours = SDM length)` +
        (this.readPastEnd ? `, ${this.readPastEnd} decoded past the given bytes` : '') +
        `, ${this.mismatchCount} MISMATCHES`,
    ];
    for (const [what, n] of this.quirks) lines.push(`  capstone quirk: ${what}: ${n}`);
    if (top.length) {
      lines.push(`  capstone-only (we return -1), most frequent mnemonics: ` +
        top.map(([m, n]) => `${m}:${n}`).join(' '));
    }
    if (this.mismatchKinds.size) {
      lines.push(`  mismatch kinds (opcode, lengths: count): ` +
        [...this.mismatchKinds.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40).map(([k, n]) => `[${k}]: ${n}`).join('; '));
    }
    for (const f of this.mismatches.slice(0, 60)) {
      lines.push(`  MISMATCH ${f.source}: [${f.bytes}] ours=${f.ours} capstone=${f.capstone ?? 'invalid'} (${f.capstoneText})`);
    }
    console.log(lines.join('\n'));
  }
}

function ourLength(bytes: Uint8Array): number | Error {
  try {
    return machine.decodeLength(bytes);
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** Compares one encoding; `bytes` must be long enough for any instruction
 *  (callers pad to 16 bytes) unless `raw` is set (random streams). */
function check(t: Tally, bytes: Uint8Array, source: string, raw = false) {
  t.total++;
  const ours = ourLength(bytes);
  const ref = csDecode(bytes);
  const finding = (o: number) => ({
    bytes: hex(bytes.subarray(0, Math.max(o, ref?.size ?? 0, Math.min(bytes.length, 8)))),
    ours: o,
    capstone: ref?.size ?? null,
    capstoneText: ref?.text ?? 'capstone: invalid',
    source,
  });
  if (ours instanceof Error) {
    t.fail({ ...finding(-2), capstoneText: `decodeLength threw: ${ours.message}` });
    return;
  }
  if (!Number.isInteger(ours) || ours === 0 || ours < -1 || ours > 15) {
    t.fail({ ...finding(ours), capstoneText: `impossible length ${ours}; capstone: ${ref?.text ?? 'invalid'}` });
    return;
  }
  if (ours === -1) {
    if (ref) {
      t.unsupported++;
      const m = ref.text.split(' ')[0];
      t.unsupportedByMnemonic.set(m, (t.unsupportedByMnemonic.get(m) ?? 0) + 1);
    } else t.bothInvalid++;
    return;
  }
  if (raw && ours > bytes.length) {
    // Our decoder read past the bytes it was given (as if zero-padded):
    // compare with capstone on the zero-padded stream.
    t.readPastEnd++;
    const padded = new Uint8Array(16);
    padded.set(bytes);
    const p = csDecode(padded);
    if (p && p.size === ours) t.matched++;
    else t.fail({ ...finding(ours), capstone: p?.size ?? null, capstoneText: `${p?.text ?? 'invalid'} (zero-padded)` });
    return;
  }
  if (ref && ref.size === ours) {
    t.matched++;
    return;
  }
  // LOCK on any of the quirk encodings is #UD (SDM Vol. 2A LOCK), so never excuse it.
  const locked = Array.from(bytes.subarray(0, skipPrefixes(bytes))).includes(0xf0);
  for (const q of locked ? [] : CAPSTONE_QUIRKS) {
    if (q.when === (ref ? 'wrong' : 'rejects') && q.sdmLength(bytes) === ours) {
      t.quirks.set(q.what, (t.quirks.get(q.what) ?? 0) + 1);
      return;
    }
  }
  t.fail(finding(ours));
}

// ------------------------------------------------------------------ corpus --

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const ALU_ROWS = [0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38]; // ADD OR ADC SBB AND SUB XOR CMP

/** Opcodes (after prefixes) followed by a ModR/M byte, Vol. 2D Tables. */
const WITH_MODRM: number[][] = [
  ...ALU_ROWS.flatMap((r) => range(r, r + 3).map((o) => [o])), // ALU Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev
  [0x63], // MOVSXD
  [0x69], [0x6b], // IMUL Gv,Ev,Iz/Ib
  [0x80], [0x81], [0x83], // group 1
  [0x84], [0x85], [0x86], [0x87], // TEST, XCHG
  [0x88], [0x89], [0x8a], [0x8b], [0x8c], [0x8d], [0x8e], [0x8f], // MOV, MOV Sreg, LEA, POP Ev
  [0xc0], [0xc1], [0xd0], [0xd1], [0xd2], [0xd3], // shifts/rotates
  [0xc6], [0xc7], // MOV Eb,Ib / Ev,Iz (and XABORT/XBEGIN)
  [0xf6], [0xf7], // TEST/NOT/NEG/MUL/IMUL/DIV/IDIV
  [0xfe], [0xff], // INC/DEC/CALL/JMP/PUSH
  ...range(0xd8, 0xdf).map((o) => [o]), // x87 escapes (Vol. 2D A.5 Tables A-7..A-22)
  [0x0f, 0x00], // SLDT/STR/LLDT/LTR/VERR/VERW
  [0x0f, 0x01], // SGDT/SIDT/LGDT/LIDT/SMSW/LMSW/INVLPG + VMCALL, VMFUNC, SWAPGS, RDTSCP...
  [0x0f, 0x0d], // PREFETCH
  ...range(0x18, 0x1f).map((o) => [0x0f, o]), // hint NOPs, NOP Ev, ENDBR
  ...range(0x20, 0x23).map((o) => [0x0f, o]), // MOV CR/DR
  ...range(0x40, 0x4f).map((o) => [0x0f, o]), // CMOVcc
  ...range(0x90, 0x9f).map((o) => [0x0f, o]), // SETcc
  [0x0f, 0xa3], [0x0f, 0xab], [0x0f, 0xb3], [0x0f, 0xbb], [0x0f, 0xba], // BT/BTS/BTR/BTC
  [0x0f, 0xa4], [0x0f, 0xa5], [0x0f, 0xac], [0x0f, 0xad], // SHLD/SHRD
  [0x0f, 0xae], // fences, CLFLUSH, ...
  [0x0f, 0xaf], // IMUL Gv,Ev
  [0x0f, 0xb0], [0x0f, 0xb1], [0x0f, 0xc0], [0x0f, 0xc1], [0x0f, 0xc7], // CMPXCHG, XADD, CMPXCHG8B/16B
  [0x0f, 0xb6], [0x0f, 0xb7], [0x0f, 0xbe], [0x0f, 0xbf], // MOVZX/MOVSX
  [0x0f, 0xb8], [0x0f, 0xbc], [0x0f, 0xbd], // POPCNT, BSF/TZCNT, BSR/LZCNT
  [0x0f, 0xb9], [0x0f, 0xff], // UD1, UD0
  [0x0f, 0x38, 0xf0], [0x0f, 0x38, 0xf1], // MOVBE (CRC32 with F2)
];

/** The SSE/SSE2 floating-point rows (Vol. 2D Table A-3; the prefix sets add 66/F3/F2): moves, CVT*,
 *  COMIS*, arithmetic, logic, CMPPS/SHUFPS (imm8 from the padding), E6. Kept apart from WITH_MODRM
 *  so the random-stream tests below draw the same streams as before. */
const SSE_FLOAT_MODRM: number[][] = [
  ...range(0x10, 0x17).map((o) => [0x0f, o]), ...range(0x28, 0x2f).map((o) => [0x0f, o]), ...range(0x50, 0x5f).map((o) => [0x0f, o]),
  [0x0f, 0xc2], [0x0f, 0xc6], [0x0f, 0xe6],
];

/** Opcodes without a ModR/M byte (immediates come from the padding). */
const NO_MODRM: number[][] = [
  ...ALU_ROWS.flatMap((r) => [[r + 4], [r + 5]]), // ALU AL,Ib / rAX,Iz
  ...range(0x50, 0x5f).map((o) => [o]), // PUSH/POP r
  [0x68], [0x6a], // PUSH Iz/Ib
  ...range(0x6c, 0x6f).map((o) => [o]), // INS/OUTS
  ...range(0x70, 0x7f).map((o) => [o]), // Jcc rel8
  ...range(0x90, 0x9f).map((o) => [o]), // XCHG/NOP/PAUSE, CBW/CWD, PUSHF/POPF, SAHF/LAHF
  ...range(0xa0, 0xaf).map((o) => [o]), // MOV moffs, MOVS/CMPS/STOS/LODS/SCAS, TEST A,imm
  ...range(0xb0, 0xbf).map((o) => [o]), // MOV r,imm (imm64 with REX.W)
  [0xc2], [0xc3], [0xc8], [0xc9], [0xca], [0xcb], [0xcc], [0xcd], [0xcf], // RET, ENTER, LEAVE, RETF, INT3, INT, IRET
  ...range(0xe0, 0xe9).map((o) => [o]), // LOOPcc, JRCXZ, IN/OUT imm, CALL, JMP rel32
  [0xeb], [0xec], [0xed], [0xee], [0xef], // JMP rel8, IN/OUT dx
  [0xf1], [0xf4], [0xf5], ...range(0xf8, 0xfd).map((o) => [o]), // INT1, HLT, CMC, CLC..STD
  [0x0f, 0x05], [0x0f, 0x06], [0x0f, 0x07], [0x0f, 0x08], [0x0f, 0x09], [0x0f, 0x0b], // SYSCALL..UD2
  ...range(0x30, 0x35).map((o) => [0x0f, o]), // WRMSR RDTSC RDMSR RDPMC SYSENTER SYSEXIT
  ...range(0x80, 0x8f).map((o) => [0x0f, o]), // Jcc rel32
  [0x0f, 0xa0], [0x0f, 0xa1], [0x0f, 0xa2], [0x0f, 0xa8], [0x0f, 0xa9], [0x0f, 0xaa], // PUSH/POP FS/GS, CPUID, RSM
  ...range(0xc8, 0xcf).map((o) => [0x0f, o]), // BSWAP
];

/** Invalid in 64-bit mode (Vol. 2D Table A-2 "i64"), or VEX/EVEX escapes: we must not accept them with a wrong length. */
const INVALID_64: number[][] = [
  [0x06], [0x07], [0x0e], [0x16], [0x17], [0x1e], [0x1f], [0x27], [0x2f], [0x37], [0x3f],
  [0x60], [0x61], [0x62], [0x82], [0x9a], [0xc4], [0xc5], [0xce], [0xd4], [0xd5], [0xd6], [0xea],
  [0x0f, 0x04], [0x0f, 0x0a], [0x0f, 0x0c], [0x0f, 0x24], [0x0f, 0x26], [0x0f, 0x36], [0x0f, 0xa6], [0x0f, 0xa7],
];

const PREFIX_SETS: number[][] = [
  [], [0x66], [0x67], [0xf0], [0xf2], [0xf3],
  [0x2e], [0x3e], [0x26], [0x36], [0x64], [0x65],
  [0x40], [0x41], [0x42], [0x44], [0x48], [0x4f],
  [0x66, 0x48], [0x48, 0x66], [0x66, 0x67], [0xf3, 0x48], [0xf0, 0x66], [0xf0, 0x48],
  [0x64, 0x67, 0x48], [0x66, 0x66], [0xf2, 0xf3], [0x66, 0xf2, 0x48], [0x67, 0x41], [0xf0, 0x65, 0x4c],
];

/** ModR/M (+SIB) shapes per reg digit: register, [reg], RIP-relative, SIB
 *  without base (disp32), SIB with RSP/RBP base, disp8, disp32 (Table 2-2/2-3). */
const SHAPES: number[][] = [
  [0xc0], [0xc5], [0x00], [0x05], [0x04, 0x24], [0x04, 0x25], [0x04, 0x65], [0x04, 0xe5],
  [0x44, 0xe5], [0x40], [0x87], [0x84, 0x8c], [0x04, 0x20],
];

function withDigit(shape: number[], digit: number): number[] {
  return [(shape[0] & 0xc7) | (digit << 3), ...shape.slice(1)];
}

/** Full ModR/M sweep: all 256 bytes; SIB-bearing ones with several SIBs. */
function allModrm(): number[][] {
  const out: number[][] = [];
  const sibs = [0x00, 0x24, 0x25, 0x65, 0xe5, 0x20, 0xa4, 0x1d];
  for (let m = 0; m < 256; m++) {
    if ((m & 7) === 4 && m >> 6 !== 3) for (const s of sibs) out.push([m, s]);
    else out.push([m]);
  }
  return out;
}


/** prefix + body, padded to 16 bytes with pseudo-random filler (imm/disp). */
function padded(rand: () => number, ...parts: number[][]): Uint8Array {
  const b = new Uint8Array(16);
  let i = 0;
  for (const p of parts) for (const x of p) if (i < 16) b[i++] = x;
  for (; i < 16; i++) b[i] = (rand() * 256) | 0;
  return b;
}

function buildCorpus(): { bytes: Uint8Array; source: string }[] {
  const rand = mulberry32(0x5eed);
  const out: { bytes: Uint8Array; source: string }[] = [];
  const full = allModrm();
  // 1. every opcode with every ModR/M byte, no prefix
  for (const op of [...WITH_MODRM, ...SSE_FLOAT_MODRM]) for (const m of full) out.push({ bytes: padded(rand, op, m), source: 'modrm sweep' });
  // 2. every opcode x prefix set x ModR/M shape x reg digit
  for (const pfx of PREFIX_SETS) {
    for (const op of [...WITH_MODRM, ...SSE_FLOAT_MODRM]) {
      for (const shape of SHAPES) {
        for (let d = 0; d < 8; d++) out.push({ bytes: padded(rand, pfx, op, withDigit(shape, d)), source: 'prefixed' });
      }
    }
    for (const op of [...NO_MODRM, ...INVALID_64]) out.push({ bytes: padded(rand, pfx, op), source: 'prefixed' });
  }
  // 3. all SIB bytes under mod 00/01/10 with REX.X/REX.B variants (RBP/R13 base
  //    without displacement, RSP/R12 index meaning "none" only without REX.X).
  for (const op of [[0x8b], [0x89], [0x8d], [0xc7], [0xf7], [0x0f, 0xb6], [0x0f, 0x01]]) {
    for (const rex of [[], [0x41], [0x42], [0x43], [0x4b], [0x67]]) {
      for (let mod = 0; mod < 3; mod++) {
        const digit = op[0] === 0x0f && op[1] === 0x01 ? 2 : 0; // LGDT
        for (let sib = 0; sib < 256; sib++) {
          out.push({ bytes: padded(rand, rex, op, [(mod << 6) | (digit << 3) | 4, sib]), source: 'SIB sweep' });
        }
      }
      for (let mod = 0; mod < 3; mod++) out.push({ bytes: padded(rand, rex, op, [(mod << 6) | 5]), source: 'SIB sweep' });
    }
  }
  // 4. prefix pile-ups around the 15-byte limit
  for (let n = 0; n <= 14; n++) {
    out.push({ bytes: padded(rand, Array(n).fill(0x66), [0x90]), source: 'length limit' });
    out.push({ bytes: padded(rand, Array(n).fill(0x2e), [0x48, 0xb8]), source: 'length limit' });
    out.push({ bytes: padded(rand, Array(n).fill(0x3e), [0x81, 0x84, 0x24]), source: 'length limit' });
  }
  return out;
}

/** Canonical encodings of the instructions the CPU must implement (the
 *  emulated kernel and the benchmark workload use them). */
const MUST_ACCEPT: [string, string][] = [
  ['mov rax, rcx', '48 89 c8'], ['mov ecx, [rax+rbx*4+0x10]', '8b 4c 98 10'], ['mov [rip+0x100], eax', '89 05 00 01 00 00'],
  ['mov r8, imm64', '49 b8 11 22 33 44 55 66 77 88'], ['mov al, moffs', 'a0 00 00 00 20 00 00 00 00'],
  ['mov byte [rdi], 1', 'c6 07 01'], ['mov qword [rsp+8], imm32', '48 c7 44 24 08 78 56 34 12'],
  ['movzx eax, byte [rsi]', '0f b6 06'], ['movzx eax, word [rsi]', '0f b7 06'], ['movsx rax, cl', '48 0f be c1'],
  ['movsxd rax, ecx', '48 63 c1'], ['lea rax, [rip+4]', '48 8d 05 04 00 00 00'], ['xchg [rax], ecx', '87 08'],
  ['xchg r8, rax', '49 90'], ['bswap eax', '0f c8'], ['bswap r9', '49 0f c9'],
  ['add eax, imm32', '05 44 33 22 11'], ['adc rax, rcx', '48 11 c8'], ['sub esp, 8', '83 ec 08'],
  ['sbb ecx, ecx', '19 c9'], ['and r8d, 0xff', '41 81 e0 ff 00 00 00'], ['or [rax], cl', '08 08'],
  ['xor eax, eax', '31 c0'], ['cmp byte [rdi], 0', '80 3f 00'], ['test eax, eax', '85 c0'], ['test al, 1', 'a8 01'],
  ['inc dword [rax]', 'ff 00'], ['dec r11', '49 ff cb'], ['neg rax', '48 f7 d8'], ['not ecx', 'f7 d1'],
  ['shl eax, 3', 'c1 e0 03'], ['shr rax, 1', '48 d1 e8'], ['sar eax, cl', 'd3 f8'], ['rol ax, 1', '66 d1 c0'],
  ['rcr byte [rax], 1', 'd0 18'], ['shld eax, ecx, 4', '0f a4 c8 04'], ['shrd rax, rdx, cl', '48 0f ad d0'],
  ['mul rcx', '48 f7 e1'], ['imul rax, rcx', '48 0f af c1'], ['imul eax, ecx, 100', '6b c1 64'],
  ['imul eax, ecx, 1000', '69 c1 e8 03 00 00'], ['div rcx', '48 f7 f1'], ['idiv dword [rax]', 'f7 38'],
  ['cdq', '99'], ['cqo', '48 99'], ['cdqe', '48 98'],
  ['bt eax, ecx', '0f a3 c8'], ['bts dword [rax], 3', '0f ba 28 03'], ['btr rax, rcx', '48 0f b3 c8'], ['btc eax, 1', '0f ba f8 01'],
  ['bsf eax, ecx', '0f bc c1'], ['bsr rax, rcx', '48 0f bd c1'], ['popcnt eax, ecx', 'f3 0f b8 c1'],
  ['lzcnt eax, ecx', 'f3 0f bd c1'], ['tzcnt eax, ecx', 'f3 0f bc c1'],
  ['sete al', '0f 94 c0'], ['cmovne eax, ecx', '0f 45 c1'], ['jne rel8', '75 fe'], ['je rel32', '0f 84 00 00 00 00'],
  ['jmp rel8', 'eb fe'], ['jmp rel32', 'e9 00 00 00 00'], ['jmp rax', 'ff e0'], ['jmp [rip+0]', 'ff 25 00 00 00 00'],
  ['call rel32', 'e8 00 00 00 00'], ['call rax', 'ff d0'], ['ret', 'c3'], ['ret 8', 'c2 08 00'],
  ['push rbp', '55'], ['push r12', '41 54'], ['pop r15', '41 5f'], ['push imm8', '6a 01'], ['push imm32', '68 00 01 00 00'],
  ['push qword [rax]', 'ff 30'], ['pop qword [rax]', '8f 00'], ['pushfq', '9c'], ['popfq', '9d'], ['lahf', '9f'], ['sahf', '9e'],
  ['clc', 'f8'], ['stc', 'f9'], ['cmc', 'f5'], ['cld', 'fc'], ['std', 'fd'],
  ['lock xadd [rax], ecx', 'f0 0f c1 08'], ['lock cmpxchg [rdi], rsi', 'f0 48 0f b1 37'], ['lock add [rax], 1', 'f0 83 00 01'],
  ['cmpxchg8b [rax]', '0f c7 08'], ['rep movsb', 'f3 a4'], ['rep stosq', 'f3 48 ab'], ['repne scasb', 'f2 ae'],
  ['repe cmpsb', 'f3 a6'], ['lodsq', '48 ad'], ['movsd', 'a5'], ['leave', 'c9'],
  ['nop', '90'], ['nop dword [rax+rax]', '0f 1f 44 00 00'], ['nop word cs:[rax+rax]', '66 2e 0f 1f 84 00 00 00 00 00'],
  ['pause', 'f3 90'], ['ud2', '0f 0b'], ['lfence', '0f ae e8'], ['mfence', '0f ae f0'], ['sfence', '0f ae f8'],
  ['mov rax, cr3', '0f 20 d8'], ['mov cr3, rax', '0f 22 d8'], ['lgdt [rax]', '0f 01 10'], ['lidt [rax]', '0f 01 18'],
  // Descriptor checks, SYSENTER/SYSEXIT, RDPMC, INT1 (Linux: VERW in mds_clear_cpu_buffers, LSL in the vDSO's getcpu).
  ['verw [rip+0]', '0f 00 2d 00 00 00 00'], ['verr ax', '0f 00 e0'], ['lar eax, ecx', '0f 02 c1'], ['lar rax, word [rsi]', '48 0f 02 06'],
  ['lar ax, cx', '66 0f 02 c1'], ['lsl eax, eax', '0f 03 c0'], ['lsl r8, r9d', '4d 0f 03 c1'], ['sysenter', '0f 34'], ['sysexitq', '48 0f 35'],
  ['sysexit', '0f 35'], ['rdpmc', '0f 33'], ['int1', 'f1'],
  ['ltr ax', '0f 00 d8'], ['rdmsr', '0f 32'], ['wrmsr', '0f 30'], ['syscall', '0f 05'], ['sysretq', '48 0f 07'],
  ['swapgs', '0f 01 f8'], ['int 0x80', 'cd 80'], ['int3', 'cc'], ['iretq', '48 cf'], ['cli', 'fa'], ['sti', 'fb'],
  ['hlt', 'f4'], ['in al, 0x60', 'e4 60'], ['out dx, al', 'ee'], ['in eax, dx', 'ed'], ['out 0x80, al', 'e6 80'],
  ['invlpg [rax]', '0f 01 38'], ['cpuid', '0f a2'], ['rdtsc', '0f 31'], ['rdtscp', '0f 01 f9'],
  ['vmcall', '0f 01 c1'], ['vmfunc', '0f 01 d4'],
  // SSE/SSE2 floating point: one encoding per instruction form (SDM Vol. 2; gcc/clang's spellings).
  ['movups xmm0, [rsi]', '0f 10 06'], ['movupd xmm1, xmm2', '66 0f 10 ca'], ['movss xmm0, [rax]', 'f3 0f 10 00'], ['movsd xmm8, [rip+0]', 'f2 44 0f 10 05 00 00 00 00'],
  ['movups [rdi], xmm15', '44 0f 11 3f'], ['movupd [rdi], xmm0', '66 0f 11 07'], ['movss [rsp+4], xmm1', 'f3 0f 11 4c 24 04'], ['movsd [rax], xmm2', 'f2 0f 11 10'],
  ['movlps xmm0, [rax]', '0f 12 00'], ['movhlps xmm0, xmm1', '0f 12 c1'], ['movlpd xmm0, [rax]', '66 0f 12 00'], ['movlps [rax], xmm0', '0f 13 00'], ['movlpd [rax], xmm0', '66 0f 13 00'],
  ['unpcklps xmm0, xmm1', '0f 14 c1'], ['unpcklpd xmm0, [rax]', '66 0f 14 00'], ['unpckhps xmm0, xmm1', '0f 15 c1'], ['unpckhpd xmm9, xmm10', '66 45 0f 15 ca'],
  ['movhps xmm0, [rax]', '0f 16 00'], ['movlhps xmm0, xmm1', '0f 16 c1'], ['movhpd xmm0, [rax]', '66 0f 16 00'], ['movhps [rax], xmm0', '0f 17 00'], ['movhpd [rax], xmm0', '66 0f 17 00'],
  ['movaps xmm0, [rax]', '0f 28 00'], ['movapd xmm0, xmm1', '66 0f 28 c1'], ['movaps [rax], xmm0', '0f 29 00'], ['movapd [rax+0x10], xmm3', '66 0f 29 58 10'],
  ['cvtpi2ps xmm0, mm1', '0f 2a c1'], ['cvtpi2pd xmm0, [rax]', '66 0f 2a 00'], ['cvtsi2ss xmm0, eax', 'f3 0f 2a c0'], ['cvtsi2sd xmm0, rax', 'f2 48 0f 2a c0'], ['cvtsi2sd xmm1, dword [rax]', 'f2 0f 2a 08'],
  ['movntps [rax], xmm0', '0f 2b 00'], ['movntpd [rax], xmm0', '66 0f 2b 00'],
  ['cvttps2pi mm0, xmm1', '0f 2c c1'], ['cvttpd2pi mm0, [rax]', '66 0f 2c 00'], ['cvttss2si eax, xmm0', 'f3 0f 2c c0'], ['cvttsd2si rax, xmm0', 'f2 48 0f 2c c0'],
  ['cvtps2pi mm0, xmm1', '0f 2d c1'], ['cvtpd2pi mm0, xmm1', '66 0f 2d c1'], ['cvtss2si rax, [rax]', 'f3 48 0f 2d 00'], ['cvtsd2si eax, xmm0', 'f2 0f 2d c0'],
  ['ucomiss xmm0, xmm1', '0f 2e c1'], ['ucomisd xmm0, [rax]', '66 0f 2e 00'], ['comiss xmm0, xmm1', '0f 2f c1'], ['comisd xmm0, xmm1', '66 0f 2f c1'],
  ['movmskps eax, xmm0', '0f 50 c0'], ['movmskpd eax, xmm1', '66 0f 50 c1'],
  ['sqrtps xmm0, xmm1', '0f 51 c1'], ['sqrtpd xmm0, xmm1', '66 0f 51 c1'], ['sqrtss xmm0, xmm1', 'f3 0f 51 c1'], ['sqrtsd xmm0, [rax]', 'f2 0f 51 00'],
  ['rsqrtps xmm0, xmm1', '0f 52 c1'], ['rsqrtss xmm0, xmm1', 'f3 0f 52 c1'], ['rcpps xmm0, xmm1', '0f 53 c1'], ['rcpss xmm0, [rax]', 'f3 0f 53 00'],
  ['andps xmm0, xmm1', '0f 54 c1'], ['andpd xmm0, xmm1', '66 0f 54 c1'], ['andnps xmm0, xmm1', '0f 55 c1'], ['andnpd xmm0, xmm1', '66 0f 55 c1'],
  ['orps xmm0, xmm1', '0f 56 c1'], ['orpd xmm0, xmm1', '66 0f 56 c1'], ['xorps xmm0, xmm0', '0f 57 c0'], ['xorpd xmm0, [rip+0]', '66 0f 57 05 00 00 00 00'],
  ['addps xmm0, xmm1', '0f 58 c1'], ['addpd xmm0, xmm1', '66 0f 58 c1'], ['addss xmm0, xmm1', 'f3 0f 58 c1'], ['addsd xmm0, [rax+8]', 'f2 0f 58 40 08'],
  ['mulps xmm0, xmm1', '0f 59 c1'], ['mulpd xmm0, xmm1', '66 0f 59 c1'], ['mulss xmm0, xmm1', 'f3 0f 59 c1'], ['mulsd xmm0, xmm1', 'f2 0f 59 c1'],
  ['cvtps2pd xmm0, xmm1', '0f 5a c1'], ['cvtpd2ps xmm0, xmm1', '66 0f 5a c1'], ['cvtss2sd xmm0, xmm1', 'f3 0f 5a c1'], ['cvtsd2ss xmm0, [rax]', 'f2 0f 5a 00'],
  ['cvtdq2ps xmm0, xmm1', '0f 5b c1'], ['cvtps2dq xmm0, xmm1', '66 0f 5b c1'], ['cvttps2dq xmm0, xmm1', 'f3 0f 5b c1'],
  ['subps xmm0, xmm1', '0f 5c c1'], ['subpd xmm0, xmm1', '66 0f 5c c1'], ['subss xmm0, xmm1', 'f3 0f 5c c1'], ['subsd xmm0, xmm1', 'f2 0f 5c c1'],
  ['minps xmm0, xmm1', '0f 5d c1'], ['minpd xmm0, xmm1', '66 0f 5d c1'], ['minss xmm0, xmm1', 'f3 0f 5d c1'], ['minsd xmm0, xmm1', 'f2 0f 5d c1'],
  ['divps xmm0, xmm1', '0f 5e c1'], ['divpd xmm0, xmm1', '66 0f 5e c1'], ['divss xmm0, xmm1', 'f3 0f 5e c1'], ['divsd xmm0, xmm1', 'f2 0f 5e c1'],
  ['maxps xmm0, xmm1', '0f 5f c1'], ['maxpd xmm0, xmm1', '66 0f 5f c1'], ['maxss xmm0, xmm1', 'f3 0f 5f c1'], ['maxsd xmm0, xmm1', 'f2 0f 5f c1'],
  ['cmpltps xmm0, xmm1', '0f c2 c1 01'], ['cmpeqpd xmm0, xmm1', '66 0f c2 c1 00'], ['cmpnless xmm0, xmm1', 'f3 0f c2 c1 06'], ['cmpordsd xmm0, [rax]', 'f2 0f c2 00 07'],
  ['shufps xmm0, xmm1, 0x1b', '0f c6 c1 1b'], ['shufpd xmm0, [rax], 1', '66 0f c6 00 01'],
  ['cvttpd2dq xmm0, xmm1', '66 0f e6 c1'], ['cvtdq2pd xmm0, xmm1', 'f3 0f e6 c1'], ['cvtpd2dq xmm0, xmm1', 'f2 0f e6 c1'],
];

const parseHex = (s: string) => Uint8Array.from(s.split(' ').map((x) => parseInt(x, 16)));

// ------------------------------------------------------------------- tests --

beforeAll(async () => {
  await loadCapstone();
  cs = new Capstone(Const.CS_ARCH_X86, Const.CS_MODE_64);
  machine = await Machine.create({ memMiB: 16 });
}, 60_000);

describe('decoder instruction lengths vs capstone (SDM Vol. 2A ch. 2)', () => {
  test('the instructions the CPU must implement are accepted with the right length', () => {
    const rejected: string[] = [];
    const wrong: string[] = [];
    for (const [name, h] of MUST_ACCEPT) {
      const b = parseHex(h);
      const ref = csDecode(b);
      expect(ref?.size, `capstone on ${name} [${h}]`).toBe(b.length); // sanity of the table itself
      const padded = new Uint8Array(16);
      padded.set(b);
      const ours = ourLength(padded);
      if (ours === -1) rejected.push(`${name} [${h}]`);
      else if (ours !== b.length) wrong.push(`${name} [${h}]: ours=${String(ours)} expected ${b.length}`);
    }
    if (rejected.length || wrong.length) {
      console.log(`[decoder] must-accept: ${rejected.length} rejected, ${wrong.length} wrong length\n  ` +
        [...rejected.map((r) => `#UD: ${r}`), ...wrong].join('\n  '));
    }
    expect(wrong).toEqual([]);
    expect(rejected).toEqual([]);
  });

  test('LAR and LSL (0F 02, 0F 03; SDM Vol. 2A): every ModR/M byte under every prefix set', () => {
    const rand = mulberry32(0x1a5);
    const t = new Tally();
    const full = allModrm();
    for (const pfx of PREFIX_SETS) for (const op of [[0x0f, 0x02], [0x0f, 0x03]]) for (const m of full) check(t, padded(rand, pfx, op, m), 'LAR/LSL');
    t.report('LAR/LSL');
    expect(t.mismatchCount, 'see the MISMATCH lines above').toBe(0);
    expect(t.matched).toBeGreaterThan(2 * 256 * 20);
  });

  test('mandatory prefixes select the map entry (SDM Vol. 2A 2.1.2; Vol. 2D Tables A-3, A-4)', () => {
    const len = (h: string) => { const p = new Uint8Array(16); const b = parseHex(h); p.set(b); return ourLength(p); };
    // 0F 38 F0/F1: MOVBE with no prefix or 66 (its operand size); F2 selects CRC32, F3 nothing (not implemented: #UD).
    expect(len('0f 38 f0 04 24')).toBe(5);
    expect(len('66 0f 38 f0 04 24')).toBe(6);
    expect(len('0f 38 f1 04 24')).toBe(5);
    expect(len('f2 0f 38 f0 04 24')).toBe(-1);
    expect(len('f3 0f 38 f1 04 24')).toBe(-1);
    expect(len('0f 38 f0 c0')).toBe(-1); // MOVBE has no register form
    // 0F B8: POPCNT only with F3; 0F BC/BD: BSF/BSR, with F3 TZCNT/LZCNT (same length either way).
    expect(len('0f b8 c0')).toBe(-1);
    expect(len('f3 0f b8 c0')).toBe(4);
    expect(len('66 f3 0f b8 c0')).toBe(5);
    // 66 0F 38 80/81: INVEPT / INVVPID (memory operand only); without 66, #UD.
    expect(len('66 0f 38 80 08')).toBe(5);
    expect(len('0f 38 80 08')).toBe(-1);
    // The 0F 3A map has no operation yet: #UD.
    expect(len('66 0f 3a 0f c1 08')).toBe(-1);
    // x87 (Vol. 2D A.5): register forms are 2 bytes, memory forms ModR/M + SIB + displacement;
    // WAIT/FWAIT (9B) is one byte; the reserved D9 D1 and FISTTP (SSE3, not advertised) are #UD.
    expect(len('d9 c0')).toBe(2);
    expect(len('de d9')).toBe(2);
    expect(len('db 6e 80')).toBe(3);
    expect(len('dd 84 24 00 01 00 00')).toBe(7);
    expect(len('66 d9 36')).toBe(3);
    expect(len('9b')).toBe(1);
    expect(len('d9 d1')).toBe(-1);
    expect(len('db 08')).toBe(-1);
    expect(len('dd 08')).toBe(-1);
    expect(len('df 08')).toBe(-1);
    expect(len('f0 d8 c0')).toBe(-1);
  });

  test('corpus: every opcode form, ModR/M/SIB/displacement, prefixes (66, 67, REX, segment, LOCK, REP)', () => {
    const corpus = buildCorpus();
    const t = new Tally();
    for (const { bytes, source } of corpus) check(t, bytes, source);
    t.report('corpus');
    expect(t.mismatchCount, 'see the MISMATCH lines above').toBe(0);
    expect(t.matched).toBeGreaterThan(0);
  }, 300_000);

  test('the benchmark workload (firmware/bench/workload.bin) decodes with the same lengths', () => {
    const image = new Uint8Array(readFileSync(fileURLToPath(new URL('../firmware/bench/workload.bin', import.meta.url))));
    const t = new Tally();
    const rejected: string[] = [];
    // Linear sweep of .text (the image has no .rodata): stop where capstone stops.
    for (let off = 0; off < image.length; ) {
      const b = new Uint8Array(16);
      b.set(image.subarray(off, off + 16));
      const ref = csDecode(b);
      if (!ref) break;
      const ours = ourLength(b);
      if (ours === -1) rejected.push(`+0x${off.toString(16)} [${hex(b.subarray(0, ref.size))}] ${ref.text}`);
      check(t, b, `workload+0x${off.toString(16)}`);
      off += ref.size;
    }
    t.report('workload.bin');
    if (rejected.length) console.log(`[decoder] workload instructions we reject:\n  ${rejected.join('\n  ')}`);
    expect(t.mismatchCount, 'see the MISMATCH lines above').toBe(0);
    expect(rejected).toEqual([]);
  });

  test('every instruction the differential generator emits: same length as capstone, and as the generator laid it out', () => {
    const t = new Tally();
    const layout: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const c = generateCase(1, i);
      const code = Buffer.from(c.exec.code, 'hex');
      for (const ins of c.meta.listing) {
        const b = new Uint8Array(16);
        b.set(code.subarray(ins.off, ins.off + 16));
        check(t, b, `gen ${c.meta.id}+${ins.off} ${ins.text}`);
        const ours = ourLength(b);
        if (ours !== -1 && ours !== ins.len) layout.push(`${c.meta.id}+${ins.off} ${ins.text}: ours ${ours}, generator ${ins.len}`);
      }
    }
    t.report('generator instructions');
    expect(t.mismatchCount, 'see the MISMATCH lines above').toBe(0);
    expect(layout).toEqual([]);
  }, 300_000);

  test('random byte streams (1-15 bytes): never throws; accepted => same length', () => {
    const rand = mulberry32(0xdec0de);
    const t = new Tally();
    const interesting = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x64, 0x65, 0x40, 0x41, 0x48, 0x4c, 0x0f, 0x0f];
    for (let i = 0; i < 20_000; i++) {
      // pure random streams
      const n = 1 + Math.floor(rand() * 15);
      const b = new Uint8Array(n);
      for (let j = 0; j < n; j++) b[j] = (rand() * 256) | 0;
      check(t, b, 'random', true);
      // biased: a few prefixes / escapes, a known opcode, random tail
      const c = new Uint8Array(1 + Math.floor(rand() * 15));
      let k = 0;
      while (k < c.length && rand() < 0.35) c[k++] = interesting[(rand() * interesting.length) | 0];
      const ops = rand() < 0.7 ? WITH_MODRM : NO_MODRM;
      for (const x of ops[(rand() * ops.length) | 0]) if (k < c.length) c[k++] = x;
      for (; k < c.length; k++) c[k] = (rand() * 256) | 0;
      check(t, c, 'biased random', true);
    }
    t.report('random streams');
    expect(t.mismatchCount, 'see the MISMATCH lines above').toBe(0);
  }, 300_000);

  test('mutated valid encodings: accepted => same length', () => {
    const rand = mulberry32(0xbadc0de);
    const corpus = buildCorpus().filter((_, i) => i % 7 === 0);
    const valid = corpus.filter((c) => csDecode(c.bytes) !== null);
    const t = new Tally();
    const prefixes = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x40, 0x44, 0x48, 0x4f];
    for (let i = 0; i < 20_000; i++) {
      const src = valid[(rand() * valid.length) | 0].bytes;
      const b = Array.from(src);
      const ops = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < ops; k++) {
        const pos = Math.floor(rand() * Math.min(b.length, 6));
        switch ((rand() * 5) | 0) {
          case 0: b[pos] ^= 1 << ((rand() * 8) | 0); break; // bit flip
          case 1: b[pos] = (rand() * 256) | 0; break; // byte replace
          case 2: b.splice(0, 0, prefixes[(rand() * prefixes.length) | 0]); break; // extra prefix
          case 3: b.splice(pos, 1); break; // delete
          default: b.splice(pos, 0, b[pos]); break; // duplicate
        }
      }
      const out = new Uint8Array(16);
      out.set(b.slice(0, 16));
      for (let j = b.length; j < 16; j++) out[j] = (rand() * 256) | 0;
      check(t, out, 'mutated');
    }
    t.report('mutations');
    expect(t.mismatchCount, 'see the MISMATCH lines above').toBe(0);
  }, 300_000);
});

// ------------------------------------------------- SSE2 integer and MMX rows --

/** The 0F-map rows of assembly/decode/sse-int.ts (SDM Vol. 2D Table A-3): 60-7F but 78/79, C3-C5, D0-FF but E6. */
const SSE_INT_ROWS = [...range(0x60, 0x7f).filter((o) => o !== 0x78 && o !== 0x79), 0xc3, 0xc4, 0xc5, ...range(0xd0, 0xff).filter((o) => o !== 0xe6)];

describe('SSE2 integer and MMX rows vs capstone (SDM Vol. 2D Table A-3, A-6 groups 12-14)', () => {
  test('every form the unit implements is accepted with capstone\'s length', () => {
    const forms: [string, number[]][] = [];
    const regOnly = [0xd7, 0xf7, 0xc5];
    const memOnly = [0xe7];
    for (const op of SSE_INT_ROWS) {
      if ([0x77, 0xd0, 0x7a, 0x7b, 0x7c, 0x7d, 0xf0, 0xff, 0x71, 0x72, 0x73, 0xc3, 0xd6].includes(op)) continue;
      const imm = op === 0x70 || op === 0xc4 || op === 0xc5 ? [0x1b] : [];
      const pfxs = op === 0x6c || op === 0x6d ? [[0x66]] : op === 0x6f || op === 0x7f || op === 0x7e ? [[], [0x66], [0xf3]]
        : op === 0x70 ? [[], [0x66], [0xf3], [0xf2]] : [[], [0x66]];
      for (const p of pfxs) {
        if (!memOnly.includes(op)) forms.push([`${hex(p)} 0f ${op.toString(16)} reg`, [...p, 0x0f, op, 0xca, ...imm]]);
        if (!regOnly.includes(op)) {
          forms.push([`${hex(p)} 0f ${op.toString(16)} [rsi+disp8]`, [...p, 0x0f, op, 0x4e, 0x10, ...imm]]);
          forms.push([`${hex(p)} REX.RXB 0f ${op.toString(16)} [r8+r9*4+disp32]`, [...p, 0x47, 0x0f, op, 0x8c, 0x88, 0x00, 0x01, 0x00, 0x00, ...imm]]);
          forms.push([`${hex(p)} 0f ${op.toString(16)} [rip+disp32]`, [...p, 0x0f, op, 0x0d, 0x10, 0x00, 0x00, 0x00, ...imm]]);
        }
      }
    }
    for (const [op, digits, p66only] of [[0x71, [2, 4, 6], []], [0x72, [2, 4, 6], []], [0x73, [2, 6], [3, 7]]] as [number, number[], number[]][]) {
      for (const d of digits) for (const p of [[], [0x66], [0x66, 0x41]]) forms.push([`${hex(p)} 0f ${op.toString(16)} /${d} ib`, [...p, 0x0f, op, 0xc0 | (d << 3) | 1, 0x21]]);
      for (const d of p66only) forms.push([`66 0f ${op.toString(16)} /${d} ib`, [0x66, 0x0f, op, 0xc0 | (d << 3) | 1, 0x21]]);
    }
    forms.push(['emms', [0x0f, 0x77]], ['movnti [rax], ecx', [0x0f, 0xc3, 0x08]], ['movnti [rax], r9', [0x4c, 0x0f, 0xc3, 0x08]],
      ['movq xmm1, xmm2 (66 0F D6)', [0x66, 0x0f, 0xd6, 0xd1]], ['movq [rdi], xmm9', [0x66, 0x44, 0x0f, 0xd6, 0x0f]],
      ['movq2dq xmm1, mm2', [0xf3, 0x0f, 0xd6, 0xca]], ['movdq2q mm1, xmm10', [0xf2, 0x41, 0x0f, 0xd6, 0xca]],
      ['movq rax, xmm1', [0x66, 0x48, 0x0f, 0x7e, 0xc8]], ['movq mm1, [rax]', [0x48, 0x0f, 0x6e, 0x08]],
      ['pextrw r9, xmm1, 3', [0x66, 0x4c, 0x0f, 0xc5, 0xc9, 0x03]], ['pinsrw xmm9, word [rax], 7', [0x66, 0x44, 0x0f, 0xc4, 0x08, 0x07]]);
    const bad: string[] = [];
    for (const [name, b] of forms) {
      const ref = csDecode(Uint8Array.from(b));
      expect(ref?.size, `capstone on ${name} [${hex(b)}]`).toBe(b.length);
      const p = new Uint8Array(16); p.set(b);
      const ours = ourLength(p);
      if (ours !== b.length) bad.push(`${name} [${hex(b)}]: ours ${String(ours)}, capstone ${ref?.text}`);
    }
    expect(bad).toEqual([]);
    expect(forms.length).toBeGreaterThan(300);
  });

  test('the rows under every prefix set, ModR/M shape and digit: accepted => capstone\'s length', () => {
    const rand = mulberry32(0x55e1);
    const t = new Tally();
    const pfxSets = [[], [0x66], [0xf3], [0xf2], [0x66, 0x48], [0x45], [0xf3, 0x48], [0x66, 0xf2], [0xf2, 0x66], [0xf0, 0x66], [0x67, 0x66], [0x64]];
    const shapes = [[0xc0], [0x00], [0x05], [0x04, 0x24], [0x44, 0xe5], [0x87]];
    for (const op of SSE_INT_ROWS) {
      for (const p of pfxSets) for (const s of shapes) for (let d = 0; d < 8; d++) check(t, padded(rand, p, [0x0f, op], withDigit(s, d)), 'sse-int rows');
      check(t, padded(rand, [0x0f, op]), 'sse-int rows');
    }
    t.report('sse-int rows');
    expect(t.mismatchCount, 'see the MISMATCH lines above').toBe(0);
    expect(t.matched).toBeGreaterThan(15_000);
  }, 300_000);

  test('SSE3 and later rows of this range stay #UD (0F D0, 7C/7D, F2 0F F0, 0F FF) and the empty prefix columns', () => {
    const len = (h: string) => { const p = new Uint8Array(16); p.set(parseHex(h)); return ourLength(p); };
    for (const h of ['66 0f d0 c1', 'f2 0f d0 c1', '66 0f 7c c1', 'f2 0f 7d c1', 'f2 0f f0 06', '0f ff c0',
      'f3 0f 60 c1', 'f2 0f fe c1', '0f 6c c1', '66 0f 77', '0f 73 f8 01', '0f c3 c0', '0f e7 c1', '0f d7 00', '0f c5 00 01',
      '66 0f 71 10 01', 'f3 0f d6 00', 'f2 0f 6f c1', 'f0 66 0f fe 00']) {
      expect(len(h), h).toBe(-1);
    }
  });
});
