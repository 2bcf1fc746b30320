// System instructions and the instructions that VM-exit in VMX non-root
// operation (SDM Vol. 3C 26.1-26.2: unconditional and conditional exits;
// faults such as #UD and privilege #GP take priority over the exit).
import * as D from "./decode";
import * as S from "./state";
import * as V from "./vmcs";
import { gpr, setGpr, RAX, RCX, RDX, RSP, cpl, F_IF, F_IOPL, F_RF, F_TF, F_NT, F_VM, F_FIXED1 } from "./state";
import { stop, raise, raiseGP, raiseUD, raiseSoft, requestExit } from "./fault";
import { ea, readE, writeE, writeReg, readReg } from "./operand";
import { readMem, writeMem, physRead64, tlbFlushAll, tlbFlushPage, isCanonical, machineSize } from "./mmu";
import { getRflags, setRflags, rflagsRest } from "./flags";
import { readDescriptor, loadSeg, arOf, setCpl, limitOf } from "./events";
import { push, peek } from "./exec";
import { MACHINE_BASE } from "./layout";
import { eptpValid, eptSetPointer } from "./ept";
import { selectView } from "./mmu";

/**
 * VMFUNC (SDM Vol. 3C 26.5.6 and the VMFUNC instruction page): #UD unless VM
 * functions are enabled and EAX < 64; exit 59 when the function is not enabled
 * in the VM-function controls, ECX >= 512, or the list entry is not a valid
 * EPTP; otherwise leaf 0 loads the EPTP from the list without a VM exit.
 */
function execVmfunc(): void {
  const leaf = gpr(RAX) & 0xffffffff;
  if ((secondary() & V.SEC_ENABLE_VMFUNC) == 0 || leaf >= 64) { raiseUD(); return; }
  if (((V.vmcsGet(V.VM_FUNCTION_CONTROL) >> leaf) & 1) == 0 || leaf != 0) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  const index = gpr(RCX) & 0xffffffff;
  if (index >= 512) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  const listAddr = V.vmcsGet(V.EPTP_LIST_ADDR) & ~(<u64>0xfff);
  if (listAddr + 4096 > machineSize) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  const next = physRead64(listAddr + (index << 3));
  if (!eptpValid(next)) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  V.vmcsSet(V.EPT_POINTER, next);
  V.vmcsSet(V.EPTP_INDEX, index);
  eptSetPointer(next);
  selectView(); // the new view's TLB entries are tagged apart: no flush
}

@inline function primary(): u32 { return V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL); }
@inline function secondary(): u32 {
  const p = primary();
  return (p & V.CPU_ACTIVATE_SECONDARY) != 0 ? V.vmcsGet32(V.SECONDARY_VM_EXEC_CONTROL) : 0;
}
@inline function iopl(): i32 { return <i32>((rflagsRest >> 12) & 3); }

/** The guest's TSC: virtual cycles plus the TSC offset when offsetting is on (SDM 25.6.5). */
export function guestTsc(): u64 {
  let t = S.vcycles;
  if ((primary() & V.CPU_USE_TSC_OFFSETTING) != 0) t += V.vmcsGet(V.TSC_OFFSET);
  return t;
}

