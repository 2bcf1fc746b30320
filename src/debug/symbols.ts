// Kernel symbols from a System.map (`nm -n` output: "address type name"), as
// Linux's and the TVM's build write it: name -> address for breakpoints and
// expressions, address -> "symbol+offset" for disassembly and stop reports.

export interface KernelSymbol { addr: bigint; type: string; name: string }

/** Symbol types that name a place in the image (text, data, read-only data, bss), not an absolute value. */
const LOCATED = /^[TtDdRrBbVvWw]$/;
/** No symbol is taken to extend further than this (functions and objects in a kernel image are smaller). */
const MAX_OFFSET = 0x10000n;

export class SymbolTable {
  private readonly byName = new Map<string, KernelSymbol>();
  /** Located symbols sorted by address (the last one of equal addresses wins for naming). */
  private readonly sorted: KernelSymbol[];
  /** End of the image's symbols: nothing at or past it is given a name. */
  private readonly end: bigint;
  /** Every symbol address (absolute ones too), sorted: a symbol extends at most to the next one. */
  private readonly bounds: bigint[];

  constructor(readonly symbols: readonly KernelSymbol[]) {
    for (const s of symbols) {
      const prev = this.byName.get(s.name);
      // Prefer a text symbol over a data one of the same name, and the first of equals.
      if (!prev || (!/[Tt]/.test(prev.type) && /[Tt]/.test(s.type))) this.byName.set(s.name, s);
    }
    this.sorted = symbols.filter((s) => LOCATED.test(s.type)).sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
    const endSym = this.byName.get('_end');
    const last = this.sorted[this.sorted.length - 1];
    this.end = endSym ? endSym.addr : last ? last.addr + 0x1000n : 0n;
    this.bounds = [...new Set(symbols.map((x) => x.addr))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  static empty(): SymbolTable { return new SymbolTable([]); }

  /** Parses System.map text; lines that are not "hexaddr type name" are ignored. */
  static parse(text: string): SymbolTable {
    const out: KernelSymbol[] = [];
    for (const line of text.split('\n')) {
      const m = /^([0-9a-fA-F]{1,16})\s+(\S)\s+(\S+)\s*$/.exec(line);
      if (m) out.push({ addr: BigInt('0x' + m[1]), type: m[2], name: m[3] });
    }
    return new SymbolTable(out);
  }

  get size(): number { return this.symbols.length; }

  lookup(name: string): KernelSymbol | undefined { return this.byName.get(name); }

  /** The symbol containing `addr` (the nearest at or below it, before the image's end). */
  nearest(addr: bigint): { sym: KernelSymbol; offset: bigint } | undefined {
    const a = this.sorted;
    if (!a.length || addr < a[0].addr || addr >= this.end) return undefined;
    let lo = 0, hi = a.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (a[mid].addr <= addr) lo = mid; else hi = mid - 1;
    }
    // Among symbols at the same address, name the first (nm -n order: the one a reader expects).
    while (lo > 0 && a[lo - 1].addr === a[lo].addr) lo--;
    const offset = addr - a[lo].addr;
    // Past the next symbol of any kind, or far past this one (a gap in the map), the address has no name.
    const next = this.nextBound(a[lo].addr);
    if ((next !== undefined && addr >= next) || offset >= MAX_OFFSET) return undefined;
    return { sym: a[lo], offset };
  }

  /** The first symbol address above `addr`. */
  private nextBound(addr: bigint): bigint | undefined {
    const b = this.bounds;
    let lo = 0, hi = b.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (b[mid] <= addr) lo = mid + 1; else hi = mid; }
    return b[lo];
  }

  /** "schedule" or "schedule+0x1c", or undefined outside the image. */
  format(addr: bigint): string | undefined {
    const n = this.nearest(addr);
    if (!n) return undefined;
    return n.offset === 0n ? n.sym.name : `${n.sym.name}+0x${n.offset.toString(16)}`;
  }

  /** Names starting with `prefix` (for completion). */
  complete(prefix: string, limit = 200): string[] {
    const out: string[] = [];
    for (const name of this.byName.keys()) {
      if (name.startsWith(prefix)) { out.push(name); if (out.length >= limit) break; }
    }
    return out.sort();
  }
}
