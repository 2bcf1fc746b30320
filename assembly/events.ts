// Event delivery through the 64-bit IDT and the return from it: the interrupt/trap gate, the
// stack switch (TSS RSPn, IST) and the frame (SDM Vol. 3A 6.14), and IRET in IA-32e mode (6.14.3 and
// the IRET page; task returns and returns to compatibility mode are not modelled). Whether an event
// VM-exits instead, and the double-fault rules, are vmx/deliver.ts.
import * as S from "./state";
import { setGpr, gpr, RSP, cpl, segBase, setSegBase, segSel, setSegSel, setSegAr, setSegLimit,
  idtrBase, idtrLimit, F_TF, F_NT, F_RF, F_VM, F_IF, F_IOPL } from "./state";
import { stop, raise, raiseGP } from "./fault";
import { readSys, translate, ACC_WRITE, isCanonical } from "./mmu";
import { getRflags, setRflags } from "./flags";
import { readDescriptor, arOf, limitOf, loadSeg, setCpl } from "./segment";
import { peek } from "./exec";

// The event being delivered, reported as IDT-vectoring information if a VM exit interrupts it.
export let vectoring: u32 = 0;
export let vectoringErr: u32 = 0;

/**
 * Delivers one event through the IDT. `retRip` is the RIP saved on the stack
 * (the faulting instruction for faults; the next instruction for traps and INT n).
 * On failure `stop` is set with the nested exception; the caller applies the
 * double-fault rules.
 */
export function idtDeliver(vec: i32, type: u32, err: u32, hasErr: bool, retRip: u64): void {
  // EXT is clear only for INT n and INT3/INTO (SDM Vol. 3A 6.13); INT1 (type 5) sets it.
  const ext: u32 = type == 4 || type == 6 ? 0 : 1;
  const gateErr = (<u32>vec << 3) | 2 | ext;
  if ((<u32>vec << 4) + 15 > idtrLimit) { raise(13, gateErr, true); return; }
  const lo = readSys(idtrBase + (<u64>vec << 4), 8);
  if (stop) return;
  const hi = readSys(idtrBase + (<u64>vec << 4) + 8, 8);
  if (stop) return;
  const gtype = <u32>((lo >> 40) & 0xf);
  const gdpl = <i32>((lo >> 45) & 3);
  if (gtype != 0xe && gtype != 0xf) { raise(13, gateErr, true); return; }
  if ((type == 4 || type == 6) && gdpl < cpl) { raise(13, gateErr, true); return; }
  if (((lo >> 47) & 1) == 0) { raise(11, gateErr, true); return; }
  const sel = <u32>((lo >> 16) & 0xffff);
  const target = (lo & 0xffff) | (((lo >> 48) & 0xffff) << 16) | ((hi & 0xffffffff) << 32);
  const ist = <i32>((lo >> 32) & 7);
  if ((sel & ~3) == 0) { raise(13, ext, true); return; }
  const cd = readDescriptor(sel, (sel & ~3) | ext);
  if (stop) return;
  const car = arOf(cd);
  const cdpl = <i32>((car >> 5) & 3);
  // Must be a present 64-bit code segment with DPL <= CPL.
  if ((car & 0x18) != 0x18 || (car & 0x2000) == 0 || (car & 0x4000) != 0 || cdpl > cpl) { raise(13, (sel & ~3) | ext, true); return; }
  if ((car & 0x80) == 0) { raise(11, (sel & ~3) | ext, true); return; }
  const conforming = (car & 4) != 0;
  const newCpl = conforming ? cpl : cdpl;
  let sp = gpr(RSP);
  const trBase = segBase(S.TR);
  if (ist != 0) { sp = readSys(trBase + 0x24 + (<u64>(ist - 1) << 3), 8); if (stop) return; }
  else if (newCpl < cpl) { sp = readSys(trBase + 4 + (<u64>newCpl << 3), 8); if (stop) return; }
  if (!isCanonical(sp)) { raise(12, ext, true); return; }
  sp &= ~(<u64>15);
  const flags = getRflags();
  const oldSs = <u64>segSel(S.SS), oldRsp = gpr(RSP), oldCs = <u64>segSel(S.CS);
  // Write the frame at the new privilege level; any fault leaves state untouched.
  const n = hasErr ? 6 : 5;
  const frameTop = sp - (<u64>n << 3);
  const user = newCpl == 3;
  for (let i = 0; i < n; i++) {
    translate(frameTop + (<u64>i << 3), ACC_WRITE, user, false);
    if (stop) {
      // A fault writing the new stack is #SS only for a non-canonical address; a #PF stays a #PF.
      return;
    }
  }
  let p = frameTop;
  if (hasErr) { stackWrite(p, <u64>err, user); p += 8; }
  stackWrite(p, retRip, user); stackWrite(p + 8, oldCs, user); stackWrite(p + 16, flags, user);
  stackWrite(p + 24, oldRsp, user); stackWrite(p + 32, oldSs, user);
  setGpr(RSP, frameTop);
  if (newCpl != cpl) {
    setSegSel(S.SS, <u16>newCpl); setSegAr(S.SS, 0x10000 | (<u32>newCpl << 5)); setSegBase(S.SS, 0);
  }
  setSegSel(S.CS, <u16>((sel & ~3) | <u32>newCpl));
  setSegAr(S.CS, car | 1); setSegBase(S.CS, 0); setSegLimit(S.CS, limitOf(cd));
  setCpl(newCpl);
  let nf = flags & ~(F_TF | F_NT | F_RF | F_VM);
  if (gtype == 0xe) nf &= ~F_IF;
  setRflags(nf);
  S.rip = target;
}

