// Architectural state the CPU holds while the guest runs (loaded from the VMCS
// guest-state area at VM entry, stored back at VM exit; SDM 26.3.2 / 27.3).
import { REGS, SEGS } from "./layout";

// General-purpose register numbers (the encoding order of ModRM/REX).
export const RAX = 0; export const RCX = 1; export const RDX = 2; export const RBX = 3;
export const RSP = 4; export const RBP = 5; export const RSI = 6; export const RDI = 7;

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
/** Activity state HLT (SDM 25.4.2): HLT without HLT exiting, or loaded from the VMCS at VM entry. */
export let halted: bool = false;

// Time: retired instructions and virtual cycles since power-on.
export let insnsRetired: u64 = 0;
export let vcycles: u64 = 0;

// RFLAGS bits
export const F_CF: u64 = 1 << 0;
export const F_FIXED1: u64 = 1 << 1;
export const F_PF: u64 = 1 << 2;
export const F_AF: u64 = 1 << 4;
export const F_ZF: u64 = 1 << 6;
export const F_SF: u64 = 1 << 7;
export const F_TF: u64 = 1 << 8;
export const F_IF: u64 = 1 << 9;
export const F_DF: u64 = 1 << 10;
export const F_OF: u64 = 1 << 11;
export const F_IOPL: u64 = 3 << 12;
export const F_NT: u64 = 1 << 14;
export const F_RF: u64 = 1 << 16;
export const F_VM: u64 = 1 << 17;
export const F_AC: u64 = 1 << 18;
export const F_VIF: u64 = 1 << 19;
export const F_VIP: u64 = 1 << 20;
export const F_ID: u64 = 1 << 21;
export const STATUS_FLAGS: u64 = F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF;

// Control-register bits
export const CR0_PE: u64 = 1 << 0;
export const CR0_MP: u64 = 1 << 1;
export const CR0_EM: u64 = 1 << 2;
export const CR0_TS: u64 = 1 << 3;
export const CR0_ET: u64 = 1 << 4;
export const CR0_NE: u64 = 1 << 5;
export const CR0_WP: u64 = 1 << 16;
export const CR0_AM: u64 = 1 << 18;
export const CR0_NW: u64 = 1 << 29;
export const CR0_CD: u64 = 1 << 30;
export const CR0_PG: u64 = 1 << 31;
export const CR4_PAE: u64 = 1 << 5;
export const CR4_PGE: u64 = 1 << 7;
export const CR4_OSFXSR: u64 = 1 << 9;
export const CR4_VMXE: u64 = 1 << 13;
export const CR4_FSGSBASE: u64 = 1 << 16;
export const CR4_PCIDE: u64 = 1 << 17;
export const CR4_OSXSAVE: u64 = 1 << 18;
export const CR4_SMEP: u64 = 1 << 20;
export const CR4_SMAP: u64 = 1 << 21;
export const EFER_SCE: u64 = 1 << 0;
export const EFER_LME: u64 = 1 << 8;
export const EFER_LMA: u64 = 1 << 10;
export const EFER_NXE: u64 = 1 << 11;

// MSR indices
export const MSR_IA32_TSC: u32 = 0x10;
export const MSR_IA32_APIC_BASE: u32 = 0x1b;
export const MSR_IA32_FEATURE_CONTROL: u32 = 0x3a;
export const MSR_IA32_SYSENTER_CS: u32 = 0x174;
export const MSR_IA32_SYSENTER_ESP: u32 = 0x175;
export const MSR_IA32_SYSENTER_EIP: u32 = 0x176;
export const MSR_IA32_MISC_ENABLE: u32 = 0x1a0;
export const MSR_IA32_PAT: u32 = 0x277;
export const MSR_EFER: u32 = 0xc0000080;
export const MSR_STAR: u32 = 0xc0000081;
export const MSR_LSTAR: u32 = 0xc0000082;
export const MSR_CSTAR: u32 = 0xc0000083;
export const MSR_SYSCALL_MASK: u32 = 0xc0000084;
export const MSR_FS_BASE: u32 = 0xc0000100;
export const MSR_GS_BASE: u32 = 0xc0000101;
export const MSR_KERNEL_GS_BASE: u32 = 0xc0000102;
export const MSR_TSC_AUX: u32 = 0xc0000103;

// Exception vectors
export const DE = 0; export const DB = 1; export const NMI = 2; export const BP = 3;
export const OF_ = 4; export const BR = 5; export const UD = 6; export const NM = 7;
export const DF = 8; export const TS = 10; export const NP = 11; export const SS_ = 12;
export const GP = 13; export const PF = 14; export const MF = 16; export const AC = 17;
export const MC = 18; export const XM = 19; export const VE = 20;
