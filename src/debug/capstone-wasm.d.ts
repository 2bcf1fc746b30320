// capstone-wasm ships types that NodeNext resolution cannot reach through its
// package "exports"; these are the parts the debugger uses (from its index.d.ts).
declare module 'capstone-wasm' {
  export interface Insn { id: number; address: number | bigint; size: number; bytes: Uint8Array; mnemonic: string; opStr: string }
  export class Capstone {
    constructor(arch: number, mode: number);
    disasm(data: number[] | Uint8Array, options?: { address?: number | bigint; count?: number }): Insn[];
    close(): void;
  }
  export const Const: { CS_ARCH_X86: number; CS_MODE_64: number; [name: string]: number };
  export function loadCapstone(args?: Record<string, unknown>): Promise<void>;
}
