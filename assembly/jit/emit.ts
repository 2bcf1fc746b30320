// A WebAssembly binary writer for the JIT (the module format of the WebAssembly Core
// Specification 2.0, chapter 5 "Binary Format": LEB128 integers, sections, the instruction
// encodings). gen.ts writes one function body at JIT_BODY; module() wraps it into a module at
// JIT_MODULE that imports the CPU's memory, the globals the generated code reads and writes, and
// the interpreter's helpers (jit/helpers.ts), and exports the function as "f".
import { JIT_BODY, JIT_BODY_BYTES, JIT_MODULE } from "../layout";

/** Where the next byte goes. */
export let pos: usize = JIT_BODY;
/** The body outgrew its buffer: the region is not compiled. */
export let overflow: bool = false;
/** Open structured instructions (block, loop, if) inside the function body. */
export let depth: i32 = 0;

export function begin(): void { pos = JIT_BODY; overflow = false; depth = 0; }
/** Bytes of headroom one instruction's code needs at most. */
@inline export function full(): bool { return pos + 1024 > JIT_BODY + JIT_BODY_BYTES; }

@inline export function byte(b: u32): void { store<u8>(pos, <u8>b); pos++; }
export function uleb(v: u64): void {
  do {
    let b = <u32>(v & 0x7f); v >>= 7;
    if (v != 0) b |= 0x80;
    byte(b);
  } while (v != 0);
}
export function sleb(v: i64): void {
  while (true) {
    const b = <u32>(v & 0x7f); v >>= 7;
    if ((v == 0 && (b & 0x40) == 0) || (v == -1 && (b & 0x40) != 0)) { byte(b); return; }
    byte(b | 0x80);
  }
}

// ---- value types and opcodes (Core Spec 5.3.1, 5.4) ----------------------------------------------
export const T_I32: u32 = 0x7f; export const T_I64: u32 = 0x7e; export const T_F64: u32 = 0x7c;
const BLOCKTYPE_EMPTY: u32 = 0x40;

export const UNREACHABLE: u32 = 0x00; export const RETURN: u32 = 0x0f; export const DROP: u32 = 0x1a;
export const SELECT: u32 = 0x1b;
export const I32_EQZ: u32 = 0x45; export const I32_EQ: u32 = 0x46; export const I32_NE: u32 = 0x47;
export const I32_AND: u32 = 0x71; export const I32_OR: u32 = 0x72; export const I32_XOR: u32 = 0x73;
export const I32_ADD: u32 = 0x6a; export const I32_SHL: u32 = 0x74;
export const I64_POPCNT: u32 = 0x7b; export const I64_CLZ: u32 = 0x79; export const I64_CTZ: u32 = 0x7a; export const I64_ROTL: u32 = 0x89; export const I64_ROTR: u32 = 0x8a;
export const I64_EQZ: u32 = 0x50; export const I64_EQ: u32 = 0x51; export const I64_NE: u32 = 0x52;
export const I64_LT_S: u32 = 0x53; export const I64_LT_U: u32 = 0x54; export const I64_GT_S: u32 = 0x55;
export const I64_GT_U: u32 = 0x56; export const I64_LE_S: u32 = 0x57; export const I64_LE_U: u32 = 0x58;
export const I64_GE_S: u32 = 0x59; export const I64_GE_U: u32 = 0x5a;
export const I64_ADD: u32 = 0x7c; export const I64_SUB: u32 = 0x7d; export const I64_MUL: u32 = 0x7e;
export const I64_AND: u32 = 0x83; export const I64_OR: u32 = 0x84; export const I64_XOR: u32 = 0x85;
export const I64_SHL: u32 = 0x86; export const I64_SHR_S: u32 = 0x87; export const I64_SHR_U: u32 = 0x88;
export const I32_WRAP_I64: u32 = 0xa7; export const I64_EXTEND_I32_S: u32 = 0xac; export const I64_EXTEND_I32_U: u32 = 0xad;
export const I64_REM_U: u32 = 0x82;
export const F64_NEG: u32 = 0x9a; export const F64_SQRT: u32 = 0x9f; export const F64_ADD: u32 = 0xa0; export const F64_SUB: u32 = 0xa1;
export const F64_MUL: u32 = 0xa2; export const F64_DIV: u32 = 0xa3;
export const I64_REINTERPRET_F64: u32 = 0xbd; export const F64_REINTERPRET_I64: u32 = 0xbf;
export const I64_EXTEND8_S: u32 = 0xc2; export const I64_EXTEND16_S: u32 = 0xc3; export const I64_EXTEND32_S: u32 = 0xc4;

