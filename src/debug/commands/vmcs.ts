// vmcs: VMCS fields by name or encoding (SDM Vol. 3C, Appendix B), each with a short decoding:
// control bits by name (24.6-24.8), interruption information (24.8.3, 24.9.2), the EPTP, and
// the VMX-preemption timer in TSC cycles.
import { fieldEncoding, fieldName, VMCS_FIELDS, exitReasonName } from '../../vmcs.js';
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

const PIN_BITS: [number, string][] = [[0, 'EXT_INTR_MASK'], [3, 'NMI_EXITING'], [5, 'VIRTUAL_NMIS'], [6, 'PREEMPTION_TIMER'], [7, 'POSTED_INTR']];
const CPU_BITS: [number, string][] = [[2, 'INTR_WINDOW_EXITING'], [3, 'USE_TSC_OFFSETTING'], [7, 'HLT_EXITING'], [9, 'INVLPG_EXITING'],
  [10, 'MWAIT_EXITING'], [11, 'RDPMC_EXITING'], [12, 'RDTSC_EXITING'], [15, 'CR3_LOAD_EXITING'], [16, 'CR3_STORE_EXITING'],
  [19, 'CR8_LOAD_EXITING'], [20, 'CR8_STORE_EXITING'], [21, 'TPR_SHADOW'], [22, 'NMI_WINDOW_EXITING'], [23, 'MOV_DR_EXITING'],
  [24, 'UNCOND_IO_EXITING'], [25, 'USE_IO_BITMAPS'], [27, 'MONITOR_TRAP_FLAG'], [28, 'USE_MSR_BITMAPS'], [29, 'MONITOR_EXITING'],
  [30, 'PAUSE_EXITING'], [31, 'ACTIVATE_SECONDARY_CONTROLS']];
const SEC_BITS: [number, string][] = [[0, 'VIRTUALIZE_APIC_ACCESSES'], [1, 'ENABLE_EPT'], [2, 'DESC_EXITING'], [3, 'ENABLE_RDTSCP'],
  [4, 'VIRTUALIZE_X2APIC'], [5, 'ENABLE_VPID'], [6, 'WBINVD_EXITING'], [7, 'UNRESTRICTED_GUEST'], [9, 'VIRTUAL_INTR_DELIVERY'],
  [10, 'PAUSE_LOOP_EXITING'], [12, 'ENABLE_INVPCID'], [13, 'ENABLE_VMFUNC'], [14, 'VMCS_SHADOWING'], [18, 'EPT_VIOLATION_VE'],
  [20, 'ENABLE_XSAVES'], [25, 'TSC_SCALING']];

function bits(v: bigint, table: [number, string][]): string {
  const set = table.filter(([b]) => (v >> BigInt(b)) & 1n).map(([, n]) => n);
  return set.length ? `[ ${set.join(' ')} ]` : '';
}

/** A short decoding of a field's value, for `vmcs`. */
function describeField(enc: number, v: bigint, s: DebugSession): string {
  const F = VMCS_FIELDS;
  switch (enc) {
    case F.VM_EXIT_REASON: return exitReasonName(Number(v));
    case F.PIN_BASED_VM_EXEC_CONTROL: return bits(v, PIN_BITS);
    case F.CPU_BASED_VM_EXEC_CONTROL: return bits(v, CPU_BITS);
    case F.SECONDARY_VM_EXEC_CONTROL: return bits(v, SEC_BITS);
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
