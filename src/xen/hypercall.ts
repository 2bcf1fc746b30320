// Hypercalls (Xen's hvm_hypercall() and the do_* functions it calls). The
// 64-bit HVM ABI: number in RAX, arguments in RDI, RSI, RDX, R10, R8, the
// result in RAX (negative errno on failure). Only CPL 0 may call (-EPERM
// otherwise). Pointer arguments are guest-linear addresses, read through
// the guest's page tables and the p2m (copy_from_guest).
import type { Vcpu } from './vcpu.js';
import { CRASH_STATUS } from './domain.js';
import {
  __HYPERVISOR_console_io, __HYPERVISOR_sched_op, __HYPERVISOR_hvm_op, __HYPERVISOR_xen_version,
  CONSOLEIO_write, CONSOLEIO_read, XENVER_version, XENVER_extraversion, XEN_MAJOR, XEN_MINOR,
  SCHEDOP_yield, SCHEDOP_block, SCHEDOP_shutdown, SCHEDOP_shutdown_code, SHUTDOWN_NAMES, SHUTDOWN_crash,
  SHUTDOWN_watchdog, HVMOP_vmi_trigger, HVMOP_altp2m, DOMID_SELF, EPERM, ESRCH, EFAULT, EINVAL, ENOSYS, ERESTART,
} from './public.js';
import { XEN_HVM_ALTP2M_OP_SIZE, altp2mOpHeaderCheck } from './altp2m-op.js';
import { RAX, RDI, RSI, RDX, R10, R8 } from '../../assembly/shared/regs.js';
import { VMCS_FIELDS as F } from '../vmcs.js';

export type HypercallFn = (v: Vcpu, a: bigint[]) => bigint;
export type HvmOpFn = (v: Vcpu, arg: bigint) => bigint;

const err = (e: number) => BigInt(-e);

/** Reads a little-endian integer field of a guest structure at a guest-linear address. */
function readGuest(v: Vcpu, la: bigint, len: number): DataView | undefined {
  const b = v.domain.copyFromGuestVirt(la, len);
  return b ? new DataView(b.buffer, b.byteOffset, b.byteLength) : undefined;
}

function doXenVersion(v: Vcpu, a: bigint[]): bigint {
  switch (Number(a[0])) {
    case XENVER_version: return BigInt((XEN_MAJOR << 16) | XEN_MINOR);
    case XENVER_extraversion: {
      const s = new Uint8Array(16);
      s.set(new TextEncoder().encode('.0-vmfunc-vmi'));
      return v.domain.copyToGuestVirt(a[1], s) ? 0n : err(EFAULT);
    }
    default: return err(ENOSYS);
  }
}

function doConsoleIo(v: Vcpu, a: bigint[]): bigint {
  switch (Number(a[0])) {
    case CONSOLEIO_write: {
      const count = Number(a[1] & 0xffffffffn);
      if (count > 1 << 20) return err(EINVAL);
      const bytes = v.domain.copyFromGuestVirt(a[2], count);
      if (!bytes) return err(EFAULT);
      v.domain.consoleOut(bytes);
      return 0n;
    }
    case CONSOLEIO_read: return 0n;   // no console input
    default: return err(ENOSYS);
  }
}

function doSchedOp(v: Vcpu, a: bigint[]): bigint {
  const d = v.domain;
  switch (Number(a[0])) {
    case SCHEDOP_yield: return 0n;
    case SCHEDOP_block: d.sched.block(v); return 0n;   // until an event, on virtual time
    case SCHEDOP_shutdown: case SCHEDOP_shutdown_code: {
      const dv = readGuest(v, a[1], 4);
      if (!dv) return err(EFAULT);
      const reason = dv.getUint32(0, true) & 0xff;
      const name = SHUTDOWN_NAMES[reason];
      if (!name) return err(EINVAL);
      if (Number(a[0]) === SCHEDOP_shutdown_code) return 0n;   // recorded for a later shutdown; nothing to do here
      const status = reason === SHUTDOWN_crash || reason === SHUTDOWN_watchdog ? CRASH_STATUS : 0;
      d.log(`d${d.id}v${v.id} requested shutdown: ${name}`);
      d.shutdown({ reason: name, status, source: 'hypercall', message: `SCHEDOP_shutdown (${name})` });
      return 0n;
    }
    default: return err(ENOSYS);
  }
}

