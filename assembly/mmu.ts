// Linear -> guest-physical translation by the guest's 4-level page tables
// (SDM Vol. 3A ch. 4.5), guest-physical -> host-physical (identity until EPT is
// enabled; the hook is gpaToHpa), and a software TLB in front of both.
import { MACHINE_BASE, TLB, TLB_ENTRIES, TLB_SET_BYTES, TLB_BYTES, DUMMY_READ, DUMMY_WRITE, CODEMAP, CODEMAP_BYTES,
  EPT_VIEWS, EPT_VIEWS_BYTES } from "./layout";
import { cr0, cr3, cr4, efer, cpl, CR0_PG, CR0_WP, CR4_SMEP, EFER_NXE, F_AC } from "./state";
import { raise, raisePF, stop } from "./fault";
import { eptOn, eptp, eptTranslate, eptSetMachineSize, eptProbe } from "./ept";
import { codeEpoch, dropBlocksOnPage } from "./codepages";
import { mmioEmulating, mmioRouting, mmioClaim, mmioRead, mmioWrite } from "./mmio";

export let machineSize: u64 = 0;
export const MAXPHYADDR: u32 = 46;
const PHYS_MASK: u64 = ((<u64>1 << MAXPHYADDR) - 1) & ~(<u64>0xfff);

export const ACC_READ = 0;
export const ACC_WRITE = 1;
export const ACC_FETCH = 2;

// TLB sets: [supervisor read, write, fetch, user read, write, fetch]
export let tlbR: usize = TLB;
export let tlbW: usize = TLB + TLB_SET_BYTES;
export let tlbX: usize = TLB + 2 * TLB_SET_BYTES;

/**
 * Generation of all decoded code; bumping it empties the decoded-block cache (a cost, a breakpoint
 * changed, a host write of unknown extent). Guest writes and TLB flushes do not: code is tracked by
 * machine page (codepages.ts).
 */
export let dgen: u32 = 1;
/** Stack-segment access in progress (#SS instead of #GP on a non-canonical address). */
export let ssAccess: bool = false;

export function setMachineSize(bytes: u64): void { machineSize = bytes; eptSetMachineSize(bytes); }

// TLB entries are tagged with the EPT view they were filled under (bits 63:52 of
// the tag), so VMFUNC can switch views without a flush (SDM 29.4.1: combined
// mappings are associated with the EP4TA).
const VIEW_SLOTS: i32 = 15;
let viewNext: i32 = 0;
export let viewTag: u32 = 0;
export let tlbBias: u64 = 1;

/** Selects the TLB tag for the active EPT pointer (0 without EPT). */
export function selectView(): void {
  codeEpoch++; // the run loop's last fetch translation was this view's
  if (!eptOn) { viewTag = 0; tlbBias = 1; return; }
  const root = eptp & 0x00003ffffffff000;
  for (let i = 0; i < VIEW_SLOTS; i++) {
    if (load<u64>(EPT_VIEWS + (<usize>i << 3)) == root + 1) { viewTag = <u32>(i + 1); tlbBias = 1 + (<u64>viewTag << 52); return; }
  }
  // A new root: take the next slot round-robin and drop whatever the TLB held for it.
  const slot = viewNext; viewNext = (viewNext + 1) % VIEW_SLOTS;
  if (load<u64>(EPT_VIEWS + (<usize>slot << 3)) != 0) tlbFlushAll();
  store<u64>(EPT_VIEWS + (<usize>slot << 3), root + 1);
  viewTag = <u32>(slot + 1); tlbBias = 1 + (<u64>viewTag << 52);
}
/** INVEPT (all contexts): the host edited EPT entries. */
export function invept(): void {
  memory.fill(EPT_VIEWS, 0, EPT_VIEWS_BYTES);
  tlbFlushAll();
  selectView();
}

/** Selects the TLB sets of the current privilege level. */
export function tlbSelect(): void {
  codeEpoch++; // the run loop's last fetch translation was this privilege's
  const base = TLB + (cpl == 3 ? 3 * TLB_SET_BYTES : 0);
  tlbR = base; tlbW = base + TLB_SET_BYTES; tlbX = base + 2 * TLB_SET_BYTES;
}

