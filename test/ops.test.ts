// The CPU's operation table (assembly/ops.ts, after Bochs's ia_opcodes.def and v86's x86_table.js):
// every id is one row with a name and attributes, the run loop ends a decoded block exactly where
// the row says so, costs are kept per id, and the host reads the same ids the Wasm CPU decodes.
// Block ends follow the SDM's reasons for them: control transfers (Vol. 3A 6.4 / Vol. 1 6.3),
// instructions that may exit in VMX non-root operation (Vol. 3C 25.1) or change interruptibility.
import { describe, it, expect } from 'vitest';
import * as O from '../assembly/ops.js';
import { TestGuest, KCODE } from './helpers/guest.js';

const ids = Array.from({ length: O.OP_COUNT }, (_, i) => i);
const opConsts = Object.entries(O).filter(([k]) => k.startsWith('OP_') && k !== 'OP_COUNT') as [string, number][];
const UNITS = [O.UNIT_INT, O.UNIT_BRANCH, O.UNIT_STRING, O.UNIT_SYSTEM, O.UNIT_IO, O.UNIT_VMX, O.UNIT_X87, O.UNIT_SSE];

describe('the op table (assembly/ops.ts)', () => {
  it('every id below OP_COUNT is one row with a name, a unit and a cost class; names and ids are unique', () => {
    expect(new Set(opConsts.map(([, v]) => v)).size).toBe(opConsts.length);
    expect(opConsts.length).toBe(O.OP_COUNT);
    for (const id of ids) {
      const name = O.opName(id);
      expect(typeof name, `id ${id}`).toBe('string');
      expect((O as Record<string, unknown>)[`OP_${name}`], name).toBe(id);
      expect(UNITS).toContain(O.opUnit(id));
      expect(O.opDefaultCycles(id), name).toBeGreaterThan(0);
    }
    expect(new Set(ids.map(O.opName)).size).toBe(O.OP_COUNT);
  });

  it('ends-block follows the unit: branches, system, I/O and VMX operations end a block; of the rest only POPF (IF/TF)', () => {
    for (const id of ids) {
      const u = O.opUnit(id);
      const expected = u === O.UNIT_BRANCH || u === O.UNIT_SYSTEM || u === O.UNIT_IO || u === O.UNIT_VMX || id === O.OP_POPF;
      expect(O.opEndsBlock(id), O.opName(id)).toBe(expected);
    }
  });
});

// Encodings run one at a time: `pre` sets up, `insn` is the instruction, then MOV rax, rax; HLT (HLT exits).
const SAMPLES: { name: string; op: number; pre?: number[]; insn: number[] }[] = [
  { name: 'NOP', op: O.OP_NOP, insn: [0x90] },
  { name: 'PAUSE (F3 90)', op: O.OP_PAUSE, insn: [0xf3, 0x90] },
  { name: 'LFENCE (0F AE E8)', op: O.OP_NOP, insn: [0x0f, 0xae, 0xe8] },
  { name: 'CLC', op: O.OP_CLC, insn: [0xf8] },
  { name: 'LEA rax, [rsp]', op: O.OP_LEA, insn: [0x48, 0x8d, 0x04, 0x24] },
  { name: 'PUSHF', op: O.OP_PUSHF, insn: [0x9c] },
  { name: 'POPF', op: O.OP_POPF, pre: [0x9c], insn: [0x9d] },
  { name: 'MOVBE eax, [rsp] (0F 38 F0)', op: O.OP_MOVBE, insn: [0x0f, 0x38, 0xf0, 0x04, 0x24] },
  { name: 'MOVBE ax, [rsp] (66 0F 38 F0)', op: O.OP_MOVBE, insn: [0x66, 0x0f, 0x38, 0xf0, 0x04, 0x24] },
  { name: 'BSF eax, eax (0F BC)', op: O.OP_BSF, insn: [0x0f, 0xbc, 0xc0] },
  { name: 'TZCNT eax, eax (F3 0F BC)', op: O.OP_TZCNT, insn: [0xf3, 0x0f, 0xbc, 0xc0] },
  { name: 'POPCNT eax, eax (F3 0F B8)', op: O.OP_POPCNT, insn: [0xf3, 0x0f, 0xb8, 0xc0] },
  { name: 'JMP rel8 0', op: O.OP_JMP, insn: [0xeb, 0x00] },
  { name: 'LOOP rel8 0', op: O.OP_LOOP, insn: [0xe2, 0x00] },
  { name: 'RDTSC', op: O.OP_RDTSC, insn: [0x0f, 0x31] },
  { name: 'CLI', op: O.OP_CLI, insn: [0xfa] },
  { name: 'SWAPGS', op: O.OP_SWAPGS, insn: [0x0f, 0x01, 0xf8] },
  { name: 'MOV rax, cr0', op: O.OP_MOV_R_CR, insn: [0x0f, 0x20, 0xc0] },
  { name: 'SMSW eax', op: O.OP_SMSW, insn: [0x0f, 0x01, 0xe0] },
];