/**
 * HVMOP_vmi_trigger (vmfunc-vmi's extension, firmware/README.md): struct
 * xen_hvm_vmi_trigger { domid_t domid; uint16_t pad; uint32_t enable; }.
 * Sets or clears RDTSC exiting in the caller's VMCS.
 */
function hvmopVmiTrigger(v: Vcpu, arg: bigint): bigint {
  const dv = readGuest(v, arg, 8);
  if (!dv) return err(EFAULT);
  const domid = dv.getUint16(0, true), enable = dv.getUint32(4, true);
  if (domid !== DOMID_SELF && domid !== v.domain.id) return err(ESRCH);
  if (enable > 1) return err(EINVAL);
  v.setRdtscExiting(enable === 1);
  v.domain.log(`d${v.domain.id}v${v.id} VMI trigger ${enable ? 'on' : 'off'}: RDTSC exiting ${enable ? 'set' : 'cleared'}`);
  return 0n;
}

/**
 * HVMOP_altp2m (do_altp2m_op): the xen_hvm_altp2m_op structure (80 bytes) is read from the guest,
 * checked and handled (src/xen/altp2m-op.ts) by the domain's mechanism (src/xen/trigger.ts), and
 * written back by the sub-ops that return something in it. -ERESTART restarts the hypercall.
 */
function hvmopAltp2m(v: Vcpu, arg: bigint): bigint {
  const mech = v.domain.trigger;
  if (!mech) return err(ENOSYS);
  const dv = readGuest(v, arg, XEN_HVM_ALTP2M_OP_SIZE);
  if (!dv) return err(EFAULT);
  const head = altp2mOpHeaderCheck(dv);
  if (head) return BigInt(head);
  const domid = dv.getUint16(8, true);
  if (domid !== DOMID_SELF && domid !== v.domain.id) return err(ESRCH);
  const r = mech.altp2mOpFull(v, dv);
  if (r.copyBack && !v.domain.copyToGuestVirt(arg, new Uint8Array(dv.buffer, dv.byteOffset, XEN_HVM_ALTP2M_OP_SIZE))) return err(EFAULT);
  return BigInt(r.rc);
}

/** hvm_op sub-operations. */
export const hvmOps = new Map<number, HvmOpFn>([[HVMOP_vmi_trigger, hvmopVmiTrigger], [HVMOP_altp2m, hvmopAltp2m]]);

function doHvmOp(v: Vcpu, a: bigint[]): bigint {
  const fn = hvmOps.get(Number(a[0] & 0xffffffffn));
  return fn ? fn(v, a[1]) : err(ENOSYS);
}

export const hypercallTable = new Map<number, HypercallFn>([
  [__HYPERVISOR_xen_version, doXenVersion],
  [__HYPERVISOR_console_io, doConsoleIo],
  [__HYPERVISOR_sched_op, doSchedOp],
  [__HYPERVISOR_hvm_op, doHvmOp],
]);

/** A hypercall's -ERESTART: Xen's HVM_HCALL_preempted, the VMCALL runs again with the same registers. */
export const HCALL_PREEMPTED = BigInt(-ERESTART);

/**
 * hvm_hypercall(): returns with RAX set; the caller advances RIP unless the call was preempted
 * (returns 'preempted': RAX and RIP untouched, so the guest issues it again, as a continuation does).
 */
export function hvmHypercall(v: Vcpu): 'done' | 'preempted' {
  const m = v.m;
  const cpl = (m.vmread32(F.GUEST_SS_AR_BYTES) >> 5) & 3;
  if (cpl !== 0) { v.setGpr(RAX, err(EPERM)); return 'done'; }
  const nr = m.gpr(RAX);
  // Counted by number, whatever it is (exact up to 2^53); only the table's numbers have names.
  const n = Number(nr);
  v.stats.hypercalls.set(n, (v.stats.hypercalls.get(n) ?? 0) + 1);
  const fn = hypercallTable.get(n);
  const args = [m.gpr(RDI), m.gpr(RSI), m.gpr(RDX), m.gpr(R10), m.gpr(R8)];
  const rc = fn ? fn(v, args) : err(ENOSYS);
  if (rc === HCALL_PREEMPTED) return 'preempted';
  v.setGpr(RAX, rc);
  return 'done';
}