@inline export function op(o: u32): void { byte(o); }
export function i32c(v: i32): void { byte(0x41); sleb(<i64>v); }
export function i64c(v: i64): void { byte(0x42); sleb(v); }
export function lget(i: u32): void { byte(0x20); uleb(i); }
export function lset(i: u32): void { byte(0x21); uleb(i); }
export function ltee(i: u32): void { byte(0x22); uleb(i); }
export function gget(i: u32): void { byte(0x23); uleb(i); }
export function gset(i: u32): void { byte(0x24); uleb(i); }
export function call(f: u32): void { byte(0x10); uleb(f); }

/** Opens `block`, `loop` or `if` with no result (or an i64 result for `ifI64`). */
export function blk(): void { byte(0x02); byte(BLOCKTYPE_EMPTY); depth++; }
export function loop(): void { byte(0x03); byte(BLOCKTYPE_EMPTY); depth++; }
export function iff(): void { byte(0x04); byte(BLOCKTYPE_EMPTY); depth++; }
export function ifI64(): void { byte(0x04); byte(T_I64); depth++; }
export function els(): void { byte(0x05); }
export function end(): void { byte(0x0b); depth--; }
/** Branches to the construct opened when `depth` was `target` (its label index is depth - target). */
export function br(target: i32): void { byte(0x0c); uleb(<u64>(depth - target)); }
/** br_if to the construct opened at `target` (an E.depth value). */
export function brIf(target: i32): void { byte(0x0d); uleb(<u64>(depth - target)); }

/** Loads of `size` bytes, zero-extended to i64, at a constant address (an i32 base of 0 plus offset). */
export function loadI64(size: i32, offset: usize): void {
  // i64.load8_u 0x31, load16_u 0x33, load32_u 0x35, load 0x29; alignment hint 0 (any).
  byte(size == 1 ? 0x31 : size == 2 ? 0x33 : size == 4 ? 0x35 : 0x29);
  byte(0); uleb(<u64>offset);
}
/** Stores the low `size` bytes of an i64 (i64.store8/16/32, i64.store). */
export function storeI64(size: i32, offset: usize): void {
  byte(size == 1 ? 0x3c : size == 2 ? 0x3d : size == 4 ? 0x3e : 0x37);
  byte(0); uleb(<u64>offset);
}

// ---- the module around the body ------------------------------------------------------------------
/** Imported functions, in import order: their indices in the generated code. */
export const F_STEP: u32 = 0;    // jitStep(e: i32, rip: i64) -> i32
export const F_READ: u32 = 1;    // jitRead(la: i64, rip: i64, packed: i32) -> i64
export const F_WRITE: u32 = 2;   // jitWrite(la: i64, v: i64, rip: i64, packed: i32)
export const F_TESTCC: u32 = 3;  // jitTestCC(cc: i32) -> i32
export const F_STEPSSE: u32 = 4; // jitStepSse(e: i32, rip: i64) -> i32
const IMPORTED_FUNCS: u32 = 5;
/** Imported globals, in import order (all mutable): name and type. */
export const G_INSNS: u32 = 0; export const G_VCYCLES: u32 = 1; export const G_RIP: u32 = 2; export const G_NRIP: u32 = 3;
export const G_LFOP: u32 = 4; export const G_LFA: u32 = 5; export const G_LFB: u32 = 6; export const G_LFRES: u32 = 7;
export const G_LFMASK: u32 = 8; export const G_EPOCH: u32 = 9; export const G_TLBR: u32 = 10; export const G_TLBW: u32 = 11;
export const G_TLBBIAS: u32 = 12; export const G_STOP: u32 = 13; export const G_LFCARRY: u32 = 14;
export const G_RFLAGS: u32 = 15; export const G_CR0: u32 = 16; export const G_CR4: u32 = 17; export const G_TLBX: u32 = 18;
const GLOBAL_TYPES: u32[] = [T_I64, T_I64, T_I64, T_I64, T_I32, T_I64, T_I64, T_I64, T_I64, T_I32, T_I32, T_I32, T_I64, T_I32, T_I64, T_I64,
  T_I64, T_I64, T_I32];
