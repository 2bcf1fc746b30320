// The x87 environment and state images (SDM Vol. 1 8.1.10 "Saving the x87 FPU's State with FSTENV/
// FNSTENV and FSAVE/FNSAVE", Figures 8-9 and 8-10 (32-bit protected mode: 28 bytes; 16-bit: 14 bytes,
// with the 66 prefix), 8-11/8-12; Vol. 2A FLDENV, FSTENV/FNSTENV, FSAVE/FNSAVE, FRSTOR). The tag word
// in the image is the full one, derived from the register contents (8.1.7: valid 00, zero 01,
// special 10 -- NaN, infinity, denormal, unsupported -- empty 11); loading it keeps only empty or
// not. The reserved upper halves of the 32-bit image are stored as 0xFFFF (as the host does).
// FNSTENV then masks all exceptions; FNSAVE then initialises the FPU as FNINIT. Loads stage the whole
// image in X87_TMP first, stores check every page first: a fault changes nothing.
import { X87_TMP, FXSTATE, FX_FCW, FX_FOP, FX_FIP, FX_FDP } from "../layout";
import { ea } from "../operand";
import { readMem, writeMem } from "../mmu";
import { stop } from "../fault";
import { fxFninit } from "./fxsave";
import { probeWrite } from "./memory";
import { fcw, fsw, setFsw, ftw, setFtw, top, physAddr, FX_FCS, FX_FDS } from "./stack";
import { fcwValue, recomputeEs } from "./control";

/** The 2-bit tag of physical register i. */
function tagOf(i: u32): u32 {
  if (((ftw() >> i) & 1) == 0) return 3;
  const a = physAddr(i);
  const ex = <u32>load<u16>(a, 8) & 0x7fff, sig = load<u64>(a);
  if (ex == 0) return sig == 0 ? 1 : 2;
  if (ex == 0x7fff || (sig >> 63) == 0) return 2;
  return 0;
}

/** The full tag word (SDM Vol. 1 Figure 8-7). */
export function fullTagWord(): u32 {
  let t: u32 = 0;
  for (let i: u32 = 0; i < 8; i++) t |= tagOf(i) << (2 * i);
  return t;
}

/** Builds the environment image in X87_TMP; returns its size. */
function buildEnv(osz: i32): u32 {
  const t = X87_TMP;
  const fip = <u32>load<u64>(FXSTATE + FX_FIP), fdp = <u32>load<u64>(FXSTATE + FX_FDP);
  const fcs = <u32>load<u16>(FXSTATE + FX_FCS), fds = <u32>load<u16>(FXSTATE + FX_FDS);
  if (osz == 2) {
    store<u16>(t, <u16>fcw()); store<u16>(t, <u16>fsw(), 2); store<u16>(t, <u16>fullTagWord(), 4);
    store<u16>(t, <u16>fip, 6); store<u16>(t, <u16>fcs, 8); store<u16>(t, <u16>fdp, 10); store<u16>(t, <u16>fds, 12);
    return 14;
  }
  store<u32>(t, fcw() | 0xffff0000); store<u32>(t, fsw() | 0xffff0000, 4); store<u32>(t, fullTagWord() | 0xffff0000, 8);
  store<u32>(t, fip, 12);
  store<u32>(t, fcs | ((<u32>load<u16>(FXSTATE + FX_FOP) & 0x7ff) << 16), 16);
  store<u32>(t, fdp, 20); store<u32>(t, fds | 0xffff0000, 24);
  return 28;
}

/** Writes X87_TMP[0, n) to la after checking both pages. */
function writeOut(la: u64, n: u32): void {
  if (!probeWrite(la, n)) return;
  let o: u32 = 0;
  while (n - o >= 8) { writeMem(la + <u64>o, 8, load<u64>(X87_TMP + <usize>o)); o += 8; }
  if (n - o >= 4) { writeMem(la + <u64>o, 4, <u64>load<u32>(X87_TMP + <usize>o)); o += 4; }
  if (n - o >= 2) { writeMem(la + <u64>o, 2, <u64>load<u16>(X87_TMP + <usize>o)); o += 2; }
}

