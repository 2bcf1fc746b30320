// The debugger's commands, shared by the interactive console, --script and
// gdb's `monitor`: parsing, running the session, and formatting what it shows.
// A bad command or argument is one line starting "error:" (DebugError); the
// session is never left half-changed by one.
import { fieldEncoding, fieldName, VMCS_FIELDS, exitReasonName } from '../vmcs.js';
import { VmxError } from '../machine.js';
import { VMI_MIRROR_BASE, INVALID_EPTP } from '../xen/altp2m.js';
import { formatRecord } from '../dom0/trace-file.js';
import type { DebugSession, Stop, ResumeMode, ViewSwitch } from './session.js';
import type { ExitInfo } from './exit-decode.js';
import { parseExitReason, describeBreakpoint, type BreakpointSpec } from './breakpoints.js';
import { readReg, writeReg, isRegister, describeRflags, REGISTER_NAMES } from './registers.js';
import { walkEpt, describeEptp, type AccessVerdict } from './walk.js';
import { decodeEptViolation } from './exit-decode.js';
import { formatInsn } from './disasm.js';
import { unreadRecords } from './trace-tail.js';
import type { Space } from './memory.js';
import type { Output } from './output.js';
import { DebugError, hex, hexPad, bytesHex, grouped, parseNumber, parseCount, cyclesToNs, fmtNs } from './format.js';

export interface CommandDef {
  name: string;
  aliases: string[];
  usage: string;
  summary: string;
  help: string[];
  /** Runs the guest (not allowed from gdb's monitor, where gdb owns execution). */
  runs?: boolean;
  run(args: string[], rest: string): Promise<void> | void;
}

export interface CommandResult { ok: boolean; quit?: boolean; code?: number }

export const PROMPT = '(vmfunc-vmi) ';

export class Debugger {
  readonly commands: CommandDef[];
  private readonly byName = new Map<string, CommandDef>();

  constructor(readonly s: DebugSession, readonly out: Output) {
    this.commands = this.define();
    for (const c of this.commands) for (const n of [c.name, ...c.aliases]) this.byName.set(n, c);
  }

  /** Runs one command line; errors are printed as one "error: ..." line. */
  async execute(line: string, opts: { monitor?: boolean } = {}): Promise<CommandResult> {
    const text = line.trim();
    if (!text || text.startsWith('#')) return { ok: true };
    const [word, ...args] = text.split(/\s+/);
    const rest = text.slice(word.length).trim();
    const cmd = this.byName.get(word.toLowerCase());
    try {
      if (!cmd) throw new DebugError(`unknown command "${word}" (try "help")`);
      if (cmd.name === 'quit') {
        const code = args[0] === undefined ? 0 : Number(parseNumber(args[0], 'exit status'));
        if (code < 0 || code > 255) throw new DebugError('quit: the exit status must be 0..255');
        return { ok: true, quit: true, code };
      }
      if (opts.monitor && cmd.runs) throw new DebugError(`"${cmd.name}" runs the guest: use gdb's own commands (continue, stepi) for that`);
      await cmd.run(args, rest);
      return { ok: true };
    } catch (e) {
      // Bad input is one line; anything else is a debugger bug, still one line (the session stays usable).
      const msg = e instanceof Error ? e.message : String(e);
      const known = e instanceof DebugError || e instanceof VmxError || e instanceof RangeError;
      this.out.line(known ? `error: ${msg}` : `error: internal error in "${word}": ${msg}`);
      return { ok: false };
    }
  }

  /** Command and symbol names for readline's completer. */
  complete(line: string): [string[], string] {
    const words = line.split(/\s+/);
    const last = words[words.length - 1];
    if (words.length <= 1) {
      const names = [...this.byName.keys()].filter((n) => n.startsWith(last)).sort();
      return [names, last];
    }
    const cmd = words[0];
    if (cmd === 'vmcs') return [Object.keys(VMCS_FIELDS).filter((n) => n.startsWith(last.toUpperCase())), last];
    if (cmd === 'help') return [this.commands.map((c) => c.name).filter((n) => n.startsWith(last)), last];
    const bare = last.replace(/^\*/, '');
    if (bare.startsWith('$')) return [REGISTER_NAMES.map((r) => '$' + r).filter((r) => r.startsWith(bare)), last];
    return [this.s.symbols.complete(bare).map((n) => last.slice(0, last.length - bare.length) + n), last];
  }

  // ---- expressions -------------------------------------------------------------

