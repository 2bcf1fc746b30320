// vmcs: VMCS fields by name or encoding (SDM Vol. 3C, Appendix B), each with a short decoding:
// control bits by name (24.6-24.8), interruption information (24.8.3, 24.9.2), the EPTP, and
// the VMX-preemption timer in TSC cycles.
import {
  fieldEncoding, fieldName, VMCS_FIELDS, exitReasonName,
  PIN_BASED_CONTROL_BITS, CPU_BASED_CONTROL_BITS, SECONDARY_EXEC_CONTROL_BITS,
} from '../../vmcs.js';
import type { DebugSession } from '../session.js';
import { describeRflags } from '../registers.js';
import { describeEptp } from '../walk.js';
import { DebugError } from '../format.js';
import { hex, hexPad, grouped } from '../../util/format.js';
import type { CommandContext, CommandDef } from './command.js';

/** The fields `vmcs` shows without arguments. */
const DEFAULT_VMCS = [
  'VM_EXIT_REASON', 'EXIT_QUALIFICATION', 'VM_EXIT_INTR_INFO', 'VM_EXIT_INSTRUCTION_LEN', 'IDT_VECTORING_INFO_FIELD',
  'GUEST_PHYSICAL_ADDRESS', 'GUEST_LINEAR_ADDRESS',
  'GUEST_RIP', 'GUEST_RSP', 'GUEST_RFLAGS', 'GUEST_CR0', 'GUEST_CR3', 'GUEST_CR4', 'GUEST_CS_SELECTOR', 'GUEST_IA32_EFER',
  'GUEST_INTERRUPTIBILITY_INFO', 'GUEST_ACTIVITY_STATE',
  'PIN_BASED_VM_EXEC_CONTROL', 'CPU_BASED_VM_EXEC_CONTROL', 'SECONDARY_VM_EXEC_CONTROL', 'VM_FUNCTION_CONTROL',
  'EPT_POINTER', 'EPTP_LIST_ADDR', 'EPTP_INDEX', 'VIRT_EXCEPTION_INFO', 'TSC_OFFSET', 'VMX_PREEMPTION_TIMER_VALUE',
  'VM_ENTRY_INTR_INFO_FIELD',
];

export function vmcsCommand(ctx: CommandContext): CommandDef {
  const s = ctx.s, out = ctx.out;
  return {
    name: 'vmcs', aliases: [], usage: 'vmcs [FIELD...]', summary: 'VMCS fields by name or encoding (a useful set without arguments)',
    help: ['Names as Linux\'s vmx.h and Xen\'s vmcs.h spell them (GUEST_RIP, EXIT_QUALIFICATION, EPT_POINTER,',
      'EPTP_INDEX, ...), case-insensitive, or encodings from the SDM\'s Appendix B (0x681e).'],
    run: (args) => {
      const fields = args.length ? args : DEFAULT_VMCS;
      for (const f of fields) {
        let enc: number;
        try { enc = fieldEncoding(f); } catch {
          throw new DebugError(`unknown VMCS field "${f}" (a name like GUEST_RIP or an encoding like 0x681e)`);
        }
        if (!s.m.vmfieldExists(enc)) {
          if (args.length) throw new DebugError(`VMCS field ${fieldName(enc) ?? hex(enc)} (encoding ${hex(enc)}) is not supported by this CPU`);
          continue;
        }
        const v = s.m.vmread(enc);
        const note = describeField(enc, v, s);
        out.line(`${(fieldName(enc) ?? '?').padEnd(28)} ${('(' + hexPad(enc, 4) + ')').padEnd(9)} = ${hex(v)}${note ? `  ${note}` : ''}`);
      }
    },
  };
}

function bits(v: bigint, table: [number, string][]): string {
  const set = table.filter(([b]) => (v >> BigInt(b)) & 1n).map(([, n]) => n);
  return set.length ? `[ ${set.join(' ')} ]` : '';
}

/** A short decoding of a field's value, for `vmcs`. */
function describeField(enc: number, v: bigint, s: DebugSession): string {
  const F = VMCS_FIELDS;
  switch (enc) {
    case F.VM_EXIT_REASON: return exitReasonName(Number(v));
    case F.PIN_BASED_VM_EXEC_CONTROL: return bits(v, PIN_BASED_CONTROL_BITS);
    case F.CPU_BASED_VM_EXEC_CONTROL: return bits(v, CPU_BASED_CONTROL_BITS);
    case F.SECONDARY_VM_EXEC_CONTROL: return bits(v, SECONDARY_EXEC_CONTROL_BITS);
    case F.VM_FUNCTION_CONTROL: return v & 1n ? '[ EPTP_SWITCHING ]' : '';
    case F.EPT_POINTER: return `${s.describeView(v)}: ${describeEptp(v)}`;
    case F.EPTP_INDEX: return `(${v})`;
    case F.GUEST_RIP: { const n = s.symbols.format(v); return n ? `<${n}>` : ''; }
    case F.GUEST_RFLAGS: return describeRflags(v);
    case F.GUEST_ACTIVITY_STATE: return ['active', 'HLT', 'shutdown', 'wait-for-SIPI'][Number(v)] ?? '';
    case F.VM_EXIT_INTR_INFO: case F.IDT_VECTORING_INFO_FIELD: case F.VM_ENTRY_INTR_INFO_FIELD:
      return v & 0x80000000n ? `(${describeIntr(Number(v))})` : '';
    // The CPU counts the timer down at the TSC rate (IA32_VMX_MISC[4:0] = 0, assembly/vmx.ts): one
    // tick a cycle. The value is what the hypervisor armed at the last entry (src/xen/vcpu.ts).
    case F.VMX_PREEMPTION_TIMER_VALUE: return `(${grouped(v)} cycles)`;
    default: return '';
  }
}

function describeIntr(info: number): string {
  const types = ['external interrupt', 'reserved', 'NMI', 'hardware exception', 'software interrupt', 'privileged software exception', 'software exception', 'other event'];
  return `vector ${info & 0xff}, ${types[(info >> 8) & 7]}${info & 0x800 ? ', error code' : ''}`;
}