/** Reads n bytes at la into X87_TMP; false after a fault. */
function readIn(la: u64, n: u32): bool {
  let o: u32 = 0;
  while (n - o >= 8) { const v = readMem(la + <u64>o, 8); if (stop) return false; store<u64>(X87_TMP + <usize>o, v); o += 8; }
  if (n - o >= 4) { const v = readMem(la + <u64>o, 4); if (stop) return false; store<u32>(X87_TMP + <usize>o, <u32>v); o += 4; }
  if (n - o >= 2) { const v = readMem(la + <u64>o, 2); if (stop) return false; store<u16>(X87_TMP + <usize>o, <u16>v); o += 2; }
  return true;
}

/** Loads the environment from X87_TMP. */
function loadEnv(osz: i32): void {
  const t = X87_TMP;
  let cw: u32, sw: u32, tw: u32, fip: u32, fcs: u32, fdp: u32, fds: u32, fop: u32 = 0;
  if (osz == 2) {
    cw = load<u16>(t); sw = load<u16>(t, 2); tw = load<u16>(t, 4);
    fip = load<u16>(t, 6); fcs = load<u16>(t, 8); fdp = load<u16>(t, 10); fds = load<u16>(t, 12);
  } else {
    cw = load<u16>(t); sw = load<u16>(t, 4); tw = load<u16>(t, 8);
    fip = load<u32>(t, 12); fcs = load<u16>(t, 16); fop = load<u16>(t, 18) & 0x7ff; fdp = load<u32>(t, 20); fds = load<u16>(t, 24);
  }
  store<u16>(FXSTATE + FX_FCW, <u16>fcwValue(cw));
  setFsw(sw);
  let ab: u32 = 0;
  for (let i: u32 = 0; i < 8; i++) if (((tw >> (2 * i)) & 3) != 3) ab |= 1 << i;
  setFtw(ab);
  store<u64>(FXSTATE + FX_FIP, <u64>fip); store<u64>(FXSTATE + FX_FDP, <u64>fdp);
  store<u16>(FXSTATE + FX_FCS, <u16>fcs); store<u16>(FXSTATE + FX_FDS, <u16>fds);
  store<u16>(FXSTATE + FX_FOP, <u16>fop);
  recomputeEs();
}

/** OP_X87_ENV: D9 /4 FLDENV, D9 /6 FNSTENV, DD /4 FRSTOR, DD /6 FNSAVE; osz 2 = the 16-bit formats. */
export function x87Env(e: usize, esc: u32, m: u32, osz: i32): void {
  const d = (m >> 3) & 7;
  const la = ea(e);
  const envBytes: u32 = osz == 2 ? 14 : 28;
  const full = (esc & 7) == 5;
  if (d == 4) {
    if (!readIn(la, full ? envBytes + 80 : envBytes)) return;
    loadEnv(osz);
    if (full) {
      const tp = top();
      for (let i: u32 = 0; i < 8; i++) {
        const src = X87_TMP + <usize>(envBytes + 10 * i), dst = physAddr(tp + i);
        store<u64>(dst, load<u64>(src)); store<u16>(dst, load<u16>(src, 8), 8);
      }
    }
    return;
  }
  const n = buildEnv(osz);
  if (full) {
    const tp = top();
    for (let i: u32 = 0; i < 8; i++) {
      const src = physAddr(tp + i), dst = X87_TMP + <usize>(n + 10 * i);
      store<u64>(dst, load<u64>(src)); store<u16>(dst, load<u16>(src, 8), 8);
    }
  }
  writeOut(la, full ? n + 80 : n); if (stop) return;
  if (full) fxFninit();
  else { store<u16>(FXSTATE + FX_FCW, <u16>(fcw() | 0x3f)); recomputeEs(); }
}
