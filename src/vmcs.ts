// The host's view of the VMCS facts the CPU is compiled from (assembly/shared/): field names and
// encodings (Intel SDM Vol. 3C, Appendix B), control bits (25.6-25.8) and exit reasons (Appendix C).
// Nothing is defined here; this module turns the shared constants into the lookups the host needs
// (name <-> encoding, exit reason -> printed name).
import * as FIELDS from '../assembly/shared/vmcs-fields.js';
import * as CONTROLS from '../assembly/shared/vmx-controls.js';
import { BASIC_EXIT_REASON_LIMIT, VMX_EXIT_REASONS_FAILED_VMENTRY, exitReasonShortName } from '../assembly/shared/exit-reasons.js';

export * from '../assembly/shared/vmx-controls.js';
export * from '../assembly/shared/exit-reasons.js';

export type VmcsField = keyof typeof FIELDS;

/** Every field by its name, in encoding order (the order `vmcs` completion lists them). */
export const VMCS_FIELDS: Readonly<Record<VmcsField, number>> = Object.freeze(Object.fromEntries(
  Object.entries(FIELDS).filter(([, v]) => typeof v === 'number').sort(([, a], [, b]) => a - b)) as Record<VmcsField, number>);

const BY_ENCODING = new Map<number, string>(Object.entries(VMCS_FIELDS).map(([k, v]) => [v, k]));
const BY_NAME = new Map<string, number>(Object.entries(VMCS_FIELDS));
export function fieldName(enc: number): string | undefined { return BY_ENCODING.get(enc); }

/** Accepts a field name (case-insensitive) or an encoding (number or "0x..." string). */
export function fieldEncoding(field: string | number): number {
  if (typeof field === 'number') return field;
  const exact = BY_NAME.get(field);
  if (exact !== undefined) return exact;
  const up = field.toUpperCase();
  if (up in VMCS_FIELDS) return VMCS_FIELDS[up as VmcsField];
  if (/^(0X)?[0-9A-F]+$/.test(up)) return parseInt(up.replace(/^0X/, ''), 16);
  throw new Error(`unknown VMCS field "${field}"`);
}

/** Where the debugger has always shown a control bit by another name than Linux's without its prefix. */
const SHOWN_AS: Readonly<Record<string, string>> = {
  PIN_BASED_VMX_PREEMPTION_TIMER: 'PREEMPTION_TIMER', SECONDARY_EXEC_DESC: 'DESC_EXITING',
  SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE: 'VIRTUALIZE_X2APIC', SECONDARY_EXEC_SHADOW_VMCS: 'VMCS_SHADOWING',
};
/** [bit number, shown name] for every shared bit of one control field, by bit. */
function controlBits(prefix: string): [number, string][] {
  return Object.entries(CONTROLS).filter((e): e is [string, number] => e[0].startsWith(prefix) && typeof e[1] === 'number')
    .map(([name, mask]): [number, string] => [Math.log2(mask), SHOWN_AS[name] ?? name.slice(prefix.length)])
    .sort(([a], [b]) => a - b);
}
export const PIN_BASED_CONTROL_BITS = controlBits('PIN_BASED_');
export const CPU_BASED_CONTROL_BITS = controlBits('CPU_BASED_');
export const SECONDARY_EXEC_CONTROL_BITS = controlBits('SECONDARY_EXEC_');

/** Basic exit reasons by number, with the names the host prints (the SDM's unused numbers absent). */
export const EXIT_REASONS: Readonly<Record<number, string>> = Object.freeze(Object.fromEntries(
  Array.from({ length: BASIC_EXIT_REASON_LIMIT }, (_, r) => [r, exitReasonShortName(r)]).filter(([, n]) => n !== '')));

export function exitReasonName(reason: number): string {
  const basic = reason & 0xffff;
  const name = EXIT_REASONS[basic] ?? `UNKNOWN_${basic}`;
  return reason & VMX_EXIT_REASONS_FAILED_VMENTRY ? `VMENTRY_FAILURE(${name})` : name;
}
