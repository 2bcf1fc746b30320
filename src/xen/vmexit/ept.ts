// EXIT_REASON_EPT_VIOLATION / EPT_MISCONFIG (Xen's ept_handle_violation ->
// hvm_hap_nested_page_fault in xen/arch/x86/hvm/hvm.c, and ept_handle_misconfig).
// The p2m maps all guest RAM read/write/execute, so a violation is one of:
//  - MMIO: the address is in a range a registered handler claims (hvm_mmio_internal) or has no
//    RAM behind it (p2m type p2m_mmio_dm). handle_mmio_with_translation emulates the faulting
//    instruction, its accesses to such addresses going to the handler or to Xen's null_handler
//    (src/xen/devices/mmio.ts), and the guest goes on after it. If the instruction cannot be
//    emulated (fetched from MMIO, page tables in MMIO) Xen injects #GP(0).
//  - a write to a frame a VMI program's snapshot restricts (src/xen/snapshot.ts; Xen's
//    p2m_mem_access_check path): the frame is copied, W given back, the guest resumed at the
//    same instruction.
//  - anything else (a RAM page a view restricts): Xen prints the violation and crashes the domain.
// Whether an access to an unmapped address exits at all, or raises #VE, is the suppress-#VE bit
// of its EPT entry (Xen sets it in every unmapped entry; that belongs to src/xen/ept.ts).
import type { Vcpu } from '../vcpu.js';
import type { Domain } from '../domain.js';
import type { MmioAccess } from '../../machine.js';
import type { MmioSize } from '../devices/mmio.js';
import { X86_EFLAGS_TF, X86_EXC_DB, X86_EXC_GP, X86_EXC_PF } from '../../../assembly/shared/x86-defns.js';
import { INTR_INFO_VALID_MASK, INTR_TYPE_HARD_EXCEPTION, EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG,
  VMCS_FIELDS as F } from '../../vmcs.js';
import { hex } from '../../util/format.js';

const EPT_QUAL_WRITE = 1 << 1;
const EPT_QUAL_GLA_VALID = 1 << 7;

export function vmxEptViolation(v: Vcpu): void {
  const m = v.m;
  const q = Number(m.vmread(F.EXIT_QUALIFICATION));
  const gpa = m.vmread(F.GUEST_PHYSICAL_ADDRESS);
  const snap = v.domain.snapshot;
  if (snap && (q & EPT_QUAL_WRITE) && snap.protects(Number(gpa))) { m.addVcycles(snap.copyBeforeWrite(Number(gpa))); return; }
  if (isMmio(v.domain, gpa)) { handleMmioWithTranslation(v, gpa); return; }
  eptViolationCrash(v, q, gpa, m.vmread(F.GUEST_LINEAR_ADDRESS));
}

export function vmxEptMisconfig(v: Vcpu): void {
  eptMisconfigCrash(v, v.m.vmread(F.GUEST_PHYSICAL_ADDRESS));
}

/** hvm_hap_nested_page_fault's MMIO test: a registered handler's range, or no RAM in the host p2m (p2m_mmio_dm). */
export function isMmio(d: Domain, gpa: bigint): boolean {
  const a = Number(gpa);
  return d.mmio.hvmMmioInternal(a) || d.gpaToMachine(a) === undefined;
}

/**
 * The device side the CPU's emulation calls into: this domain's MMIO classification and handlers,
 * and its port I/O for an emulated INS/OUTS (src/xen/vmexit/io-string.ts).
 */
function emulationDevices(d: Domain): MmioAccess {
  return {
    claims: (gpa) => isMmio(d, gpa),
    read: (gpa, size) => d.mmio.read(Number(gpa), size as MmioSize),
    write: (gpa, size, value) => d.mmio.write(Number(gpa), size as MmioSize, value),
    portRead: (port, size) => d.io.read(port, size as 1 | 2 | 4),
    portWrite: (port, size, value) => d.io.write(port, size as 1 | 2 | 4, value),
  };
}

/**
 * handle_mmio_with_translation -> hvm_emulate_one: the CPU completes the instruction at RIP with
 * its MMIO accesses served by the handlers; an exception it raises is injected
 * (hvm_inject_event), and TF set before it makes a #DB after it, as x86_emulate's singlestep does.
 */
