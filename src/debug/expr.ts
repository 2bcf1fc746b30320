// The debugger's address expressions, as gdb reads them: terms joined by + and -, a term being a
// number (0x hex, 0b, 0o, decimal), a $register or a kernel symbol from System.map
// ("schedule+0x10", "$rsp+8", "*0xffff..."); p: and m: prefixes pick the guest-physical and
// machine address spaces. Values wrap to 64 bits.
import type { DebugSession } from './session.js';
import type { Space } from './memory.js';
import { readReg, isRegister, REGISTER_NAMES } from './registers.js';
import { DebugError, parseNumber } from './format.js';

/** What an expression reads: the vCPU's registers and the symbol table. */
export type ExprScope = Pick<DebugSession, 'm' | 'symbols'>;

/** ADDR: terms joined by + and -: numbers, $registers, kernel symbols. */
export function evalExpr(s: ExprScope, text: string): bigint {
  const t = text.trim().replace(/^\*/, '');
  if (!t) throw new DebugError('missing address');
  const parts = t.split(/([+-])/).map((p) => p.trim());
  let acc = 0n, sign = 1n, expectTerm = true;
  for (const p of parts) {
    if (p === '+' || p === '-') {
      if (expectTerm && p === '-') { sign = -sign; continue; }
      if (expectTerm) throw new DebugError(`bad expression "${text}"`);
      sign = p === '-' ? -1n : 1n; expectTerm = true; continue;
    }
    if (!p) continue;
    acc += sign * term(s, p);
    sign = 1n; expectTerm = false;
  }
  if (expectTerm) throw new DebugError(`bad expression "${text}"`);
  return BigInt.asUintN(64, acc);
}

function term(s: ExprScope, p: string): bigint {
  if (p.startsWith('$')) {
    const r = p.slice(1).toLowerCase();
    if (!isRegister(r)) throw new DebugError(`unknown register "${p}" (${REGISTER_NAMES.map((x) => '$' + x).join(' ')})`);
    return readReg(s.m, r);
  }
  if (/^(0x[0-9a-f_]+|0b[01_]+|0o[0-7_]+|\d[\d_]*)$/i.test(p)) return parseNumber(p, 'address');
  const sym = s.symbols.lookup(p);
  if (!sym) {
    if (/^[0-9a-f]+$/i.test(p)) throw new DebugError(`"${p}" is neither a number nor a symbol (write hex with 0x)`);
    throw new DebugError(s.symbols.size ? `no symbol "${p}" in System.map` : `no symbol "${p}" (no System.map loaded)`);
  }
  return sym.addr;
}

/** [p:|m:]EXPR -> address space and address. */
export function evalSpaced(s: ExprScope, text: string): { space: Space; addr: bigint } {
  const m = /^(p|phys|m|machine):(.*)$/i.exec(text);
  if (!m) return { space: 'linear', addr: evalExpr(s, text) };
  return { space: m[1].toLowerCase().startsWith('p') ? 'physical' : 'machine', addr: evalExpr(s, m[2]) };
}

/** Splits "EXPR... cr3=EXPR" arguments (break, pt): the expression text and the CR3 if one is given. */
export function splitCr3(s: ExprScope, args: string[]): { expr: string; cr3: bigint | undefined } {
  let cr3: bigint | undefined;
  const exprParts: string[] = [];
  for (const a of args) {
    const m = /^cr3=(.+)$/i.exec(a);
    if (m) cr3 = evalExpr(s, m[1]); else exprParts.push(a);
  }
  return { expr: exprParts.join(' '), cr3 };
}