function stackWrite(la: u64, v: u64, user: bool): void {
  const p = translate(la, ACC_WRITE, user, false);
  store<u64>(p, v);
}

// ---- IRET (64-bit; SDM IRET "IA-32e mode" operation) ---------------------------
export function execIret(size: i32): void {
  const sz = <u64>size;
  const newRip = peek(0, size); if (stop) return;
  const csSel = <u32>peek(sz, size) & 0xffff; if (stop) return;
  const flags = peek(2 * sz, size); if (stop) return;
  const newRsp = peek(3 * sz, size); if (stop) return;
  const ssSel = <u32>peek(4 * sz, size) & 0xffff; if (stop) return;
  if ((flags & F_NT) != 0) { raiseGP(0); return; } // task return: not in IA-32e mode
  const rpl = <i32>(csSel & 3);
  if ((csSel & ~3) == 0) { raiseGP(0); return; }
  if (rpl < cpl) { raiseGP(csSel & ~3); return; }
  const cd = readDescriptor(csSel, csSel & ~3); if (stop) return;
  const car = arOf(cd);
  const cdpl = <i32>((car >> 5) & 3);
  if ((car & 0x18) != 0x18) { raiseGP(csSel & ~3); return; }
  if ((car & 4) != 0 ? cdpl > rpl : cdpl != rpl) { raiseGP(csSel & ~3); return; }
  if ((car & 0x80) == 0) { raise(11, csSel & ~3, true); return; }
  if ((car & 0x2000) == 0) { raiseGP(csSel & ~3); return; } // compatibility-mode return not modelled
  if (!isCanonical(newRip)) { raiseGP(0); return; }
  let sd: u64 = 0;
  if ((ssSel & ~3) == 0) {
    if (rpl == 3) { raiseGP(0); return; }
  } else {
    if (<i32>(ssSel & 3) != rpl) { raiseGP(ssSel & ~3); return; }
    sd = readDescriptor(ssSel, ssSel & ~3); if (stop) return;
    const sar = arOf(sd);
    if ((sar & 0x1a) != 0x12 || <i32>((sar >> 5) & 3) != rpl) { raiseGP(ssSel & ~3); return; }
    if ((sar & 0x80) == 0) { raise(12, ssSel & ~3, true); return; }
  }
  // Flags: IOPL only at CPL 0, IF only when CPL <= IOPL; VM, VIF, VIP stay 0 in 64-bit mode.
  const old = getRflags();
  let mask: u64 = 0x257fd5 & ~(F_IOPL | F_IF);
  if (cpl == 0) mask |= F_IOPL;
  if (cpl <= <i32>((old >> 12) & 3)) mask |= F_IF;
  if (size == 4) mask &= 0xffffffff;
  setRflags((old & ~mask) | (flags & mask));
  S.setSegSel(S.CS, <u16>csSel); S.setSegAr(S.CS, car | 1); S.setSegBase(S.CS, 0); S.setSegLimit(S.CS, limitOf(cd));
  if (rpl != cpl) setCpl(rpl);
  loadSeg(S.SS, ssSel, sd);
  setGpr(RSP, size == 4 ? newRsp & 0xffffffff : newRsp);
  S.nrip = size == 4 ? newRip & 0xffffffff : newRip;
  S.intrShadow = 0; // IRET ends blocking by NMI; no interrupt shadow
}