  /** ADDR: terms joined by + and -: numbers, $registers, kernel symbols ("schedule+0x10", "$rsp+8", "*0xffff..."). */
  evalExpr(text: string): bigint {
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
      acc += sign * this.term(p);
      sign = 1n; expectTerm = false;
    }
    if (expectTerm) throw new DebugError(`bad expression "${text}"`);
    return BigInt.asUintN(64, acc);
  }

  private term(p: string): bigint {
    if (p.startsWith('$')) {
      const r = p.slice(1).toLowerCase();
      if (!isRegister(r)) throw new DebugError(`unknown register "${p}" (${REGISTER_NAMES.map((x) => '$' + x).join(' ')})`);
      return readReg(this.s.m, r);
    }
    if (/^(0x[0-9a-f_]+|0b[01_]+|0o[0-7_]+|\d[\d_]*)$/i.test(p)) return parseNumber(p, 'address');
    const sym = this.s.symbols.lookup(p);
    if (!sym) {
      if (/^[0-9a-f]+$/i.test(p)) throw new DebugError(`"${p}" is neither a number nor a symbol (write hex with 0x)`);
      throw new DebugError(this.s.symbols.size ? `no symbol "${p}" in System.map` : `no symbol "${p}" (no System.map loaded)`);
    }
    return sym.addr;
  }

  /** [p:|m:]EXPR -> address space and address. */
  private evalSpaced(text: string): { space: Space; addr: bigint } {
    const m = /^(p|phys|m|machine):(.*)$/i.exec(text);
    if (!m) return { space: 'linear', addr: this.evalExpr(text) };
    return { space: m[1].toLowerCase().startsWith('p') ? 'physical' : 'machine', addr: this.evalExpr(m[2]) };
  }

  private sym(addr: bigint): string {
    const n = this.s.symbols.format(addr);
    return n ? ` <${n}>` : '';
  }

  // ---- formatting ----------------------------------------------------------------

  /** "=> 0x... <sym>:  bytes  insn" for the instruction at RIP (or where it cannot be read). */
  locationLine(prefix = '=> '): string {
    const rip = this.s.rip;
    const r = this.s.mem.read('linear', rip, 15);
    const insn = r.bytes.length ? this.s.disasm.one(r.bytes, rip, this.s.symbols) : undefined;
    const where = `${prefix}${hexPad(rip)}${this.sym(rip)}:`;
    if (!insn) return `${where}  (cannot read the instruction: ${r.error ?? 'does not decode'})`;
    return `${where}  ${formatInsn(insn)}`;
  }

  private viewName(index: number | undefined, eptp: bigint): string {
    if (index === undefined) return `EPTP ${hex(eptp)}`;
    if (this.s.mech?.altp2m.isRequestIndex(index)) return `view ${index} (the VMI-request mirror of view ${index - VMI_MIRROR_BASE})`;
    return `view ${index}`;
  }

  formatSwitch(w: ViewSwitch): string {
    const from = this.viewName(w.fromIndex, w.from), to = this.viewName(w.toIndex, w.to);
    if (w.by === 'VMFUNC') return `EPT view switch by the guest's VMFUNC (no VM exit): ${from} -> ${to}`;
    return `EPT view switch by the hypervisor (${w.exit ? `${w.exit.name} handler, exit #${w.exit.seq}` : 'handler'}): ${from} -> ${to}`;
  }

  formatExit(x: ExitInfo): string[] {
    const s = this.s;
    const lines = [`VM exit #${x.seq}: ${x.name} (reason ${x.reason & 0xffff}), before Xen's handler`];
    lines.push(`  qualification ${hex(x.qualification)}: ${x.decoded}`);
    for (const d of x.details) lines.push(`  ${d}`);
    lines.push(`  guest rip     ${hexPad(x.rip)}${this.sym(x.rip)}  cpl ${x.cpl}  cr3 ${hex(x.cr3)}`);
    const r = s.mem.read('linear', x.rip, x.instrLen > 0 ? x.instrLen : 15);
    const insn = r.bytes.length ? s.disasm.one(r.bytes, x.rip, s.symbols) : undefined;
    if (insn && (x.instrLen === 0 || insn.bytes.length === x.instrLen)) lines.push(`  instruction   ${formatInsn(insn)}${x.instrLen ? '' : '  (the next to run)'}`);
    else if (x.instrLen) lines.push(`  instruction   ${bytesHex(r.bytes)} (${x.instrLen} bytes)`);
    const idx = s.viewIndex(x.eptp);
    lines.push(`  EPT           ${this.viewName(idx, x.eptp)}, EPTP ${hex(x.eptp)}, EPTP_INDEX ${x.eptpIndexField}`);
    lines.push(`  at            ${grouped(x.insns)} instructions, ${grouped(x.vcycles)} cycles (${fmtNs(cyclesToNs(x.vcycles, s.tscKhz))} virtual)`);
    return lines;
  }

  formatStop(st: Stop): string[] {
    const s = this.s, lines: string[] = [];
    for (const w of st.switches) lines.push(this.formatSwitch(w));
    const ids = st.breakpoints.map((b) => b.id).join(', ');
    switch (st.kind) {
      case 'breakpoint':
        lines.push(`Breakpoint ${ids || '(gdb)'} at ${hex(s.rip)}${this.sym(s.rip)}, cpl ${s.cpl}, cr3 ${hex(s.cr3)}, ${s.describeView()}`);
        break;
      case 'vmfunc': {
        const eax = s.m.gpr('rax') & 0xffffffffn, ecx = s.m.gpr('rcx') & 0xffffffffn;
        let what: string;
        if (eax !== 0n) what = `leaf ${eax} is not EPTP switching: it will exit (VMFUNC, reason 59) or fault`;
        else {
          const list = s.m.vmread('EPTP_LIST_ADDR') & ~0xfffn;
          const target = ecx < 512n ? s.m.read64(Number(list + ecx * 8n)) : INVALID_EPTP;
          what = target === INVALID_EPTP || ecx >= 512n
            ? `EPTP-list entry ${ecx} is not valid: it will exit (VMFUNC, reason 59)`
            : `switches ${s.describeView()} -> ${this.viewName(Number(ecx), target)}, EPTP ${hex(target)}, without a VM exit`;
        }
        lines.push(`Stopped before VMFUNC (breakpoint ${ids}) at ${hex(s.rip)}${this.sym(s.rip)}, cpl ${s.cpl}, cr3 ${hex(s.cr3)}`);
        lines.push(`  eax ${hex(eax)} (leaf 0: EPTP switching), ecx ${hex(ecx)} (EPTP-list index ${ecx}): ${what}`);
        break;
      }
      case 'exit':
        if (ids) lines.push(`Breakpoint ${ids}, on ${st.exit!.name} exits`);
        lines.push(...this.formatExit(st.exit!));
        return lines;
      case 'vmi-request': {
        const r = st.request!;
        lines.push(`VMI request (breakpoint ${ids}), raised by the ${s.lastExit?.name ?? 'RDTSC'} handler of exit #${s.lastExit?.seq ?? '?'}:`);
        lines.push(`  domain ${r.domid} vcpu ${r.vcpu}, EPTP index ${r.eptpIndex} (parameter ${r.parameter}), rip ${hex(r.rip)}, cr3 ${hex(r.cr3)}, ` +
          `TSC ${grouped(r.tsc)} (${fmtNs(cyclesToNs(r.tsc, s.tscKhz))})`);
        lines.push(`  the vCPU is back on ${s.describeView()}; trace record TRC_VMI_REQUEST written, Dom0 notified (${s.mech?.notify === 'tbuf' ? 'VIRQ_TBUF at high water' : 'VIRQ'})`);
        break;
      }
      case 'shutdown': {
        const i = s.d.shutdownInfo!;
        lines.push(`The domain has shut down: ${i.reason}, status ${i.status & 0xff} (${i.message}), after ${grouped(s.m.insnsRetired)} instructions, ` +
          `${fmtNs(cyclesToNs(s.m.vcycles, s.tscKhz))} virtual`);
        return lines;
      }
      case 'interrupted': lines.push(`Interrupted after ${grouped(st.insns)} instructions`); break;
      case 'step':
        if (st.exitCount) lines.push(`(${st.exitCount} VM exit${st.exitCount > 1 ? 's' : ''} handled on the way: ${summarizeExits(st.recentExits, st.exitCount)})`);
        break;
    }
    lines.push(this.locationLine());
    return lines;
  }

  // ---- the commands -------------------------------------------------------------

  private async go(mode: ResumeMode): Promise<void> {
    const st = await this.s.resume(mode);
    this.out.lines(this.formatStop(st));
  }

  private define(): CommandDef[] {
    const s = this.s, out = this.out;
    return [
      {
        name: 'help', aliases: ['h', '?'], usage: 'help [COMMAND]', summary: 'list the commands, or explain one',
        help: ['Without an argument, lists every command with a one-line summary.', 'With one, shows its usage and what it does.'],
        run: (args) => {
          if (args.length) {
            const c = this.byName.get(args[0].toLowerCase());
            if (!c) throw new DebugError(`no command "${args[0]}" (try "help")`);
            out.line(`usage: ${c.usage}${c.aliases.length ? `   (aliases: ${c.aliases.join(', ')})` : ''}`);
            out.line(`  ${c.summary}`);
            for (const l of c.help) out.line(`  ${l}`);
            return;
          }
          out.line('Commands (help COMMAND for more):');
          for (const c of this.commands) {
            if (c.usage.length <= 34) out.line(`  ${c.usage.padEnd(34)} ${c.summary}`);
            else { out.line(`  ${c.usage}`); out.line(`  ${''.padEnd(34)} ${c.summary}`); }
          }
          out.line('ADDR is an expression: numbers (0x for hex), $registers and kernel symbols joined by + and -,');
          out.line('e.g. schedule+0x10, $rsp+8, 0x4000be. Prefix p: for guest-physical, m: for machine addresses.');
        },
      },
      {
        name: 'step', aliases: ['s', 'si', 'stepi'], usage: 'step [N]', summary: 'run N guest instructions (default 1)', runs: true,
        help: ['An instruction the hypervisor emulates after a VM exit (RDTSC, OUT, CPUID, ...) counts as one; the exit is',
          'handled on the way. Breakpoints stop a step early. Counts take k/M/G suffixes.'],
        run: (args) => this.go({ kind: 'step', count: args[0] === undefined ? 1n : parseCount(args[0], 'step count') }),
      },
      {
        name: 'continue', aliases: ['c', 'cont'], usage: 'continue', summary: 'run until a breakpoint, a watched exit or VMI request, or shutdown', runs: true,
        help: ['Ctrl-C interrupts a running guest (interactive console).'],
        run: () => this.go({ kind: 'continue' }),
      },
      {
        name: 'next-exit', aliases: ['ne', 'nexit'], usage: 'next-exit', summary: 'run to the next VM exit and show it decoded', runs: true,
        help: ['Stops when the exit has happened and before Xen\'s handler runs: reason, exit qualification decoded per the',
          'SDM\'s tables, guest RIP and the instruction, the EPT view (EPTP index). Breakpoints met on the way stop first.'],
        run: () => this.go({ kind: 'next-exit' }),
      },
      {
        name: 'break', aliases: ['b', 'br'], usage: 'break ADDR [cr3=CR3] | exit REASON | vmfunc | vmi', summary: 'set a breakpoint',
        help: ['break ADDR            before the instruction at a guest-linear address or kernel symbol (break schedule);',
          '                      cr3=VALUE limits it to one address space (user programs share addresses)',
          'break exit REASON...  at VM exits with these reasons: names as Xen spells them (RDTSC, IO_INSTRUCTION,',
          '                      EPT_VIOLATION, ...) or numbers; stops after the exit, before Xen\'s handler',
          'break vmfunc          before every VMFUNC: EPT view switches the guest makes without a VM exit',
          'break vmi             when the VMFUNC-aware RDTSC handler raises a VMI request (after the handler)'],
        run: (args) => {
          if (!args.length) throw new DebugError('break: what? (ADDR, exit REASON, vmfunc or vmi; see "help break")');
          const specs: BreakpointSpec[] = [];
          const kind = args[0].toLowerCase();
          if (kind === 'exit') {
            if (args.length < 2) throw new DebugError('break exit: name the exit reason (e.g. break exit RDTSC)');
            for (const a of args.slice(1)) specs.push({ kind: 'exit', reason: parseExitReason(a) });
          } else if (kind === 'vmfunc') {
            if (args.length > 1) throw new DebugError('break vmfunc takes no argument');
            specs.push({ kind: 'vmfunc' });
          } else if (kind === 'vmi') {
            if (args.length > 1) throw new DebugError('break vmi takes no argument');
            if (!s.mech) throw new DebugError('break vmi: the VMI mechanism is off in this session (--no-vmi)');
            specs.push({ kind: 'vmi' });
          } else {
            let cr3: bigint | undefined;
            const exprParts: string[] = [];
            for (const a of args) {
              const m = /^cr3=(.+)$/i.exec(a);
              if (m) cr3 = this.evalExpr(m[1]); else exprParts.push(a);
            }
            const label = exprParts.join(' ').replace(/^\*/, '');
            const addr = this.evalExpr(label);
            specs.push({ kind: 'address', addr, label: /^(0x)?[0-9a-f]+$/i.test(label) ? hex(addr) : label, cr3 });
          }
          for (const spec of specs) {
            const { bp, existing } = s.bps.add(spec);
            out.line(`${existing ? 'Already have breakpoint' : 'Breakpoint'} ${bp.id} ${describeBreakpoint(bp)}`);
          }
          s.syncBreakpoints();
        },
      },
      {
        name: 'delete', aliases: ['d'], usage: 'delete [N...]', summary: 'delete breakpoints (all without arguments)',
        help: ['Breakpoint numbers are those "info breakpoints" shows.'],
        run: (args) => {
          if (!args.length) { out.line(`Deleted ${s.bps.clear()} breakpoint(s)`); s.syncBreakpoints(); return; }
          const ids = args.map((a) => Number(parseNumber(a, 'breakpoint number')));
          for (const id of ids) { const b = s.bps.delete(id); out.line(`Deleted breakpoint ${b.id} ${describeBreakpoint(b)}`); }
          s.syncBreakpoints();
        },
      },
      {
        name: 'regs', aliases: ['registers'], usage: 'regs', summary: 'the vCPU\'s registers',
        help: ['General-purpose registers, RIP (with its symbol), RFLAGS decoded, segment selectors and bases, control',
          'registers, EFER, CPL and the EPT view. At an exit stop these are the values Xen\'s handler will see.'],
        run: () => out.lines(this.regLines()),
      },
      {
        name: 'set', aliases: [], usage: 'set $REG VALUE', summary: 'change a register',
        help: ['General-purpose registers, $rip, $rflags, $fs_base, $gs_base. Segment and control registers are read-only.'],
        run: (args) => {
          const joined = args.join(' ');
          const m = /^\$?(\w+)\s*=?\s*(.+)$/.exec(joined);
          if (!m) throw new DebugError('usage: set $REG VALUE');
          const reg = m[1].toLowerCase();
          if (!isRegister(reg)) throw new DebugError(`unknown register "$${m[1]}"`);
          const v = this.evalExpr(m[2]);
          writeReg(s.m, reg, v);
          out.line(`${reg} = ${hex(readReg(s.m, reg))}`);
        },
      },
      {
        name: 'vmcs', aliases: [], usage: 'vmcs [FIELD...]', summary: 'VMCS fields by name or encoding (a useful set without arguments)',
        help: ['Names as Linux\'s vmx.h and Xen\'s vmcs.h spell them (GUEST_RIP, EXIT_QUALIFICATION, EPT_POINTER,',
          'EPTP_INDEX, ...), case-insensitive, or encodings from the SDM\'s Appendix B (0x681e).'],
        run: (args) => {
          const fields = args.length ? args : DEFAULT_VMCS;
          for (const f of fields) {
            let enc: number;
            try { enc = fieldEncoding(f); } catch {
              throw new DebugError(`unknown VMCS field "${f}" (a name like GUEST_RIP or an encoding like 0x681e)`);
            }
            if (!s.m.vmfieldExists(enc)) {
              if (args.length) throw new DebugError(`VMCS field ${fieldName(enc) ?? hex(enc)} (encoding ${hex(enc)}) is not supported by this CPU`);
              continue;
            }
            const v = s.m.vmread(enc);
            const note = describeField(enc, v, this);
            out.line(`${(fieldName(enc) ?? '?').padEnd(28)} ${('(' + hexPad(enc, 4) + ')').padEnd(9)} = ${hex(v)}${note ? `  ${note}` : ''}`);
          }
        },
      },
      {
        name: 'ept', aliases: [], usage: 'ept GPA [VIEW]', summary: 'the EPT walk of a guest-physical address, entry by entry',
        help: ['VIEW is an EPTP-list index (0, 1, ..., the VMI mirrors 10, 11, ...); default: the view the vCPU is on.',
          'Ends with the CPU\'s verdict for a read, a write and an instruction fetch (an EPT violation shows its',
          'exit qualification decoded).'],
        run: (args) => {
          if (!args.length || args.length > 2) throw new DebugError('usage: ept GPA [VIEW]');
          const gpa = this.evalExpr(args[0].replace(/^p:/i, ''));
          let eptp = s.eptp, label = `the current ${s.describeView()}`;
          if (args[1] !== undefined) {
            const idx = Number(parseNumber(args[1], 'view index'));
            const list = this.eptpList();
            const e = list.find((x) => x.index === idx);
            if (!e) throw new DebugError(`no EPT view ${idx} (views: ${list.map((x) => x.index).join(', ') || 'none'})`);
            eptp = e.eptp;
            label = s.describeView(eptp);
          }
          out.lines(this.eptLines(gpa, eptp, label));
        },
      },
      {
        name: 'pt', aliases: ['pagewalk'], usage: 'pt LINEAR [cr3=CR3]', summary: 'the guest page walk of a linear address, entry by entry',
        help: ['Walks the guest\'s 4-level page tables under its CR3 (or the one given); each entry is read through the',
          'EPT view the vCPU is on. Shows each entry\'s flags, then the guest-physical and machine addresses.'],
        run: (args) => {
          if (!args.length) throw new DebugError('usage: pt LINEAR [cr3=CR3]');
          let cr3 = s.cr3;
          const exprParts: string[] = [];
          for (const a of args) { const m = /^cr3=(.+)$/i.exec(a); if (m) cr3 = this.evalExpr(m[1]); else exprParts.push(a); }
          const la = this.evalExpr(exprParts.join(' '));
          const w = s.mem.walk(la, cr3);
          out.line(`Page walk of ${hexPad(la)}${this.sym(la)} under cr3 ${hex(cr3)}, entries read through ${s.describeView()}:`);
          for (const st of w.steps) {
            out.line(`  ${`${st.name}[${st.index}]`.padEnd(11)} at gpa ${hexPad(st.entryAddr, 9)} = ${st.note ? '(unreadable)' : hexPad(st.entry)}  ${st.note ?? st.fields}`);
          }
          if (w.gpa === undefined) { out.line(`  => no translation: ${w.fault}`); return; }
          const size = w.steps[w.steps.length - 1].pageSize;
          const p = w.perms!;
          out.line(`  => guest-physical ${hex(w.gpa)} (${size} page, ${p.user ? 'user' : 'supervisor'}, ${p.write ? 'writable' : 'read-only'}, ${p.exec ? 'executable' : 'no-execute'})`);
          const ma = s.mem.gpaToMachine(w.gpa);
          out.line(`  => ${'hpa' in ma ? `machine ${hex(ma.hpa)}` : `no machine address: ${ma.error}`} (through ${s.describeView()})`);
        },
      },
      {
        name: 'x', aliases: ['dump'], usage: 'x ADDR [N]', summary: 'dump N bytes of memory (default 64)',
        help: ['ADDR is guest-linear (through the guest\'s page tables and the current EPT view); p:ADDR is',
          'guest-physical, m:ADDR a machine address. At most 64 KiB.'],
        run: (args) => {
          if (!args.length || args.length > 2) throw new DebugError('usage: x ADDR [N]');
          const { space, addr } = this.evalSpaced(args[0]);
          const n = args[1] === undefined ? 64 : Number(parseCount(args[1], 'byte count', 65536n));
          const r = s.mem.read(space, addr, n);
          out.lines(hexDump(addr, r.bytes, space));
          if (r.error) {
            if (!r.bytes.length) throw new DebugError(r.error);
            out.line(`(stopped: ${r.error})`);
          }
        },
      },
      {
        name: 'disas', aliases: ['disassemble', 'u'], usage: 'disas [ADDR] [N]', summary: 'disassemble N instructions (default: 10 at RIP)',
        help: ['Intel syntax, by capstone. Kernel symbols label the lines and branch targets; => marks RIP.'],
        run: (args) => {
          if (args.length > 2) throw new DebugError('usage: disas [ADDR] [N]');
          const { space, addr } = args[0] !== undefined ? this.evalSpaced(args[0]) : { space: 'linear' as Space, addr: s.rip };
          const n = args[1] === undefined ? 10 : Number(parseCount(args[1], 'instruction count', 10000n));
          const r = s.mem.read(space, addr, n * 15);
          if (!r.bytes.length) throw new DebugError(r.error ?? `cannot read ${hex(addr)}`);
          const insns = s.disasm.disassemble(r.bytes, addr, n, space === 'linear' ? s.symbols : undefined);
          if (!insns.length) throw new DebugError(`the bytes at ${hex(addr)} do not decode (${bytesHex(r.bytes.slice(0, 8))})`);
          const rip = s.rip;
          for (const i of insns) {
            const sym = space === 'linear' ? this.s.symbols.format(i.addr) : undefined;
            if (sym && !sym.includes('+')) out.line(`${hexPad(i.addr)} <${sym}>:`);
            const mark = space === 'linear' && i.addr === rip ? '=> ' : '   ';
            out.line(`${mark}${hexPad(i.addr)}${sym ? ` <${sym}>` : ''}:  ${formatInsn(i)}`);
          }
          if (insns.length < n && r.error) out.line(`(stopped: ${r.error})`);
        },
      },
      {
        name: 'trace', aliases: [], usage: 'trace [N]', summary: 'the latest N Xentrace records (default 10)',
        help: ['Records Dom0\'s trace daemon has read, then those still in the hypervisor\'s buffers (read without consuming',
          'them), formatted as `vmfunc-vmi trace` prints a trace file. HVM trace points are on in debug sessions.'],
        run: (args) => {
          if (!s.mech || !s.dom0) throw new DebugError('no trace buffers: the VMI mechanism is off in this session (--no-vmi)');
          const n = args[0] === undefined ? 10 : Number(parseCount(args[0], 'record count', 100000n));
          const read = s.dom0.consumer.records, unread = unreadRecords(s.m, s.mech.trace);
          const all = [...read, ...unread];
          const shown = all.slice(-n);
          out.line(`${shown.length} latest of ${grouped(all.length)} trace records (${grouped(read.length)} read by Dom0, ${grouped(unread.length)} still in the buffers` +
            `${s.mech.trace.dropped ? `, ${grouped(s.mech.trace.dropped)} lost when the buffers were full` : ''}):`);
          for (const r of shown) out.line(formatRecord(r));
        },
      },
      {
        name: 'histogram', aliases: ['exits', 'hist'], usage: 'histogram', summary: 'VM exits so far, by reason',
        run: () => out.lines(this.histogramLines()), help: ['Counted as Xen counts them: at each exit, before its handler.'],
      },
      {
        name: 'info', aliases: ['i'], usage: 'info [breakpoints|views|requests|exit|registers|symbol ADDR]', summary: 'the session\'s state, or one part of it',
        help: ['info              image, where the vCPU is stopped, time, exits, the mechanism',
          'info breakpoints  the breakpoints with their hit counts',
          'info views        the EPTP list: each view, its EPTP, which one the vCPU is on',
          'info requests     the VMI requests raised so far',
          'info exit         the last VM exit, decoded',
          'info registers    as regs',
          'info symbol ADDR  the kernel symbol at an address'],
        run: (args) => this.info(args),
      },
      {
        name: 'echo', aliases: [], usage: 'echo TEXT', summary: 'print TEXT (for scripts)',
        help: ['Prints the rest of the line as it is.'],
        run: (_a, rest) => out.line(rest),
      },
      {
        name: 'quit', aliases: ['q', 'exit'], usage: 'quit [STATUS]', summary: 'leave the debugger (exit status, default 0)',
        help: ['The guest is dropped where it stands.'],
        run: () => {},
      },
    ];
  }

  // ---- command helpers --------------------------------------------------------------

  regLines(): string[] {
    const m = this.s.m, r = (n: string) => readReg(m, n);
    const lines: string[] = [];
    const row = (names: string[]) => names.map((n) => `${n.padStart(3)} ${hexPad(r(n))}`).join('   ');
    lines.push(row(['rax', 'rbx', 'rcx', 'rdx']));
    lines.push(row(['rsi', 'rdi', 'rbp', 'rsp']));
    lines.push(row(['r8', 'r9', 'r10', 'r11']));
    lines.push(row(['r12', 'r13', 'r14', 'r15']));
    const rip = r('rip'), fl = r('rflags');
    lines.push(`rip ${hexPad(rip)}${this.sym(rip)}   rflags ${hex(fl)} ${describeRflags(fl)}`);
    lines.push(['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => `${n} ${hex(r(n))}`).join('  ') + `   fs_base ${hex(r('fs_base'))}  gs_base ${hex(r('gs_base'))}`);
    lines.push(`cr0 ${hex(r('cr0'))}  cr2 ${hex(r('cr2'))}  cr3 ${hex(r('cr3'))}  cr4 ${hex(r('cr4'))}  efer ${hex(r('efer'))}  cpl ${this.s.cpl}`);
    lines.push(`EPT ${this.s.describeView()}, EPTP ${hex(this.s.eptp)}`);
    return lines;
  }

  eptpList(): { index: number; eptp: bigint }[] {
    const s = this.s;
    if (!s.mech) return [{ index: 0, eptp: s.d.p2m.eptp() }];
    const list = Number(s.m.vmread('EPTP_LIST_ADDR') & ~0xfffn);
    const out: { index: number; eptp: bigint }[] = [];
    for (let i = 0; i < 512; i++) {
      const e = s.m.read64(list + i * 8);
      if (e !== INVALID_EPTP) out.push({ index: i, eptp: e });
    }
    return out;
  }

  eptLines(gpa: bigint, eptp: bigint, label: string): string[] {
    const w = walkEpt(this.s.m, eptp, gpa);
    const lines = [`EPT walk of guest-physical ${hex(gpa)} in ${label}`, `  EPTP ${hex(eptp)}: ${describeEptp(eptp)}`];
    for (const st of w.steps) {
      lines.push(`  ${`${st.name}[${st.index}]`.padEnd(15)} at ${hexPad(st.entryAddr, 9)} = ${st.note ? '(unreadable)' : hexPad(st.entry)}  ${st.note ?? st.fields}`);
    }
    if (w.hpa !== undefined) lines.push(`  => machine ${hex(w.hpa)} (${w.steps[w.steps.length - 1].pageSize} page)`);
    else lines.push('  => no translation');
    const v = (name: string, a: AccessVerdict) => a.ok ? `${name} ok` : a.exit === 49 ? `${name}: EPT misconfiguration`
      : `${name}: EPT violation (qualification ${hex(a.qualification)}: ${decodeEptViolation(a.qualification)})`;
    const a = w.access;
    if (a.read.ok && a.write.ok && a.fetch.ok) lines.push('  read ok, write ok, fetch ok');
    else { lines.push(`  ${v('read', a.read)}`); lines.push(`  ${v('write', a.write)}`); lines.push(`  ${v('fetch', a.fetch)}`); }
    return lines;
  }

  histogramLines(): string[] {
    const ex = [...this.s.v.stats.exits.entries()].sort((a, b) => b[1] - a[1] || (a[0] & 0xffff) - (b[0] & 0xffff));
    const total = ex.reduce((n, [, c]) => n + c, 0);
    const lines = [`VM exits by reason: ${grouped(total)} in all`];
    const width = Math.max(5, ...ex.map(([, c]) => grouped(c).length));
    for (const [r, c] of ex) {
      const pct = total ? (100 * c / total).toFixed(2) : '0.00';
      lines.push(`  ${exitReasonName(r).padEnd(22)} ${String(r & 0xffff).padStart(3)}  ${grouped(c).padStart(width)}  ${pct.padStart(6)}%`);
    }
    return lines;
  }

  private info(args: string[]): void {
    const s = this.s, out = this.out, sub = (args[0] ?? '').toLowerCase();
    switch (sub) {
      case '': {
        out.line(`image        ${s.image} (${s.prep.memMiB} MiB${s.symbols.size ? `, System.map: ${s.symbols.size} symbols` : ', no System.map'})`);
        out.line(`state        ${this.stateText()}`);
        if (s.phase !== 'shutdown') out.line(`rip          ${hexPad(s.rip)}${this.sym(s.rip)}  cpl ${s.cpl}  cr3 ${hex(s.cr3)}`);
        out.line(`EPT          ${s.describeView()}, EPTP ${hex(s.eptp)}`);
        out.line(`time         ${grouped(s.m.insnsRetired)} instructions, ${grouped(s.m.vcycles)} cycles (${fmtNs(cyclesToNs(s.m.vcycles, s.tscKhz))} virtual)`);
        const total = [...s.v.stats.exits.values()].reduce((a, b) => a + b, 0);
        out.line(`VM exits     ${grouped(total)} (histogram: by reason)`);
        if (s.mech) {
          const views = s.mech.altp2m.viewCount;
          out.line(`mechanism    on: ${views} views with VMI mirrors ${VMI_MIRROR_BASE}..${VMI_MIRROR_BASE + views - 1}, RDTSC exiting ${s.v.rdtscExiting ? 'on' : 'off'}, ` +
            `${s.mech.requests.length} VMI request(s), ${grouped(s.mech.trace.written)} trace records (${grouped(s.mech.trace.dropped)} lost)`);
        } else out.line('mechanism    off (--no-vmi)');
        out.line(`breakpoints  ${s.bps.all().length}${s.gdbBreakpoints.size ? ` (+${s.gdbBreakpoints.size} from gdb)` : ''}`);
        return;
      }
      case 'breakpoints': case 'break': case 'b': {
        const all = s.bps.all();
        if (!all.length) { out.line('No breakpoints.'); return; }
        out.line('Num  Hits  What');
        for (const b of all) out.line(`${String(b.id).padEnd(4)} ${String(b.hits).padStart(4)}  ${describeBreakpoint(b)}`);
        for (const a of s.gdbBreakpoints) out.line(`gdb        at ${hex(a)}${this.sym(a)}`);
        return;
      }
      case 'views': {
        const cur = s.eptp;
        if (!s.mech) { out.line(`One EPT: the p2m, EPTP ${hex(cur)} (no altp2m views: --no-vmi)`); return; }
        out.line(`EPTP list at machine ${hex(s.m.vmread('EPTP_LIST_ADDR'))}; VMFUNC EPTP switching ${s.m.vmread('VM_FUNCTION_CONTROL') & 1n ? 'enabled' : 'disabled'}:`);
        out.line('  index  EPTP                 view');
        for (const e of this.eptpList()) {
          const kind = s.mech.altp2m.isRequestIndex(e.index) ? `VMI-request mirror of view ${e.index - VMI_MIRROR_BASE}` : e.index === 0 ? 'normal view (the host p2m\'s twin)' : 'normal view';
          out.line(`  ${String(e.index).padStart(5)}  ${hexPad(e.eptp)}  ${kind}${e.eptp === cur ? '   <= the vCPU is here' : ''}`);
        }
        return;
      }
      case 'requests': {
        const reqs = s.mech?.requests ?? [];
        if (!reqs.length) { out.line(s.mech ? 'No VMI requests yet.' : 'No VMI requests: the mechanism is off (--no-vmi).'); return; }
        reqs.forEach((r, i) => out.line(`#${i + 1}  domain ${r.domid} vcpu ${r.vcpu}  EPTP index ${r.eptpIndex} (parameter ${r.parameter})  rip ${hex(r.rip)}  cr3 ${hex(r.cr3)}  TSC ${grouped(r.tsc)}`));
        for (const h of s.dom0?.handled ?? []) {
          out.line(`Dom0 read request at TSC ${grouped(h.request.tsc)} at ${grouped(h.dom0At)} (${fmtNs(cyclesToNs(h.dom0At - h.detectedAt, s.tscKhz))} later, woken by ${h.wokenBy})`);
        }
        return;
      }
      case 'exit': {
        if (!s.lastExit) { out.line('No VM exit yet.'); return; }
        out.lines(this.formatExit(s.lastExit));
        if (s.phase !== 'exit' || s.pendingExit !== s.lastExit) out.line('  (handled since)');
        return;
      }
      case 'registers': case 'regs': out.lines(this.regLines()); return;
      case 'symbol': {
        if (args.length < 2) throw new DebugError('usage: info symbol ADDR');
        const a = this.evalExpr(args.slice(1).join(' '));
        const n = s.symbols.format(a);
        out.line(n ? `${hex(a)} is ${n}` : `No symbol matches ${hex(a)}.`);
        return;
      }
      default: throw new DebugError(`info: unknown subject "${args[0]}" (breakpoints, views, requests, exit, registers, symbol)`);
    }
  }

  stateText(): string {
    const s = this.s;
    switch (s.phase) {
      case 'entry': return s.exitSeq === 0 ? 'booted, before the first VM entry' : 'between VM exits: the next resume enters the guest';
      case 'guest': return `stopped inside the guest${s.lastStop ? ` (${s.lastStop.kind})` : ''}`;
      case 'exit': return `stopped at VM exit #${s.pendingExit!.seq} (${s.pendingExit!.name}), before Xen's handler`;
      case 'shutdown': { const i = s.d.shutdownInfo; return `shut down (${i?.reason}, status ${(i?.status ?? 0) & 0xff})`; }
    }
  }
}

/** "IO_INSTRUCTION x3, RDTSC" */
function summarizeExits(recent: ExitInfo[], total: number): string {
  const counts = new Map<string, number>();
  for (const e of recent) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
  const parts = [...counts].map(([n, c]) => (c > 1 ? `${n} x${c}` : n));
  return parts.join(', ') + (total > recent.length ? `, ... (the last ${recent.length} shown)` : '');
}

function hexDump(addr: bigint, bytes: Uint8Array, space: Space): string[] {
  const lines: string[] = [];
  const prefix = space === 'physical' ? 'p:' : space === 'machine' ? 'm:' : '';
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const h = Array.from(row, (b) => b.toString(16).padStart(2, '0'));
    const left = h.slice(0, 8).join(' '), right = h.slice(8).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${prefix}${hexPad(addr + BigInt(off))}:  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines;
}

/** The fields `vmcs` shows without arguments. */
const DEFAULT_VMCS = [
  'VM_EXIT_REASON', 'EXIT_QUALIFICATION', 'VM_EXIT_INTR_INFO', 'VM_EXIT_INSTRUCTION_LEN', 'IDT_VECTORING_INFO_FIELD',
  'GUEST_PHYSICAL_ADDRESS', 'GUEST_LINEAR_ADDRESS',
  'GUEST_RIP', 'GUEST_RSP', 'GUEST_RFLAGS', 'GUEST_CR0', 'GUEST_CR3', 'GUEST_CR4', 'GUEST_CS_SELECTOR', 'GUEST_IA32_EFER',
  'GUEST_INTERRUPTIBILITY_INFO', 'GUEST_ACTIVITY_STATE',
  'PIN_BASED_VM_EXEC_CONTROL', 'CPU_BASED_VM_EXEC_CONTROL', 'SECONDARY_VM_EXEC_CONTROL', 'VM_FUNCTION_CONTROL',
  'EPT_POINTER', 'EPTP_LIST_ADDR', 'EPTP_INDEX', 'VIRT_EXCEPTION_INFO', 'TSC_OFFSET', 'VMX_PREEMPTION_TIMER_VALUE',
  'VM_ENTRY_INTR_INFO_FIELD',
];

const PIN_BITS: [number, string][] = [[0, 'EXT_INTR_MASK'], [3, 'NMI_EXITING'], [5, 'VIRTUAL_NMIS'], [6, 'PREEMPTION_TIMER'], [7, 'POSTED_INTR']];
const CPU_BITS: [number, string][] = [[2, 'INTR_WINDOW_EXITING'], [3, 'USE_TSC_OFFSETTING'], [7, 'HLT_EXITING'], [9, 'INVLPG_EXITING'],
  [10, 'MWAIT_EXITING'], [11, 'RDPMC_EXITING'], [12, 'RDTSC_EXITING'], [15, 'CR3_LOAD_EXITING'], [16, 'CR3_STORE_EXITING'],
  [19, 'CR8_LOAD_EXITING'], [20, 'CR8_STORE_EXITING'], [21, 'TPR_SHADOW'], [22, 'NMI_WINDOW_EXITING'], [23, 'MOV_DR_EXITING'],
  [24, 'UNCOND_IO_EXITING'], [25, 'USE_IO_BITMAPS'], [27, 'MONITOR_TRAP_FLAG'], [28, 'USE_MSR_BITMAPS'], [29, 'MONITOR_EXITING'],
  [30, 'PAUSE_EXITING'], [31, 'ACTIVATE_SECONDARY_CONTROLS']];
const SEC_BITS: [number, string][] = [[0, 'VIRTUALIZE_APIC_ACCESSES'], [1, 'ENABLE_EPT'], [2, 'DESC_EXITING'], [3, 'ENABLE_RDTSCP'],
  [4, 'VIRTUALIZE_X2APIC'], [5, 'ENABLE_VPID'], [6, 'WBINVD_EXITING'], [7, 'UNRESTRICTED_GUEST'], [9, 'VIRTUAL_INTR_DELIVERY'],
  [10, 'PAUSE_LOOP_EXITING'], [12, 'ENABLE_INVPCID'], [13, 'ENABLE_VMFUNC'], [14, 'VMCS_SHADOWING'], [18, 'EPT_VIOLATION_VE'],
  [20, 'ENABLE_XSAVES'], [25, 'TSC_SCALING']];

function bits(v: bigint, table: [number, string][]): string {
  const set = table.filter(([b]) => (v >> BigInt(b)) & 1n).map(([, n]) => n);
  return set.length ? `[ ${set.join(' ')} ]` : '';
}

/** A short decoding of a field's value, for `vmcs`. */
function describeField(enc: number, v: bigint, dbg: Debugger): string {
  const F = VMCS_FIELDS;
  switch (enc) {
    case F.VM_EXIT_REASON: return exitReasonName(Number(v));
    case F.PIN_BASED_VM_EXEC_CONTROL: return bits(v, PIN_BITS);
    case F.CPU_BASED_VM_EXEC_CONTROL: return bits(v, CPU_BITS);
    case F.SECONDARY_VM_EXEC_CONTROL: return bits(v, SEC_BITS);
    case F.VM_FUNCTION_CONTROL: return v & 1n ? '[ EPTP_SWITCHING ]' : '';
    case F.EPT_POINTER: return `${dbg.s.describeView(v)}: ${describeEptp(v)}`;
    case F.EPTP_INDEX: return `(${v})`;
    case F.GUEST_RIP: { const n = dbg.s.symbols.format(v); return n ? `<${n}>` : ''; }
    case F.GUEST_RFLAGS: return describeRflags(v);
    case F.GUEST_ACTIVITY_STATE: return ['active', 'HLT', 'shutdown', 'wait-for-SIPI'][Number(v)] ?? '';
    case F.VM_EXIT_INTR_INFO: case F.IDT_VECTORING_INFO_FIELD: case F.VM_ENTRY_INTR_INFO_FIELD:
      return v & 0x80000000n ? `(${describeIntr(Number(v))})` : '';
    case F.VMX_PREEMPTION_TIMER_VALUE: return `(${grouped(v * 32n)} cycles)`;
    default: return '';
  }
}

function describeIntr(info: number): string {
  const types = ['external interrupt', 'reserved', 'NMI', 'hardware exception', 'software interrupt', 'privileged software exception', 'software exception', 'other event'];
  return `vector ${info & 0xff}, ${types[(info >> 8) & 7]}${info & 0x800 ? ', error code' : ''}`;
}