export function execSystem(e: usize, op: i32, size: i32): void {
  switch (op) {
    case D.OP_CPUID: requestExit(V.EXIT_REASON_CPUID, 0); return;
    case D.OP_VMCALL: requestExit(V.EXIT_REASON_VMCALL, 0); return;
    case D.OP_VMX: requestExit(<i32>load<u64>(e, D.D_IMM), 0); return;
    // INVD and XSETBV exit unconditionally, but their #UD/#GP checks come first (SDM 26.1.1).
    case D.OP_INVD: if (cpl != 0) { raiseGP(0); return; } requestExit(V.EXIT_REASON_INVD, 0); return;
    case D.OP_XSETBV: {
      if ((S.cr4 & S.CR4_OSXSAVE) == 0) { raiseUD(); return; }
      if (cpl != 0) { raiseGP(0); return; }
      requestExit(V.EXIT_REASON_XSETBV, 0); return;
    }
    case D.OP_XGETBV: {
      if ((S.cr4 & S.CR4_OSXSAVE) == 0) { raiseUD(); return; }
      if ((gpr(RCX) & 0xffffffff) != 0) { raiseGP(0); return; }
      setGpr(RAX, S.xcr0 & 0xffffffff); setGpr(RDX, S.xcr0 >> 32); return;
    }
    case D.OP_RDTSC: {
      if ((S.cr4 & 4) != 0 && cpl > 0) { raiseGP(0); return; } // CR4.TSD
      if ((primary() & V.CPU_RDTSC_EXITING) != 0) { requestExit(V.EXIT_REASON_RDTSC, 0); return; }
      const t = guestTsc();
      setGpr(RAX, t & 0xffffffff); setGpr(RDX, t >> 32); return;
    }
    case D.OP_RDTSCP: {
      if ((secondary() & V.SEC_ENABLE_RDTSCP) == 0) { raiseUD(); return; }
      if ((S.cr4 & 4) != 0 && cpl > 0) { raiseGP(0); return; }
      if ((primary() & V.CPU_RDTSC_EXITING) != 0) { requestExit(V.EXIT_REASON_RDTSCP, 0); return; }
      const t = guestTsc();
      setGpr(RAX, t & 0xffffffff); setGpr(RDX, t >> 32); setGpr(RCX, S.msrTscAux & 0xffffffff); return;
    }
    case D.OP_RDMSR: case D.OP_WRMSR: execMsr(op == D.OP_WRMSR); return;
    case D.OP_HLT: {
      if (cpl != 0) { raiseGP(0); return; }
      if ((primary() & V.CPU_HLT_EXITING) != 0) { requestExit(V.EXIT_REASON_HLT, 0); return; }
      halted = true; requestExit(V.EXIT_REASON_PREEMPTION_TIMER, 0); return; // see vmx.ts handleStop
    }
    case D.OP_CLI: {
      if (cpl > iopl()) { raiseGP(0); return; }
      rflagsRest &= ~F_IF; return;
    }
    case D.OP_STI: {
      if (cpl > iopl()) { raiseGP(0); return; }
      if ((rflagsRest & F_IF) == 0) { S.intrShadow |= 1; S.shadowAge = 2; }
      rflagsRest |= F_IF; return;
    }
    case D.OP_IN: case D.OP_OUT: execIo(e, op == D.OP_IN, size); return;
    case D.OP_INS: case D.OP_OUTS: execStringIo(e, op == D.OP_INS, size); return;
    case D.OP_INT: raiseSoft(<i32>load<u64>(e, D.D_IMM), 4); return;
    case D.OP_INT3: raiseSoft(3, 6); return;
    case D.OP_IRET: execIret(size); return;
    case D.OP_SYSCALL: execSyscall(); return;
    case D.OP_SYSRET: execSysret(e); return;
    case D.OP_SWAPGS: {
      if (cpl != 0) { raiseGP(0); return; }
      const t = S.segBase(S.GS); S.setSegBase(S.GS, S.msrKernelGsBase); S.msrKernelGsBase = t; return;
    }
    case D.OP_MOV_R_CR: case D.OP_MOV_CR_R: execMovCr(e, op == D.OP_MOV_CR_R); return;
    case D.OP_MOV_R_DR: case D.OP_MOV_DR_R: execMovDr(e, op == D.OP_MOV_DR_R); return;
    case D.OP_CLTS: {
      if (cpl != 0) { raiseGP(0); return; }
      const mask = V.vmcsGet(V.CR0_GUEST_HOST_MASK), shadow = V.vmcsGet(V.CR0_READ_SHADOW);
      if ((mask & S.CR0_TS) != 0 && (shadow & S.CR0_TS) != 0) { requestExit(V.EXIT_REASON_CR_ACCESS, 2 << 4); return; }
      S.cr0 &= ~S.CR0_TS; return;
    }
    case D.OP_SMSW: writeE(e, size, S.cr0 & 0xffff); return;
    case D.OP_LMSW: {
      if (cpl != 0) { raiseGP(0); return; }
      const v = readE(e, 2); if (stop) return;
      // LMSW changes PE, MP, EM, TS only and cannot clear PE.
      S.cr0 = (S.cr0 & ~(<u64>0xe)) | (v & 0xf) | (S.cr0 & 1);
      return;
    }
    case D.OP_LGDT: case D.OP_LIDT: {
      if (cpl != 0) { raiseGP(0); return; }
      const a = ea(e);
      const limit = readMem(a, 2); if (stop) return;
      const base = readMem(a + 2, 8); if (stop) return;
      if (!isCanonical(base)) { raiseGP(0); return; }
      if (op == D.OP_LGDT) { S.gdtrBase = base; S.gdtrLimit = <u32>limit; }
      else { S.idtrBase = base; S.idtrLimit = <u32>limit; }
      return;
    }
    case D.OP_SGDT: case D.OP_SIDT: {
      const a = ea(e);
      const isG = op == D.OP_SGDT;
      writeMem(a, 2, isG ? <u64>S.gdtrLimit : <u64>S.idtrLimit); if (stop) return;
      writeMem(a + 2, 8, isG ? S.gdtrBase : S.idtrBase);
      return;
    }
    case D.OP_LTR: case D.OP_LLDT: execLoadSystemSeg(e, op == D.OP_LTR); return;
    case D.OP_STR: writeE(e, load<u16>(e, D.D_RM) == D.RM_MEM ? 2 : size, <u64>S.segSel(S.TR)); return;
    case D.OP_SLDT: writeE(e, load<u16>(e, D.D_RM) == D.RM_MEM ? 2 : size, <u64>S.segSel(S.LDTR)); return;
    case D.OP_INVLPG: {
      if (cpl != 0) { raiseGP(0); return; }
      const a = ea(e);
      if ((primary() & V.CPU_INVLPG_EXITING) != 0) { requestExit(V.EXIT_REASON_INVLPG, a); return; }
      tlbFlushPage(a); return;
    }
    case D.OP_WBINVD: {
      if (cpl != 0) { raiseGP(0); return; }
      if ((secondary() & V.SEC_WBINVD_EXITING) != 0) requestExit(V.EXIT_REASON_WBINVD, 0);
      return;
    }
    case D.OP_VMFUNC: execVmfunc(); return;
    case D.OP_MOV_SREG_E: execMovSreg(e); return;
    case D.OP_MOV_E_SREG: writeE(e, size, <u64>S.segSel(<i32>load<u8>(e, D.D_SUB))); return;
    case D.OP_PUSH_SREG: push(<u64>S.segSel(<i32>load<u8>(e, D.D_SUB)), size); return;
    case D.OP_POP_SREG: {
      const v = peek(0, size); if (stop) return;
      loadDataSeg(<i32>load<u8>(e, D.D_SUB), <u32>v & 0xffff); if (stop) return;
      setGpr(RSP, gpr(RSP) + <u64>size); return;
    }
  }
  raiseUD();
}