// One encoding per operation the decoder produces (not run: decoding alone shows where blocks end).
const ENCODINGS: [string, number, number[]][] = [
  ['UD (0F 04, no instruction)', O.OP_UD, [0x0f, 0x04]], ['TOOLONG (16 x 66, NOP)', O.OP_TOOLONG, [...Array(16).fill(0x66), 0x90]],
  ['UD2', O.OP_UD2, [0x0f, 0x0b]], ['ADD eax, eax', O.OP_ALU_EG, [0x01, 0xc0]], ['ADD eax, [rax]', O.OP_ALU_GE, [0x03, 0x00]],
  ['ADD eax, 1', O.OP_ALU_EI, [0x83, 0xc0, 0x01]], ['TEST eax, eax', O.OP_TEST_EG, [0x85, 0xc0]], ['TEST al, 1', O.OP_TEST_EI, [0xa8, 0x01]],
  ['MOV [rax], eax', O.OP_MOV_EG, [0x89, 0x00]], ['MOV eax, [rax]', O.OP_MOV_GE, [0x8b, 0x00]], ['MOV eax, 1', O.OP_MOV_EI, [0xb8, 1, 0, 0, 0]],
  ['LEA', O.OP_LEA, [0x8d, 0x00]], ['MOVZX', O.OP_MOVZX, [0x0f, 0xb6, 0xc0]], ['MOVSX', O.OP_MOVSX, [0x0f, 0xbe, 0xc0]],
  ['XCHG', O.OP_XCHG, [0x87, 0xc1]], ['BSWAP', O.OP_BSWAP, [0x0f, 0xc8]], ['INC', O.OP_INC, [0xff, 0xc0]], ['DEC', O.OP_DEC, [0xff, 0xc8]],
  ['NEG', O.OP_NEG, [0xf7, 0xd8]], ['NOT', O.OP_NOT, [0xf7, 0xd0]], ['SHL', O.OP_SHIFT, [0xd1, 0xe0]], ['SHLD', O.OP_SHLD, [0x0f, 0xa5, 0xc0]],
  ['SHRD', O.OP_SHRD, [0x0f, 0xad, 0xc0]], ['MUL', O.OP_MULDIV, [0xf7, 0xe1]], ['IMUL Gv, Ev', O.OP_IMUL_GE, [0x0f, 0xaf, 0xc1]],
  ['IMUL Gv, Ev, Ib', O.OP_IMUL_GEI, [0x6b, 0xc1, 0x02]], ['CDQE', O.OP_CONV_A, [0x48, 0x98]], ['CQO', O.OP_CONV_D, [0x48, 0x99]],
  ['BT Ev, Gv', O.OP_BT_EG, [0x0f, 0xa3, 0xc0]], ['BT Ev, Ib', O.OP_BT_EI, [0x0f, 0xba, 0xe0, 0x01]], ['BSF', O.OP_BSF, [0x0f, 0xbc, 0xc0]],
  ['BSR', O.OP_BSR, [0x0f, 0xbd, 0xc0]], ['POPCNT', O.OP_POPCNT, [0xf3, 0x0f, 0xb8, 0xc0]], ['LZCNT', O.OP_LZCNT, [0xf3, 0x0f, 0xbd, 0xc0]],
  ['TZCNT', O.OP_TZCNT, [0xf3, 0x0f, 0xbc, 0xc0]], ['SETZ', O.OP_SETCC, [0x0f, 0x94, 0xc0]], ['CMOVZ', O.OP_CMOVCC, [0x0f, 0x44, 0xc1]],
  ['JZ', O.OP_JCC, [0x74, 0x00]], ['JMP', O.OP_JMP, [0xeb, 0x00]], ['CALL', O.OP_CALL, [0xe8, 0, 0, 0, 0]], ['RET', O.OP_RET, [0xc3]],
  ['JMP rax', O.OP_JMP_E, [0xff, 0xe0]], ['CALL rax', O.OP_CALL_E, [0xff, 0xd0]], ['PUSH rax', O.OP_PUSH_R, [0x50]], ['POP rax', O.OP_POP_R, [0x58]],
  ['PUSH [rax]', O.OP_PUSH_E, [0xff, 0x30]], ['POP [rax]', O.OP_POP_E, [0x8f, 0x00]], ['PUSH 1', O.OP_PUSH_I, [0x6a, 0x01]],
  ['PUSHF', O.OP_PUSHF, [0x9c]], ['POPF', O.OP_POPF, [0x9d]], ['LAHF', O.OP_LAHF, [0x9f]], ['SAHF', O.OP_SAHF, [0x9e]],
  ['CLC', O.OP_CLC, [0xf8]], ['STC', O.OP_STC, [0xf9]], ['CMC', O.OP_CMC, [0xf5]], ['CLD', O.OP_CLD, [0xfc]], ['STD', O.OP_STD, [0xfd]],
  ['XADD', O.OP_XADD, [0x0f, 0xc1, 0xc1]], ['CMPXCHG', O.OP_CMPXCHG, [0x0f, 0xb1, 0xc1]], ['CMPXCHG8B', O.OP_CMPXCHGB, [0x0f, 0xc7, 0x08]],
  ['MOVSB', O.OP_MOVS, [0xa4]], ['CMPSB', O.OP_CMPS, [0xa6]], ['STOSB', O.OP_STOS, [0xaa]], ['LODSB', O.OP_LODS, [0xac]], ['SCASB', O.OP_SCAS, [0xae]],
  ['LEAVE', O.OP_LEAVE, [0xc9]], ['NOP', O.OP_NOP, [0x90]], ['PAUSE', O.OP_PAUSE, [0xf3, 0x90]], ['XLAT', O.OP_XLAT, [0xd7]],
  ['LOOP', O.OP_LOOP, [0xe2, 0x00]], ['MOVBE', O.OP_MOVBE, [0x0f, 0x38, 0xf0, 0x00]], ['ENTER', O.OP_ENTER, [0xc8, 8, 0, 0]],
  ['CPUID', O.OP_CPUID, [0x0f, 0xa2]], ['RDTSC', O.OP_RDTSC, [0x0f, 0x31]], ['RDTSCP', O.OP_RDTSCP, [0x0f, 0x01, 0xf9]],
  ['RDMSR', O.OP_RDMSR, [0x0f, 0x32]], ['WRMSR', O.OP_WRMSR, [0x0f, 0x30]], ['HLT', O.OP_HLT, [0xf4]], ['CLI', O.OP_CLI, [0xfa]],
  ['STI', O.OP_STI, [0xfb]], ['IN al, dx', O.OP_IN, [0xec]], ['OUT dx, al', O.OP_OUT, [0xee]], ['INT 0x80', O.OP_INT, [0xcd, 0x80]],
  ['INT3', O.OP_INT3, [0xcc]], ['IRETQ', O.OP_IRET, [0x48, 0xcf]], ['SYSCALL', O.OP_SYSCALL, [0x0f, 0x05]], ['SYSRET', O.OP_SYSRET, [0x48, 0x0f, 0x07]],
  ['SWAPGS', O.OP_SWAPGS, [0x0f, 0x01, 0xf8]], ['MOV rax, cr0', O.OP_MOV_R_CR, [0x0f, 0x20, 0xc0]], ['MOV cr0, rax', O.OP_MOV_CR_R, [0x0f, 0x22, 0xc0]],
  ['MOV rax, dr7', O.OP_MOV_R_DR, [0x0f, 0x21, 0xf8]], ['MOV dr7, rax', O.OP_MOV_DR_R, [0x0f, 0x23, 0xf8]], ['LGDT', O.OP_LGDT, [0x0f, 0x01, 0x10]],
  ['LIDT', O.OP_LIDT, [0x0f, 0x01, 0x18]], ['SGDT', O.OP_SGDT, [0x0f, 0x01, 0x00]], ['SIDT', O.OP_SIDT, [0x0f, 0x01, 0x08]],
  ['LTR', O.OP_LTR, [0x0f, 0x00, 0xd8]], ['LLDT', O.OP_LLDT, [0x0f, 0x00, 0xd0]], ['STR', O.OP_STR, [0x0f, 0x00, 0xc8]], ['SLDT', O.OP_SLDT, [0x0f, 0x00, 0xc0]],
  ['INVLPG', O.OP_INVLPG, [0x0f, 0x01, 0x38]], ['VMCALL', O.OP_VMCALL, [0x0f, 0x01, 0xc1]], ['VMFUNC', O.OP_VMFUNC, [0x0f, 0x01, 0xd4]],
  ['VMLAUNCH', O.OP_VMX, [0x0f, 0x01, 0xc2]], ['MOV ss, ax', O.OP_MOV_SREG_E, [0x8e, 0xd0]], ['MOV ax, ss', O.OP_MOV_E_SREG, [0x8c, 0xd0]],
  ['CLTS', O.OP_CLTS, [0x0f, 0x06]], ['WBINVD', O.OP_WBINVD, [0x0f, 0x09]], ['XGETBV', O.OP_XGETBV, [0x0f, 0x01, 0xd0]],
  ['XSETBV', O.OP_XSETBV, [0x0f, 0x01, 0xd1]], ['SMSW', O.OP_SMSW, [0x0f, 0x01, 0xe0]], ['LMSW', O.OP_LMSW, [0x0f, 0x01, 0xf0]],
  ['PUSH fs', O.OP_PUSH_SREG, [0x0f, 0xa0]], ['POP fs', O.OP_POP_SREG, [0x0f, 0xa1]], ['INVD', O.OP_INVD, [0x0f, 0x08]],
  ['INSB', O.OP_INS, [0x6c]], ['OUTSB', O.OP_OUTS, [0x6e]],
  // Descriptor checks, SYSENTER/SYSEXIT, RDPMC, INT1 (assembly/descriptor-check.ts, sysenter.ts, msr.ts, system.ts):
  ['VERW [rax]', O.OP_VERRW, [0x0f, 0x00, 0x28]], ['LAR eax, ecx', O.OP_LAR, [0x0f, 0x02, 0xc1]], ['LSL eax, ecx', O.OP_LSL, [0x0f, 0x03, 0xc1]],
  ['SYSENTER', O.OP_SYSENTER, [0x0f, 0x34]], ['SYSEXITQ', O.OP_SYSEXIT, [0x48, 0x0f, 0x35]], ['RDPMC', O.OP_RDPMC, [0x0f, 0x33]],
  ['INT1', O.OP_INT1, [0xf1]],
  // SSE/SSE2 floating point (assembly/sse/float/):
  ['MOVAPS xmm0, xmm1', O.OP_SSE_MOVF, [0x0f, 0x28, 0xc1]], ['ADDSD xmm0, xmm1', O.OP_SSE_FARITH, [0xf2, 0x0f, 0x58, 0xc1]],
  ['XORPS xmm0, xmm0', O.OP_SSE_FLOGIC, [0x0f, 0x57, 0xc0]], ['UCOMISD xmm0, xmm1', O.OP_SSE_FCMP, [0x66, 0x0f, 0x2e, 0xc1]],
  ['CVTSI2SD xmm0, rax', O.OP_SSE_CVT, [0xf2, 0x48, 0x0f, 0x2a, 0xc0]], ['SHUFPS xmm0, xmm1, 0x1b', O.OP_SSE_SHUFF, [0x0f, 0xc6, 0xc1, 0x1b]],
  // SSE2 integer and MMX (assembly/sse/int/):
  ['MOVDQA xmm0, xmm1', O.OP_SSE_MOVI, [0x66, 0x0f, 0x6f, 0xc1]], ['PADDB mm0, mm1', O.OP_SSE_IARITH, [0x0f, 0xfc, 0xc1]],
  ['PSRLW xmm0, 3', O.OP_SSE_ISHIFT, [0x66, 0x0f, 0x71, 0xd0, 0x03]], ['PCMPEQB xmm0, xmm1', O.OP_SSE_ICMP, [0x66, 0x0f, 0x74, 0xc1]],
  ['PSHUFD xmm0, xmm1, 0x1b', O.OP_SSE_PACK, [0x66, 0x0f, 0x70, 0xc1, 0x1b]], ['PXOR mm0, mm0', O.OP_SSE_ILOGIC, [0x0f, 0xef, 0xc0]],
  ['EMMS', O.OP_EMMS, [0x0f, 0x77]],

  // FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, CLFLUSH, far transfers (assembly/sse/state-ops.ts, assembly/far.ts):
  ['FXSAVE [rax]', O.OP_FXSAVE, [0x0f, 0xae, 0x00]], ['FXRSTOR64 [rax]', O.OP_FXRSTOR, [0x48, 0x0f, 0xae, 0x08]],
  ['LDMXCSR [rax]', O.OP_LDMXCSR, [0x0f, 0xae, 0x10]], ['STMXCSR [rax]', O.OP_STMXCSR, [0x0f, 0xae, 0x18]],
  ['CLFLUSH [rax]', O.OP_CLFLUSH, [0x0f, 0xae, 0x38]],
  ['LRETQ', O.OP_RETF, [0x48, 0xcb]], ['JMP FAR [rax]', O.OP_JMPF, [0xff, 0x28]], ['CALL FAR [rax]', O.OP_CALLF, [0xff, 0x18]],

  // x87 (assembly/x87/):
  ['FLD1', O.OP_X87_LOAD, [0xd9, 0xe8]], ['FSTP st(1)', O.OP_X87_STORE, [0xdd, 0xd9]], ['FADD st, st(1)', O.OP_X87_ARITH, [0xd8, 0xc1]],
  ['FCOMPP', O.OP_X87_CMP, [0xde, 0xd9]], ['FSIN', O.OP_X87_TRANS, [0xd9, 0xfe]], ['FXCH', O.OP_X87_CTRL, [0xd9, 0xc9]],
  ['FNSTENV [rax]', O.OP_X87_ENV, [0xd9, 0x30]], ['FWAIT', O.OP_FWAIT, [0x9b]],

];