export function tlbFlushAll(): void {
  memory.fill(TLB, 0, TLB_BYTES);
  codeEpoch++;
}

export function tlbFlushWrites(): void {
  memory.fill(TLB + TLB_SET_BYTES, 0, TLB_SET_BYTES);
  memory.fill(TLB + 4 * TLB_SET_BYTES, 0, TLB_SET_BYTES);
}

export function tlbFlushPage(la: u64): void {
  const idx = (<usize>(la >> 12) & (TLB_ENTRIES - 1)) << 4;
  for (let s = 0; s < 6; s++) store<u64>(TLB + <usize>s * TLB_SET_BYTES + idx, 0);
  codeEpoch++;
}

@inline export function isCanonical(la: u64): bool {
  return <u64>((<i64>(la << 16)) >> 16) == la;
}

// ---- physical memory ------------------------------------------------------

/** Wasm address of a guest-physical page for a data access, or a dummy page. */
@inline function hostPage(gpa: u64, write: bool): usize {
  if (gpa >= machineSize) return write ? DUMMY_WRITE : DUMMY_READ;
  return MACHINE_BASE + <usize>(gpa & ~(<u64>0xfff));
}

/** Guest-physical -> host-physical. Identity until EPT; returns ~0 after a fault/exit. */
@inline export function gpaToHpa(gpa: u64, kind: i32, la: u64, laValid: bool, paging: bool): u64 {
  if (!eptOn) return gpa;
  return eptTranslate(gpa, kind, la, laValid, paging, machineSize);
}

export function physRead64(gpa: u64): u64 {
  if (gpa + 8 > machineSize) return 0xffffffffffffffff;
  return load<u64>(MACHINE_BASE + <usize>gpa);
}
export function physWrite64(gpa: u64, v: u64): void {
  if (gpa + 8 > machineSize) return;
  store<u64>(MACHINE_BASE + <usize>gpa, v);
}

// ---- code pages (self-modifying code) -------------------------------------

@inline export function isCodeFrame(frame: u64): bool {
  return (load<u8>(CODEMAP + <usize>(frame >> 3)) & (<u8>1 << <u8>(frame & 7))) != 0;
}
export function markCodeFrame(frame: u64): void {
  if (frame >= (machineSize >> 12) || isCodeFrame(frame)) return;
  const p = CODEMAP + <usize>(frame >> 3);
  store<u8>(p, load<u8>(p) | (<u8>1 << <u8>(frame & 7)));
  tlbFlushWrites(); // writes to this frame must take the slow path from now on
}
/** A write reached a frame holding decoded instructions: drop the blocks decoded from it. */
function codeWritten(frame: u64): void {
  const p = CODEMAP + <usize>(frame >> 3);
  store<u8>(p, load<u8>(p) & ~(<u8>1 << <u8>(frame & 7)));
  dropBlocksOnPage(<u32>((MACHINE_BASE >> 12) + <usize>frame));
}
/** The host wrote machine memory behind the CPU's back, anywhere (loader, DMA). */
export function hostWroteMemory(): void {
  memory.fill(CODEMAP, 0, CODEMAP_BYTES);
  dgen++;
  tlbFlushAll();
}
/** The host wrote machine memory [hpa, hpa+len): drop the blocks on those frames, and the TLB. */
export function hostWroteRange(hpa: u64, len: u64): void {
  if (len > 0) {
    const last = (hpa + len - 1) >> 12, limit = machineSize >> 12;
    for (let f = hpa >> 12; f <= last && f < limit; f++) if (isCodeFrame(f)) codeWritten(f);
  }
  tlbFlushAll();
}

// ---- the page walk --------------------------------------------------------

/**
 * Translates a linear address; on success fills the TLB and returns the
 * Wasm address of the byte. On failure raises #PF/#GP/#SS and returns 0.
 * `user` is the privilege of the access (implicit supervisor accesses pass false).
 */
