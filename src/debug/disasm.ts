// Disassembly with capstone (capstone-wasm, x86 64-bit mode, Intel syntax):
// addresses are tracked here as bigints (capstone-wasm hands back 32-bit
// numbers for kernel addresses), and branch targets and RIP-relative operands
// are annotated with kernel symbols.
import { Capstone, Const, loadCapstone, type Insn as CsInsn } from 'capstone-wasm';
import type { SymbolTable } from './symbols.js';
import { bytesHex } from '../util/format.js';

export interface Insn {
  addr: bigint;
  bytes: Uint8Array;
  mnemonic: string;
  operands: string;
  /** " <schedule+0x4>" style annotation of a target or RIP-relative address, or "". */
  comment: string;
}

let loading: Promise<void> | undefined;

export class Disassembler {
  private constructor(private readonly cs: Capstone) {}

  static async load(): Promise<Disassembler> {
    loading ??= loadCapstone();
    await loading;
    return new Disassembler(new Capstone(Const.CS_ARCH_X86, Const.CS_MODE_64));
  }

  /** Up to `count` instructions from `bytes` at `addr`; stops at the first byte capstone cannot decode. */
  disassemble(bytes: Uint8Array, addr: bigint, count: number, syms?: SymbolTable): Insn[] {
    const out: Insn[] = [];
    let off = 0;
    while (out.length < count && off < bytes.length) {
      let r: CsInsn[];
      try {
        r = this.cs.disasm(bytes.subarray(off, off + 15), { address: BigInt.asUintN(64, addr + BigInt(off)), count: 1 });
      } catch { r = []; }
      if (!r.length) break;
      const i = r[0];
      const at = BigInt.asUintN(64, addr + BigInt(off));
      out.push({ addr: at, bytes: bytes.slice(off, off + i.size), mnemonic: i.mnemonic, operands: i.opStr,
        comment: syms ? annotate(i.mnemonic, i.opStr, at + BigInt(i.size), syms) : '' });
      off += i.size;
    }
    return out;
  }

  /** One instruction, or undefined if the bytes do not decode. */
  one(bytes: Uint8Array, addr: bigint, syms?: SymbolTable): Insn | undefined {
    return this.disassemble(bytes, addr, 1, syms)[0];
  }
}

/** "<sym+off>" for a direct branch target or a RIP-relative operand. */
function annotate(mnemonic: string, ops: string, next: bigint, syms: SymbolTable): string {
  let target: bigint | undefined;
  const rel = /\[rip ([+-]) (0x[0-9a-f]+|\d+)\]/.exec(ops);
  if (rel) target = BigInt.asUintN(64, next + (rel[1] === '-' ? -BigInt(rel[2]) : BigInt(rel[2])));
  else if (/^(j|call|loop)/.test(mnemonic) && /^0x[0-9a-f]+$/.test(ops)) target = BigInt(ops);
  if (target === undefined) return '';
  const name = syms.format(target);
  if (!name) return rel ? ` # 0x${target.toString(16)}` : '';
  return rel ? ` # 0x${target.toString(16)} <${name}>` : ` <${name}>`;
}

/** The instruction as one line: bytes padded, mnemonic, operands, annotation. */
export function formatInsn(i: Insn, bytesWidth = 8): string {
  return `${bytesHex(i.bytes).padEnd(bytesWidth * 3 - 1)}  ${i.mnemonic}${i.operands ? ' ' + i.operands : ''}${i.comment}`;
}
