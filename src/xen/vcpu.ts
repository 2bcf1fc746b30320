// A virtual CPU (Xen's struct vcpu): its VMCS (construct_vmcs), its run
// state (the scheduler's, src/xen/sched.ts, keeps it), the pieces of a VM
// entry and exit the scheduler's loop calls (interrupt assist, the
// VMX-preemption timer, counting and dispatching an exit to
// vmx_vmexit_handler), and the helpers exit handlers share:
// update_guest_eip, exception injection, RDTSC exiting.
import type { Machine } from '../machine.js';
import type { Domain } from './domain.js';
import {
  PIN_BASED_EXT_INTR_MASK, PIN_BASED_NMI_EXITING, PIN_BASED_VMX_PREEMPTION_TIMER,
  CPU_BASED_HLT_EXITING, CPU_BASED_USE_TSC_OFFSETTING, CPU_BASED_USE_IO_BITMAPS, CPU_BASED_USE_MSR_BITMAPS,
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, CPU_BASED_RDTSC_EXITING, CPU_BASED_INTR_WINDOW_EXITING,
  SECONDARY_EXEC_ENABLE_EPT, SECONDARY_EXEC_ENABLE_RDTSCP, SECONDARY_EXEC_EPT_VIOLATION_VE,
  VM_EXIT_HOST_ADDR_SPACE_SIZE, VM_EXIT_ACK_INTR_ON_EXIT, VM_ENTRY_IA32E_MODE,
  INTR_INFO_VALID_MASK, INTR_INFO_DELIVER_CODE_MASK, INTR_TYPE_HARD_EXCEPTION, INTR_TYPE_EXT_INTR,
  exitReasonName,
} from '../vmcs.js';
import {
  MSR_FS_BASE, MSR_GS_BASE, MSR_SHADOW_GS_BASE, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
  MSR_IA32_CR_PAT,
} from '../../assembly/shared/msr-index.js';
import {
  X86_CR4_PAE, X86_CR4_MCE, X86_CR4_VMXE, X86_EFLAGS_TF, X86_EFLAGS_IF,
  X86_EXC_DE, X86_EXC_DB, X86_EXC_DF, X86_EXC_TS, X86_EXC_GP, X86_EXC_PF, X86_EXC_AC, X86_EXC_MC,
} from '../../assembly/shared/x86-defns.js';
import { PAGE_SIZE } from './frames.js';
import { PeriodicTimer } from './hvm/vpt.js';
import { RUNSTATE_RUNNABLE } from './trace-events.js';
import { vmxVmexitHandler } from './vmx.js';
import { handlerCost } from './cost.js';
import { VMCS_FIELDS as F } from '../vmcs.js';

// Exceptions Xen always intercepts for HVM guests (HVM_TRAP_MASK, Xen 4.17): #DB, #AC, #MC.
export const HVM_TRAP_MASK = (1 << X86_EXC_DB) | (1 << X86_EXC_AC) | (1 << X86_EXC_MC);
/** CR4 bits the host owns (Xen's HVM_CR4_HOST_MASK): guest writes that change them exit. */
export const HVM_CR4_HOST_MASK = X86_CR4_VMXE | X86_CR4_PAE | X86_CR4_MCE;

/** MSRs the guest reads and writes without exits (Xen's vmx_clear_msr_intercept calls). */
const PASSTHROUGH_MSRS = [MSR_FS_BASE, MSR_GS_BASE, MSR_SHADOW_GS_BASE, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
  MSR_IA32_SYSENTER_EIP, MSR_IA32_CR_PAT];
/** I/O ports Xen lets HVM guests use directly (the delay ports). */
const PASSTHROUGH_PORTS = [0x80, 0xed];

export interface VcpuStats {
  /** VM exits by basic reason (bit 31 kept for entry failures). */
  exits: Map<number, number>;
  /** Hypercalls by number. */
  hypercalls: Map<number, number>;
  /** Virtual cycles the vCPU spent halted (time skipped to the next event). */
  haltedCycles: bigint;
  /** Virtual cycles charged for exits and handlers. */
  exitCycles: bigint;
}