describe('blocks end exactly where the table says (the run loop\'s decoder, Machine.decodeBlock)', () => {
  it('the encodings cover every operation', () => {
    expect(new Set(ENCODINGS.map(([, op]) => op)).size).toBe(O.OP_COUNT);
  });
  it.each(ENCODINGS)('%s', (_name, op, bytes) => {
    const m = new TestGuest().m;
    // Followed by NOPs and zero bytes (ADD [rax], al): a block that does not end here runs on to its length limit.
    const n = m.decodeBlock(Uint8Array.from([...bytes, 0x90, 0x90]));
    expect(n === 1, `${O.opName(op)}: ${n} instructions in the block`).toBe(O.opEndsBlock(op));
  });
});

describe('the Wasm CPU uses the table the host imports', () => {
  it.each(SAMPLES)('$name: decodes to the host\'s id (its cost is charged) and ends a block iff the table says so', (s) => {
    const g = new TestGuest();
    const pre = s.pre ?? [];
    const code = [...pre, ...s.insn, 0x48, 0x89, 0xc0, 0xf4];
    g.m.writePhys(KCODE, Uint8Array.from(code));
    const price = 1000 + s.op;
    g.m.setCost(s.op, price);
    const c0 = g.m.vcycles;
    expect(g.run()).toBe(12); // HLT
    // Every other instruction costs one cycle: the priced one is the instruction under test.
    expect(g.m.vcycles - c0).toBe(BigInt(price + pre.length + 1));
    // Re-enter after the instruction: if it ended its block, the block there is already decoded.
    const d0 = g.m.decodes;
    g.m.vmwrite('GUEST_RIP', KCODE + pre.length + s.insn.length);
    expect(g.run()).toBe(12);
    expect(g.m.decodes - d0).toBe(O.opEndsBlock(s.op) ? 0n : 2n);
  });

  it('an id outside the table is ignored by setCost (no wrap onto another operation)', () => {
    const g = new TestGuest();
    g.m.writePhys(KCODE, Uint8Array.from([0x90, 0xf4]));
    g.m.setCost(O.OP_NOP + 256, 500); // used to land on NOP's slot (op & 255)
    g.m.setCost(O.OP_COUNT, 500);
    const c0 = g.m.vcycles;
    expect(g.run()).toBe(12);
    expect(g.m.vcycles - c0).toBe(1n);
  });
});
