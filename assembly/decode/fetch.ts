// The instruction byte stream being decoded (SDM Vol. 2A 2.1, 2.2.1.5 immediates; the 15-byte
// limit of 2.3.11): bytes come through the fetch path of the MMU, or, for the host's decodeLength()
// and decodeBlock(), from the scratch buffer (linear address A is scratch byte A).
import { SCRATCH } from "../layout";
import { fetchByte } from "../mmu";

let dla: u64 = 0;
/** Bytes consumed so far (the instruction length when decoding ends). */
export let dpos: i32 = 0;
/** The instruction ran past 15 bytes: it decodes as a #GP(0) instruction. */
export let dtoolong: bool = false;
export let decodeFromScratch: bool = false;

export function fetchStart(la: u64): void { dla = la; dpos = 0; dtoolong = false; }

/** The next instruction byte. */
@inline export function nb(): u32 {
  if (dpos >= 15) { dtoolong = true; dpos++; return 0; }
  let b: u32;
  if (decodeFromScratch) b = <u32>load<u8>(SCRATCH + <usize>(dla + <u64>dpos));
  else b = fetchByte(dla + <u64>dpos);
  dpos++;
  return b;
}
/** The next byte without consuming it (a ModRM byte that selects the operation). */
export function peek(): u32 { const save = dpos; const m = nb(); dpos = save; return m; }

export function imm8s(): u64 { return <u64><i64><i8><u8>nb(); }
export function imm16(): u64 { const a = nb(); const b = nb(); return <u64>(a | (b << 8)); }
export function imm32(): u32 { const a = nb(); const b = nb(); const c = nb(); const d = nb(); return a | (b << 8) | (c << 16) | (d << 24); }
export function imm32s(): u64 { return <u64><i64><i32>imm32(); }
export function imm64(): u64 { const lo = <u64>imm32(); const hi = <u64>imm32(); return lo | (hi << 32); }
/** Iz: 16 or 32 bits, sign-extended to 64 for 64-bit operand size. */
export function immZ(osz: i32): u64 { return osz == 2 ? imm16() : imm32s(); }
