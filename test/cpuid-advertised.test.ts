// "Every instruction CPUID advertises; nothing advertised may be partial" (issue 13), checked
// mechanically: every feature bit src/cpuid.ts sets in leaves 1, 7 (subleaf 0), 0DH and 80000001H
// must be either a feature that names instructions -- then each representative encoding below decodes
// to an operation (not #UD, the full length) -- or a bit that names no instruction (paging, APIC,
// long mode, ...), listed with the reason. A bit in neither list fails the test, so a newly
// advertised bit has to be classified here. Names and bit positions are Linux's
// (arch/x86/include/asm/cpufeatures.h), which follow the SDM Vol. 2A CPUID tables.
import { describe, it, expect, beforeAll } from 'vitest';
import { Machine } from '../src/machine.js';
import { nativeCpuid } from '../src/cpuid.js';

type Reg = 'eax' | 'ebx' | 'ecx' | 'edx';
const hex = (s: string) => Uint8Array.from(s.split(' ').map((x) => parseInt(x, 16)));

/** Features that name instructions: [leaf, reg, bit, Linux name, representative encodings]. */
const INSTRUCTIONS: [number, Reg, number, string, string[]][] = [
  [1, 'edx', 0, 'FPU', ['d9 e8', 'de c1', 'dd 18']],                      // FLD1, FADDP, FSTP m64
  [1, 'edx', 4, 'TSC', ['0f 31']],                                        // RDTSC
  [1, 'edx', 5, 'MSR', ['0f 32', '0f 30']],                               // RDMSR, WRMSR
  [1, 'edx', 8, 'CX8', ['0f c7 08']],                                     // CMPXCHG8B
  [1, 'edx', 11, 'SEP', ['0f 34', '48 0f 35']],                           // SYSENTER, SYSEXIT (64-bit)
  [1, 'edx', 15, 'CMOV', ['0f 44 c1', '48 0f 4f 00']],                    // CMOVE, CMOVG
  [1, 'edx', 19, 'CLFLUSH', ['0f ae 38']],
  [1, 'edx', 23, 'MMX', ['0f ef c0', '0f 6f 00', '0f 77']],               // PXOR, MOVQ, EMMS
  [1, 'edx', 24, 'FXSR', ['0f ae 00', '48 0f ae 08']],                    // FXSAVE, FXRSTOR64
  [1, 'edx', 25, 'XMM', ['0f 58 c1', '0f 28 00', '0f ae 10']],            // ADDPS, MOVAPS, LDMXCSR
  [1, 'edx', 26, 'XMM2', ['66 0f 58 c1', 'f2 0f 59 c1', '66 0f fe c1']],  // ADDPD, MULSD, PADDD
  [1, 'ecx', 0, 'XMM3', ['f2 0f 7c c1', '66 0f d0 c1', 'f3 0f 12 c1', 'f2 0f f0 00', 'df 08']], // HADDPS, ADDSUBPD, MOVSLDUP, LDDQU, FISTTP
  [1, 'ecx', 1, 'PCLMULQDQ', ['66 0f 3a 44 c1 00']],
  [1, 'ecx', 3, 'MWAIT', ['0f 01 c8', '0f 01 c9']],                       // MONITOR, MWAIT
  [1, 'ecx', 5, 'VMX', ['0f 01 c2', '66 0f c7 30']],                      // VMLAUNCH, VMCLEAR
  [1, 'ecx', 9, 'SSSE3', ['66 0f 38 00 c1', '0f 38 00 c1']],              // PSHUFB xmm, mm
  [1, 'ecx', 12, 'FMA', ['c4 e2 f1 98 c2']],                              // VFMADD132PD (VEX)
  [1, 'ecx', 13, 'CX16', ['48 0f c7 08']],                                // CMPXCHG16B
  [1, 'ecx', 19, 'XMM4_1', ['66 0f 38 10 c1', '66 0f 3a 0e c1 00']],      // PBLENDVB, PBLENDW
  [1, 'ecx', 20, 'XMM4_2', ['f2 0f 38 f1 c1', '66 0f 38 37 c1']],         // CRC32, PCMPGTQ
  [1, 'ecx', 22, 'MOVBE', ['0f 38 f0 00', '0f 38 f1 00']],
  [1, 'ecx', 23, 'POPCNT', ['f3 0f b8 c0']],
  [1, 'ecx', 25, 'AES', ['66 0f 38 dc c1']],                              // AESENC
  [1, 'ecx', 26, 'XSAVE', ['0f ae 20', '0f ae 28', '0f 01 d0', '0f 01 d1']], // XSAVE, XRSTOR, XGETBV, XSETBV
  [1, 'ecx', 28, 'AVX', ['c5 f8 58 c1', 'c5 fc 28 00']],                  // VADDPS, VMOVAPS ymm (VEX)
  [1, 'ecx', 29, 'F16C', ['c4 e2 79 13 c1']],                             // VCVTPH2PS (VEX)
  [1, 'ecx', 30, 'RDRAND', ['0f c7 f0']],
  [7, 'ebx', 0, 'FSGSBASE', ['f3 0f ae c0', 'f3 48 0f ae d8']],           // RDFSBASE, WRGSBASE
  [7, 'ebx', 3, 'BMI1', ['c4 e2 70 f2 c2', 'c4 e2 70 f7 c2', 'f3 0f bc c0']], // ANDN, BEXTR (VEX), TZCNT
  [7, 'ebx', 5, 'AVX2', ['c5 fd fe c1']],                                 // VPADDD ymm (VEX)
  [7, 'ebx', 8, 'BMI2', ['c4 e2 73 f6 c2', 'c4 e2 71 f7 c2']],            // MULX, SHLX (VEX)
  [7, 'ebx', 9, 'ERMS', ['f3 a4', 'f3 aa']],                              // REP MOVSB, REP STOSB
  [7, 'ebx', 10, 'INVPCID', ['66 0f 38 82 08']],
  [7, 'ebx', 11, 'RTM', ['c7 f8 00 00 00 00', '0f 01 d5']],               // XBEGIN, XEND
  [7, 'ebx', 18, 'RDSEED', ['0f c7 f8']],
  [7, 'ebx', 19, 'ADX', ['66 0f 38 f6 c1', 'f3 0f 38 f6 c1']],            // ADCX, ADOX
  [7, 'ebx', 20, 'SMAP', ['0f 01 ca', '0f 01 cb']],                       // CLAC, STAC
  [7, 'ebx', 23, 'CLFLUSHOPT', ['66 0f ae 38']],
  [7, 'ebx', 24, 'CLWB', ['66 0f ae 30']],
  [7, 'ecx', 22, 'RDPID', ['f3 0f c7 f8']],
  [0x80000001, 'ecx', 0, 'LAHF_LM', ['9f', '9e']],                       // LAHF/SAHF in 64-bit mode
  [0x80000001, 'ecx', 5, 'ABM', ['f3 0f bd c0']],                         // LZCNT
  [0x80000001, 'ecx', 8, '3DNOWPREFETCH', ['0f 0d 08']],                  // PREFETCHW
  [0x80000001, 'edx', 11, 'SYSCALL', ['0f 05', '48 0f 07']],              // SYSCALL, SYSRET (64-bit)
  [0x80000001, 'edx', 27, 'RDTSCP', ['0f 01 f9']],
];

