// A tiny x87 encoder for the differential tests (SDM Vol. 2D A.5 escape opcode tables; Vol. 2A
// 2.1.5 ModRM): memory operands are [rsi + disp8] (RSI points into the data window, gen.ts
// DATA_BASE), register forms are escape byte + ModRM. Also the integer moves that build operands in
// memory (MOV r64, imm64; MOV [rsi+d], r64/r16).

const h2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

/** esc /digit with the memory operand [rsi + disp] (disp8). */
export const mem = (esc: number, digit: number, disp: number): string => h2(esc) + h2(0x46 | (digit << 3)) + h2(disp);
/** esc with a register-form ModRM byte (C0-FF). */
export const reg = (esc: number, modrm: number): string => h2(esc) + h2(modrm);

/** Little-endian hex of `bytes` bytes of v. */
export function le(v: bigint, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) s += h2(Number((v >> BigInt(8 * i)) & 0xffn));
  return s;
}

/** mov rax, imm64; mov [rsi+d], rax */
export const put64 = (d: number, v: bigint): string => '48b8' + le(v, 8) + '488946' + h2(d);
/** mov eax, imm32; mov [rsi+d], eax */
export const put32 = (d: number, v: bigint | number): string => 'b8' + le(BigInt(v), 4) + '8946' + h2(d);
/** mov ax, imm16; mov [rsi+d], ax */
export const put16 = (d: number, v: bigint | number): string => '66b8' + le(BigInt(v), 2) + '668946' + h2(d);
/** An 80-bit value (sign/exponent, significand) at [rsi+d]. */
export const put80 = (d: number, se: number, sig: bigint): string => put64(d, sig) + put16(d + 8, se);

// common instructions
export const FLD80 = (d: number) => mem(0xdb, 5, d);
export const FSTP80 = (d: number) => mem(0xdb, 7, d);
export const FLD64 = (d: number) => mem(0xdd, 0, d);
export const FLD32 = (d: number) => mem(0xd9, 0, d);
/** Loads an 80-bit constant through memory at [rsi+d] (clobbers RAX and the bytes there). */
export const ld80 = (d: number, se: number, sig: bigint) => put80(d, se, sig) + FLD80(d);
export const ld64 = (d: number, bits: bigint) => put64(d, bits) + FLD64(d);
export const ld32 = (d: number, bits: number) => put32(d, bits) + FLD32(d);
export const FNSTSW_AX = 'dfe0';
