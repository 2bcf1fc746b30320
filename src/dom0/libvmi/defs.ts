// LibVMI's public definitions (libvmi/libvmi.h, libvmi/x86.h): status_t,
// os_t and the x86 register numbers, with the lookup from a register number
// or macro name to the name a DomainAccess (core.ts) answers to. Every layer
// (core, arch, OS, driver) reads these; none of them is read here.

export const VMI_SUCCESS = 0;
export const VMI_FAILURE = 1;
export type status_t = typeof VMI_SUCCESS | typeof VMI_FAILURE;

/** os_t */
export const VMI_OS_UNKNOWN = 0, VMI_OS_LINUX = 1;

/** LibVMI's register numbers (libvmi.h, x86), by LibVMI macro name. */
export const LIBVMI_REGS: Readonly<Record<string, number>> = {
  RAX: 0, RBX: 1, RCX: 2, RDX: 3, RBP: 4, RSI: 5, RDI: 6, RSP: 7, RIP: 8, RFLAGS: 9,
  R8: 10, R9: 11, R10: 12, R11: 13, R12: 14, R13: 15, R14: 16, R15: 17,
  CR0: 18, CR2: 19, CR3: 20, CR4: 21, XCR0: 22,
  DR0: 23, DR1: 24, DR2: 25, DR3: 26, DR6: 27, DR7: 28,
  CS_SEL: 29, DS_SEL: 30, ES_SEL: 31, FS_SEL: 32, GS_SEL: 33, SS_SEL: 34, TR_SEL: 35, LDTR_SEL: 36,
  CS_LIMIT: 37, DS_LIMIT: 38, ES_LIMIT: 39, FS_LIMIT: 40, GS_LIMIT: 41, SS_LIMIT: 42, TR_LIMIT: 43,
  LDTR_LIMIT: 44, IDTR_LIMIT: 45, GDTR_LIMIT: 46,
  CS_BASE: 47, DS_BASE: 48, ES_BASE: 49, FS_BASE: 50, GS_BASE: 51, SS_BASE: 52, TR_BASE: 53,
  LDTR_BASE: 54, IDTR_BASE: 55, GDTR_BASE: 56,
  CS_ARBYTES: 57, DS_ARBYTES: 58, ES_ARBYTES: 59, FS_ARBYTES: 60, GS_ARBYTES: 61, SS_ARBYTES: 62,
  TR_ARBYTES: 63, LDTR_ARBYTES: 64,
  SYSENTER_CS: 65, SYSENTER_ESP: 66, SYSENTER_EIP: 67, SHADOW_GS: 68, TSC: 69,
  MSR_FLAGS: 70, MSR_LSTAR: 71, MSR_CSTAR: 72, MSR_SYSCALL_MASK: 73, MSR_EFER: 74, MSR_TSC_AUX: 75,
  MSR_STAR: 119, MSR_SHADOW_GS_BASE: 120,
};
// Aliases LibVMI defines for the same numbers.
const REG_ALIASES: Record<string, string> = {
  EAX: 'RAX', EBX: 'RBX', ECX: 'RCX', EDX: 'RDX', EBP: 'RBP', ESI: 'RSI', EDI: 'RDI', ESP: 'RSP',
  EIP: 'RIP', EFLAGS: 'RFLAGS', MSR_SHADOW_GS_BASE: 'SHADOW_GS',
};
const REG_BY_NUMBER = new Map<number, string>();
for (const [name, n] of Object.entries(LIBVMI_REGS)) {
  const canonical = REG_ALIASES[name] ?? name;
  if (!REG_BY_NUMBER.has(n)) REG_BY_NUMBER.set(n, canonical.toLowerCase());
}
REG_BY_NUMBER.set(LIBVMI_REGS.MSR_SHADOW_GS_BASE, 'shadow_gs');

/** The DomainAccess name of a LibVMI register (number or macro name), or undefined. */
export function regName(reg: number | string): string | undefined {
  if (typeof reg === 'number') return REG_BY_NUMBER.get(reg);
  const up = reg.toUpperCase();
  const canonical = REG_ALIASES[up] ?? up;
  return canonical in LIBVMI_REGS ? canonical.toLowerCase() : undefined;
}
