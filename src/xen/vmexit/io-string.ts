// EXIT_REASON_IO_INSTRUCTION for INS/OUTS (exit qualification bit 4, SDM Vol. 3C 28.2.1 Table
// 28-5). Xen does not use the qualification's size/REP/port or the instruction-information field
// (28.2.5) for these: vmx_vmexit_handler calls hvm_emulate_one_insn(x86_insn_is_portio), and
// x86_emulate runs the instruction with hvmemul_rep_ins / hvmemul_rep_outs (xen/arch/x86/hvm/
// emulate.c) doing the port side through the I/O handlers (unclaimed ports: all ones / dropped)
// and the memory side through the guest's page tables and the p2m. Each emulation does the
// iterations that fit in the memory operand's page; with RCX left over RIP stays on the
// instruction, which exits again for the rest. A fault (a #PF on the string's next page, #GP on a
// non-canonical address) is injected with RCX/RSI/RDI at the iterations completed; an instruction
// Xen cannot emulate gets #GP(0) (hvm_inject_hw_exception(X86_EXC_GP, 0)).
// Here the emulator is the CPU's interpreter (assembly/io.ts under hvmEmulateOne, src/xen/vmexit/ept.ts).
import type { Vcpu } from '../vcpu.js';
import { hvmEmulateOne } from './ept.js';

/** Exit-qualification bit 4: INS or OUTS (Table 28-5). */
export const IO_QUAL_STRING = 1 << 4;

export function vmxIoStringInstruction(v: Vcpu): void {
  hvmEmulateOne(v);
}
