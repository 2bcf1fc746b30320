// Control, debug and extended control registers: MOV to/from CR0/CR2/CR3/CR4/CR8 with the CR0/CR4
// guest/host masks and read shadows, the CR3-target list and the CR3/CR8 exiting controls (SDM
// Vol. 3C 25.6.6, 25.6.7, 26.1.3; exit qualification Table 28-3), CLTS, LMSW, SMSW, MOV DR (Table
// 28-4), and XGETBV/XSETBV on XCR0 (SDM Vol. 1 13.3). Only IA-32e mode is modelled: clearing
// CR0.PG or CR4.PAE faults.
import * as D from "./decode";
import * as S from "./state";
import * as V from "./vmcs";
import { gpr, setGpr, RAX, RCX, RDX, cpl } from "./state";
import { stop, raiseGP, raiseUD, requestExit } from "./fault";
import { readE, writeE } from "./operand";
import { tlbFlushAll } from "./mmu";
import { primary } from "./vmx/controls";

function crExit(cr: u32, type: u32, gpr_: u32): void {
  requestExit(V.EXIT_REASON_CR_ACCESS, <u64>(cr | (type << 4) | (gpr_ << 8)));
}

export function execMovCr(e: usize, toCr: bool): void {
  const cr = <u32>load<u8>(e, D.D_SUB);
  const r = <u32>load<u8>(e, D.D_RMNUM);
  if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8) { raiseUD(); return; }
  if (cpl != 0) { raiseGP(0); return; }
  const p = primary();
  if (!toCr) {
    let v: u64 = 0;
    switch (cr) {
      case 0: { const m = V.vmcsGet(V.CR0_GUEST_HOST_MASK); v = (S.cr0 & ~m) | (V.vmcsGet(V.CR0_READ_SHADOW) & m); break; }
      case 2: v = S.cr2; break;
      case 3: if ((p & V.CPU_BASED_CR3_STORE_EXITING) != 0) { crExit(3, 1, r); return; } v = S.cr3; break;
      case 4: { const m = V.vmcsGet(V.CR4_GUEST_HOST_MASK); v = (S.cr4 & ~m) | (V.vmcsGet(V.CR4_READ_SHADOW) & m); break; }
      default: if ((p & V.CPU_BASED_CR8_STORE_EXITING) != 0) { crExit(8, 1, r); return; } v = S.cr8; break;
    }
    S.setGpr(<i32>r, v);
    return;
  }
  const v = gpr(<i32>r);
  switch (cr) {
    case 0: {
      const m = V.vmcsGet(V.CR0_GUEST_HOST_MASK);
      if (((v ^ V.vmcsGet(V.CR0_READ_SHADOW)) & m) != 0) { crExit(0, 0, r); return; }
      if ((v >> 32) != 0 || ((v & S.CR0_PG) != 0 && (v & S.CR0_PE) == 0) || ((v & S.CR0_NW) != 0 && (v & S.CR0_CD) == 0)) { raiseGP(0); return; }
      if ((v & S.CR0_PG) == 0) { raiseGP(0); return; } // leaving IA-32e mode from 64-bit code
      const nv = (v & ~m) | (S.cr0 & m) | S.CR0_ET;
      if (((nv ^ S.cr0) & (S.CR0_PG | S.CR0_WP | S.CR0_PE)) != 0) tlbFlushAll();
      S.cr0 = nv;
      return;
    }
    case 2: S.cr2 = v; return;
    case 3: {
      if ((p & V.CPU_BASED_CR3_LOAD_EXITING) != 0) {
        const n = V.vmcsGet32(V.CR3_TARGET_COUNT);
        let hit = false;
        for (let i: u32 = 0; i < n && i < 4; i++) if (V.vmcsGet(V.CR3_TARGET_VALUE0 + (i << 1)) == v) hit = true;
        if (!hit) { crExit(3, 0, r); return; }
      }
      if ((v >> 46) != 0 && (v >> 63) == 0) { raiseGP(0); return; }
      S.cr3 = v & ~(<u64>1 << 63);
      tlbFlushAll();
      return;
    }
    case 4: {
      const m = V.vmcsGet(V.CR4_GUEST_HOST_MASK);
      if (((v ^ V.vmcsGet(V.CR4_READ_SHADOW)) & m) != 0) { crExit(4, 0, r); return; }
      if ((v & ~(<u64>0x3f7fff)) != 0 || (v & S.CR4_PAE) == 0) { raiseGP(0); return; }
      S.cr4 = (v & ~m) | (S.cr4 & m);
      tlbFlushAll();
      return;
    }
    default:
      if ((p & V.CPU_BASED_CR8_LOAD_EXITING) != 0) { crExit(8, 0, r); return; }
      if ((v >> 4) != 0) { raiseGP(0); return; }
      S.cr8 = v; return;
  }
}

