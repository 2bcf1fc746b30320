// EXIT_REASON_EPT_VIOLATION / EPT_MISCONFIG (Xen's ept_handle_violation and
// ept_handle_misconfig). The p2m maps all guest RAM read/write/execute, so a
// violation means the guest touched a guest-physical address with no RAM
// and no emulated device behind it: Xen prints the violation and crashes
// the domain. (The mechanism issue's restricted views will handle theirs.)
import type { Vcpu } from '../vcpu.js';
import { hex } from '../../util/format.js';

export function vmxEptViolation(v: Vcpu): void {
  const m = v.m;
  const q = Number(m.vmread('EXIT_QUALIFICATION'));
  const gpa = m.vmread('GUEST_PHYSICAL_ADDRESS');
  const flag = (bit: number, c: string) => (q & (1 << bit) ? c : '-');
  const access = `${flag(0, 'r')}${flag(1, 'w')}${flag(2, 'x')}/${flag(3, 'r')}${flag(4, 'w')}${flag(5, 'x')}`;
  const mfn = v.domain.gpaToMachine(Number(gpa));
  let msg = `EPT violation ${hex(q)} (${access}) gpa ${hex(gpa)} mfn ${mfn === undefined ? 'INVALID' : hex(mfn >> 12)}`;
  if (q & (1 << 7)) msg += ` --- GLA ${hex(m.vmread('GUEST_LINEAR_ADDRESS'))}`;
  v.domain.crash(`${msg} at RIP ${hex(m.vmread('GUEST_RIP'))}`);
}

export function vmxEptMisconfig(v: Vcpu): void {
  const m = v.m;
  v.domain.crash(`EPT misconfiguration at gpa ${hex(m.vmread('GUEST_PHYSICAL_ADDRESS'))}, RIP ${hex(m.vmread('GUEST_RIP'))}`);
}