/** Bits that name no instruction of their own, with what they do name. */
const NOT_INSTRUCTIONS: [number, Reg, number, string][] = [
  [1, 'edx', 1, 'VME'], [1, 'edx', 2, 'DE'], [1, 'edx', 3, 'PSE'], [1, 'edx', 6, 'PAE: paging'], [1, 'edx', 7, 'MCE'],
  [1, 'edx', 9, 'APIC: the local APIC'], [1, 'edx', 12, 'MTRR'], [1, 'edx', 13, 'PGE: global pages'], [1, 'edx', 14, 'MCA'],
  [1, 'edx', 16, 'PAT: the page attribute table'], [1, 'edx', 17, 'PSE36'],
  [1, 'ecx', 31, 'HYPERVISOR: running under a hypervisor'],
  [7, 'ebx', 7, 'SMEP: a paging check (assembly/mmu.ts)'],
  [7, 'ebx', 13, 'ZERO_FCS_FDS: FXSAVE stores FPU CS/DS as 0'],
  [0x80000001, 'edx', 20, 'NX: a paging bit'], [0x80000001, 'edx', 26, 'GBPAGES: 1-GiB pages'], [0x80000001, 'edx', 29, 'LM: long mode'],
];

const LEAVES: [number, Reg[]][] = [[1, ['ecx', 'edx']], [7, ['ebx', 'ecx', 'edx']], [0xd, ['eax', 'ebx', 'ecx', 'edx']], [0x80000001, ['ecx', 'edx']]];

