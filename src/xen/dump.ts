// The register dump Xen prints for a crashed HVM vCPU (vcpu_show_registers,
// xen/arch/x86/x86_64/traps.c), from the VMCS guest-state area and the GPRs.
import type { Vcpu } from './vcpu.js';
import { exitReasonName } from '../vmcs.js';
import { MSR_SHADOW_GS_BASE } from '../../assembly/shared/msr-index.js';

const h16 = (v: bigint) => BigInt.asUintN(64, v).toString(16).padStart(16, '0');
const h4 = (v: bigint) => (v & 0xffffn).toString(16).padStart(4, '0');

export function vcpuShowRegisters(v: Vcpu): string[] {
  const m = v.m, r = (f: string) => m.vmread(f), g = (n: Parameters<typeof m.gpr>[0]) => h16(m.gpr(n));
  const d = v.domain;
  return [
    `*** Dumping Dom${d.id} vcpu#${v.id} state: ***`,
    `----[ Xen-4.17 (vmfunc-vmi)  x86_64  debug=n  Not tainted ]----`,
    `CPU:    0`,
    `RIP:    ${h4(r('GUEST_CS_SELECTOR'))}:[<${h16(r('GUEST_RIP'))}>]`,
    `RFLAGS: ${h16(r('GUEST_RFLAGS'))}   CONTEXT: hvm guest (d${d.id}v${v.id})`,
    `rax: ${g('rax')}   rbx: ${g('rbx')}   rcx: ${g('rcx')}`,
    `rdx: ${g('rdx')}   rsi: ${g('rsi')}   rdi: ${g('rdi')}`,
    `rbp: ${g('rbp')}   rsp: ${h16(r('GUEST_RSP'))}   r8:  ${g('r8')}`,
    `r9:  ${g('r9')}   r10: ${g('r10')}   r11: ${g('r11')}`,
    `r12: ${g('r12')}   r13: ${g('r13')}   r14: ${g('r14')}`,
    `r15: ${g('r15')}   cr0: ${h16(r('GUEST_CR0'))}   cr4: ${h16(r('GUEST_CR4'))}`,
    `cr3: ${h16(r('GUEST_CR3'))}   cr2: ${h16(m.cr2)}`,
    `fsb: ${h16(r('GUEST_FS_BASE'))}   gsb: ${h16(r('GUEST_GS_BASE'))}   gss: ${h16(m.rdmsr(MSR_SHADOW_GS_BASE))}`,
    `ds: ${h4(r('GUEST_DS_SELECTOR'))}   es: ${h4(r('GUEST_ES_SELECTOR'))}   fs: ${h4(r('GUEST_FS_SELECTOR'))}   ` +
      `gs: ${h4(r('GUEST_GS_SELECTOR'))}   ss: ${h4(r('GUEST_SS_SELECTOR'))}   cs: ${h4(r('GUEST_CS_SELECTOR'))}`,
    `gdtr: ${h16(r('GUEST_GDTR_BASE'))}/${h4(r('GUEST_GDTR_LIMIT'))}   idtr: ${h16(r('GUEST_IDTR_BASE'))}/${h4(r('GUEST_IDTR_LIMIT'))}   ` +
      `efer: ${h16(r('GUEST_IA32_EFER'))}`,
    `last exit: ${exitReasonName(Number(r('VM_EXIT_REASON')))} qualification ${h16(r('EXIT_QUALIFICATION'))} ` +
      `idt-vectoring ${h16(r('IDT_VECTORING_INFO_FIELD'))}   insns ${m.insnsRetired} vcycles ${m.vcycles}`,
  ];
}
