// What the debugger says when the vCPU stops (console, --script and gdb's console alike): the
// stop's cause, the EPT view switches seen on the way, a VM exit decoded (SDM Vol. 3C, 28.2 and
// Appendix C), and the "=> rip" location line.
import { INVALID_EPTP, VMI_MIRROR_BASE } from '../xen/altp2m.js';
import type { DebugSession, Stop, ViewSwitch } from './session.js';
import type { ExitInfo } from './exit-decode.js';
import { formatInsn } from './disasm.js';
import { hex, hexPad, bytesHex, grouped, cyclesToNs, fmtNs } from '../util/format.js';

/** " <symbol+off>" for an address with a kernel symbol, else "". */
export function symSuffix(s: DebugSession, addr: bigint): string {
  const n = s.symbols.format(addr);
  return n ? ` <${n}>` : '';
}

/** "=> 0x... <sym>:  bytes  insn" for the instruction at RIP (or where it cannot be read). */
export function locationLine(s: DebugSession, prefix = '=> '): string {
  const rip = s.rip;
  const r = s.mem.read('linear', rip, 15);
  const insn = r.bytes.length ? s.disasm.one(r.bytes, rip, s.symbols) : undefined;
  const where = `${prefix}${hexPad(rip)}${symSuffix(s, rip)}:`;
  if (!insn) return `${where}  (cannot read the instruction: ${r.error ?? 'does not decode'})`;
  return `${where}  ${formatInsn(insn)}`;
}

function viewName(s: DebugSession, index: number | undefined, eptp: bigint): string {
  if (index === undefined) return `EPTP ${hex(eptp)}`;
  if (s.mech?.altp2m.isRequestIndex(index)) return `view ${index} (the VMI-request mirror of view ${index - VMI_MIRROR_BASE})`;
  return `view ${index}`;
}

export function formatSwitch(s: DebugSession, w: ViewSwitch): string {
  const from = viewName(s, w.fromIndex, w.from), to = viewName(s, w.toIndex, w.to);
  if (w.by === 'VMFUNC') return `EPT view switch by the guest's VMFUNC (no VM exit): ${from} -> ${to}`;
  return `EPT view switch by the hypervisor (${w.exit ? `${w.exit.name} handler, exit #${w.exit.seq}` : 'handler'}): ${from} -> ${to}`;
}

export function formatExit(s: DebugSession, x: ExitInfo): string[] {
  const lines = [`VM exit #${x.seq}: ${x.name} (reason ${x.reason & 0xffff}), before Xen's handler`];
  lines.push(`  qualification ${hex(x.qualification)}: ${x.decoded}`);
  for (const d of x.details) lines.push(`  ${d}`);
  lines.push(`  guest rip     ${hexPad(x.rip)}${symSuffix(s, x.rip)}  cpl ${x.cpl}  cr3 ${hex(x.cr3)}`);
  const r = s.mem.read('linear', x.rip, x.instrLen > 0 ? x.instrLen : 15);
  const insn = r.bytes.length ? s.disasm.one(r.bytes, x.rip, s.symbols) : undefined;
  if (insn && (x.instrLen === 0 || insn.bytes.length === x.instrLen)) lines.push(`  instruction   ${formatInsn(insn)}${x.instrLen ? '' : '  (the next to run)'}`);
  else if (x.instrLen) lines.push(`  instruction   ${bytesHex(r.bytes)} (${x.instrLen} bytes)`);
  const idx = s.viewIndex(x.eptp);
  lines.push(`  EPT           ${viewName(s, idx, x.eptp)}, EPTP ${hex(x.eptp)}, EPTP_INDEX ${x.eptpIndexField}`);
  lines.push(`  at            ${grouped(x.insns)} instructions, ${grouped(x.vcycles)} cycles (${fmtNs(cyclesToNs(x.vcycles, s.tscKhz))} virtual)`);
  return lines;
}

export function formatStop(s: DebugSession, st: Stop): string[] {
  const lines: string[] = [];
  for (const w of st.switches) lines.push(formatSwitch(s, w));
  const ids = st.breakpoints.map((b) => b.id).join(', ');
  switch (st.kind) {
    case 'breakpoint':
      lines.push(`Breakpoint ${ids || '(gdb)'} at ${hex(s.rip)}${symSuffix(s, s.rip)}, cpl ${s.cpl}, cr3 ${hex(s.cr3)}, ${s.describeView()}`);
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
          : `switches ${s.describeView()} -> ${viewName(s, Number(ecx), target)}, EPTP ${hex(target)}, without a VM exit`;
      }
      lines.push(`Stopped before VMFUNC (breakpoint ${ids}) at ${hex(s.rip)}${symSuffix(s, s.rip)}, cpl ${s.cpl}, cr3 ${hex(s.cr3)}`);
      lines.push(`  eax ${hex(eax)} (leaf 0: EPTP switching), ecx ${hex(ecx)} (EPTP-list index ${ecx}): ${what}`);
      break;
    }
    case 'exit':
      if (ids) lines.push(`Breakpoint ${ids}, on ${st.exit!.name} exits`);
      lines.push(...formatExit(s, st.exit!));
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
  lines.push(locationLine(s));
  return lines;
}

/** "IO_INSTRUCTION x3, RDTSC" */
function summarizeExits(recent: ExitInfo[], total: number): string {
  const counts = new Map<string, number>();
  for (const e of recent) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
  const parts = [...counts].map(([n, c]) => (c > 1 ? `${n} x${c}` : n));
  return parts.join(', ') + (total > recent.length ? `, ... (the last ${recent.length} shown)` : '');
}
