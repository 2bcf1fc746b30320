// Architectural state the CPU holds while the guest runs (loaded from the VMCS
// guest-state area at VM entry, stored back at VM exit; SDM 26.3.2 / 27.3).
import { REGS, SEGS } from "./layout";

// General-purpose register numbers (the encoding order of ModRM/REX).
export { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI } from "./shared/regs";

@inline export function gpr(i: i32): u64 { return load<u64>(REGS + (<usize>i << 3)); }
@inline export function setGpr(i: i32, v: u64): void { store<u64>(REGS + (<usize>i << 3), v); }

// Segment registers in VMCS order.
export const ES = 0; export const CS = 1; export const SS = 2; export const DS = 3;
export const FS = 4; export const GS = 5; export const LDTR = 6; export const TR = 7;
@inline export function segBase(s: i32): u64 { return load<u64>(SEGS + (<usize>s << 5)); }
@inline export function setSegBase(s: i32, v: u64): void { store<u64>(SEGS + (<usize>s << 5), v); }
@inline export function segLimit(s: i32): u32 { return load<u32>(SEGS + (<usize>s << 5), 8); }
@inline export function setSegLimit(s: i32, v: u32): void { store<u32>(SEGS + (<usize>s << 5), v, 8); }
@inline export function segAr(s: i32): u32 { return load<u32>(SEGS + (<usize>s << 5), 12); }
@inline export function setSegAr(s: i32, v: u32): void { store<u32>(SEGS + (<usize>s << 5), v, 12); }
@inline export function segSel(s: i32): u16 { return load<u16>(SEGS + (<usize>s << 5), 16); }
@inline export function setSegSel(s: i32, v: u16): void { store<u16>(SEGS + (<usize>s << 5), v, 16); }

export let rip: u64 = 0;
export let nrip: u64 = 0;       // RIP of the next instruction; branches overwrite it
export let cpl: i32 = 0;
export let cr0: u64 = 0x60000010;
export let cr2: u64 = 0;
export let cr3: u64 = 0;
export let cr4: u64 = 0;
export let cr8: u64 = 0;
export let efer: u64 = 0;
export let gdtrBase: u64 = 0; export let gdtrLimit: u32 = 0xffff;
export let idtrBase: u64 = 0; export let idtrLimit: u32 = 0xffff;
export let dr6: u64 = 0xffff0ff0; export let dr7: u64 = 0x400;
export let dr0: u64 = 0; export let dr1: u64 = 0; export let dr2: u64 = 0; export let dr3: u64 = 0;
export let xcr0: u64 = 1;

// MSRs a hypervisor context-switches in software (not in the VMCS).
export let msrStar: u64 = 0;
export let msrLstar: u64 = 0;
export let msrCstar: u64 = 0;
export let msrFmask: u64 = 0;
export let msrKernelGsBase: u64 = 0;
export let msrTscAux: u64 = 0;
export let msrApicBase: u64 = 0xfee00900; // BSP, xAPIC enabled
export let msrPat: u64 = 0x0007040600070406;
export let msrSysenterCs: u64 = 0;
export let msrSysenterEsp: u64 = 0;
export let msrSysenterEip: u64 = 0;
export let msrMiscEnable: u64 = 1;

// Interruptibility state (SDM 25.4.2, Table 25-3): bit 0 blocking by STI,
// bit 1 blocking by MOV SS. Set by the instruction, cleared after the next one.
export let intrShadow: u32 = 0;
export let shadowAge: i32 = 0;
/** A single-step #DB held back to the next instruction boundary: DR6.BS (bit 14) when set -- by MOV SS /
 *  POP SS (SDM Vol. 3A 6.8.3), or by a monitor-trap-flag exit that preempted it. It is the VMCS's
 *  pending-debug-exceptions field while the guest runs (SDM Vol. 3C 25.4.2, 28.3.4, 27.7.3). */
export let pendingDbg: u64 = 0;
export const DR6_BS: u64 = 0x4000;
/** Activity state HLT (SDM 25.4.2): HLT without HLT exiting, or loaded from the VMCS at VM entry. */
export let halted: bool = false;

