// The CPUID values this virtual CPU reports: a 64-bit Intel part with VMX's
// guest-visible features. Xen's CPUID handler starts from these (as real Xen
// starts from the host's leaves) and adds its hypervisor leaves.

export interface CpuidResult { eax: number; ebx: number; ecx: number; edx: number }

const VENDOR = 'GenuineIntel';
function str4(s: string, i: number): number {
  return (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
}
const BRAND = 'vmfunc-vmi virtual CPU (x86-64, VMX non-root)'.padEnd(48, '\0');
/** Leaf 0's vendor words, computed once (CPUID exits ask for them often). */
const VENDOR_EBX = str4(VENDOR, 0), VENDOR_EDX = str4(VENDOR, 4), VENDOR_ECX = str4(VENDOR, 8);

export function nativeCpuid(leaf: number, subleaf: number): CpuidResult {
  switch (leaf >>> 0) {
    case 0: return { eax: 0xd, ebx: VENDOR_EBX, edx: VENDOR_EDX, ecx: VENDOR_ECX };
    case 1:
      // Family 6 model 0x3c (Haswell, the paper's era). ECX: CX16(13), POPCNT(23), hypervisor(31) -- no
      // SSE3 or later; EDX: the x86-64 baseline: FPU(0), TSC(4), MSR(5), PAE(6), CX8(8), APIC(9), SEP(11),
      // PGE(13), CMOV(15), PAT(16), CLFLUSH(19, line size 8 x 8 bytes in EBX[15:8]), MMX(23), FXSR(24),
      // SSE(25), SSE2(26). test/cpuid-advertised.test.ts checks that every one decodes.
      return { eax: 0x000306c3, ebx: 0x00010800, ecx: (1 << 23) | (1 << 13) | 0x80000000,
        edx: (1 << 0) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 11) | (1 << 13) | (1 << 15) | (1 << 16) |
          (1 << 19) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26) };
    // EBX: SMEP(7); bit 13: FPU CS and DS deprecated -- FXSAVE stores them as 0000H (assembly/sse/state-ops.ts).
    // Not BMI1(3) (X86_FEATURE_BMI1): ANDN, BEXTR, BLSI, BLSMSK, BLSR are VEX-encoded and the decoder has no
    // VEX (C4/C5 are #UD); TZCNT (F3 0F BC) still decodes, as on any BMI1 part.
    case 7: return subleaf === 0 ? { eax: 0, ebx: (1 << 7) | (1 << 13), ecx: 0, edx: 0 } : { eax: 0, ebx: 0, ecx: 0, edx: 0 };
    case 0x80000000: return { eax: 0x80000008, ebx: 0, ecx: 0, edx: 0 };
    case 0x80000001: return { eax: 0, ebx: 0, ecx: (1 << 5), edx: (1 << 11) | (1 << 20) | (1 << 27) | (1 << 29) }; // LZCNT; SYSCALL, NX, RDTSCP, LM
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const o = (leaf - 0x80000002) * 16;
      return { eax: str4(BRAND, o), ebx: str4(BRAND, o + 4), ecx: str4(BRAND, o + 8), edx: str4(BRAND, o + 12) };
    }
    case 0x80000008: return { eax: 0x302e, ebx: 0, ecx: 0, edx: 0 }; // 46 physical, 48 linear address bits
    default: return { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  }
}
