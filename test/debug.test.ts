// `vmfunc-vmi debug` (issue 6): scripted sessions on the bundled TVM whose
// output is asserted -- the paper's mechanism seen step by step (the first
// VMFUNC in vmireq, the view switch, the RDTSC exit that detects it, the VMI
// request), exit-reason, symbol and address breakpoints, the EPT and guest
// page walks, disassembly, the exit histogram, the trace tail, errors -- and
// the debugger's promise that stopping the guest never changes its run.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { DebugSession, Debugger, Output, runScript } from '../src/debug/index.js';
import { SymbolTable } from '../src/debug/symbols.js';
import { decodeEptViolation, decodeIo, decodeCrAccess, decodeInterruptionInfo } from '../src/debug/exit-decode.js';
import { parseExitReason } from '../src/debug/breakpoints.js';
import { EXIT_REASON_IO_INSTRUCTION } from '../src/vmcs.js';
import { runImage, defaultImagePath } from '../src/run.js';
import { runCli } from './helpers/cli.js';

interface Harness { s: DebugSession; dbg: Debugger; run(script: string): Promise<{ code: number; out: string }>; all(): string }

async function harness(opts: Parameters<typeof DebugSession.create>[0] = {}): Promise<Harness> {
  const chunks: string[] = [];
  const out = new Output((t) => { chunks.push(t); });
  const s = await DebugSession.create({
    ...opts, onConsole: (b) => out.console(b), onLog: (l) => out.log('(XEN)', l), onDom0Log: (l) => out.log('(dom0)', l),
  });
  const dbg = new Debugger(s, out);
  return {
    s, dbg, all: () => chunks.join(''),
    async run(script) {
      const from = chunks.length;
      const code = await runScript(dbg, script);
      return { code, out: chunks.slice(from).join('') };
    },
  };
}

const symbols = SymbolTable.parse(readFileSync(join(dirname(defaultImagePath()), 'System.map'), 'utf8'));
const symAddr = (name: string) => symbols.lookup(name)!.addr;
const hx = (v: bigint | number) => '0x' + BigInt(v).toString(16);

