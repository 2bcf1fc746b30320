// EXIT_REASON_TRIPLE_FAULT: Xen's hvm_triple_fault() logs and invokes the
// domain's shutdown action; ours is to crash the domain with a register dump
// (the host process carries on and reports it).
import type { Vcpu } from '../vcpu.js';
import { SHUTDOWN_crash } from '../public.js';

export function vmxTripleFault(v: Vcpu): void {
  const idtv = Number(v.m.vmread('IDT_VECTORING_INFO_FIELD'));
  const during = idtv & 0x80000000 ? ` (while delivering vector ${idtv & 0xff})` : '';
  v.domain.crash(`Triple fault${during} - invoking HVM shutdown action ${SHUTDOWN_crash} (crash)`);
}
