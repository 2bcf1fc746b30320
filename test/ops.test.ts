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