export function translate(la: u64, kind: i32, user: bool, fill: bool): usize {
  if (!isCanonical(la)) {
    if (ssAccess) raise(12, 0, true); else raise(13, 0, true);
    return 0;
  }
  let gpa: u64;
  let allowW = true, allowU = true, allowX = true;
  let pageMask: u64 = 0xfff;
  let e4: u64 = 0, e3: u64 = 0, e2: u64 = 0, e1: u64 = 0; // entry addresses used
  let leafAddr: u64 = 0;
  if ((cr0 & CR0_PG) == 0) {
    gpa = la;
  } else {
    const nxe = (efer & EFER_NXE) != 0;
    const rsvdHigh: u64 = (~PHYS_MASK & 0x000ffffffffff000) | (nxe ? 0 : 0x8000000000000000);
    let table = cr3 & PHYS_MASK;
    let level = 4;
    let entry: u64 = 0;
    let entryAddr: u64 = 0;
    while (true) {
      const idx = (la >> (12 + 9 * <u64>(level - 1))) & 511;
      entryAddr = gpaToHpa(table + (idx << 3), ACC_READ, la, true, true);
      if (stop) return 0;
      entry = physRead64(entryAddr);
      if (level == 4) e4 = entryAddr; else if (level == 3) e3 = entryAddr; else if (level == 2) e2 = entryAddr; else e1 = entryAddr;
      let ec: u32 = (kind == ACC_WRITE ? 2 : 0) | (user ? 4 : 0) | (kind == ACC_FETCH && (nxe || (cr4 & CR4_SMEP) != 0) ? 16 : 0);
      if ((entry & 1) == 0) { raisePF(la, ec); return 0; }
      let rsvd = (entry & rsvdHigh) != 0;
      if (level == 4 && (entry & 0x80) != 0) rsvd = true;
      if (level == 3 && (entry & 0x80) != 0 && (entry & 0x3fffe000) != 0) rsvd = true;
      if (level == 2 && (entry & 0x80) != 0 && (entry & 0x1fe000) != 0) rsvd = true;
      if (rsvd) { raisePF(la, ec | 1 | 8); return 0; }
      if ((entry & 2) == 0) allowW = false;
      if ((entry & 4) == 0) allowU = false;
      if (nxe && (entry >> 63) != 0) allowX = false;
      if (level == 1 || (level <= 3 && (entry & 0x80) != 0)) break;
      table = entry & PHYS_MASK;
      level--;
    }
    leafAddr = entryAddr;
    pageMask = level == 3 ? 0x3fffffff : level == 2 ? 0x1fffff : 0xfff;
    // Permission checks (SDM 4.6).
    let ok = true;
    if (user && !allowU) ok = false;
    if (kind == ACC_WRITE && !allowW && (user || (cr0 & CR0_WP) != 0)) ok = false;
    if (kind == ACC_FETCH) {
      if (!allowX) ok = false;
      if (!user && allowU && (cr4 & CR4_SMEP) != 0) ok = false;
    }
    if (!ok) {
      const ec: u32 = 1 | (kind == ACC_WRITE ? 2 : 0) | (user ? 4 : 0) | (kind == ACC_FETCH && (nxe || (cr4 & CR4_SMEP) != 0) ? 16 : 0);
      raisePF(la, ec);
      return 0;
    }
    // Accessed flags on every entry used, dirty on the leaf for a write (SDM 4.8).
    if (e4 != 0) setBits(e4, 0x20);
    if (e3 != 0) setBits(e3, 0x20);
    if (e2 != 0) setBits(e2, 0x20);
    if (e1 != 0) setBits(e1, 0x20);
    if (kind == ACC_WRITE) setBits(leafAddr, 0x40);
    const leaf = physRead64(leafAddr);
    gpa = (leaf & PHYS_MASK & ~pageMask) | (la & pageMask);
  }
  if (mmioRouting && mmioClaim(gpa, kind)) return 0; // MMIO emulation: the host serves it (mmio.ts)
  const hpa = gpaToHpa(gpa, kind, la, true, false);
  if (stop) return 0;
  const frame = hpa >> 12;
  if (kind == ACC_WRITE && frame < (machineSize >> 12) && isCodeFrame(frame)) codeWritten(frame);
  const page = hostPage(hpa, kind == ACC_WRITE);
  if (fill) {
    // A write fill also serves reads: D is set now, so later writes need no walk.
    const idx = (<usize>(la >> 12) & (TLB_ENTRIES - 1)) << 4;
    const setBase = TLB + (user ? 3 * TLB_SET_BYTES : 0) + <usize>kind * TLB_SET_BYTES;
    store<u64>(setBase + idx, (la >> 12) + tlbBias);
    store<u64>(setBase + idx, <u64>page, 8);
    if (kind == ACC_WRITE) {
      const rBase = TLB + (user ? 3 * TLB_SET_BYTES : 0);
      store<u64>(rBase + idx, (la >> 12) + tlbBias);
      store<u64>(rBase + idx, <u64>(hostPage(hpa, false)), 8);
    }
  }
  return page + <usize>(la & 0xfff);
}