let m: Machine;
beforeAll(async () => { m = await Machine.create({ memMiB: 16 }); });

describe('CPUID advertises only what the CPU decodes (src/cpuid.ts; SDM Vol. 2A CPUID, Linux cpufeatures.h)', () => {
  it('every advertised bit of leaves 1, 7, 0DH, 80000001H is classified; each instruction feature decodes all its encodings', () => {
    const unclassified: string[] = [];
    const partial: string[] = [];
    let checked = 0;
    for (const [leaf, regs] of LEAVES) {
      const r = nativeCpuid(leaf, 0);
      for (const reg of regs) {
        for (let bit = 0; bit < 32; bit++) {
          if (((r[reg] >>> bit) & 1) === 0) continue;
          const ins = INSTRUCTIONS.find(([l, g, b]) => l === leaf && g === reg && b === bit);
          const other = NOT_INSTRUCTIONS.find(([l, g, b]) => l === leaf && g === reg && b === bit);
          if (!ins && !other) { unclassified.push(`leaf ${leaf.toString(16)}H ${reg}[${bit}]`); continue; }
          if (!ins) continue;
          for (const enc of ins[4]) {
            checked++;
            const bytes = hex(enc);
            const n = m.decodeLength(bytes);
            if (n !== bytes.length) partial.push(`${ins[3]} (leaf ${leaf.toString(16)}H ${reg}[${bit}]): [${enc}] decodes as ${n === -1 ? '#UD' : `length ${n}`}`);
          }
        }
      }
    }
    expect(unclassified).toEqual([]);
    expect(partial).toEqual([]);
    expect(checked).toBeGreaterThan(10);
  });

  it('leaf 0DH (XSAVE state) is empty and XSAVE/OSXSAVE are clear: XSAVE/XRSTOR are not implemented', () => {
    expect(nativeCpuid(0xd, 0)).toEqual({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
    expect(nativeCpuid(1, 0).ecx & ((1 << 26) | (1 << 27))).toBe(0);
    expect(m.decodeLength(hex('0f ae 20'))).toBe(-1); // XSAVE [rax]
  });

  it('nothing VEX-encoded is advertised: C4/C5 are #UD here (AVX, AVX2, FMA, F16C, BMI1, BMI2 clear)', () => {
    expect(m.decodeLength(hex('c5 f8 58 c1'))).toBe(-1);
    expect(m.decodeLength(hex('c4 e2 70 f2 c2'))).toBe(-1);
    const l1 = nativeCpuid(1, 0), l7 = nativeCpuid(7, 0);
    expect(l1.ecx & ((1 << 12) | (1 << 28) | (1 << 29))).toBe(0);
    expect(l7.ebx & ((1 << 3) | (1 << 5) | (1 << 8))).toBe(0);
  });

  it('the classification itself is sound: the mapped encodings of unadvertised features that are #UD here are really #UD', () => {
    // Guards against a table entry that would pass vacuously (a wrong encoding that happens to decode).
    for (const enc of ['c4 e2 70 f2 c2', 'c5 fd fe c1', '0f c7 f0', '0f c7 f8', '66 0f 38 dc c1']) {
      expect(m.decodeLength(hex(enc)), enc).toBe(-1);
    }
    for (const enc of ['0f 34', '48 0f 35', 'f3 0f b8 c0', '48 0f c7 08', '0f 01 f9']) {
      expect(m.decodeLength(hex(enc)), enc).toBe(hex(enc).length);
    }
  });
});