/** HLT without HLT exiting: the logical processor enters the HLT activity state. */
export let halted: bool = false;

// ---- MSRs (SDM 25.6.9 MSR bitmaps) ------------------------------------------
function msrExits(msr: u32, write: bool): bool {
  if ((primary() & V.CPU_USE_MSR_BITMAPS) == 0) return true;
  let off: u64;
  if (msr <= 0x1fff) off = 0;
  else if (msr >= 0xc0000000 && msr <= 0xc0001fff) off = 1024;
  else return true;
  if (write) off += 2048;
  const bit = <u64>(msr & 0x1fff);
  const addr = V.vmcsGet(V.MSR_BITMAP) + off + (bit >> 3);
  if (addr >= machineSize) return true;
  return ((load<u8>(MACHINE_BASE + <usize>addr) >> <u8>(bit & 7)) & 1) != 0;
}

function execMsr(write: bool): void {
  if (cpl != 0) { raiseGP(0); return; }
  const msr = <u32>gpr(RCX);
  if (msrExits(msr, write)) { requestExit(write ? V.EXIT_REASON_MSR_WRITE : V.EXIT_REASON_MSR_READ, 0); return; }
  if (write) {
    const v = (gpr(RDX) << 32) | (gpr(RAX) & 0xffffffff);
    wrmsr(msr, v);
  } else {
    if (!msrReadable(msr)) { raiseGP(0); return; }
    const v = rdmsr(msr);
    setGpr(RAX, v & 0xffffffff); setGpr(RDX, v >> 32);
  }
}