describe('the walkthrough: the first VMFUNC, the view switch, the RDTSC exit that detects it', () => {
  let h: Harness;
  beforeAll(async () => { h = await harness(); });

  it('stops before vmireq\'s VMFUNC(0, 11) in view 0, in user mode', async () => {
    const { code, out } = await h.run('break vmfunc\ncontinue');
    expect(code).toBe(0);
    expect(out).toContain('(vmfunc-vmi) break vmfunc\nBreakpoint 1 before VMFUNC (EPT view switches without a VM exit)');
    expect(out).toContain('vmireq[4]: asking for VMI with EPTP index 11 (parameter 1)'); // the guest console, interleaved
    expect(out).toMatch(/Stopped before VMFUNC \(breakpoint 1\) at 0x[0-9a-f]+, cpl 3, cr3 0x[0-9a-f]+\n/);
    expect(out).toContain('eax 0x0 (leaf 0: EPTP switching), ecx 0xb (EPTP-list index 11): switches view 0 -> view 11 (the VMI-request mirror of view 1)');
    expect(out).toMatch(/=> 0x0{10}4[0-9a-f]{5}:  0f 01 d4 +vmfunc\n/);
    expect(h.s.viewIndex()).toBe(0);
    expect(h.s.m.vmread('EPTP_INDEX')).toBe(0n);
    expect(h.s.phase).toBe('guest');
    expect(h.s.mech!.requests).toHaveLength(0);
  });

  it('info views lists the EPTP list with the vCPU on view 0', async () => {
    const { out } = await h.run('info views');
    expect(out).toMatch(/ {6}0 {2}0x[0-9a-f]{16} {2}normal view \(the host p2m's twin\) {3}<= the vCPU is here\n/);
    expect(out).toMatch(/ {5}11 {2}0x[0-9a-f]{16} {2}VMI-request mirror of view 1\n/);
  });

  it('a step executes the VMFUNC: view 0 -> 11 without a VM exit (EPTP index before/after)', async () => {
    const exitsBefore = h.s.exitSeq;
    const { out } = await h.run('step');
    expect(out).toContain("EPT view switch by the guest's VMFUNC (no VM exit): view 0 -> view 11 (the VMI-request mirror of view 1)");
    expect(h.s.exitSeq).toBe(exitsBefore);
    expect(h.s.viewIndex()).toBe(11);
    expect(h.s.m.vmread('EPTP_INDEX')).toBe(11n);
    const v = await h.run('vmcs EPTP_INDEX');
    expect(v.out).toMatch(/EPTP_INDEX +\(0x0004\) += 0xb {2}\(11\)/);
  });

  it('continues to the RDTSC exit that detects it: exit decoded, still on view 11', async () => {
    const { out } = await h.run('break exit RDTSC\ncontinue');
    expect(out).toContain('Breakpoint 2 on VM exit RDTSC (16)');
    expect(out).toMatch(/VM exit #\d+: RDTSC \(reason 16\), before Xen's handler\n/);
    expect(out).toContain('qualification 0x0: RDTSC with RDTSC exiting on (the VMI trigger)');
    expect(out).toMatch(/instruction {3}0f 31 +rdtsc\n/);
    expect(out).toMatch(/EPT {11}view 11 \(the VMI-request mirror of view 1\), EPTP 0x[0-9a-f]+, EPTP_INDEX 11\n/);
    expect(h.s.phase).toBe('exit');
    expect(h.s.pendingExit!.name).toBe('RDTSC');
    expect(h.s.mech!.requests).toHaveLength(0); // the handler has not run yet
  });

  it('the handler raises the VMI request and writes view 1 back', async () => {
    const rdtscRip = h.s.pendingExit!.rip;
    const { out } = await h.run('break vmi\ncontinue');
    expect(out).toMatch(/EPT view switch by the hypervisor \(RDTSC handler, exit #\d+\): view 11 \(the VMI-request mirror of view 1\) -> view 1\n/);
    expect(out).toMatch(/VMI request \(breakpoint 3\), raised by the RDTSC handler of exit #\d+:\n/);
    expect(out).toContain(`domain 1 vcpu 0, EPTP index 11 (parameter 1), rip ${hx(rdtscRip + 2n)}`);
    expect(out).toContain('(XEN) d1v0 VMI request: EPTP index 11 (parameter 1)');
    expect(h.s.viewIndex()).toBe(1);
    expect(h.s.rip).toBe(rdtscRip + 2n);
    const t = await h.run('trace 2\ninfo requests');
    expect(t.out).toMatch(/HVM_RDTSC .*\n.*VMI_REQUEST +\[ 0x00000001 0x0001000b /);
    expect(t.out).toMatch(/#1 {2}domain 1 vcpu 0 {2}EPTP index 11 \(parameter 1\)/);
  });

  it('runs to the end: no second request, the domain powers off', async () => {
    const { out } = await h.run('delete\ncontinue\ninfo');
    expect(out).toMatch(/The domain has shut down: poweroff, status 0 \(exit port 0x501: status 0\)/);
    expect(out).toContain('state        shut down (poweroff, status 0)');
    expect(h.s.mech!.requests).toHaveLength(1);
    const again = await h.run('continue');
    expect(again.code).toBe(1);
    expect(again.out).toContain('error: the domain has shut down (poweroff, status 0): there is nothing left to run');
  });
});

describe('breakpoints', () => {
  it('on a kernel symbol: stops at its first instruction; disas labels it', async () => {
    const h = await harness();
    const { out } = await h.run('break schedule\ncontinue\ndisas $rip 3');
    const at = symAddr('schedule');
    expect(out).toContain(`Breakpoint 1 at ${hx(at)} <schedule>`);
    expect(out).toMatch(new RegExp(`Breakpoint 1 at ${hx(at)} <schedule>, cpl 0, cr3 0x[0-9a-f]+, view 0\\n`));
    expect(h.s.rip).toBe(at);
    expect(out).toMatch(new RegExp(`\\n0x${at.toString(16).padStart(16, '0')} <schedule>:\\n=> 0x${at.toString(16).padStart(16, '0')} <schedule>:  [0-9a-f ]+ {2}\\S+`));
    // Continuing from the breakpoint passes it; the next call stops again.
    const n = (await h.run('continue')).out;
    expect(n).toContain(`Breakpoint 1 at ${hx(at)} <schedule>`);
    const bp = h.s.bps.all()[0];
    expect(bp.hits).toBe(2);
    expect((await h.run('info breakpoints')).out).toMatch(/1 {7}2 {2}at 0x[0-9a-f]+ <schedule>/);
  });

  it('on exit reasons by name and by number, decoded per the SDM (I/O: Table 28-5)', async () => {
    const h = await harness({ vmi: false });
    const { out } = await h.run('break exit 30\ncontinue');
    expect(out).toContain('Breakpoint 1 on VM exit IO_INSTRUCTION (30)');
    expect(out).toMatch(/VM exit #1: IO_INSTRUCTION \(reason 30\), before Xen's handler\n {2}qualification 0x[0-9a-f]+: OUT DX, AL: port 0x3f[8-f] \(COM1 [A-Z/]+\), 1 byte, out, value 0x[0-9a-f]+/);
    expect(out).toMatch(/instruction {3}ee +out dx, al\n/);
    expect(out).toContain('EPT           view 0, EPTP');
    const b = await h.run('delete 1\nbreak exit cpuid\ncontinue');
    expect(b.out).toMatch(/VM exit #\d+: CPUID \(reason 10\)[^\n]*\n {2}qualification 0x0: CPUID leaf 0x[0-9a-f]+, subleaf 0x[0-9a-f]+/);
    expect(b.out).toMatch(/instruction {3}0f a2 +cpuid/);
  });

  it('next-exit stops at every exit before its handler; step counts emulated instructions', async () => {
    const h = await harness({ vmi: false });
    const a = await h.run('next-exit');
    expect(a.out).toMatch(/VM exit #1: IO_INSTRUCTION/);
    const exitRip = h.s.pendingExit!.rip;
    const b = await h.run('next-exit');
    expect(b.out).toMatch(/VM exit #2: /);
    expect(h.s.exitSeq).toBe(2);
    // From an exit stop, one step = the emulated OUT: RIP moves past it.
    const h2 = await harness({ vmi: false });
    await h2.run('next-exit');
    const x = h2.s.pendingExit!;
    await h2.run('step');
    expect(h2.s.rip).toBe(x.rip + BigInt(x.instrLen));
    expect(exitRip).toBe(x.rip);
  });

  it('on an address with cr3=: only in that address space', async () => {
    const h = await harness();
    await h.run('break vmfunc\ncontinue');
    const cr3 = h.s.cr3, rip = h.s.rip;
    const r = await h.run(`delete\nbreak ${hx(rip + 3n)} cr3=${hx(cr3)}\ncontinue`);
    expect(r.out).toContain(`Breakpoint 2 at ${hx(rip + 3n)} when cr3 = ${hx(cr3)}`);
    expect(h.s.rip).toBe(rip + 3n);
    expect(h.s.cr3).toBe(cr3);
  });
});

describe('walks, memory, registers', () => {
  let h: Harness;
  beforeAll(async () => { h = await harness(); await h.run('break schedule\ncontinue'); });

  it('pt: the guest page walk entry by entry, as the CPU translates', async () => {
    const la = symAddr('schedule');
    const { out } = await h.run('pt schedule');
    expect(out).toMatch(new RegExp(`Page walk of 0x${la.toString(16).padStart(16, '0')} <schedule> under cr3 0x[0-9a-f]+, entries read through view 0:`));
    expect(out).toMatch(/ {2}PML4E\[511\] +at gpa 0x[0-9a-f]{9} = 0x[0-9a-f]{16} {2}P /);
    expect(out).toMatch(/ {2}PDPTE\[510\] +at gpa/);
    const gpa = h.s.m.translate(la)!;
    expect(out).toContain(`=> guest-physical ${hx(gpa)} (`);
    expect(out).toContain(`=> machine ${hx(h.s.d.gpaToMachine(Number(gpa))!)} (through view 0)`);
    const bad = await h.run('pt 0x0000800000000000');
    expect(bad.code).toBe(0);
    expect(bad.out).toContain('no translation: 0x0000800000000000 is not canonical');
  });

  it('ept: the EPT walk in any view, ending with the CPU\'s verdict', async () => {
    const gpa = h.s.m.translate(symAddr('schedule'))!;
    const { out } = await h.run(`ept ${hx(gpa)} 11`);
    expect(out).toContain(`EPT walk of guest-physical ${hx(gpa)} in view 11 (the VMI-request mirror of view 1)`);
    expect(out).toMatch(/EPTP 0x[0-9a-f]+: PML4 at 0x[0-9a-f]+, memory type WB, 4-level walk/);
    expect(out).toMatch(/EPT PML4E\[0\] +at 0x[0-9a-f]+ = 0x[0-9a-f]{16} {2}RWX/);
    expect(out).toMatch(/EPT PDE\[\d+\] +at 0x[0-9a-f]+ = 0x[0-9a-f]{16} {2}RWX memtype WB large page 0x[0-9a-f]+/);
    expect(out).toContain(`=> machine ${hx(h.s.d.gpaToMachine(Number(gpa))!)} (2M page)`);
    expect(out).toContain('read ok, write ok, fetch ok');
    // Beyond guest RAM: not present, and the CPU's verdict is an EPT violation with its qualification.
    const far = await h.run('ept 0x80000000');
    expect(far.out).toMatch(/not present/);
    expect(far.out).toMatch(/read: EPT violation \(qualification 0x1: data read; the guest-physical address was not present/);
    const noView = await h.run('ept 0x1000 5');
    expect(noView.code).toBe(1);
    expect(noView.out).toContain('error: no EPT view 5 (views: 0, 1, 10, 11)');
  });

  it('x, regs, vmcs, set', async () => {
    const r = await h.run('x schedule 16\nregs\nvmcs GUEST_RIP 0x681c\nvmcs');
    const at = symAddr('schedule');
    expect(r.out).toMatch(new RegExp(`0x${at.toString(16).padStart(16, '0')}:  ([0-9a-f]{2} ){7}[0-9a-f]{2}  ([0-9a-f]{2} ){7}[0-9a-f]{2}  \\|.{16}\\|`));
    expect(r.out).toMatch(new RegExp(`rip 0x${at.toString(16).padStart(16, '0')} <schedule> {3}rflags 0x[0-9a-f]+ \\[ [A-Z ]*\\]`));
    expect(r.out).toMatch(/EPT view 0, EPTP 0x[0-9a-f]+/);
    expect(r.out).toMatch(new RegExp(`GUEST_RIP +\\(0x681e\\) += ${hx(at)}  <schedule>`));
    expect(r.out).toMatch(/GUEST_RSP +\(0x681c\) += 0x/);
    expect(r.out).toMatch(/CPU_BASED_VM_EXEC_CONTROL +\(0x4002\) += 0x[0-9a-f]+ {2}\[ [A-Z_ ]*HLT_EXITING[A-Z_ ]*RDTSC_EXITING|CPU_BASED_VM_EXEC_CONTROL +\(0x4002\) += 0x[0-9a-f]+ {2}\[ [A-Z_ ]*HLT_EXITING/);
    expect(r.out).toMatch(/SECONDARY_VM_EXEC_CONTROL +\(0x401e\) += 0x[0-9a-f]+ {2}\[ [A-Z_ ]*ENABLE_EPT[A-Z_ ]*ENABLE_VMFUNC/);
    expect(r.out).toMatch(/VM_FUNCTION_CONTROL +\(0x2018\) += 0x1 {2}\[ EPTP_SWITCHING \]/);
    const bytes = h.s.mem.read('linear', at, 4).bytes;
    expect(r.out).toContain(Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' '));
    const rax = h.s.m.gpr('rax');
    const set = await h.run('set $rax 0x1234\nx p:0x1000 8');
    expect(set.out).toContain('rax = 0x1234');
    expect(h.s.m.gpr('rax')).toBe(0x1234n);
    expect(set.out).toMatch(/p:0x0000000000001000:  56 4d 42 49 01 00 00 00/); // the boot information: "VMBI", version 1
    h.s.m.setGpr('rax', rax);
  });

  it('histogram: exits so far by reason, as the vCPU counted them', async () => {
    const { out } = await h.run('histogram');
    const total = [...h.s.v.stats.exits.values()].reduce((a, b) => a + b, 0);
    expect(out).toContain(`VM exits by reason: ${total.toLocaleString('en-US')} in all`);
    const io = h.s.v.stats.exits.get(EXIT_REASON_IO_INSTRUCTION)!;
    expect(out).toMatch(new RegExp(`IO_INSTRUCTION +30 +${io.toLocaleString('en-US')} +\\d+\\.\\d\\d%`));
  });
});

describe('errors are one line, never a stack trace', () => {
  it('bad commands and arguments', async () => {
    const h = await harness({ vmi: false });
    const cases: [string, string][] = [
      ['frobnicate', 'error: unknown command "frobnicate" (try "help")'],
      ['break exit RDTCS', 'error: unknown exit reason "RDTCS"'],
      ['break nosuchsymbol', 'error: no symbol "nosuchsymbol" in System.map'],
      ['break vmi', 'error: break vmi: the VMI mechanism is off in this session (--no-vmi)'],
      ['x 0x4000000000 16', 'error: cannot read 0x4000000000: PDPTE not present'],
      ['vmcs NOT_A_FIELD', 'error: unknown VMCS field "NOT_A_FIELD"'],
      ['vmcs 0x7777', 'is not supported by this CPU'],
      ['step -1', 'error: "-1" is not a step count'],
      ['step 0', 'error: step count must be positive, got 0'],
      ['delete 9', 'error: no breakpoint number 9'],
      ['set $cr3 0', 'error: register cr3 is read-only'],
      ['info nonsense', 'error: info: unknown subject "nonsense"'],
      ['trace', 'error: no trace buffers'],
      ['ept', 'error: usage: ept GPA [VIEW]'],
      ['disas 1234abc', 'error: "1234abc" is neither a number nor a symbol (write hex with 0x)'],
    ];
    for (const [cmd, msg] of cases) {
      const r = await h.dbg.execute(cmd);
      expect(r.ok, cmd).toBe(false);
      expect(h.all(), cmd).toContain(msg);
    }
    expect(h.all()).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('help explains every command', async () => {
    const h = await harness({ vmi: false });
    const { out } = await h.run('help');
    for (const c of h.dbg.commands) {
      expect(out).toContain(c.usage);
      const one = await h.run(`help ${c.name}`);
      expect(one.out).toContain(`usage: ${c.usage}`);
      expect(one.out.split('\n').length).toBeGreaterThan(3);
    }
  });

  it('a script stops at its first failing command with status 1; quit sets the status', async () => {
    const h = await harness({ vmi: false });
    const r = await h.run('info\nbogus\ninfo');
    expect(r.code).toBe(1);
    expect(r.out).toContain('error: script line 2: stopped at the failing command');
    expect(r.out.match(/\(vmfunc-vmi\) info/g)).toHaveLength(1);
    expect((await h.run('# a comment\n\nquit 7\ninfo')).code).toBe(7);
  });
});

describe('decoders (SDM Vol. 3C Tables 28-3, 28-5, 28-7; 25.9.2)', () => {
  it('decode exit qualifications and interruption information', () => {
    expect(decodeEptViolation(0x182n)).toBe('data write; the guest-physical address was not present, linear address valid, access to the translated address');
    expect(decodeEptViolation(0x19bn)).toMatch(/^data read \+ data write; the guest-physical address was RW-, /);
    expect(decodeEptViolation(0x84n)).toBe('instruction fetch; the guest-physical address was not present, linear address valid, access to a paging-structure entry');
    expect(decodeIo(0x3f80000n, { rax: 0x41n } as never)).toBe("OUT DX, AL: port 0x3f8 (COM1 THR/RBR), 1 byte, out, value 0x41 'A'");
    expect(decodeIo(0x5010043n)).toBe('OUT imm8, EAX: port 0x501 (exit port), 4 bytes, out');
    expect(decodeIo(0x3fd0008n)).toBe('IN AL, DX: port 0x3fd (COM1 LSR), 1 byte, in');
    expect(decodeIo(0x3f80031n)).toBe('REP OUTSW: port 0x3f8 (COM1 THR/RBR), 2 bytes, out');
    expect(decodeCrAccess(0x303n)).toBe('MOV to CR3 from rbx');
    expect(decodeCrAccess(0x14n)).toBe('MOV from CR4 to rax');
    expect(decodeCrAccess(0x20n)).toBe('CLTS');
    expect(decodeInterruptionInfo(0x80000b0e, 2)).toBe('vector 14 (#PF), hardware exception, error code 0x2');
    expect(decodeInterruptionInfo(0x80000020)).toBe('vector 32, external interrupt');
    expect(parseExitReason('ept-violation')).toBe(48);
    expect(parseExitReason('EXIT_REASON_HLT')).toBe(12);
    expect(parseExitReason('0x10')).toBe(16);
  });
});

describe('stopping the guest does not change its run', () => {
  it('a session with breakpoints, steps and exit stops retires the same instructions in the same virtual time as `run`', async () => {
    let plainConsole = '';
    const plain = runImage({ onConsole: (b) => { plainConsole += Buffer.from(b).toString('latin1'); }, vmi: {} });
    let dbgConsole = '';
    const s = await DebugSession.create({ onConsole: (b) => { dbgConsole += Buffer.from(b).toString('latin1'); } });
    const dbg = new Debugger(s, new Output(() => {}));
    await dbg.execute('break schedule');
    await dbg.execute('break vmfunc');
    await dbg.execute('break exit RDTSC');
    for (let i = 0; i < 12; i++) {
      expect((await dbg.execute('continue')).ok).toBe(true);
      await dbg.execute(`step ${1 + (i % 5) * 37}`);
      await dbg.execute('next-exit');
    }
    await dbg.execute('delete');
    // Many short slices: every one ends the VMRESUME where the hypervisor did not.
    const st = await s.resume({ kind: 'continue' }, { slice: 9_973n });
    expect(st.kind).toBe('shutdown');
    expect(s.m.insnsRetired).toBe(BigInt(plain.insns));
    expect(s.m.vcycles).toBe(BigInt(plain.vcycles));
    expect(dbgConsole).toBe(plainConsole);
    expect(s.v.exitHistogram()).toEqual(plain.exits.by_reason);
    expect(s.mech!.requests.map((r) => r.tsc)).toEqual(plain.vmi_requests.map((r) => BigInt(r.detected_vcycles)));
  });
});

describe('vmfunc-vmi debug on the command line', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'vmvmi-debug-'));
  const file = (name: string, text: string) => { const p = join(tmp, name); writeFileSync(p, text); return p; };

  it('--script runs the commands and exits 0; a failing command exits 1', async () => {
    const ok = await runCli(['debug', '--quiet', '--script', file('ok.txt', 'break vmfunc\ncontinue\nregs\n')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Stopped before VMFUNC (breakpoint 1)');
    expect(ok.stdout).not.toContain('TVM mini-OS'); // --quiet
    const bad = await runCli(['debug', '--quiet', '--script', file('bad.txt', 'break exit NOPE\n')]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('error: unknown exit reason "NOPE"');
  });

  it('bad options and images: one line, status 2 or 1', async () => {
    const missing = await runCli(['debug', '--script', join(tmp, 'none.txt')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^vmfunc-vmi: .*none\.txt: cannot open the script: no such file\n$/);
    const port = await runCli(['debug', '--gdb', '70000']);
    expect(port.code).toBe(2);
    expect(port.stderr).toContain('--gdb');
    const img = await runCli(['debug', file('not.elf', 'hello'), '--script', file('i.txt', 'info\n')]);
    expect(img.code).toBe(1);
    expect(img.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the debugger on the bundled Linux (issue 14): kernel symbols from its System.map, its page tables, EPT', () => {
  it('breaks on schedule, shows the registers, walks the EPT and the guest page tables of the address', async () => {
    const h = await harness({ image: 'linux' });
    const r = await h.run('break schedule\ncontinue\nregs\npt schedule\nept 0x113bac1\n');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Breakpoint 1 at 0xffffffff[0-9a-f]+ <schedule>, cpl 0/);
    expect(r.out).toMatch(/=> 0xffffffff[0-9a-f]+ <schedule>:/);
    expect(r.out).toMatch(/cs 0x10 /);                         // __KERNEL_CS
    // Linux maps its text with 2 MiB pages at __START_KERNEL_map + physical (arch/x86/kernel/head_64.S).
    expect(r.out).toMatch(/Page walk of 0xffffffff8113bac1 <schedule> under cr3 0x[0-9a-f]+/);
    expect(r.out).toMatch(/=> guest-physical 0x113bac1 \(2M page, supervisor/);
    expect(r.out).toMatch(/EPT walk of guest-physical 0x113bac1 in the current view 0/);
    expect(h.all()).toMatch(/Linux version 6\.1/);
  });
});