/** CLTS: clears CR0.TS, or exits when TS is owned by the host and set in the read shadow (SDM 25.1.3). */
export function execClts(): void {
  if (cpl != 0) { raiseGP(0); return; }
  const mask = V.vmcsGet(V.CR0_GUEST_HOST_MASK), shadow = V.vmcsGet(V.CR0_READ_SHADOW);
  if ((mask & S.CR0_TS) != 0 && (shadow & S.CR0_TS) != 0) { requestExit(V.EXIT_REASON_CR_ACCESS, 2 << 4); return; }
  S.cr0 &= ~S.CR0_TS;
}

export function execSmsw(e: usize, size: i32): void { writeE(e, size, S.cr0 & 0xffff); }

export function execLmsw(e: usize): void {
  if (cpl != 0) { raiseGP(0); return; }
  const v = readE(e, 2); if (stop) return;
  // LMSW changes PE, MP, EM, TS only and cannot clear PE.
  S.cr0 = (S.cr0 & ~(<u64>0xe)) | (v & 0xf) | (S.cr0 & 1);
}

// XSETBV exits unconditionally, but its #UD/#GP checks come first (SDM 26.1.1).
export function execXsetbv(): void {
  if ((S.cr4 & S.CR4_OSXSAVE) == 0) { raiseUD(); return; }
  if (cpl != 0) { raiseGP(0); return; }
  requestExit(V.EXIT_REASON_XSETBV, 0);
}

export function execXgetbv(): void {
  if ((S.cr4 & S.CR4_OSXSAVE) == 0) { raiseUD(); return; }
  if ((gpr(RCX) & 0xffffffff) != 0) { raiseGP(0); return; }
  setGpr(RAX, S.xcr0 & 0xffffffff); setGpr(RDX, S.xcr0 >> 32);
}

export function execMovDr(e: usize, toDr: bool): void {
  let dr = <u32>load<u8>(e, D.D_SUB);
  const r = <u32>load<u8>(e, D.D_RMNUM);
  if (dr > 7) { raiseUD(); return; }
  if (cpl != 0) { raiseGP(0); return; }
  if ((primary() & V.CPU_BASED_MOV_DR_EXITING) != 0) {
    requestExit(V.EXIT_REASON_DR_ACCESS, <u64>(dr | (toDr ? 0 : 16) | (r << 8))); return;
  }
  if (dr == 4) dr = 6; else if (dr == 5) dr = 7;
  if (toDr) {
    const v = gpr(<i32>r);
    switch (dr) {
      case 0: S.dr0 = v; break; case 1: S.dr1 = v; break; case 2: S.dr2 = v; break; case 3: S.dr3 = v; break;
      case 6: S.dr6 = (v & 0x1e00f) | 0xffff0ff0; break;
      default: S.dr7 = (v & 0xffffffff) | 0x400; break;
    }
  } else {
    let v: u64;
    switch (dr) {
      case 0: v = S.dr0; break; case 1: v = S.dr1; break; case 2: v = S.dr2; break; case 3: v = S.dr3; break;
      case 6: v = S.dr6; break; default: v = S.dr7; break;
    }
    setGpr(<i32>r, v);
  }
}
