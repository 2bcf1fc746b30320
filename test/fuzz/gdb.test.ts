// Fuzz: random packets through the GDB stub (src/debug/gdbstub.ts; gdb's Remote Serial Protocol,
// "Packets" and "Standard Replies"): register, memory, breakpoint, query, step and monitor packets
// with random and malformed arguments, oversize packets, and junk between packets. Every packet
// gets a reply (an answer, E NN, or the empty reply for what the stub does not know) within a
// bounded time (a step that never ends answers ^C, as gdb's user would send it), the stub stays
// up, and the last query still answers. Packets that end the session
// (k, D, vKill) or run the guest to an unknown end (c, C, vCont;c) are left out.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createConnection, type Socket } from 'node:net';
import { DebugSession, Debugger, Output, GdbServer } from '../../src/debug/index.js';
import { fuzz, fuzzTimeout, type Rnd } from './fuzz.js';

const cksum = (s: string) => [...s].reduce((a, c) => (a + c.charCodeAt(0)) & 0xff, 0).toString(16).padStart(2, '0');
const hexOf = (r: Rnd, n: number) => Buffer.from(r.bytes(n)).toString('hex');
const num = (r: Rnd) => r.pick([() => '0', () => 'ffffffffffffffff', () => '1' + '0'.repeat(17), () => r.int(2 ** 32).toString(16),
  () => (0xffffffff80000000 + r.int(2 ** 24)).toString(16), () => 'zz', () => ''])();

/** One packet's payload. */
function payload(r: Rnd): string {
  const mon = ['info', 'exits', 'vmcs GUEST_RIP', 'ept 0x1000', 'help', 'regs', 'x 0 4', 'bogus', '', 'vmcs ' + hexOf(r, 3)];
  return r.pick([
    () => 'g', () => 'G' + hexOf(r, r.int(700)), () => 'p' + num(r), () => `P${num(r)}=${hexOf(r, r.int(12))}`,
    () => `m${num(r)},${num(r)}`, () => `M${num(r)},${r.int(64).toString(16)}:${hexOf(r, r.int(64))}`,
    () => `X${num(r)},${r.int(16).toString(16)}:${Buffer.from(r.bytes(r.int(16))).toString('latin1').replace(/[$#}*]/g, '')}`,
    () => `Z${r.int(5)},${num(r)},${r.int(9)}`, () => `z${r.int(5)},${num(r)},${r.int(9)}`,
    () => 'qSupported:' + r.pick(['swbreak+', 'hwbreak+;xmlRegisters=i386', hexOf(r, 8)]),
    () => `qXfer:features:read:${r.pick(['target.xml', 'x.xml', ''])}:${num(r)},${num(r)}`,
    () => 'qRcmd,' + Buffer.from(r.pick(mon)).toString('hex'), () => 'qRcmd,' + hexOf(r, r.int(20)).slice(1),
    () => r.pick(['?', 'qC', 'qAttached', 'qfThreadInfo', 'qsThreadInfo', 'vCont?', 'Hg0', 'Hc-1', 'T01', 'qOffsets', 'qSymbol::', 'vMustReplyEmpty']),
    () => 's', () => 'vCont;s', () => `H${r.pick(['g', 'c', 'x'])}${num(r)}`,
    // Junk, but never a packet that ends the session or runs on (k, D, vKill, c, C, vCont;c, R, r, !).
    () => '_' + Buffer.from(r.bytes(r.int(40))).toString('latin1').replace(/[$#]/g, ''),
    () => 'm' + '0'.repeat(0x4000 + r.int(64)),       // past the PacketSize the stub advertises
  ])();
}

class Client {
  private buf = '';
  private waiters: (() => void)[] = [];
  constructor(private readonly sock: Socket) {
    sock.on('data', (d) => { this.buf += d.toString('latin1'); for (const w of this.waiters.splice(0)) w(); });
  }
  static connect(port: number): Promise<Client> {
    return new Promise((res, rej) => { const s = createConnection(port, '127.0.0.1', () => res(new Client(s))); s.on('error', rej); });
  }
  raw(t: string): void { this.sock.write(t, 'latin1'); }
  /** The next reply that is not console output (O), or throws after `ms`. */
  async reply(ms: number): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      this.buf = this.buf.replace(/^[+-]+/, '');
      const m = /^\$([^#]*)#([0-9a-f]{2})/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        if (m[2] !== cksum(m[1])) throw new Error(`bad checksum on ${m[1].slice(0, 80)}`);
        if (/^O[0-9a-f]+$/.test(m[1])) continue;
        return m[1];
      }
      if (Date.now() > end) throw new Error(`no reply within ${ms} ms (have ${JSON.stringify(this.buf.slice(0, 80))})`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 50); });
    }
  }
  close(): void { this.sock.destroy(); }
}

describe('fuzz: random packets through the GDB stub', () => {
  let srv: GdbServer, c: Client;
  beforeAll(async () => {
    const s = await DebugSession.create();
    srv = new GdbServer(new Debugger(s, new Output(() => {})), () => {});
    c = await Client.connect(await srv.listen(0));
    c.raw(`$QStartNoAckMode#${cksum('QStartNoAckMode')}`);
    await c.reply(5000);
  });
  afterAll(() => { c?.close(); srv?.close(); });

  it('no-ack mode: a stray "-" between packets resends nothing (found by this fuzz: every reply after it came one late)', async () => {
    c.raw('-');
    c.raw(`$qC#${cksum('qC')}`);
    expect(await c.reply(5000)).toBe('QC01');
    c.raw(`$qAttached#${cksum('qAttached')}`);
    expect(await c.reply(5000)).toBe('1');
  });

  it('every packet gets a reply in bounded time; the stub stays up', async () => {
    const run = await fuzz('gdb', 800, async (r, i) => {
      if (r.chance(0.1)) c.raw(Buffer.from(r.bytes(r.int(30))).toString('latin1').replace(/[$#\x03]/g, ''));  // junk outside packets
      const p = payload(r);
      if (process.env.FUZZ_DEBUG && i >= Number(process.env.FUZZ_DEBUG)) console.log(`case ${i}: ${p.slice(0, 120)}`);
      c.raw(`$${p}#${cksum(p)}`);
      let rep: string;
      const step = p === 's' || p === 'vCont;s';
      try {
        if (!step) rep = await c.reply(10_000);
        else {
          // A step runs the guest until an instruction retires, which a guest the fuzz has wrecked
          // may never do: gdb's user then types ^C, and the stub must stop with a reply.
          try { rep = await c.reply(5_000); } catch { c.raw('\x03'); rep = await c.reply(5_000); }
        }
      } catch (e) { throw new Error(`${(e as Error).message} after ${JSON.stringify(p.slice(0, 200))}`); }
      if (rep.length > 0x4000 * 2 + 16) throw new Error(`a reply of ${rep.length} bytes to ${p.slice(0, 60)}`);
    });
    expect(run.failures).toEqual([]);
    c.raw(`$?#${cksum('?')}`);
    expect(await c.reply(5000)).toMatch(/^[TSW][0-9a-f]{2}/);
  }, fuzzTimeout(120_000));
});