export class Vcpu {
  readonly id: number;
  /** The physical CPU it runs on (v->processor): its timers are that CPU's. */
  readonly processor: number;
  readonly m: Machine;
  /** The TVM platform's periodic timer (undefined on the 'pc' platform, whose PIT raises IRQ0 instead). */
  readonly timer: PeriodicTimer | undefined;
  /** v->runstate.state (RUNSTATE_*), v->pause_flags (VPF_*), v->pause_count, v->vm_event_pause_count: the scheduler's. */
  runstate = RUNSTATE_RUNNABLE;
  pauseFlags = 0;
  pauseCount = 0;
  vmEventPauseCount = 0;
  /** Cached VMCS controls, as Xen keeps v->arch.hvm.vmx.exec_control. */
  execControl = 0;
  secondaryExecControl = 0;
  /** CPUID faulting on (MSR_INTEL_MISC_FEATURES_ENABLES bit 0, src/xen/vmexit/msr.ts). */
  cpuidFaulting = false;
  readonly stats: VcpuStats = { exits: new Map(), hypercalls: new Map(), haltedCycles: 0n, exitCycles: 0n };
  /** Called on every exit before dispatch (tracing hooks: TRC_HVM_VMEXIT lands here). */
  readonly exitHooks: ((v: Vcpu, reason: number) => void)[] = [];
  /** Called before every VM entry (tracing: TRC_HVM_VMENTRY). */
  readonly entryHooks: ((v: Vcpu) => void)[] = [];
  /** chargeExit's cycles by exit reason, from the domain's costs (fixed when the domain is built). */
  private readonly exitCosts = new Map<number, bigint>();
  private msrBitmap = 0;
  private ioBitmapA = 0;

  constructor(readonly domain: Domain, opts: { id: number; timerPeriod: bigint; timerVector: number }) {
    this.m = domain.machine;
    this.id = opts.id;
    this.processor = opts.id;
    this.timer = domain.tvmIrq && new PeriodicTimer(domain.timers, domain.tvmIrq,
      { period: opts.timerPeriod, vector: opts.timerVector, vcpu: this.id, cpu: this.processor, start: this.m.vcycles });
    this.constructVmcs();
  }

  private constructVmcs(): void {
    const m = this.m, d = this.domain;
    m.vmwrite(F.PIN_BASED_VM_EXEC_CONTROL, PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING | PIN_BASED_VMX_PREEMPTION_TIMER);
    this.execControl = (CPU_BASED_HLT_EXITING | CPU_BASED_USE_TSC_OFFSETTING | CPU_BASED_USE_IO_BITMAPS |
      CPU_BASED_USE_MSR_BITMAPS | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) >>> 0;
    this.secondaryExecControl = SECONDARY_EXEC_ENABLE_EPT | SECONDARY_EXEC_ENABLE_RDTSCP |
      (d.veEnabled ? SECONDARY_EXEC_EPT_VIOLATION_VE : 0);
    m.vmwrite(F.CPU_BASED_VM_EXEC_CONTROL, this.execControl);
    m.vmwrite(F.SECONDARY_VM_EXEC_CONTROL, this.secondaryExecControl);
    m.vmwrite(F.VM_EXIT_CONTROLS, VM_EXIT_HOST_ADDR_SPACE_SIZE | VM_EXIT_ACK_INTR_ON_EXIT);
    m.vmwrite(F.VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE);
    m.vmwrite(F.EXCEPTION_BITMAP, HVM_TRAP_MASK);
    m.vmwrite(F.PAGE_FAULT_ERROR_CODE_MASK, 0);
    m.vmwrite(F.PAGE_FAULT_ERROR_CODE_MATCH, 0);
    m.vmwrite(F.CR0_GUEST_HOST_MASK, 0);
    m.vmwrite(F.CR4_GUEST_HOST_MASK, HVM_CR4_HOST_MASK);
    m.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, 0);
    m.vmwrite(F.GUEST_ACTIVITY_STATE, 0);
    m.vmwrite(F.GUEST_INTERRUPTIBILITY_INFO, 0);
    // The guest's TSC starts at 0 when the domain is built.
    m.vmwrite(F.TSC_OFFSET, BigInt.asUintN(64, -m.vcycles));

