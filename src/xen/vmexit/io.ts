// EXIT_REASON_IO_INSTRUCTION: decode the qualification (SDM Table 28-5) and
// hand the access to the port's device (the device model: serial console,
// exit port). String I/O (INS/OUTS) is emulated as Xen does it: io-string.ts.
import type { Vcpu } from '../vcpu.js';
import { hex } from '../../util/format.js';
import { VMCS_FIELDS as F } from '../../vmcs.js';
import { RAX } from '../../../assembly/shared/regs.js';
import { vmxIoStringInstruction, IO_QUAL_STRING } from './io-string.js';

export function vmxIoInstruction(v: Vcpu): void {
  const m = v.m;
  const q = m.vmread32(F.EXIT_QUALIFICATION); // bits 31:16 the port; bits 63:32 are reserved (SDM Table 28-5)
  const size = ((q & 7) + 1) as 1 | 2 | 4;
  const isIn = (q & 8) !== 0;
  const port = (q >>> 16) & 0xffff;
  if (q & IO_QUAL_STRING) { vmxIoStringInstruction(v); return; }
  if (size !== 1 && size !== 2 && size !== 4) {
    v.domain.crash(`Unsupported I/O exit: qualification ${hex(q)} at RIP ${hex(m.vmread(F.GUEST_RIP))}`);
    return;
  }
  if (isIn) {
    const val = BigInt(v.domain.io.read(port, size) >>> 0);
    const rax = m.gpr(RAX);
    // IN to AL/AX merges; IN to EAX zero-extends into RAX.
    const merged = size === 4 ? val : (rax & ~((1n << BigInt(size * 8)) - 1n)) | val;
    m.setGpr(RAX, merged);
  } else {
    const eax = m.gpr32(RAX);
    v.domain.io.write(port, size, size === 4 ? eax : eax & ((1 << (size * 8)) - 1));
  }
  if (!v.domain.isShutdown) v.updateGuestEip();
}
