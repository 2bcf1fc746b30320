// The GDB stub (issue 6): the remote serial protocol spoken by hand (framing,
// acks, the target description, registers, memory, breakpoints, ^C, monitor),
// and real gdb in batch mode attached to `vmfunc-vmi debug --gdb PORT`:
// connect, read registers, break on a kernel symbol, continue, step, read
// memory, and VMX state through `monitor`. Skips (saying so) without gdb.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createConnection, createServer, type Socket } from 'node:net';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { DebugSession, Debugger, Output, GdbServer } from '../src/debug/index.js';
import { SymbolTable } from '../src/debug/symbols.js';
import { targetXml, GDB_REGS } from '../src/debug/gdb-target.js';
import { defaultImagePath } from '../src/run.js';
import { runCli } from './helpers/cli.js';

const symbols = SymbolTable.parse(readFileSync(join(dirname(defaultImagePath()), 'System.map'), 'utf8'));
const schedule = symbols.lookup('schedule')!.addr;

const cksum = (s: string) => [...s].reduce((a, c) => (a + c.charCodeAt(0)) & 0xff, 0).toString(16).padStart(2, '0');
const le64 = (v: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(v); return b.toString('hex'); };

/** A minimal gdb-side client: sends packets, collects replies (O packets separately). */
class RspClient {
  private buf = '';
  private waiters: (() => void)[] = [];
  acks = 0;
  constructor(private readonly sock: Socket) {
    sock.on('data', (d) => { this.buf += d.toString('latin1'); for (const w of this.waiters.splice(0)) w(); });
  }
  static connect(port: number): Promise<RspClient> {
    return new Promise((res, rej) => { const s = createConnection(port, '127.0.0.1', () => res(new RspClient(s))); s.on('error', rej); });
  }
  raw(text: string): void { this.sock.write(text, 'latin1'); }
  send(p: string): void { this.raw(`$${p}#${cksum(p)}`); }
  /** The next packet that is not console output; console output (O) goes to `console`. */
  async reply(console?: string[]): Promise<string> {
    for (;;) {
      while (this.buf[0] === '+') { this.buf = this.buf.slice(1); this.acks++; }
      const m = /^\$([^#]*)#([0-9a-f]{2})/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        expect(m[2]).toBe(cksum(m[1]));
        if (m[1].startsWith('O') && m[1] !== 'OK' && /^O[0-9a-f]+$/.test(m[1])) { console?.push(Buffer.from(m[1].slice(1), 'hex').toString()); continue; }
        return m[1];
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
  async ask(p: string, console?: string[]): Promise<string> { this.send(p); return this.reply(console); }
  close(): void { this.sock.destroy(); }
}

describe('the remote protocol, by hand', () => {
  let s: DebugSession, srv: GdbServer, c: RspClient;
  beforeAll(async () => {
    s = await DebugSession.create();
    srv = new GdbServer(new Debugger(s, new Output(() => {})), () => {});
    const port = await srv.listen(0);
    c = await RspClient.connect(port);
  });
  afterAll(() => { c?.close(); srv?.close(); });

  it('negotiates features and serves the target description in pieces', async () => {
    const sup = await c.ask('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386');
    expect(c.acks).toBeGreaterThan(0);
    expect(sup.split(';')).toEqual(expect.arrayContaining(['qXfer:features:read+', 'QStartNoAckMode+', 'swbreak+', 'hwbreak+']));
    let xml = '', off = 0;
    for (;;) {
      const r = await c.ask(`qXfer:features:read:target.xml:${off.toString(16)},200`);
      xml += r.slice(1);
      off += r.length - 1;
      if (r[0] === 'l') break;
      expect(r[0]).toBe('m');
    }
    expect(xml).toBe(targetXml());
    expect(xml).toContain('<architecture>i386:x86-64</architecture>');
    expect(xml).toContain('<feature name="org.gnu.gdb.i386.core">');
    expect(xml).toContain('<reg name="rip" bitsize="64" type="code_ptr" regnum="16"/>');
    expect(xml).toContain('<reg name="eflags" bitsize="32" type="i386_eflags" regnum="17"/>');
    expect(xml).toContain('<feature name="org.gnu.gdb.i386.segments">');
    expect(xml).toContain('<reg name="fs_base" bitsize="64" type="int" regnum="40"/>');
    expect(await c.ask('qXfer:features:read:nothere.xml:0,100')).toBe('E00');
    expect(await c.ask('QStartNoAckMode')).toBe('OK');
  });

  it('drops packets longer than the PacketSize it advertises, with an error, buffering none of them', async () => {
    const size = parseInt(/PacketSize=([0-9a-f]+)/.exec(await c.ask('qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386'))![1], 16);
    expect(size).toBeGreaterThan(0);
    const buffered = () => (srv as unknown as { conn: { buf: string } }).conn.buf.length;
    // A packet whose `#` never comes: 4 MiB in, a bounded buffer, then its end gets E01.
    c.raw('$m');
    for (let i = 0; i < 64; i++) c.raw('0'.repeat(64 * 1024));
    await new Promise((r) => setTimeout(r, 200));
    expect(buffered()).toBeLessThanOrEqual(size + 4);
    c.raw('#00');
    expect(await c.reply()).toBe('E01');
    // A whole oversize packet in one piece, checksum right: E01, and the stub still serves.
    const big = 'X' + '0'.repeat(size + 1);
    expect(await c.ask(big)).toBe('E01');
    expect(await c.ask('?')).toMatch(/^[TS][0-9a-f]{2}/);
  });

  it('answers the thread and stop queries', async () => {
    expect(await c.ask('qC')).toBe('QC01');
    expect(await c.ask('qAttached')).toBe('1');
    expect(await c.ask('qfThreadInfo')).toBe('m01');
    expect(await c.ask('qsThreadInfo')).toBe('l');
    expect(await c.ask('vCont?')).toBe('vCont;c;C;s;S');
    expect(await c.ask('Hg0')).toBe('OK');
    expect(await c.ask('?')).toBe(`T05thread:01;06:${le64(0n)};07:${le64(0x80000n)};10:${le64(0x100000n)};`);
    expect(await c.ask('qTStatus')).toBe('');
  });

  it('reads and writes registers: g in target-description order, p/P one at a time', async () => {
    const g = await c.ask('g');
    expect(g.length).toBe(GDB_REGS.reduce((n, r) => n + r.bits / 4, 0));
    expect(g.slice(16 * 5, 16 * 6)).toBe(le64(0x1000n));              // rdi = the boot information
    expect(g.slice(16 * 16, 16 * 17)).toBe(le64(0x100000n));          // rip = e_entry
    expect(await c.ask('p7')).toBe(le64(0x80000n));                     // rsp
    expect(await c.ask('p12')).toBe('08000000');                        // cs (regnum 18)
    expect(await c.ask(`P1=${le64(0xdeadbeefn)}`)).toBe('OK');           // rbx
    expect(s.m.gpr('rbx')).toBe(0xdeadbeefn);
    expect(await c.ask('P12=10000000')).toBe('E01');                    // cs is read-only
    expect(await c.ask(`G${g}`)).toBe('OK');                            // everything back, unchanged selectors accepted
    expect(s.m.gpr('rbx')).toBe(0n);
  });

  it('reads and writes guest-linear memory through the page tables and EPT', async () => {
    const bi = await c.ask('m1000,8');
    expect(bi).toBe('564d424901000000'); // "VMBI", version 1
    expect(await c.ask('m4000000000,8')).toBe('E14');
    expect(await c.ask('M70000,4:11223344')).toBe('OK');
    expect(await c.ask('m70000,4')).toBe('11223344');
  });

  it('Z0 breakpoint, continue -> T05 swbreak at the symbol; step; ^C interrupts a run; monitor commands', async () => {
    expect(await c.ask(`Z0,${schedule.toString(16)},1`)).toBe('OK');
    const stop = await c.ask('c');
    expect(stop).toMatch(new RegExp(`^T05thread:01;swbreak:;06:[0-9a-f]{16};07:[0-9a-f]{16};10:${le64(schedule)};$`));
    expect(await c.ask(`z0,${schedule.toString(16)},1`)).toBe('OK');
    const step = await c.ask('s');
    expect(step).toMatch(/^T05thread:01;/);
    expect(s.rip > schedule && s.rip < schedule + 16n).toBe(true);
    const out: string[] = [];
    expect(await c.ask(`qRcmd,${Buffer.from('vmcs GUEST_RIP').toString('hex')}`, out)).toBe('OK');
    expect(out.join('')).toMatch(/GUEST_RIP +\(0x681e\) += 0x[0-9a-f]+ {2}<schedule\+0x[0-9a-f]+>/);
    const refused: string[] = [];
    expect(await c.ask(`qRcmd,${Buffer.from('continue').toString('hex')}`, refused)).toBe('OK');
    expect(refused.join('')).toContain('error: "continue" runs the guest');
    // ^C while running: the run goes in slices (small ones here), so the stub sees it.
    s.sliceInsns = 10_000n;
    const before = s.m.insnsRetired;
    c.send('c');
    await new Promise((r) => setTimeout(r, 20));
    c.raw('\x03');
    expect(await c.reply()).toMatch(/^T02thread:01;/);
    expect(s.isShutdown).toBe(false);
    expect(s.m.insnsRetired).toBeGreaterThan(before);
    expect(s.lastStop!.kind).toBe('interrupted');
  });

  it('D detaches and closes', async () => {
    expect(await c.ask('D')).toBe('OK');
    await srv.closed;
  });
});

const gdbVersion = spawnSync('gdb', ['--version'], { encoding: 'utf8' });
const haveGdb = gdbVersion.status === 0;
if (!haveGdb) console.warn('debug-gdb.test.ts: gdb is not installed; skipping the gdb interop test');

function freePort(): Promise<number> {
  return new Promise((res) => { const srv = createServer(); srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as { port: number }).port; srv.close(() => res(p)); }); });
}

/** `vmfunc-vmi debug [image] --gdb PORT`, then gdb -batch running `commands` against it with `symbolFile`. */
async function gdbSession(image: string[], commands: string[], symbolFile: string) {
  const port = await freePort();
  const cli = runCli(['debug', ...image, '--quiet', '--gdb', String(port)]);
  // The stub boots the domain, then listens; a connection that sends nothing is only a probe to it.
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((r) => {
      const sock = createConnection(port, '127.0.0.1', () => { sock.destroy(); r(true); });
      sock.on('error', () => r(false));
    });
    if (up) break;
    if (i > 300) throw new Error('the gdb stub did not start listening');
    await new Promise((r) => setTimeout(r, 50));
  }
  const args = ['-batch', '-nx', '-ex', 'set confirm off', '-ex', 'set pagination off', '-ex', `target remote 127.0.0.1:${port}`,
    ...commands.flatMap((c) => ['-ex', c]), symbolFile];
  const gdb = spawn('gdb', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  gdb.stdout.on('data', (d) => { text += d; });
  gdb.stderr.on('data', (d) => { text += d; });
  const timer = setTimeout(() => gdb.kill('SIGKILL'), 60_000);
  const status = await new Promise<number | null>((r) => gdb.on('close', r));
  clearTimeout(timer);
  return { port, text, status, res: await cli };
}

describe.skipIf(!haveGdb)('real gdb against `vmfunc-vmi debug --gdb PORT`', () => {
  it('connects, reads registers, breaks on a kernel symbol, continues, steps, reads memory, asks monitor', async () => {
    const { port, text, status, res } = await gdbSession([], ['info registers', 'break schedule', 'continue', 'monitor disas $rip 2', 'stepi',
      'info registers rip', 'x/4gx $rsp', 'monitor x $rsp 32', 'monitor exits', 'monitor vmcs GUEST_RIP', 'monitor ept 0x1000', 'kill'],
    defaultImagePath());
    expect(res.code, text).toBe(0);
    expect(status, text).toBe(0);
    expect(res.stdout).toContain(`gdb stub listening on 127.0.0.1:${port}`);

    // Connected, stopped at the image's entry point, with its symbols.
    expect(text).toMatch(/0x0000000000100000 in _start \(\)/);
    expect(text).toMatch(/rip +0x100000 +0x100000 <_start>/);
    expect(text).toMatch(/rdi +0x1000 +4096/);
    expect(text).toMatch(/rsp +0x80000 +0x80000/);
    expect(text).toMatch(/cs +0x8 +8/);
    expect(text).toMatch(/fs_base +0x0 +0/);
    // The breakpoint on a kernel symbol, continue, stepi.
    expect(text).toContain(`Breakpoint 1 at 0x${schedule.toString(16)}`);
    expect(text).toMatch(new RegExp(`Breakpoint 1, 0x0*${schedule.toString(16)} in schedule \\(\\)`));
    const dis = [...text.matchAll(/^(?:=> | {3})0x([0-9a-f]{16}) <schedule(?:\+0x([0-9a-f]+))?>:/gm)];
    expect(dis.length).toBe(2);
    const next = BigInt('0x' + dis[1][1]);
    expect(text).toMatch(new RegExp(`0x0*${next.toString(16)} in schedule \\(\\)`));
    expect(text).toMatch(new RegExp(`rip +0x${next.toString(16)} +0x${next.toString(16)} <schedule\\+${next - schedule}>`));
    // x/4gx $rsp agrees with the debugger's own dump of the same bytes.
    const xg = /^0x([0-9a-f]+):\s+0x([0-9a-f]{16})\s+0x([0-9a-f]{16})\n0x[0-9a-f]+:\s+0x([0-9a-f]{16})\s+0x([0-9a-f]{16})$/m.exec(text);
    expect(xg, text).not.toBeNull();
    const dump = [...text.matchAll(/^0x([0-9a-f]{16}):  ((?:[0-9a-f]{2} ){7}[0-9a-f]{2})  ((?:[0-9a-f]{2} ){7}[0-9a-f]{2})  \|/gm)];
    expect(BigInt('0x' + dump[0][1])).toBe(BigInt('0x' + xg![1]));
    const qwords = dump.flatMap((d) => [d[2], d[3]]).map((h) => Buffer.from(h.replace(/ /g, ''), 'hex').readBigUInt64LE());
    expect(qwords).toEqual([xg![2], xg![3], xg![4], xg![5]].map((h) => BigInt('0x' + h)));
    // VMX state through monitor.
    expect(text).toMatch(/VM exits by reason: [\d,]+ in all/);
    expect(text).toMatch(/IO_INSTRUCTION +30 +[\d,]+/);
    expect(text).toMatch(new RegExp(`GUEST_RIP +\\(0x681e\\) += 0x${next.toString(16)}  <schedule\\+0x${(next - schedule).toString(16)}>`));
    expect(text).toContain('EPT walk of guest-physical 0x1000 in the current view 0');
    expect(text).toMatch(/EPT PDE\[0\] +at 0x[0-9a-f]+ = 0x[0-9a-f]{16} {2}RWX memtype WB large page/);
    expect(text).toContain('[Inferior 1 (Remote target) killed]');
  });
});

describe.skipIf(!haveGdb)('real gdb on the bundled Linux with its vmlinux symbols (issue 14: firmware/linux/vmlinux.sym)', () => {
  const linux = join(dirname(defaultImagePath()), '..', 'linux');
  const map = SymbolTable.parse(readFileSync(join(linux, 'System.map'), 'utf8'));
  const comm = Number((JSON.parse(readFileSync(join(linux, 'linux.profile.json'), 'utf8')) as { linux_name: string }).linux_name);
  it('breaks on schedule, reads init_task\'s comm at the profile\'s offset, disassembles at the stop', async () => {
    const sched = map.lookup('schedule')!.addr, initTask = map.lookup('init_task')!.addr;
    const { text, status, res } = await gdbSession(['linux'], ['break schedule', 'continue', 'info symbol $pc',
      `x/s (char *)&init_task + ${comm}`, 'x/2i $pc', 'p/x &sys_call_table', 'kill'], join(linux, 'vmlinux.sym'));
    expect(res.code, text).toBe(0);
    expect(status, text).toBe(0);
    // gdb resolves the symbol from vmlinux.sym, the stub stops there (Linux's own schedule, not the TVM's).
    expect(text).toContain(`Breakpoint 1 at 0x${sched.toString(16)}`);
    expect(text).toMatch(new RegExp(`Breakpoint 1, 0x0*${sched.toString(16)} in schedule \\(\\)`));
    expect(text).toMatch(/schedule in section \.text/);
    // init_task's comm (task_struct.comm at the offset the DWARF gave): the idle task's name.
    expect(text).toMatch(new RegExp(`0x${(initTask + BigInt(comm)).toString(16)} <init_task\\+${comm}>:\\s+"swapper"`));
    expect(text).toMatch(new RegExp(`=> 0x${sched.toString(16)} <schedule>:`));
    expect(text).toMatch(new RegExp(`\\$1 = 0x${map.lookup('sys_call_table')!.addr.toString(16)}`));
  });
});
