// A GDB remote serial protocol stub (gdb's "Remote Protocol" appendix) on a
// loopback TCP port, serving one gdb at a time on a debugging session: the
// x86-64 target description, registers (g/G/p/P), guest-linear memory (m/M,
// through the guest's page tables and the current EPT view), continue and
// single step (c/s/C/S/vCont), software and hardware breakpoints (Z0/Z1, both
// in the CPU's breakpoint list, so guest memory is never patched), stop
// replies (T05 with thread and the PC, T02 after ^C, W when the domain shuts
// down) and `monitor` commands: any of the debugger's commands that does not
// run the guest (monitor exits, monitor vmcs FIELD, monitor ept GPA, ...).
import { createServer, type Server, type Socket } from 'node:net';
import type { Stop } from './session.js';
import { Debugger } from './debugger.js';
import { Output } from './output.js';
import { GDB_REGS, REGNUM, targetXml, readGdbReg, prepareGdbRegWrite, gRegsHex, gPacketHexLength } from './gdb-target.js';
import { DebugError } from './format.js';

const PACKET_SIZE = 0x4000;
const SIGTRAP = 5, SIGINT = 2;

function checksum(s: string): string {
  let c = 0;
  for (let i = 0; i < s.length; i++) c = (c + s.charCodeAt(i)) & 0xff;
  return c.toString(16).padStart(2, '0');
}
/** Escapes $ # } * in binary-safe replies. */
function escape(s: string): string { return s.replace(/[$#}*]/g, (c) => '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20)); }
function unescape(s: string): string { return s.replace(/}(.)/gs, (_m, c: string) => String.fromCharCode(c.charCodeAt(0) ^ 0x20)); }
const toHex = (s: string) => Buffer.from(s, 'utf8').toString('hex');
const fromHex = (h: string) => Buffer.from(h, 'hex').toString('utf8');

/** One gdb connection. */
class GdbConnection {
  private buf = '';
  /** Inside a packet over PacketSize: its bytes are dropped up to its `#xx`, never buffered. */
  private oversize = false;
  private noAck = false;
  private lastSent = '';
  private queue: string[] = [];
  private pumping = false;
  private running = false;
  private clientSwbreak = false;
  private clientHwbreak = false;
  /** Z0 (software) or Z1 (hardware) per address, for the stop reply's swbreak/hwbreak. */
  private readonly kinds = new Map<bigint, '0' | '1'>();
  private lastStopReply: string;
  closed = false;
  /** Whether a packet has come: a connection that closes before any is not a gdb session (a port probe). */
  spoke = false;
  private greeted = false;

  constructor(private readonly sock: Socket, private readonly dbg: Debugger, private readonly log: (line: string) => void,
              private readonly done: () => void) {
    this.lastStopReply = this.stopReply(SIGTRAP);
    sock.setNoDelay(true);
    sock.on('data', (d) => {
      if (!this.greeted) { this.greeted = true; this.log(`gdb connected from ${sock.remoteAddress}:${sock.remotePort}`); }
      this.onData(d.toString('latin1'));
    });
    sock.on('close', () => { this.closed = true; this.dbg.s.interruptRequested = true; this.done(); });
    sock.on('error', () => { /* close follows */ });
  }

  private send(payload: string): void {
    if (this.closed) return;
    const pkt = `$${payload}#${checksum(payload)}`;
    this.lastSent = pkt;
    this.sock.write(pkt, 'latin1');
  }

  private onData(data: string): void {
    this.buf += data;
    for (;;) {
      if (this.oversize) {
        const hash = this.buf.indexOf('#');
        if (hash < 0 || this.buf.length < hash + 3) { this.buf = hash < 0 ? '' : this.buf.slice(hash); return; }
        this.buf = this.buf.slice(hash + 3);
        this.oversize = false;
        this.rejectOversize();
        continue;
      }
      if (!this.buf.length) return;
      const c = this.buf[0];
      if (c === '+') { this.buf = this.buf.slice(1); continue; }
      // A NAK asks for the last packet again; in no-ack mode nobody acknowledges, so a stray '-' is
      // not a NAK (gdb's "Packet Acknowledgment": neither side sends or expects + or -).
      if (c === '-') { this.buf = this.buf.slice(1); if (this.lastSent && !this.noAck) this.sock.write(this.lastSent, 'latin1'); continue; }
      if (c === '\x03') {
        this.buf = this.buf.slice(1);
        if (this.running) this.dbg.s.interruptRequested = true;
        continue;
      }
      if (c !== '$') { this.buf = this.buf.slice(1); continue; }
      const hash = this.buf.indexOf('#');
      // A body longer than the PacketSize we advertised is dropped, whether or not its `#` has come.
      if ((hash < 0 ? this.buf.length : hash) - 1 > PACKET_SIZE) { this.oversize = true; this.buf = this.buf.slice(1); continue; }
      if (hash < 0 || this.buf.length < hash + 3) return; // incomplete
      const body = this.buf.slice(1, hash), sum = this.buf.slice(hash + 1, hash + 3);
      this.buf = this.buf.slice(hash + 3);
      if (!this.noAck) {
        if (checksum(body).toLowerCase() !== sum.toLowerCase()) { this.sock.write('-'); continue; }
        this.sock.write('+');
      }
      this.spoke = true;
      this.queue.push(unescape(body));
      void this.pump();
    }
  }

  /** The answer to a dropped oversize packet: acknowledged (so gdb does not resend it), then an error. */
  private rejectOversize(): void {
    this.log(`gdb: dropped a packet longer than PacketSize (${PACKET_SIZE} bytes)`);
    if (!this.noAck) this.sock.write('+');
    this.send('E01');
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length && !this.closed) {
        const p = this.queue.shift()!;
        let reply: string | undefined;
        try { reply = await this.handle(p); } catch (e) {
          this.log(`gdb packet "${p.slice(0, 40)}" failed: ${e instanceof Error ? e.message : String(e)}`);
          reply = 'E01';
        }
        if (reply !== undefined) this.send(reply);
      }
    } finally { this.pumping = false; }
  }

  private stopReply(sig: number): string {
    const m = this.dbg.s.m;
    const regs = ['rbp', 'rsp', 'rip'].map((n) => `${REGNUM[n].toString(16).padStart(2, '0')}:${readGdbReg(m, REGNUM[n])};`).join('');
    return `T${sig.toString(16).padStart(2, '0')}thread:01;${regs}`;
  }

  private stopToReply(st: Stop): string {
    const s = this.dbg.s;
    if (st.kind === 'shutdown') {
      const i = s.d.shutdownInfo!;
      return `W${(i.status & 0xff).toString(16).padStart(2, '0')}`;
    }
    if (st.kind === 'interrupted') return this.stopReply(SIGINT);
    let reply = this.stopReply(SIGTRAP);
    if (st.kind === 'breakpoint' && st.gdbBreakpoint) {
      const kind = this.kinds.get(s.rip);
      if (kind === '0' && this.clientSwbreak) reply = reply.replace('thread:01;', 'thread:01;swbreak:;');
      if (kind === '1' && this.clientHwbreak) reply = reply.replace('thread:01;', 'thread:01;hwbreak:;');
    }
    return reply;
  }

  /** Console output to gdb (O packets), for stops gdb cannot explain itself. */
  private tellGdb(lines: string[]): void {
    const text = lines.map((l) => l + '\n').join('');
    for (let i = 0; i < text.length; i += 2000) this.send('O' + toHex(text.slice(i, i + 2000)));
  }

  private async resume(kind: 'continue' | 'step', addr?: string): Promise<string> {
    const s = this.dbg.s;
    if (s.isShutdown) return `W${((s.d.shutdownInfo?.status ?? 0) & 0xff).toString(16).padStart(2, '0')}`;
    if (addr) s.m.vmwrite('GUEST_RIP', BigInt('0x' + addr));
    this.running = true;
    let st: Stop;
    try {
      st = await s.resume(kind === 'step' ? { kind: 'step', count: 1n } : { kind: 'continue' });
    } finally { this.running = false; }
    if (this.closed) return '';
    const own = st.kind === 'step' || (st.kind === 'breakpoint' && st.gdbBreakpoint && !st.breakpoints.length) || st.kind === 'interrupted';
    if (!own || st.switches.length) this.tellGdb(this.dbg.formatStop(st).filter((l) => !l.startsWith('=> ')));
    this.lastStopReply = this.stopToReply(st);
    return this.lastStopReply;
  }

  private async monitor(cmd: string): Promise<string> {
    const chunks: string[] = [];
    const capture = new Debugger(this.dbg.s, new Output((t) => { chunks.push(t); }));
    const r = await capture.execute(cmd, { monitor: true });
    if (r.quit) chunks.push('quit: use gdb\'s "kill" or "detach"\n');
    const text = chunks.join('');
    if (text) this.tellGdb(text.replace(/\n$/, '').split('\n'));
    return 'OK';
  }

  private async handle(p: string): Promise<string | undefined> {
    const s = this.dbg.s, m = s.m;
    const c = p[0];
    switch (c) {
      case '?': return this.lastStopReply;
      case 'g': return gRegsHex(m);
      case 'G': {
        const body = p.slice(1);
        if (body.length < gPacketHexLength()) return 'E01';
        let off = 0;
        const apply: (() => void)[] = [];
        try {
          for (let i = 0; i < GDB_REGS.length; i++) {
            const n = GDB_REGS[i].bits / 4;
            apply.push(prepareGdbRegWrite(m, i, body.slice(off, off + n)));
            off += n;
          }
        } catch { return 'E01'; }
        for (const a of apply) a();
        return 'OK';
      }
      case 'p': {
        const n = parseInt(p.slice(1), 16);
        if (!(n >= 0 && n < GDB_REGS.length)) return 'E01';
        return readGdbReg(m, n);
      }
      case 'P': {
        const mm = /^P([0-9a-f]+)=([0-9a-f]+)$/i.exec(p);
        if (!mm) return 'E01';
        const n = parseInt(mm[1], 16);
        if (!(n >= 0 && n < GDB_REGS.length)) return 'E01';
        try { prepareGdbRegWrite(m, n, mm[2])(); } catch { return 'E01'; }
        return 'OK';
      }
      case 'm': {
        const mm = /^m([0-9a-f]+),([0-9a-f]+)$/i.exec(p);
        if (!mm) return 'E01';
        const len = Math.min(parseInt(mm[2], 16), PACKET_SIZE / 2);
        const r = s.mem.read('linear', BigInt('0x' + mm[1]), len);
        if (!r.bytes.length && len > 0) return 'E14';
        return Buffer.from(r.bytes).toString('hex');
      }
      case 'M': {
        const mm = /^M([0-9a-f]+),([0-9a-f]+):([0-9a-f]*)$/i.exec(p);
        if (!mm) return 'E01';
        const data = Buffer.from(mm[3], 'hex');
        if (data.length !== parseInt(mm[2], 16)) return 'E01';
        return s.mem.write('linear', BigInt('0x' + mm[1]), new Uint8Array(data)) ? 'E14' : 'OK';
      }
      case 'X': return ''; // binary writes: gdb falls back to M
      case 'c': return this.resume('continue', p.slice(1) || undefined);
      case 's': return this.resume('step', p.slice(1) || undefined);
      case 'C': return this.resume('continue', p.split(';')[1]);
      case 'S': return this.resume('step', p.split(';')[1]);
      case 'Z': case 'z': {
        const mm = /^[Zz]([0-4]),([0-9a-f]+),([0-9a-f]+)/i.exec(p);
        if (!mm) return 'E01';
        if (mm[1] !== '0' && mm[1] !== '1') return ''; // watchpoints: not supported
        const addr = BigInt('0x' + mm[2]);
        if (c === 'Z') { s.gdbBreakpoints.add(addr); this.kinds.set(addr, mm[1] as '0' | '1'); } else { s.gdbBreakpoints.delete(addr); this.kinds.delete(addr); }
        try { s.syncBreakpoints(); } catch (e) {
          s.gdbBreakpoints.delete(addr);
          s.syncBreakpoints();
          if (e instanceof DebugError) return 'E0e';
          throw e;
        }
        return 'OK';
      }
      case 'H': return 'OK';
      case 'T': return p === 'T1' || p === 'T01' ? 'OK' : 'E01';
      case 'k': this.close(); return undefined;
      case 'D': this.send('OK'); this.close(); return undefined;
      case 'v': {
        if (p === 'vCont?') return 'vCont;c;C;s;S';
        if (p.startsWith('vCont;')) {
          const action = p.slice(6).split(';')[0].split(':')[0];
          if (action === 'c' || action.startsWith('C')) return this.resume('continue');
          if (action === 's' || action.startsWith('S')) return this.resume('step');
          return 'E01';
        }
        if (p.startsWith('vKill')) { this.send('OK'); this.close(); return undefined; }
        return '';
      }
      case 'q': case 'Q': return this.query(p);
      default: return '';
    }
  }

  private async query(p: string): Promise<string | undefined> {
    if (p.startsWith('qSupported')) {
      const feats = p.split(':')[1]?.split(';') ?? [];
      this.clientSwbreak = feats.includes('swbreak+');
      this.clientHwbreak = feats.includes('hwbreak+');
      return `PacketSize=${PACKET_SIZE.toString(16)};qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+`;
    }
    if (p === 'QStartNoAckMode') { this.send('OK'); this.noAck = true; return undefined; }
    if (p.startsWith('qXfer:features:read:')) {
      const mm = /^qXfer:features:read:([^:]+):([0-9a-f]+),([0-9a-f]+)$/i.exec(p);
      if (!mm) return 'E00';
      if (mm[1] !== 'target.xml') return 'E00';
      const xml = targetXml(), off = parseInt(mm[2], 16), len = parseInt(mm[3], 16);
      const part = xml.slice(off, off + len);
      return (off + len >= xml.length ? 'l' : 'm') + escape(part);
    }
    if (p === 'qC') return 'QC01';
    if (p === 'qAttached' || p.startsWith('qAttached:')) return '1';
    if (p === 'qfThreadInfo') return 'm01';
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qThreadExtraInfo')) return toHex(`vCPU ${this.dbg.s.v.id} of domain ${this.dbg.s.d.id}`);
    if (p.startsWith('qSymbol')) return 'OK';
    if (p.startsWith('qRcmd,')) return this.monitor(fromHex(p.slice(6)));
    return '';
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.end();
    this.sock.destroy();
  }
}