const GLOBAL_COUNT: u32 = 19;

function name(s: string): void {
  uleb(<u64>s.length);
  for (let i = 0; i < s.length; i++) byte(<u32>s.charCodeAt(i));
}
function section(id: u32, start: usize): void {
  // The section's contents were written from start + 6: prefix id and a 5-byte LEB length.
  const len = pos - (start + 6);
  store<u8>(start, <u8>id);
  let p = start + 1, v = len;
  for (let i = 0; i < 5; i++) { store<u8>(p++, <u8>((v & 0x7f) | (i < 4 ? 0x80 : 0))); v >>= 7; }
}
/** A function type: up to four params and an optional result, packed one type byte each (no allocation:
 *  the stub runtime never frees, and compiles happen all run long). */
function funcType(params: u32, n: i32, result: u32): void {
  byte(0x60); uleb(<u64>n);
  for (let i = 0; i < n; i++) byte((params >> (<u32>i * 8)) & 0xff);
  if (result == 0) byte(0); else { byte(1); byte(result); }
}
@inline function pack(a: u32, b: u32, c: u32, d: u32): u32 { return a | (b << 8) | (c << 16) | (d << 24); }

/**
 * Wraps the body written at JIT_BODY..`bodyEnd` (locals declaration, code and its final `end`)
 * into a module at JIT_MODULE; returns its length in bytes.
 */
export function module(bodyEnd: usize): u32 {
  const bodyLen = bodyEnd - JIT_BODY;
  pos = JIT_MODULE;
  byte(0); byte(0x61); byte(0x73); byte(0x6d); byte(1); byte(0); byte(0); byte(0);
  // Types: 0 the region (sliceEnd, timerDeadline, entry block), 1-4 the helpers.
  let s = pos; pos += 6;
  uleb(5);
  funcType(pack(T_I64, T_I64, T_I32, 0), 3, T_I32);
  funcType(pack(T_I32, T_I64, 0, 0), 2, T_I32);
  funcType(pack(T_I64, T_I64, T_I32, 0), 3, T_I64);
  funcType(pack(T_I64, T_I64, T_I64, T_I32), 4, 0);
  funcType(pack(T_I32, 0, 0, 0), 1, T_I32);
  section(1, s);
  // Imports: the helper functions, the shared memory, the globals.
  s = pos; pos += 6;
  uleb(IMPORTED_FUNCS + 1 + GLOBAL_COUNT);
  name("env"); name("step"); byte(0); uleb(1);
  name("env"); name("read"); byte(0); uleb(2);
  name("env"); name("write"); byte(0); uleb(3);
  name("env"); name("testcc"); byte(0); uleb(4);
  name("env"); name("stepsse"); byte(0); uleb(1);
  name("env"); name("memory"); byte(2); byte(3); uleb(1); uleb(65536);
  for (let i: u32 = 0; i < GLOBAL_COUNT; i++) {
    // Named g0..g18 (src/jit/ supplies them in this order).
    name("env"); byte(i < 10 ? 2 : 3); byte(0x67);
    if (i >= 10) byte(0x30 + i / 10);
    byte(0x30 + i % 10); byte(3); byte(unchecked(GLOBAL_TYPES[i])); byte(1);
  }
  section(2, s);
  // One function of type 0, exported as "f".
  s = pos; pos += 6; uleb(1); uleb(0); section(3, s);
  s = pos; pos += 6; uleb(1); name("f"); byte(0); uleb(IMPORTED_FUNCS); section(7, s);
  s = pos; pos += 6; uleb(1); uleb(<u64>bodyLen);
  memory.copy(pos, JIT_BODY, bodyLen); pos += bodyLen;
  section(10, s);
  return <u32>(pos - JIT_MODULE);
}