// Time: retired instructions and virtual cycles since power-on.
export let insnsRetired: u64 = 0;
export let vcycles: u64 = 0;

// RFLAGS, CR0/CR4 and EFER bits: shared with the host (assembly/shared/x86-defns.ts, msr-index.ts) and
// re-exported here under the CPU's short names.
import {
  X86_EFLAGS_CF, X86_EFLAGS_PF, X86_EFLAGS_AF, X86_EFLAGS_ZF, X86_EFLAGS_SF, X86_EFLAGS_OF,
} from "./shared/x86-defns";
export {
  X86_EFLAGS_CF as F_CF, X86_EFLAGS_MBS as F_FIXED1, X86_EFLAGS_PF as F_PF, X86_EFLAGS_AF as F_AF,
  X86_EFLAGS_ZF as F_ZF, X86_EFLAGS_SF as F_SF, X86_EFLAGS_TF as F_TF, X86_EFLAGS_IF as F_IF, X86_EFLAGS_DF as F_DF,
  X86_EFLAGS_OF as F_OF, X86_EFLAGS_IOPL as F_IOPL, X86_EFLAGS_NT as F_NT, X86_EFLAGS_RF as F_RF, X86_EFLAGS_VM as F_VM,
  X86_EFLAGS_AC as F_AC, X86_EFLAGS_VIF as F_VIF, X86_EFLAGS_VIP as F_VIP, X86_EFLAGS_ID as F_ID,
  X86_CR0_PE as CR0_PE, X86_CR0_MP as CR0_MP, X86_CR0_EM as CR0_EM, X86_CR0_TS as CR0_TS, X86_CR0_ET as CR0_ET,
  X86_CR0_NE as CR0_NE, X86_CR0_WP as CR0_WP, X86_CR0_AM as CR0_AM, X86_CR0_NW as CR0_NW, X86_CR0_CD as CR0_CD,
  X86_CR0_PG as CR0_PG,
  X86_CR4_PAE as CR4_PAE, X86_CR4_PGE as CR4_PGE, X86_CR4_OSFXSR as CR4_OSFXSR, X86_CR4_OSXMMEXCPT as CR4_OSXMMEXCPT, X86_CR4_VMXE as CR4_VMXE,
  X86_CR4_FSGSBASE as CR4_FSGSBASE, X86_CR4_PCIDE as CR4_PCIDE, X86_CR4_OSXSAVE as CR4_OSXSAVE,
  X86_CR4_SMEP as CR4_SMEP, X86_CR4_SMAP as CR4_SMAP,
} from "./shared/x86-defns";
export const STATUS_FLAGS: u64 = X86_EFLAGS_CF | X86_EFLAGS_PF | X86_EFLAGS_AF | X86_EFLAGS_ZF | X86_EFLAGS_SF | X86_EFLAGS_OF;

// MSR indices: shared with the host (assembly/shared/msr-index.ts); two keep the CPU's older names.
export * from "./shared/msr-index";
export { MSR_IA32_CR_PAT as MSR_IA32_PAT, MSR_SHADOW_GS_BASE as MSR_KERNEL_GS_BASE } from "./shared/msr-index";

// Exception vectors (assembly/shared/x86-defns.ts) under the CPU's short names.
export {
  X86_EXC_DE as DE, X86_EXC_DB as DB, X86_EXC_NMI as NMI, X86_EXC_BP as BP, X86_EXC_OF as OF_, X86_EXC_BR as BR,
  X86_EXC_UD as UD, X86_EXC_NM as NM, X86_EXC_DF as DF, X86_EXC_TS as TS, X86_EXC_NP as NP, X86_EXC_SS as SS_,
  X86_EXC_GP as GP, X86_EXC_PF as PF, X86_EXC_MF as MF, X86_EXC_AC as AC, X86_EXC_MC as MC, X86_EXC_XM as XM,
  X86_EXC_VE as VE,
} from "./shared/x86-defns";