function msrReadable(msr: u32): bool {
  switch (msr) {
    case S.MSR_IA32_TSC: case S.MSR_IA32_APIC_BASE: case S.MSR_IA32_SYSENTER_CS: case S.MSR_IA32_SYSENTER_ESP:
    case S.MSR_IA32_SYSENTER_EIP: case S.MSR_IA32_MISC_ENABLE: case S.MSR_IA32_PAT: case S.MSR_EFER:
    case S.MSR_STAR: case S.MSR_LSTAR: case S.MSR_CSTAR: case S.MSR_SYSCALL_MASK: case S.MSR_FS_BASE:
    case S.MSR_GS_BASE: case S.MSR_KERNEL_GS_BASE: case S.MSR_TSC_AUX: return true;
  }
  return false;
}

/** RDMSR of an MSR the CPU implements itself (callable by the host as well). */
export function rdmsr(msr: u32): u64 {
  switch (msr) {
    case S.MSR_IA32_TSC: return guestTsc();
    case S.MSR_IA32_APIC_BASE: return S.msrApicBase;
    case S.MSR_IA32_SYSENTER_CS: return S.msrSysenterCs;
    case S.MSR_IA32_SYSENTER_ESP: return S.msrSysenterEsp;
    case S.MSR_IA32_SYSENTER_EIP: return S.msrSysenterEip;
    case S.MSR_IA32_MISC_ENABLE: return S.msrMiscEnable;
    case S.MSR_IA32_PAT: return S.msrPat;
    case S.MSR_EFER: return S.efer;
    case S.MSR_STAR: return S.msrStar;
    case S.MSR_LSTAR: return S.msrLstar;
    case S.MSR_CSTAR: return S.msrCstar;
    case S.MSR_SYSCALL_MASK: return S.msrFmask;
    case S.MSR_FS_BASE: return S.segBase(S.FS);
    case S.MSR_GS_BASE: return S.segBase(S.GS);
    case S.MSR_KERNEL_GS_BASE: return S.msrKernelGsBase;
    case S.MSR_TSC_AUX: return S.msrTscAux;
  }
  return 0;
}