function handleMmioWithTranslation(v: Vcpu, gpa: bigint): void {
  const m = v.m, d = v.domain;
  const idtv = Number(m.vmread(F.IDT_VECTORING_INFO_FIELD));
  if (idtv & INTR_INFO_VALID_MASK) {
    // The access was the CPU's own, delivering an event (IDT or stack in MMIO): no instruction to emulate.
    d.crash(`MMIO access at gpa ${hex(gpa)} while delivering vector ${idtv & 0xff} at RIP ${hex(m.vmread(F.GUEST_RIP))}`);
    return;
  }
  hvmEmulateOne(v);
}

/**
 * hvm_emulate_one as both exits use it (MMIO here, INS/OUTS in io-string.ts): the CPU runs the
 * instruction at RIP once more with MMIO and port accesses served by the domain's devices.
 */
export function hvmEmulateOne(v: Vcpu): void {
  const m = v.m, d = v.domain;
  const rip = m.vmread(F.GUEST_RIP);
  const singlestep = (m.vmread(F.GUEST_RFLAGS) & BigInt(X86_EFLAGS_TF)) !== 0n;
  const r = m.emulateMmio(emulationDevices(d));
  switch (r.kind) {
    case 'done':
      if (singlestep && m.vmread(F.GUEST_RIP) !== rip) v.injectHwException(X86_EXC_DB);
      return;
    case 'exception':
      if (r.type !== INTR_TYPE_HARD_EXCEPTION >> 8) { d.crash(`MMIO emulation raised event type ${r.type} vector ${r.vector} at RIP ${hex(rip)}`); return; }
      if (r.vector === X86_EXC_PF) m.cr2 = r.cr2;
      v.injectHwException(r.vector, r.errorCode);
      return;
    case 'exit':
      if (r.reason === EXIT_REASON_EPT_VIOLATION && d.snapshot && (Number(r.qualification) & EPT_QUAL_WRITE) &&
          d.snapshot.protects(Number(r.gpa))) {
        // A RAM write inside the emulation (a page walk's A/D bits, a MOVS's store) hit a snapshot's
        // protection: copy the frame and restart the instruction (an MMIO read before it is repeated).
        m.addVcycles(d.snapshot.copyBeforeWrite(Number(r.gpa)));
        return;
      }
      if (r.reason === EXIT_REASON_EPT_VIOLATION && isMmio(d, r.gpa)) {
        // X86EMUL_UNHANDLEABLE: the instruction bytes, its page walk or a descriptor table is in MMIO.
        const q = Number(r.qualification);
        const what = q & 4 ? 'instruction fetch' : (q & 0x180) === 0x80 ? 'page walk' : 'descriptor-table access';
        d.log(`d${d.id}v${v.id} MMIO emulation failed: ${what} at gpa ${hex(r.gpa)}, RIP ${hex(rip)}`);
        v.injectHwException(X86_EXC_GP, 0);
      } else if (r.reason === EXIT_REASON_EPT_VIOLATION) {
        eptViolationCrash(v, Number(r.qualification), r.gpa, r.gla);
      } else if (r.reason === EXIT_REASON_EPT_MISCONFIG) {
        eptMisconfigCrash(v, r.gpa);
      } else {
        d.crash(`Unexpected exit (reason ${r.reason}) while emulating MMIO at RIP ${hex(rip)}`);
      }
  }
}

/** Xen's ept_handle_violation message for a violation it cannot resolve, then domain_crash. */
function eptViolationCrash(v: Vcpu, q: number, gpa: bigint, gla: bigint): void {
  const flag = (bit: number, c: string) => (q & (1 << bit) ? c : '-');
  const access = `${flag(0, 'r')}${flag(1, 'w')}${flag(2, 'x')}/${flag(3, 'r')}${flag(4, 'w')}${flag(5, 'x')}`;
  const mfn = v.domain.gpaToMachine(Number(gpa));
  let msg = `EPT violation ${hex(q)} (${access}) gpa ${hex(gpa)} mfn ${mfn === undefined ? 'INVALID' : hex(mfn >> 12)}`;
  if (q & EPT_QUAL_GLA_VALID) msg += ` --- GLA ${hex(gla)}`;
  v.domain.crash(`${msg} at RIP ${hex(v.m.vmread(F.GUEST_RIP))}`);
}

function eptMisconfigCrash(v: Vcpu, gpa: bigint): void {
  v.domain.crash(`EPT misconfiguration at gpa ${hex(gpa)}, RIP ${hex(v.m.vmread(F.GUEST_RIP))}`);
}
