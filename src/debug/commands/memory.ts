// Memory: x (a hex dump), disas (capstone), pt (the guest's page walk, SDM Vol. 3A, 4.5) and ept
// (the EPT walk with the CPU's verdict for each access, SDM Vol. 3C, 28.3), in the guest-linear,
// guest-physical (p:) or machine (m:) address space.
import { INVALID_EPTP } from '../../xen/altp2m.js';
import { EXIT_REASON_EPT_MISCONFIG } from '../../vmcs.js';
import type { DebugSession } from '../session.js';
import type { Space } from '../memory.js';
import { walkEpt, describeEptp, type AccessVerdict } from '../walk.js';
import { decodeEptViolation } from '../exit-decode.js';
import { formatInsn } from '../disasm.js';
import { evalExpr, evalSpaced, splitCr3 } from '../expr.js';
import { symSuffix } from '../stops.js';
import { DebugError, parseNumber, parseCountArg } from '../format.js';
import { hex, hexPad, bytesHex } from '../../util/format.js';
import type { CommandContext, CommandDef } from './command.js';

export function memoryCommands(ctx: CommandContext): CommandDef[] {
  const s = ctx.s, out = ctx.out;
  return [
    {
      name: 'ept', aliases: [], usage: 'ept GPA [VIEW]', summary: 'the EPT walk of a guest-physical address, entry by entry',
      help: ['VIEW is an EPTP-list index (0, 1, ..., the VMI mirrors 10, 11, ...); default: the view the vCPU is on.',
        'Ends with the CPU\'s verdict for a read, a write and an instruction fetch (an EPT violation shows its',
        'exit qualification decoded).'],
      run: (args) => {
        if (!args.length || args.length > 2) throw new DebugError('usage: ept GPA [VIEW]');
        const gpa = evalExpr(s, args[0].replace(/^p:/i, ''));
        let eptp = s.eptp, label = `the current ${s.describeView()}`;
        if (args[1] !== undefined) {
          const idx = Number(parseNumber(args[1], 'view index'));
          const list = eptpList(s);
          const e = list.find((x) => x.index === idx);
          if (!e) throw new DebugError(`no EPT view ${idx} (views: ${list.map((x) => x.index).join(', ') || 'none'})`);
          eptp = e.eptp;
          label = s.describeView(eptp);
        }
        out.lines(eptLines(s, gpa, eptp, label));
      },
    },
    {
      name: 'pt', aliases: ['pagewalk'], usage: 'pt LINEAR [cr3=CR3]', summary: 'the guest page walk of a linear address, entry by entry',
      help: ['Walks the guest\'s 4-level page tables under its CR3 (or the one given); each entry is read through the',
        'EPT view the vCPU is on. Shows each entry\'s flags, then the guest-physical and machine addresses.'],
      run: (args) => {
        if (!args.length) throw new DebugError('usage: pt LINEAR [cr3=CR3]');
        const split = splitCr3(s, args);
        const cr3 = split.cr3 ?? s.cr3;
        const la = evalExpr(s, split.expr);
        const w = s.mem.walk(la, cr3);
        out.line(`Page walk of ${hexPad(la)}${symSuffix(s, la)} under cr3 ${hex(cr3)}, entries read through ${s.describeView()}:`);
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
        const { space, addr } = evalSpaced(s, args[0]);
        const n = args[1] === undefined ? 64 : Number(parseCountArg(args[1], 'byte count', 65536n));
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
        const { space, addr } = args[0] !== undefined ? evalSpaced(s, args[0]) : { space: 'linear' as Space, addr: s.rip };
        const n = args[1] === undefined ? 10 : Number(parseCountArg(args[1], 'instruction count', 10000n));
        const r = s.mem.read(space, addr, n * 15);
        if (!r.bytes.length) throw new DebugError(r.error ?? `cannot read ${hex(addr)}`);
        const insns = s.disasm.disassemble(r.bytes, addr, n, space === 'linear' ? s.symbols : undefined);
        if (!insns.length) throw new DebugError(`the bytes at ${hex(addr)} do not decode (${bytesHex(r.bytes.slice(0, 8))})`);
        const rip = s.rip;
        for (const i of insns) {
          const sym = space === 'linear' ? s.symbols.format(i.addr) : undefined;
          if (sym && !sym.includes('+')) out.line(`${hexPad(i.addr)} <${sym}>:`);
          const mark = space === 'linear' && i.addr === rip ? '=> ' : '   ';
          out.line(`${mark}${hexPad(i.addr)}${sym ? ` <${sym}>` : ''}:  ${formatInsn(i)}`);
        }
        if (insns.length < n && r.error) out.line(`(stopped: ${r.error})`);
      },
    },
  ];
}

/** The valid entries of the EPTP list (the VMFUNC-reachable views); without the mechanism, the p2m alone. */
export function eptpList(s: DebugSession): { index: number; eptp: bigint }[] {
  if (!s.mech) return [{ index: 0, eptp: s.d.p2m.eptp() }];
  const list = Number(s.m.vmread('EPTP_LIST_ADDR') & ~0xfffn);
  const out: { index: number; eptp: bigint }[] = [];
  for (let i = 0; i < 512; i++) {
    const e = s.m.read64(list + i * 8);
    if (e !== INVALID_EPTP) out.push({ index: i, eptp: e });
  }
  return out;
}

function eptLines(s: DebugSession, gpa: bigint, eptp: bigint, label: string): string[] {
  const w = walkEpt(s.m, eptp, gpa);
  const lines = [`EPT walk of guest-physical ${hex(gpa)} in ${label}`, `  EPTP ${hex(eptp)}: ${describeEptp(eptp)}`];
  for (const st of w.steps) {
    lines.push(`  ${`${st.name}[${st.index}]`.padEnd(15)} at ${hexPad(st.entryAddr, 9)} = ${st.note ? '(unreadable)' : hexPad(st.entry)}  ${st.note ?? st.fields}`);
  }
  if (w.hpa !== undefined) lines.push(`  => machine ${hex(w.hpa)} (${w.steps[w.steps.length - 1].pageSize} page)`);
  else lines.push('  => no translation');
  const v = (name: string, a: AccessVerdict) => a.ok ? `${name} ok` : a.exit === EXIT_REASON_EPT_MISCONFIG ? `${name}: EPT misconfiguration`
    : `${name}: EPT violation (qualification ${hex(a.qualification)}: ${decodeEptViolation(a.qualification)})`;
  const a = w.access;
  if (a.read.ok && a.write.ok && a.fetch.ok) lines.push('  read ok, write ok, fetch ok');
  else { lines.push(`  ${v('read', a.read)}`); lines.push(`  ${v('write', a.write)}`); lines.push(`  ${v('fetch', a.fetch)}`); }
  return lines;
}

function hexDump(addr: bigint, bytes: Uint8Array, space: Space): string[] {
  const lines: string[] = [];
  const prefix = space === 'physical' ? 'p:' : space === 'machine' ? 'm:' : '';
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    const left = bytesHex(row.subarray(0, 8)), right = bytesHex(row.subarray(8));
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${prefix}${hexPad(addr + BigInt(off))}:  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines;
}