/** WRMSR with the architectural checks (#GP on reserved bits / non-canonical bases). */
export function wrmsr(msr: u32, v: u64): void {
  switch (msr) {
    case S.MSR_IA32_SYSENTER_CS: S.msrSysenterCs = v & 0xffffffff; return;
    case S.MSR_IA32_SYSENTER_ESP: if (!isCanonical(v)) break; S.msrSysenterEsp = v; return;
    case S.MSR_IA32_SYSENTER_EIP: if (!isCanonical(v)) break; S.msrSysenterEip = v; return;
    case S.MSR_IA32_PAT: S.msrPat = v; return;
    case S.MSR_IA32_APIC_BASE: S.msrApicBase = v; return;
    case S.MSR_EFER: {
      if ((v & ~(<u64>0xd01)) != 0) break; // SCE, LME, LMA (read-only), NXE
      // LME cannot change while paging is on; LMA is kept.
      if (((v ^ S.efer) & S.EFER_LME) != 0 && (S.cr0 & S.CR0_PG) != 0) break;
      S.efer = (v & ~S.EFER_LMA) | (S.efer & S.EFER_LMA);
      tlbFlushAll();
      return;
    }
    case S.MSR_STAR: S.msrStar = v; return;
    case S.MSR_LSTAR: if (!isCanonical(v)) break; S.msrLstar = v; return;
    case S.MSR_CSTAR: if (!isCanonical(v)) break; S.msrCstar = v; return;
    case S.MSR_SYSCALL_MASK: S.msrFmask = v & 0xffffffff; return;
    case S.MSR_FS_BASE: if (!isCanonical(v)) break; S.setSegBase(S.FS, v); return;
    case S.MSR_GS_BASE: if (!isCanonical(v)) break; S.setSegBase(S.GS, v); return;
    case S.MSR_KERNEL_GS_BASE: if (!isCanonical(v)) break; S.msrKernelGsBase = v; return;
    case S.MSR_TSC_AUX: if ((v >> 32) != 0) break; S.msrTscAux = v; return;
  }
  raiseGP(0);
}

// ---- I/O (SDM 25.1.3, 26.1.3; exit qualification Table 28-5) ----------------
function execIo(e: usize, isIn: bool, size: i32): void {
  const dx = load<u8>(e, D.D_SUB) == 1;
  const port = dx ? <u32>(gpr(RDX) & 0xffff) : <u32>load<u64>(e, D.D_IMM);
  if (cpl > iopl()) { raiseGP(0); return; } // no TSS I/O bitmap: CPL > IOPL faults
  const exits = ioExits(port, size);
  if (exits) {
    const qual: u64 = <u64>(size - 1) | (isIn ? 8 : 0) | (dx ? 0 : 64) | (<u64>port << 16);
    requestExit(V.EXIT_REASON_IO_INSTRUCTION, qual);
    return;
  }
  // No device answers on this CPU's own bus: reads float high, writes are dropped.
  if (isIn) writeReg(0, size, 0xffffffff);
}

/**
 * INS/OUTS: the same privilege and exit rules as IN/OUT; the exit qualification
 * marks a string instruction (bit 4) and REP (bit 5). Without an exit the
 * transfer runs against the empty bus (reads 0xFF...).
 */
function execStringIo(e: usize, isIn: bool, size: i32): void {
  const port = <u32>(gpr(RDX) & 0xffff);
  if (cpl > iopl()) { raiseGP(0); return; }
  const rep = (load<u8>(e, D.D_PFX) & (D.P_REP | D.P_REPNE)) != 0;
  if (ioExits(port, size)) {
    const qual: u64 = <u64>(size - 1) | (isIn ? 8 : 0) | 16 | (rep ? 32 : 0) | (<u64>port << 16);
    requestExit(V.EXIT_REASON_IO_INSTRUCTION, qual);
    V.vmcsSet(V.GUEST_LINEAR_ADDRESS, isIn ? gpr(7) : gpr(6));
    return;
  }
  const step: u64 = (rflagsRest & S.F_DF) != 0 ? <u64>(-size) : <u64>size;
  let n: u64 = rep ? gpr(RCX) : 1;
  while (n > 0) {
    if (isIn) { writeMem(gpr(7), size, 0xffffffff); if (stop) return; setGpr(7, gpr(7) + step); }
    else { readMem(gpr(6), size); if (stop) return; setGpr(6, gpr(6) + step); }
    n--;
    if (rep) setGpr(RCX, n);
  }
}