export interface GdbServerOptions {
  /** Host to bind: loopback only (127.0.0.1 or ::1). */
  host?: '127.0.0.1' | '::1';
  onListening?: (port: number) => void;
}

/** A stub listening on a loopback port; `closed` resolves when the gdb that connected has gone. */
export class GdbServer {
  private server: Server | undefined;
  private conn: GdbConnection | undefined;
  port = 0;
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  constructor(private readonly dbg: Debugger, private readonly log: (line: string) => void = (l) => dbg.out.line(l)) {
    this.closed = new Promise((r) => { this.resolveClosed = r; });
  }

  listen(port: number, opts: GdbServerOptions = {}): Promise<number> {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new DebugError(`--gdb: ${port} is not a TCP port (0..65535)`);
    const host = opts.host ?? '127.0.0.1';
    return new Promise((resolve, reject) => {
      const server = createServer((sock) => {
        if (this.conn && !this.conn.closed) { sock.end(); return; } // one gdb at a time
        const conn: GdbConnection = new GdbConnection(sock, this.dbg, this.log, () => {
          if (!conn.spoke) return; // a probe, not gdb: keep serving
          this.log('gdb disconnected');
          server.close();
          this.resolveClosed();
        });
        this.conn = conn;
      });
      server.on('error', (e: NodeJS.ErrnoException) => reject(new Error(`cannot listen on ${host}:${port}: ${e.code ?? e.message}`)));
      server.listen(port, host, () => {
        const addr = server.address();
        this.port = typeof addr === 'object' && addr ? addr.port : port;
        this.server = server;
        opts.onListening?.(this.port);
        resolve(this.port);
      });
    });
  }

  close(): void {
    this.conn?.close();
    this.server?.close();
    this.resolveClosed();
  }
}

/** Serves one gdb session on a loopback port; resolves to the exit status (0) when gdb detaches, kills or disconnects. */
export async function serveGdb(dbg: Debugger, port: number, opts: GdbServerOptions = {}): Promise<number> {
  const srv = new GdbServer(dbg);
  const p = await srv.listen(port, opts);
  dbg.out.line(`gdb stub listening on ${opts.host ?? '127.0.0.1'}:${p}: in gdb, "target remote :${p}" (file ${dbg.s.image} for its symbols)`);
  await srv.closed;
  return 0;
}

