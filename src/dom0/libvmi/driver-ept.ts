// LibVMI's driver layer for this machine (in LibVMI's tree, libvmi/driver/xen/:
// foreign mappings of the guest's frames through the domain's p2m): a
// DomainAccess whose guest-physical accesses go through an EPT hierarchy in
// machine memory (the launch module gives it the host p2m, view 0, whatever
// altp2m view the guest is on), so guest-physical is not machine-physical,
// and whose vCPU
// registers come from the machine's VMCS guest-state area, GPRs and MSRs
// (xc_vcpu_getcontext's job). Used by Dom0's launch module and by tests.
// With a snapshot (src/xen/snapshot.ts) reads take a frame's copy when the
// guest has written it since the launch, else the live frame.
import type { Machine } from '../../machine.js';
import type { DomainAccess } from './core.js';
import { PAGE } from './arch-amd64.js';
import { GPR_NAMES } from '../../../assembly/shared/regs.js';
import {
  MSR_SHADOW_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_TSC_AUX,
} from '../../../assembly/shared/msr-index.js';

export interface EptDomainOptions {
  id: number;
  name: string;
  /** Bytes of guest-physical memory. */
  memsize: number | bigint;
  /** The EPTP of the view Dom0 reads through (view 0), or a function returning it. */
  eptp: bigint | (() => bigint);
  /** vCPU registers; by default vCPU 0 is the machine's one CPU (machineVcpuReg). */
  vcpuReg?: (vcpu: number, reg: string) => bigint | undefined;
  pause?: () => void;
  resume?: () => void;
  /** A copy-before-write snapshot: the machine address of a guest-physical frame's copy, if it has one. */
  snapshotCopy?: (gpa: number) => number | undefined;
}

/**
 * A DomainAccess whose guest-physical accesses go through an EPT hierarchy in
 * machine memory, as Xen's foreign mappings go through the p2m: guest-physical
 * is not machine-physical. Used by tests and usable by the hypervisor.
 */
export function eptDomainAccess(m: Machine, opts: EptDomainOptions): DomainAccess {
  const eptp = typeof opts.eptp === 'function' ? opts.eptp : () => opts.eptp as bigint;
  const memsize = BigInt(opts.memsize);
  const hpaOf = (gpa: bigint, len: number): number | undefined => {
    if (gpa < 0n || gpa + BigInt(len) > memsize || (gpa & 0xfffn) + BigInt(len) > PAGE) return undefined;
    const r = m.eptWalk(eptp(), gpa, 0);
    if (!('hpa' in r)) return undefined;
    const hpa = Number(r.hpa);
    return hpa + len <= m.memBytes ? hpa : undefined;
  };
  return {
    id: opts.id,
    name: opts.name,
    memsize: opts.memsize,
    readGpa(gpa, len) {
      const hpa = hpaOf(gpa, len);
      if (hpa === undefined) return undefined;
      const copy = opts.snapshotCopy?.(Number(gpa));
      return m.readPhys(copy === undefined ? hpa : copy + Number(gpa & 0xfffn), len);
    },
    writeGpa(gpa, data) {
      const hpa = hpaOf(gpa, data.length);
      if (hpa === undefined) return false;
      m.writePhys(hpa, data);
      return true;
    },
    vcpuReg: opts.vcpuReg ?? ((vcpu, reg) => (vcpu === 0 ? machineVcpuReg(m, reg) : undefined)),
    pause: opts.pause ?? (() => {}),
    resume: opts.resume ?? (() => {}),
  };
}

const VMCS_REG: Record<string, string> = {
  rip: 'GUEST_RIP', rflags: 'GUEST_RFLAGS', cr0: 'GUEST_CR0', cr3: 'GUEST_CR3', cr4: 'GUEST_CR4',
  dr7: 'GUEST_DR7', cs_sel: 'GUEST_CS_SELECTOR', ds_sel: 'GUEST_DS_SELECTOR', es_sel: 'GUEST_ES_SELECTOR',
  fs_sel: 'GUEST_FS_SELECTOR', gs_sel: 'GUEST_GS_SELECTOR', ss_sel: 'GUEST_SS_SELECTOR',
  tr_sel: 'GUEST_TR_SELECTOR', ldtr_sel: 'GUEST_LDTR_SELECTOR',
  cs_base: 'GUEST_CS_BASE', ds_base: 'GUEST_DS_BASE', es_base: 'GUEST_ES_BASE', fs_base: 'GUEST_FS_BASE',
  gs_base: 'GUEST_GS_BASE', ss_base: 'GUEST_SS_BASE', tr_base: 'GUEST_TR_BASE', ldtr_base: 'GUEST_LDTR_BASE',
  idtr_base: 'GUEST_IDTR_BASE', gdtr_base: 'GUEST_GDTR_BASE', idtr_limit: 'GUEST_IDTR_LIMIT',
  gdtr_limit: 'GUEST_GDTR_LIMIT', sysenter_cs: 'GUEST_SYSENTER_CS', sysenter_esp: 'GUEST_SYSENTER_ESP',
  sysenter_eip: 'GUEST_SYSENTER_EIP', msr_efer: 'GUEST_IA32_EFER',
};
const MSR_REG: Record<string, number> = {
  shadow_gs: MSR_SHADOW_GS_BASE, msr_star: MSR_STAR, msr_lstar: MSR_LSTAR, msr_cstar: MSR_CSTAR,
  msr_syscall_mask: MSR_SYSCALL_MASK, msr_tsc_aux: MSR_TSC_AUX,
};

/** A register of the machine's (single) vCPU by DomainAccess name: GPRs, VMCS guest state, CR2, XCR0, MSRs. */
export function machineVcpuReg(m: Machine, reg: string): bigint | undefined {
  if (GPR_NAMES.includes(reg)) return m.gpr(reg);
  if (reg in VMCS_REG) return m.vmread(VMCS_REG[reg]);
  if (reg === 'cr2') return m.cr2;
  if (reg in MSR_REG) return m.rdmsr(MSR_REG[reg]);
  return undefined;
}