function ioExits(port: u32, size: i32): bool {
  const p = primary();
  let exits = (p & V.CPU_UNCOND_IO_EXITING) != 0;
  if ((p & V.CPU_USE_IO_BITMAPS) != 0) {
    exits = false;
    for (let i: u32 = 0; i < <u32>size; i++) {
      const q = (port + i) & 0xffff;
      if (port + i > 0xffff) return true;
      const bm = V.vmcsGet(q < 0x8000 ? V.IO_BITMAP_A : V.IO_BITMAP_B) + <u64>((q & 0x7fff) >> 3);
      if (bm >= machineSize || ((load<u8>(MACHINE_BASE + <usize>bm) >> <u8>(q & 7)) & 1) != 0) return true;
    }
  }
  return exits;
}

// ---- control and debug registers (SDM 25.6.6, 26.1.3; qualification Table 28-3) ----
function crExit(cr: u32, type: u32, gpr_: u32): void {
  requestExit(V.EXIT_REASON_CR_ACCESS, <u64>(cr | (type << 4) | (gpr_ << 8)));
}

function execMovCr(e: usize, toCr: bool): void {
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
      case 3: if ((p & V.CPU_CR3_STORE_EXITING) != 0) { crExit(3, 1, r); return; } v = S.cr3; break;
      case 4: { const m = V.vmcsGet(V.CR4_GUEST_HOST_MASK); v = (S.cr4 & ~m) | (V.vmcsGet(V.CR4_READ_SHADOW) & m); break; }
      default: if ((p & V.CPU_CR8_STORE_EXITING) != 0) { crExit(8, 1, r); return; } v = S.cr8; break;
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
      if ((p & V.CPU_CR3_LOAD_EXITING) != 0) {
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
      if ((p & V.CPU_CR8_LOAD_EXITING) != 0) { crExit(8, 0, r); return; }
      if ((v >> 4) != 0) { raiseGP(0); return; }
      S.cr8 = v; return;
  }
}

