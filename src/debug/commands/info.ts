// The hypervisor's records and the session's state: trace (Xentrace records, read and unread),
// histogram (VM exits by reason, counted as Xen counts them) and info (the session, breakpoints,
// the EPTP list, VMI requests, the last exit, symbols).
import { exitReasonName } from '../../vmcs.js';
import { VMI_MIRROR_BASE } from '../../xen/altp2m.js';
import { formatRecord } from '../../dom0/trace-file.js';
import type { DebugSession } from '../session.js';
import { describeBreakpoint } from '../breakpoints.js';
import { unreadRecords } from '../trace-tail.js';
import { evalExpr } from '../expr.js';
import { formatExit, symSuffix } from '../stops.js';
import { DebugError, parseCountArg } from '../format.js';
import { hex, hexPad, grouped, cyclesToNs, fmtNs } from '../../util/format.js';
import type { CommandContext, CommandDef } from './command.js';
import { regLines } from './state.js';
import { eptpList } from './memory.js';

export function infoCommands(ctx: CommandContext): CommandDef[] {
  const s = ctx.s, out = ctx.out;
  return [
    {
      name: 'trace', aliases: [], usage: 'trace [N]', summary: 'the latest N Xentrace records (default 10)',
      help: ['Records Dom0\'s trace daemon has read, then those still in the hypervisor\'s buffers (read without consuming',
        'them), formatted as `vmfunc-vmi trace` prints a trace file. HVM trace points are on in debug sessions.'],
      run: (args) => {
        if (!s.mech || !s.dom0) throw new DebugError('no trace buffers: the VMI mechanism is off in this session (--no-vmi)');
        const n = args[0] === undefined ? 10 : Number(parseCountArg(args[0], 'record count', 100000n));
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
      run: () => out.lines(histogramLines(s)), help: ['Counted as Xen counts them: at each exit, before its handler.'],
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
      run: (args) => info(ctx, args),
    },
  ];
}

function histogramLines(s: DebugSession): string[] {
  const ex = [...s.v.stats.exits.entries()].sort((a, b) => b[1] - a[1] || (a[0] & 0xffff) - (b[0] & 0xffff));
  const total = ex.reduce((n, [, c]) => n + c, 0);
  const lines = [`VM exits by reason: ${grouped(total)} in all`];
  const width = Math.max(5, ...ex.map(([, c]) => grouped(c).length));
  for (const [r, c] of ex) {
    const pct = total ? (100 * c / total).toFixed(2) : '0.00';
    lines.push(`  ${exitReasonName(r).padEnd(22)} ${String(r & 0xffff).padStart(3)}  ${grouped(c).padStart(width)}  ${pct.padStart(6)}%`);
  }
  return lines;
}

function info(ctx: CommandContext, args: string[]): void {
  const s = ctx.s, out = ctx.out, sub = (args[0] ?? '').toLowerCase();
  switch (sub) {
    case '': {
      out.line(`image        ${s.image} (${s.prep.memMiB} MiB${s.symbols.size ? `, System.map: ${s.symbols.size} symbols` : ', no System.map'})`);
      out.line(`state        ${stateText(s)}`);
      if (s.phase !== 'shutdown') out.line(`rip          ${hexPad(s.rip)}${symSuffix(s, s.rip)}  cpl ${s.cpl}  cr3 ${hex(s.cr3)}`);
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
      for (const a of s.gdbBreakpoints) out.line(`gdb        at ${hex(a)}${symSuffix(s, a)}`);
      return;
    }
    case 'views': {
      const cur = s.eptp;
      if (!s.mech) { out.line(`One EPT: the p2m, EPTP ${hex(cur)} (no altp2m views: --no-vmi)`); return; }
      out.line(`EPTP list at machine ${hex(s.m.vmread('EPTP_LIST_ADDR'))}; VMFUNC EPTP switching ${s.m.vmread('VM_FUNCTION_CONTROL') & 1n ? 'enabled' : 'disabled'}:`);
      out.line('  index  EPTP                 view');
      for (const e of eptpList(s)) {
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
      out.lines(formatExit(s, s.lastExit));
      if (s.phase !== 'exit' || s.pendingExit !== s.lastExit) out.line('  (handled since)');
      return;
    }
    case 'registers': case 'regs': out.lines(regLines(s)); return;
    case 'symbol': {
      if (args.length < 2) throw new DebugError('usage: info symbol ADDR');
      const a = evalExpr(s, args.slice(1).join(' '));
      const n = s.symbols.format(a);
      out.line(n ? `${hex(a)} is ${n}` : `No symbol matches ${hex(a)}.`);
      return;
    }
    default: throw new DebugError(`info: unknown subject "${args[0]}" (breakpoints, views, requests, exit, registers, symbol)`);
  }
}

function stateText(s: DebugSession): string {
  switch (s.phase) {
    case 'entry': return s.exitSeq === 0 ? 'booted, before the first VM entry' : 'between VM exits: the next resume enters the guest';
    case 'guest': return `stopped inside the guest${s.lastStop ? ` (${s.lastStop.kind})` : ''}`;
    case 'exit': return `stopped at VM exit #${s.pendingExit!.seq} (${s.pendingExit!.name}), before Xen's handler`;
    case 'shutdown': { const i = s.d.shutdownInfo; return `shut down (${i?.reason}, status ${(i?.status ?? 0) & 0xff})`; }
  }
}