    // MSR bitmap: intercept everything but the pass-through MSRs (read and write).
    this.msrBitmap = d.frames.alloc() * PAGE_SIZE;
    m.fillPhys(this.msrBitmap, PAGE_SIZE, 0xff);
    for (const msr of PASSTHROUGH_MSRS) {
      const base = msr >= 0xc0000000 ? 1024 : 0, bit = msr & 0x1fff;
      for (const off of [base, base + 2048]) {
        const a = this.msrBitmap + off + (bit >> 3);
        m.writePhys(a, new Uint8Array([m.readPhys(a, 1)[0] & ~(1 << (bit & 7))]));
      }
    }
    m.vmwrite(F.MSR_BITMAP, this.msrBitmap);
    // I/O bitmaps A (ports 0-0x7fff) and B: every port exits but the delay ports.
    this.ioBitmapA = d.frames.alloc(2) * PAGE_SIZE;
    m.fillPhys(this.ioBitmapA, 2 * PAGE_SIZE, 0xff);
    for (const p of PASSTHROUGH_PORTS) {
      const a = this.ioBitmapA + (p >> 3);
      m.writePhys(a, new Uint8Array([m.readPhys(a, 1)[0] & ~(1 << (p & 7))]));
    }
    m.vmwrite(F.IO_BITMAP_A, this.ioBitmapA);
    m.vmwrite(F.IO_BITMAP_B, this.ioBitmapA + PAGE_SIZE);

