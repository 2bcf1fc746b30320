// Event delivery through the 64-bit IDT (SDM Vol. 3A 6.14), segment
// descriptors from the GDT/LDT, and the double-fault rules (Table 6-5).
import * as S from "./state";
import { setGpr, gpr, RSP, cpl, rip, segBase, setSegBase, segSel, setSegSel, setSegAr, setSegLimit, segAr,
  idtrBase, idtrLimit, gdtrBase, gdtrLimit, cr2, F_TF, F_NT, F_RF, F_VM, F_IF } from "./state";
import { stop, raise, faultVec, faultErr, faultHasErr, faultType, faultCr2, clearStop } from "./fault";
import { readSys, translate, ACC_WRITE, isCanonical, tlbSelect } from "./mmu";
import { getRflags, setRflags } from "./flags";

/** Reads the 8-byte descriptor for a selector; raises #GP(selector) if beyond the table. */
export function readDescriptor(sel: u32, err: u32): u64 {
  const ti = (sel & 4) != 0;
  const base = ti ? segBase(S.LDTR) : gdtrBase;
  const limit: u32 = ti ? S.segLimit(S.LDTR) : gdtrLimit;
  if ((sel | 7) > limit) { raise(13, err, true); return 0; }
  return readSys(base + <u64>(sel & ~7), 8);
}

/** Descriptor -> VMCS access-rights format (type, S, DPL, P, AVL, L, D/B, G). */
export function arOf(d: u64): u32 { return <u32>((d >> 40) & 0xff) | (<u32>((d >> 52) & 0xf) << 12); }
export function baseOf(d: u64): u64 { return ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24); }
export function limitOf(d: u64): u32 {
  let l = <u32>(d & 0xffff) | (<u32>((d >> 48) & 0xf) << 16);
  if ((d & (<u64>1 << 55)) != 0) l = (l << 12) | 0xfff;
  return l;
}

export function loadSeg(s: i32, sel: u32, d: u64): void {
  setSegSel(s, <u16>sel);
  if ((sel & ~3) == 0 && s != S.CS) { setSegAr(s, 0x10000 | ((<u32>cpl & 3) << 5)); setSegBase(s, 0); setSegLimit(s, 0); return; }
  setSegAr(s, arOf(d)); setSegLimit(s, limitOf(d));
  if (s == S.FS || s == S.GS || s == S.LDTR || s == S.TR) setSegBase(s, baseOf(d)); else setSegBase(s, 0);
}

export function setCpl(n: i32): void { S.cpl = n; tlbSelect(); }

// Exception classes for the double-fault rules.
@inline function contributory(v: i32): bool { return v == 0 || (v >= 10 && v <= 13); }

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
  const soft = type == 4 || type == 5 || type == 6;
  const ext: u32 = soft ? 0 : 1;
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