@inline function setBits(addr: u64, bits: u64): void {
  const v = physRead64(addr);
  if ((v & bits) != bits) physWrite64(addr, v | bits);
}

// ---- data accesses --------------------------------------------------------

@inline function userAccess(): bool { return cpl == 3; }

function readSlow(la: u64, size: i32, kind: i32): u64 {
  const user = userAccess();
  if (!isCanonical(la) || !isCanonical(la + <u64>size - 1)) {
    if (ssAccess) raise(12, 0, true); else raise(13, 0, true);
    return 0;
  }
  if (mmioEmulating) return mmioRead(la, size, kind);
  if ((la & 0xfff) + <u64>size <= 0x1000) {
    const p = translate(la, kind, user, true);
    if (stop) return 0;
    switch (size) {
      case 1: return <u64>load<u8>(p);
      case 2: return <u64>load<u16>(p);
      case 4: return <u64>load<u32>(p);
    }
    return load<u64>(p);
  }
  // Crosses a page: translate both pages before touching anything.
  const n1 = <i32>(0x1000 - (la & 0xfff));
  const p1 = translate(la, kind, user, true);
  if (stop) return 0;
  const p2 = translate(la + <u64>n1, kind, user, true);
  if (stop) return 0;
  let v: u64 = 0;
  for (let i = 0; i < size; i++) {
    const b = i < n1 ? load<u8>(p1 + <usize>i) : load<u8>(p2 + <usize>(i - n1));
    v |= <u64>b << (<u64>i * 8);
  }
  return v;
}

function writeSlow(la: u64, size: i32, v: u64): void {
  const user = userAccess();
  if (!isCanonical(la) || !isCanonical(la + <u64>size - 1)) {
    if (ssAccess) raise(12, 0, true); else raise(13, 0, true);
    return;
  }
  if (mmioEmulating) { mmioWrite(la, size, v); return; }
  if ((la & 0xfff) + <u64>size <= 0x1000) {
    const p = translate(la, ACC_WRITE, user, true);
    if (stop) return;
    switch (size) {
      case 1: store<u8>(p, <u8>v); break;
      case 2: store<u16>(p, <u16>v); break;
      case 4: store<u32>(p, <u32>v); break;
      default: store<u64>(p, v);
    }
    return;
  }
  const n1 = <i32>(0x1000 - (la & 0xfff));
  const p1 = translate(la, ACC_WRITE, user, true);
  if (stop) return;
  const p2 = translate(la + <u64>n1, ACC_WRITE, user, true);
  if (stop) return;
  for (let i = 0; i < size; i++) {
    const b = <u8>(v >> (<u64>i * 8));
    if (i < n1) store<u8>(p1 + <usize>i, b); else store<u8>(p2 + <usize>(i - n1), b);
  }
}

/** Read of `size` bytes (1, 2, 4, 8) at a linear address, through the TLB. */
@inline export function readMem(la: u64, size: i32): u64 {
  const e = tlbR + ((<usize>(la >> 12) & (TLB_ENTRIES - 1)) << 4);
  if (load<u64>(e) == (la >> 12) + tlbBias && (la & 0xfff) <= <u64>(0x1000 - size)) {
    const p = <usize>load<u64>(e, 8) + <usize>(la & 0xfff);
    switch (size) {
      case 1: return <u64>load<u8>(p);
      case 2: return <u64>load<u16>(p);
      case 4: return <u64>load<u32>(p);
    }
    return load<u64>(p);
  }
  return readSlow(la, size, ACC_READ);
}