    m.vmwrite(F.EPT_POINTER, d.p2m.eptp());
    const veMa = d.gpaToMachine(d.veInfoGpa);
    if (veMa !== undefined) m.vmwrite(F.VIRT_EXCEPTION_INFO, veMa);
  }

  // ---- helpers for exit handlers ------------------------------------------

  /** A guest GPR by name or number (assembly/shared/regs.ts: RAX ... R15). */
  gpr(r: Parameters<Machine['gpr']>[0]): bigint { return this.m.gpr(r); }
  setGpr(r: Parameters<Machine['setGpr']>[0], v: bigint | number): void { this.m.setGpr(r, v); }

  /** Xen's update_guest_eip(): skip the exiting instruction, drop STI/MOV-SS blocking, honour TF. */
  updateGuestEip(): void {
    const m = this.m;
    m.vmwrite(F.GUEST_RIP, m.vmread(F.GUEST_RIP) + BigInt(m.vmread32(F.VM_EXIT_INSTRUCTION_LEN)));
    const intr = m.vmread32(F.GUEST_INTERRUPTIBILITY_INFO);
    if (intr & 3) m.vmwrite(F.GUEST_INTERRUPTIBILITY_INFO, (intr & ~3) >>> 0);
    if (m.vmread32(F.GUEST_RFLAGS) & X86_EFLAGS_TF) this.injectHwException(X86_EXC_DB);
  }

  /** hvm_inject_hw_exception(): queue a hardware exception for the next VM entry. */
  injectHwException(vector: number, errorCode?: number): void {
    const m = this.m;
    const cur = m.vmread32(F.VM_ENTRY_INTR_INFO_FIELD);
    if (cur & INTR_INFO_VALID_MASK && ((cur >> 8) & 7) === 3) {
      // An exception is already queued (e.g. re-injected): combine as the CPU would (SDM Table 6-5).
      const prev = cur & 0xff;
      if (prev === X86_EXC_DF) { this.domain.crash(`Triple fault while injecting ${vector} after #DF`); return; }
      const contributory = (v: number) => v === X86_EXC_DE || (v >= X86_EXC_TS && v <= X86_EXC_GP);
      if ((contributory(prev) && contributory(vector)) || (prev === X86_EXC_PF && (vector === X86_EXC_PF || contributory(vector)))) {
        vector = X86_EXC_DF; errorCode = 0;
      }
    }
    let info = INTR_INFO_VALID_MASK | INTR_TYPE_HARD_EXCEPTION | vector;
    if (errorCode !== undefined) {
      info |= INTR_INFO_DELIVER_CODE_MASK;
      m.vmwrite(F.VM_ENTRY_EXCEPTION_ERROR_CODE, errorCode >>> 0);
    }
    m.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, info >>> 0);
  }

  /** vmx_set_rdtsc_exiting(): the VMI trigger's switch. */
  setRdtscExiting(on: boolean): void {
    this.execControl = on ? (this.execControl | CPU_BASED_RDTSC_EXITING) >>> 0 : (this.execControl & ~CPU_BASED_RDTSC_EXITING) >>> 0;
    this.m.vmwrite(F.CPU_BASED_VM_EXEC_CONTROL, this.execControl);
  }
  get rdtscExiting(): boolean { return (this.execControl & CPU_BASED_RDTSC_EXITING) !== 0; }

  setSecondaryExecControl(bits: number, on: boolean): void {
    this.secondaryExecControl = on ? (this.secondaryExecControl | bits) >>> 0 : (this.secondaryExecControl & ~bits) >>> 0;
    this.m.vmwrite(F.SECONDARY_VM_EXEC_CONTROL, this.secondaryExecControl);
  }

  private setIntrWindowExiting(on: boolean): void {
    const want = on ? (this.execControl | CPU_BASED_INTR_WINDOW_EXITING) >>> 0 : (this.execControl & ~CPU_BASED_INTR_WINDOW_EXITING) >>> 0;
    if (want !== this.execControl) {
      this.execControl = want;
      this.m.vmwrite(F.CPU_BASED_VM_EXEC_CONTROL, want);
    }
  }

  /**
   * vmx_intr_assist(): before each VM entry, inject the interrupt the
   * domain's controller has pending for this vCPU if the guest can take it
   * (RFLAGS.IF = 1, no STI/MOV-SS blocking, no other event queued);
   * otherwise ask for an interrupt-window exit.
   */
  intrAssist(): void {
    const m = this.m, irq = this.domain.irq;
    const intack = irq.hvmVcpuHasPendingIrq(this);
    if (!intack) { this.setIntrWindowExiting(false); return; }
    if (m.vmread32(F.VM_ENTRY_INTR_INFO_FIELD) & INTR_INFO_VALID_MASK) { this.setIntrWindowExiting(true); return; }
    const rflags = m.vmread32(F.GUEST_RFLAGS), intr = m.vmread32(F.GUEST_INTERRUPTIBILITY_INFO);
    // hvm_vcpu_ack_pending_irq() answers the vector to inject (the PIC's comes from its INTA cycle).
    const acked = (rflags & X86_EFLAGS_IF) && (intr & 3) === 0 ? irq.hvmVcpuAckPendingIrq(this, intack) : undefined;
    if (acked) {
      m.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, (INTR_INFO_VALID_MASK | INTR_TYPE_EXT_INTR | acked.vector) >>> 0);
      this.setIntrWindowExiting(false);
    } else {
      this.setIntrWindowExiting(true);
    }
  }

  /**
   * Arms the VMX-preemption timer for `deadline` (none: the longest wait; the
   * timer plays the host's timer interrupt). Returns the virtual time at which it fires.
   */
  armPreemptionTimer(deadline: bigint | undefined): bigint {
    const now = this.m.vcycles;
    // The CPU's preemption timer runs at the TSC rate (IA32_VMX_MISC[4:0] = 0): one tick a cycle.
    let ticks = deadline === undefined ? 0xffffffffn : deadline > now ? deadline - now : 0n;
    if (ticks > 0xffffffffn) ticks = 0xffffffffn;
    this.m.vmwrite(F.VMX_PREEMPTION_TIMER_VALUE, Number(ticks));
    return now + ticks;
  }

  /** Charges virtual time for an exit: the round trip plus the handler. */
  private chargeExit(reason: number): void {
    let c = this.exitCosts.get(reason);
    if (c === undefined) this.exitCosts.set(reason, c = BigInt(this.domain.costs.vmexitRoundTrip + handlerCost(this.domain.costs, reason)));
    this.m.addVcycles(c);
    this.stats.exitCycles += c;
  }

  /** At a VM exit, before its handler: count it and run the exit hooks (at the exit's own time, before its cost). */
  recordExit(reason: number): void {
    this.stats.exits.set(reason, (this.stats.exits.get(reason) ?? 0) + 1);
    for (const h of this.exitHooks) h(this, reason);
  }

  /** Charges the exit's virtual time and dispatches it to vmx_vmexit_handler. */
  handleExit(reason: number): void {
    this.chargeExit(reason);
    vmxVmexitHandler(this, reason);
  }

  /** Exit counts by reason name. */
  exitHistogram(): Record<string, number> { return exitHistogram(this.stats.exits); }
}

/** Exit counts (by basic reason, bit 31 kept) by reason name, in reason order. */
export function exitHistogram(exits: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [r, n] of [...exits.entries()].sort((a, b) => (a[0] & 0xffff) - (b[0] & 0xffff))) {
    out[exitReasonName(r)] = (out[exitReasonName(r)] ?? 0) + n;
  }
  return out;
}