function execMovDr(e: usize, toDr: bool): void {
  let dr = <u32>load<u8>(e, D.D_SUB);
  const r = <u32>load<u8>(e, D.D_RMNUM);
  if (dr > 7) { raiseUD(); return; }
  if (cpl != 0) { raiseGP(0); return; }
  if ((primary() & V.CPU_MOV_DR_EXITING) != 0) {
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

// ---- segments ----------------------------------------------------------------
/** MOV/POP to DS, ES, FS, GS, SS in 64-bit mode (SDM MOV, "64-bit mode exceptions"). */
function loadDataSeg(s: i32, sel: u32): void {
  const rpl = <i32>(sel & 3);
  if ((sel & ~3) == 0) {
    if (s == S.SS && (cpl == 3 || rpl != cpl)) { raiseGP(0); return; }
    loadSeg(s, sel, 0);
    return;
  }
  const d = readDescriptor(sel, sel & ~3);
  if (stop) return;
  const ar = arOf(d);
  const dpl = <i32>((ar >> 5) & 3);
  if ((ar & 0x10) == 0) { raiseGP(sel & ~3); return; }
  if (s == S.SS) {
    if (rpl != cpl || dpl != cpl || (ar & 0x8) != 0 || (ar & 0x2) == 0) { raiseGP(sel & ~3); return; }
    if ((ar & 0x80) == 0) { raise(12, sel & ~3, true); return; }
  } else {
    const code = (ar & 0x8) != 0;
    if (code && (ar & 0x2) == 0) { raiseGP(sel & ~3); return; }
    if (!(code && (ar & 4) != 0) && (rpl > dpl || cpl > dpl)) { raiseGP(sel & ~3); return; }
    if ((ar & 0x80) == 0) { raise(11, sel & ~3, true); return; }
  }
  loadSeg(s, sel, d | (<u64>1 << 40)); // the accessed bit
}

function execMovSreg(e: usize): void {
  const s = <i32>load<u8>(e, D.D_SUB);
  const v = readE(e, 2); if (stop) return;
  loadDataSeg(s, <u32>v & 0xffff);
  if (stop) return;
  if (s == S.SS) { S.intrShadow |= 2; S.shadowAge = 2; }
}

function execLoadSystemSeg(e: usize, tr: bool): void {
  if (cpl != 0) { raiseGP(0); return; }
  const v = readE(e, 2); if (stop) return;
  const sel = <u32>v & 0xffff;
  if ((sel & ~3) == 0) {
    if (tr) { raiseGP(0); return; }
    S.setSegSel(S.LDTR, <u16>sel); S.setSegAr(S.LDTR, 0x10000); return;
  }
  if ((sel & 4) != 0) { raiseGP(sel & ~3); return; }
  const lo = readDescriptor(sel, sel & ~3); if (stop) return;
  const hi = readSysHigh(sel); if (stop) return;
  const ar = arOf(lo);
  const type = ar & 0x1f;
  if (tr ? type != 0x09 : type != 0x02) { raiseGP(sel & ~3); return; }
  if ((ar & 0x80) == 0) { raise(11, sel & ~3, true); return; }
  const base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | ((hi & 0xffffffff) << 32);
  const seg = tr ? S.TR : S.LDTR;
  S.setSegSel(seg, <u16>sel);
  S.setSegBase(seg, base);
  S.setSegLimit(seg, limitOf(lo));
  if (tr) {
    S.setSegAr(seg, ar | 2); // busy 64-bit TSS (type 11)
    writeDescriptorBusy(sel, lo | (<u64>2 << 40));
  } else S.setSegAr(seg, ar);
}

import { readSys, writeSys } from "./mmu";
function readSysHigh(sel: u32): u64 { return readSys(S.gdtrBase + <u64>(sel & ~7) + 8, 8); }
function writeDescriptorBusy(sel: u32, d: u64): void { writeSys(S.gdtrBase + <u64>(sel & ~7), 8, d); }

// ---- SYSCALL / SYSRET / IRET --------------------------------------------------
function execSyscall(): void {
  if ((S.efer & S.EFER_SCE) == 0) { raiseUD(); return; }
  setGpr(RCX, S.nrip);
  const f = getRflags();
  setGpr(11, f & ~F_RF);
  setRflags(f & ~S.msrFmask & ~F_RF);
  const sel = <u32>((S.msrStar >> 32) & 0xfffc);
  S.setSegSel(S.CS, <u16>sel); S.setSegAr(S.CS, 0xa09b); S.setSegBase(S.CS, 0); S.setSegLimit(S.CS, 0xffffffff);
  S.setSegSel(S.SS, <u16>(sel + 8)); S.setSegAr(S.SS, 0xc093); S.setSegBase(S.SS, 0); S.setSegLimit(S.SS, 0xffffffff);
  setCpl(0);
  S.nrip = S.msrLstar;
}

function execSysret(e: usize): void {
  if ((S.efer & S.EFER_SCE) == 0) { raiseUD(); return; }
  if (cpl != 0) { raiseGP(0); return; }
  const to64 = load<u8>(e, D.D_OSZ) == 8;
  if (!to64) { raiseUD(); return; } // return to compatibility mode: not modelled
  const t = gpr(RCX);
  if (!isCanonical(t)) { raiseGP(0); return; }
  const base = <u32>((S.msrStar >> 48) & 0xffff);
  S.setSegSel(S.CS, <u16>((base + 16) | 3)); S.setSegAr(S.CS, 0xa0fb); S.setSegBase(S.CS, 0); S.setSegLimit(S.CS, 0xffffffff);
  S.setSegSel(S.SS, <u16>((base + 8) | 3)); S.setSegAr(S.SS, 0xc0f3); S.setSegBase(S.SS, 0); S.setSegLimit(S.SS, 0xffffffff);
  setRflags((gpr(11) & 0x3c7fd7) | F_FIXED1);
  setCpl(3);
  S.nrip = t;
}

function execIret(size: i32): void {
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