/** Read with write intent (the first access of a read-modify-write). */
@inline export function readMemW(la: u64, size: i32): u64 {
  const e = tlbW + ((<usize>(la >> 12) & (TLB_ENTRIES - 1)) << 4);
  if (load<u64>(e) == (la >> 12) + tlbBias && (la & 0xfff) <= <u64>(0x1000 - size)) {
    const p = <usize>load<u64>(e, 8) + <usize>(la & 0xfff);
    switch (size) {
      case 1: return <u64>load<u8>(p);
      case 2: return <u64>load<u16>(p);
      case 4: return <u64>load<u32>(p);
    }
    return load<u64>(p);
  }
  return readSlow(la, size, ACC_WRITE);
}

@inline export function writeMem(la: u64, size: i32, v: u64): void {
  const e = tlbW + ((<usize>(la >> 12) & (TLB_ENTRIES - 1)) << 4);
  if (load<u64>(e) == (la >> 12) + tlbBias && (la & 0xfff) <= <u64>(0x1000 - size)) {
    const p = <usize>load<u64>(e, 8) + <usize>(la & 0xfff);
    switch (size) {
      case 1: store<u8>(p, <u8>v); break;
      case 2: store<u16>(p, <u16>v); break;
      case 4: store<u32>(p, <u32>v); break;
      default: store<u64>(p, v);
    }
    return;
  }
  writeSlow(la, size, v);
}

/** Supervisor-mode (implicit) accesses to system structures: GDT, IDT, TSS. */
export function readSys(la: u64, size: i32): u64 {
  let v: u64 = 0;
  for (let i = 0; i < size; i++) {
    const p = translate(la + <u64>i, ACC_READ, false, false);
    if (stop) return 0;
    v |= <u64>load<u8>(p) << (<u64>i * 8);
  }
  return v;
}
export function writeSys(la: u64, size: i32, v: u64): void {
  for (let i = 0; i < size; i++) {
    const p = translate(la + <u64>i, ACC_WRITE, false, false);
    if (stop) return;
    store<u8>(p, <u8>(v >> (<u64>i * 8)));
  }
}

/** Instruction fetch of one byte (decoder only). Returns the byte; marks the frame as code. */
export function fetchByte(la: u64): u32 {
  const e = tlbX + ((<usize>(la >> 12) & (TLB_ENTRIES - 1)) << 4);
  let p: usize;
  if (load<u64>(e) == (la >> 12) + tlbBias) {
    p = <usize>load<u64>(e, 8) + <usize>(la & 0xfff);
  } else {
    p = translate(la, ACC_FETCH, userAccess(), true);
    if (stop) return 0;
  }
  if (p >= MACHINE_BASE) {
    const frame = <u64>(p - MACHINE_BASE) >> 12;
    if (!isCodeFrame(frame)) markCodeFrame(frame);
  }
  return <u32>load<u8>(p);
}

/**
 * Host-side page walk for debuggers and VMI: the guest-physical address of
 * `la` under the current CR3, or -1 if it is not mapped. Paging structures
 * are read through the active EPT view; nothing is written (no A/D flags).
 */
export function probeLinear(la: u64): i64 {
  if (!isCanonical(la)) return -1;
  if ((cr0 & CR0_PG) == 0) return <i64>la;
  let table = cr3 & PHYS_MASK;
  for (let level = 4; level >= 1; level--) {
    const gpaE = table + (((la >> (12 + 9 * <u64>(level - 1))) & 511) << 3);
    const hpaE: i64 = eptOn ? eptProbe(eptp, gpaE, ACC_READ, machineSize) : <i64>gpaE;
    if (hpaE < 0 || <u64>hpaE + 8 > machineSize) return -1;
    const entry = physRead64(<u64>hpaE);
    if ((entry & 1) == 0) return -1;
    if (level == 1 || (level <= 3 && (entry & 0x80) != 0)) {
      const mask: u64 = level == 3 ? 0x3fffffff : level == 2 ? 0x1fffff : 0xfff;
      return <i64>((entry & PHYS_MASK & ~mask) | (la & mask));
    }
    table = entry & PHYS_MASK;
  }
  return -1;
}
