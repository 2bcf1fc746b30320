// The JIT (assembly/jit/, src/jit/) retires exactly what the interpreter retires: the same
// instructions, the same virtual cycles, the same registers, memory, faults and exits (issue 15,
// "exactness is not negotiable"). Each case runs twice, JIT off and on; with the threshold at 1
// every block is compiled on its first entry, so compiled code runs nearly everything.
// Self-modifying code: a store into a compiled region drops it (assembly/codepages.ts, SDM Vol. 3A
// 11.6 "Self-Modifying Code": a write to a code byte takes effect for the next fetch).
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ExecEnv } from '../src/exec.js';
import { Machine } from '../src/machine.js';
import { runImage } from '../src/run.js';
import { runImageWithLaunches } from '../src/run-launch.js';
import fc from 'fast-check';
import { generateCase } from './diff/gen.js';
import { TestGuest } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';
import { EptTable, EPT_RWX } from '../src/xen/ept.js';
import { FrameAllocator } from '../src/xen/frames.js';
import { mulberry32 } from '../src/util/prng.js';
import { GPR_NAMES } from '../assembly/shared/regs.js';
import { EXIT_REASON_HLT as HLT } from '../assembly/shared/exit-reasons.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const WORKLOAD = readFileSync(join(ROOT, 'firmware/bench/workload.bin'));

function env(jit: boolean, threshold = 1): ExecEnv {
  const e = ExecEnv.createSync();
  e.machine.jit = jit;
  if (jit) e.machine.jitThreshold = threshold;
  return e;
}
/** A TestGuest running `src` in its kernel to HLT (HLT exiting), the JIT on or off: what it left. */
function runToHlt(src: string, jit: boolean, threshold: number) {
  const g = new TestGuest();
  g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 1 << 7);   // HLT exiting
  g.m.jit = jit;
  g.m.jitThreshold = threshold;
  g.kernel(src);
  const reason = g.run(20_000_000);
  return { reason, regs: GPR_NAMES.map((r) => g.m.gpr(r)), insns: g.m.insnsRetired, vcycles: g.m.vcycles, rip: g.rip,
    stats: g.m.jitStats };
}
function runWorkload(e: ExecEnv, iterations: number, maxInsns = 2e9) {
  const p = ExecEnv.parseCase({ code: '90', regs: { rdi: String(iterations), rsp: '0x20010000' }, rflags: '0x202', max_insns: maxInsns });
  return e.runBinary(WORKLOAD, p.regs, p.rflags, p.maxInsns);
}

describe('JIT: identical retirement (issue 15; SDM Vol. 3C 25.5.1 for the budget as a preemption timer)', () => {
  it('the CRC/sort/sieve bench workload: same result, instructions, registers and memory', () => {
    const off = env(false), on = env(true), warm = env(true, 1000);
    const a = runWorkload(off, 3), b = runWorkload(on, 3), c = runWorkload(warm, 3);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(on.machine.vcycles).toBe(off.machine.vcycles);
    expect(on.machine.jitStats.regionsCompiled).toBeGreaterThan(10);
    expect(on.machine.jitStats.failures).toBe(0);
  });

  it('the n-body workload (scalar double SSE2: jit/gen-sse.ts inline, the light call for the rest): same result, XMM, MXCSR, instructions', () => {
    const NBODY = readFileSync(join(ROOT, 'firmware/bench/nbody.bin'));
    const run = (e: ExecEnv) => {
      const p = ExecEnv.parseCase({ code: '90', regs: { rdi: '2', rsp: '0x20010000' }, rflags: '0x202', max_insns: 2e9 });
      return e.runBinary(NBODY, p.regs, p.rflags, p.maxInsns);
    };
    const off = env(false), on = env(true), warm = env(true, 1000);
    const a = run(off), b = run(on), c = run(warm);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    expect(on.machine.vcycles).toBe(off.machine.vcycles);
    expect(on.machine.jitStats.insnsCompiled).toBeGreaterThan(a.insns * 0.9);   // its loops ran compiled
    expect(on.machine.jitStats.failures).toBe(0);
  });

  it('a table that fills up drops every region (as v86 clears its table) and the run goes on the same', () => {
    const off = env(false), on = env(true);
    on.machine.jitMaxRegions = 3;
    expect(runWorkload(on, 2)).toEqual(runWorkload(off, 2));
    expect(on.machine.vcycles).toBe(off.machine.vcycles);
    expect(on.machine.jitStats.flushes).toBeGreaterThan(5);
  });

  it('a budget that runs out anywhere stops both engines at the same instruction', () => {
    const off = env(false), on = env(true);
    for (const limit of [1, 17, 1000, 12_345, 99_999, 250_001, 520_000]) {
      const a = runWorkload(off, 1, limit), b = runWorkload(on, 1, limit);
      expect(b, `limit ${limit}`).toEqual(a);
      expect(a.stop).toBe('limit');
      expect(on.machine.vcycles).toBe(off.machine.vcycles);
    }
  });

  it('1000 generated differential cases (test/diff/gen.ts: faults, flags, stack, strings) agree', () => {
    const off = env(false), on = env(true);
    for (let i = 0; i < 1000; i++) {
      const gc = generateCase(15, i);
      expect(on.run(gc.exec), gc.meta.id).toEqual(off.run(gc.exec));
    }
  });
});

describe('JIT: fuzzed against the interpreter (fast-check)', () => {
  const off = env(false), on = env(true);
  it('random generated programs (any seed of test/diff/gen.ts) retire the same', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.nat(1_000_000), (seed, index) => {
      const gc = generateCase(seed, index);
      expect(on.run(gc.exec)).toEqual(off.run(gc.exec));
    }), { numRuns: 400, seed: 15 });
  });
  it('a fault right after a shift or IMUL sees their flags (computed only where they can be seen)', () => {
    // mov eax, 0x81; <op>; mov ebx, [0] (#PF: nothing mapped at 0); the #PF's RFLAGS are the op's.
    for (const op of ['d1e8', 'c1e004', 'c1f803', '6bc003', 'd1e831c0']) {
      const code = 'b881000000' + op + '8b1c2500000000';
      const a = off.run({ code }), b = on.run({ code });
      expect(a.stop).toBe('exception');
      expect(b, op).toEqual(a);
    }
  });
  it('the bench workload stopped by a random budget stops at the same instruction', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 520_000 }), (limit) => {
      expect(runWorkload(on, 1, limit)).toEqual(runWorkload(off, 1, limit));
      expect(on.machine.vcycles).toBe(off.machine.vcycles);
    }), { numRuns: 30, seed: 15 });
  });
});

describe('JIT: cross-modifying code (a host write into compiled code; SDM Vol. 3A 8.1.3, 11.6)', () => {
  // mov ecx, 1000; loop: add eax, 1; dec ecx; jnz loop. ExecEnv maps its code read-only, so the
  // writer is the host (as DMA or the debugger would write): after 400 instructions, with the loop
  // compiled, the add's immediate (machine address 0x100000 + 7, src/exec.ts CODE_PA) becomes 5.
  const code = 'b9e8030000' + '83c001' + 'ffc9' + '75f9';
  const runPatched = (e: ExecEnv) => {
    const first = e.run({ code, max_insns: 400 });
    expect(first.stop).toBe('limit');
    e.machine.writePhys(0x100000 + 7, Uint8Array.of(5));
    e.machine.vmresume(100000);
    return { rax: e.machine.gpr('rax'), insns: e.machine.insnsRetired, vcycles: e.machine.vcycles };
  };
  it('the write takes effect at the next fetch of the patched instruction, as in the interpreter', () => {
    const off = env(false), on = env(true);
    const a = runPatched(off), b = runPatched(on);
    // 400 instructions = mov + 133 iterations of 3; then 867 more adds of 5.
    expect(a.rax).toBe(133n + 867n * 5n);
    expect(b).toEqual(a);
    // Compiled before the write, and again after it dropped the page's blocks.
    expect(on.machine.jitStats.regionsCompiled).toBeGreaterThanOrEqual(2);
  });
});

describe('JIT: regions across pages (a call to a function on the next page; SDM Vol. 3A 8.1.3 for the writes)', () => {
  // mov ecx, 200000; loop: call f; dec ecx; jnz loop; jmp end -- f on the next 4 KiB page: add rax, 1;
  // add rbx, rax; xor rax, rbx; add rdx, rax; ret.
  const F = 0x1000;
  const program = () => {
    const code = new Uint8Array(F + 16).fill(0x90);
    const p = [0xb9, 0x40, 0x0d, 0x03, 0x00];
    const loop = p.length, rel = F - (loop + 5);
    p.push(0xe8, rel & 0xff, (rel >> 8) & 0xff, 0, 0, 0xff, 0xc9);
    p.push(0x75, (loop - (p.length + 2)) & 0xff);
    const end = code.length - (p.length + 5); p.push(0xe9, end & 0xff, (end >> 8) & 0xff, 0, 0);
    code.set(p, 0);
    code.set([0x48, 0x83, 0xc0, 0x01, 0x48, 0x01, 0xc3, 0x48, 0x31, 0xd8, 0x48, 0x01, 0xc2, 0xc3], F);
    return code;
  };
  const run = (e: ExecEnv, maxInsns = 1e9) => {
    const p = ExecEnv.parseCase({ code: '90', regs: { rsp: '0x20010000' }, max_insns: maxInsns });
    return e.runBinary(program(), p.regs, p.rflags, p.maxInsns);
  };
  it('the loop and the function run in one region: same result, few region calls', () => {
    const off = env(false), on = env(true, 1000);
    const a = run(off), b = run(on);
    expect(b).toEqual(a);
    expect(on.machine.vcycles).toBe(off.machine.vcycles);
    const s = on.machine.jitStats;
    expect(s.otherPages).toBeGreaterThan(0);
    expect(s.insnsCompiled).toBeGreaterThan(a.insns * 0.9);
    expect(s.regionCalls).toBeLessThan(2_000);   // not one per call of f (200,000)
  });
  it('a host write to the other page takes effect at its next fetch (the region is killed, src/exec.ts CODE_PA)', () => {
    const patched = (e: ExecEnv) => {
      expect(run(e, 500_000).stop).toBe('limit');
      e.machine.writePhys(0x100000 + F + 3, Uint8Array.of(7)); // add rax, 7
      e.machine.vmresume(2_000_000);
      return { regs: GPR_NAMES.map((r) => e.machine.gpr(r)), insns: e.machine.insnsRetired, vcycles: e.machine.vcycles };
    };
    const off = env(false), on = env(true, 1000);
    const a = patched(off), b = patched(on);
    expect(b).toEqual(a);
    expect(on.machine.jitStats.otherPages).toBeGreaterThan(1); // compiled again after the write
  });
  it.skipIf(!haveAssembler())('a guest store into the function on the other page takes effect at once', () => {
    const src = `
      mov r12, 3000
      xor eax, eax
      lea rbx, [rip + f]
    1:
      call f
      mov r13, r12
      and r13, 63
      jnz 2f
      mov dword ptr [rbx + 1], r12d
    2:
      dec r12
      jnz 1b
      hlt
      .balign 4096
    f:
      .byte 0x05
      .long 1
      ret`;
    const { stats: _a, ...a } = runToHlt(src, false, 200);
    const { stats, ...b } = runToHlt(src, true, 200);
    expect(a.reason).toBe(HLT);
    expect(b).toEqual(a);
    expect(stats.otherPages).toBeGreaterThan(1);
  });
});

describe('JIT: the TVM boot retires the same with --jit on and off', () => {
  it('same instructions, virtual cycles, exits, console and trace file bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-'));
    try {
      const once = (jit: boolean) => {
        const saved = Machine.defaultJit, savedHot = Machine.defaultJitThreshold;
        Machine.defaultJit = jit;
        Machine.defaultJitThreshold = 1; // compile every block at its first entry
        let console = '';
        const trace = join(dir, `${jit}.xentrace`);
        try {
          const s = runImage({ onConsole: (b) => { console += Buffer.from(b).toString('latin1'); }, vmi: { traceFile: trace } });
          return { s, console, trace: readFileSync(trace) };
        } finally { Machine.defaultJit = saved; Machine.defaultJitThreshold = savedHot; }
      };
      const a = once(false), b = once(true);
      expect(b.s.insns).toBe(a.s.insns);
      expect(b.s.vcycles).toBe(a.s.vcycles);
      expect(b.s.exits).toEqual(a.s.exits);
      expect(b.console).toBe(a.console);
      expect(b.trace.equals(a.trace)).toBe(true);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});

describe('JIT: the bundled Linux boot retires the same with --jit on and off (issue 14\'s guest)', () => {
  it('same instructions, virtual cycles, exits and console (host-time figures aside)', async () => {
    const once = async (jit: boolean) => {
      const saved = Machine.defaultJit, savedHot = Machine.defaultJitThreshold, savedReport = Machine.reportJit;
      Machine.defaultJit = jit;
      Machine.defaultJitThreshold = 1000;
      Machine.reportJit = true;
      let out = '';
      try {
        const s = await runImageWithLaunches({ image: 'linux', maxInsns: 1_000_000_000n, onConsole: (b) => { out += Buffer.from(b).toString('latin1'); } });
        return { s, out: out.replace(/\([\d.]+ ms host time\)/g, '') };
      } finally { Machine.defaultJit = saved; Machine.defaultJitThreshold = savedHot; Machine.reportJit = savedReport; }
    };
    const a = await once(false), b = await once(true);
    expect(b.s.insns).toBe(a.s.insns);
    expect(b.s.vcycles).toBe(a.s.vcycles);
    expect(b.s.exits).toEqual(a.s.exits);
    expect(b.out).toBe(a.out);
    expect(b.s.jit!.insnsCompiled).toBeGreaterThan(10_000_000);
    // Boot code's short regions: entries whose first 256 calls averaged under 64 instructions go back
    // to the interpreter (run/loop.ts runCompiled).
    expect(b.s.jit!.entriesDemoted).toBeGreaterThan(10);
  }, 120_000);
});

describe.skipIf(!haveAssembler())('JIT: the code a view or a mapping selects (SDM Vol. 3C 26.5.6.3 VMFUNC; Vol. 3A 4.10.4 INVLPG)', () => {
  /** A guest with EPT (view 0 identity over 8 MiB), run with the JIT off or on (every block compiled). */
  const guest = (jit: boolean) => {
    const g = new TestGuest({ memMiB: 32 });
    const frames = new FrameAllocator(g.m, 0xc00);
    const view0 = new EptTable(g.m, frames);
    view0.map(0n, 0n, 8n << 20n, EPT_RWX);
    g.m.vmwrite('EPT_POINTER', view0.eptp());
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | 0x80000000); // HLT exiting, secondary controls
    g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', 0x2 | 0x2000);          // EPT, VM functions
    g.m.jit = jit;
    g.m.jitThreshold = 1;
    return { g, frames, view0 };
  };
  /** Runs the prepared guest to its HLT; what it retired and left in RBX. */
  const finish = (g: TestGuest, jit: boolean) => {
    expect(g.run(10_000_000)).toBe(HLT);
    if (jit) expect(g.m.jitStats.insnsCompiled).toBeGreaterThan(1000); // the loop ran compiled
    return { rbx: g.m.gpr('rbx'), insns: g.m.insnsRetired, vcycles: g.m.vcycles, rip: g.rip };
  };
  /** The same guest with the JIT off and on: RBX as expected, and everything the same. */
  const sameBothWays = (run: (jit: boolean) => ReturnType<typeof finish>, rbx: bigint) => {
    const a = run(false), b = run(true);
    expect(a.rbx).toBe(rbx);
    expect(b).toEqual(a);
  };

  it('VMFUNC switches to a view whose frame for the same code page holds other code', () => {
    const run = (jit: boolean) => {
      const { g, frames, view0 } = guest(jit);
      const view1 = new EptTable(g.m, frames);
      view1.map(0n, 0n, 8n << 20n, EPT_RWX);
      view1.setLeaf(0x60000n, (view1.leaf(0x60000n) & ~0x00003ffffffff000n) | 0x70000n);
      g.m.fillPhys(0xb00000, 4096, 0);
      g.m.write64(0xb00000, view0.eptp());
      g.m.write64(0xb00008, view1.eptp());
      g.m.vmwrite('EPTP_LIST_ADDR', 0xb00000);
      g.m.vmwrite('VM_FUNCTION_CONTROL', 1);
      g.load(0x60000, 'add rbx, 1\nret');      // the function as view 0 maps it
      g.load(0x70000, 'add rbx, 100\nret');    // and as view 1 does
      g.kernel(`
        mov r12, 500
        mov r13, 0x60000
      1:
        call r13
        xor eax, eax
        mov ecx, 1
        vmfunc
        call r13
        xor eax, eax
        xor ecx, ecx
        vmfunc
        dec r12
        jnz 1b
        hlt`);
      return finish(g, jit);
    };
    sameBothWays(run, 500n * 101n);
  });

  it('a page-table edit with INVLPG runs the code of the new mapping', () => {
    const run = (jit: boolean) => {
      const { g } = guest(jit);
      g.load(0x201000, 'add rbx, 1000\nret');  // linear 2 MiB + 4 KiB through PD[1] = 0x200000
      g.load(0x601000, 'add rbx, 7\nret');     // the same linear address once PD[1] = 0x600000
      g.kernel(`
        mov r12, 300
        mov r13, 0x201000
      1:
        call r13
        mov rax, 0x600087
        mov [0x3008], rax
        invlpg [r13]
        call r13
        mov rax, 0x200087
        mov [0x3008], rax
        invlpg [r13]
        dec r12
        jnz 1b
        hlt`);
      return finish(g, jit);
    };
    sameBothWays(run, 300n * 1007n);
  });

  it('a direct CALL into a page the host maps elsewhere mid-run: the region checks the mapping at the branch', () => {
    // The loop's region holds the callee's page (compiled while the fetch TLB mapped it); after 500
    // iterations the host points the callee's EPT entry at another frame (INVEPT, src/xen/ept.ts).
    const run = (jit: boolean) => {
      const { g, view0 } = guest(jit);
      g.m.jitThreshold = 50; // the callee is decoded before the loop's region is compiled
      g.load(0x60000, 'add rbx, 1\nret');
      g.load(0x70000, 'add rbx, 100\nret');
      g.kernel(`
        mov r12, 1000
      1:
        call 0x60000
        dec r12
        jnz 1b
        hlt`);
      g.run(1 + 500 * 5);
      if (jit) expect(g.m.jitStats.otherPages).toBeGreaterThan(0);
      view0.setLeaf(0x60000n, (view0.leaf(0x60000n) & ~0x00003ffffffff000n) | 0x70000n);
      return finish(g, jit);
    };
    sameBothWays(run, 500n * 1n + 500n * 100n);
  });
});

describe.skipIf(!haveAssembler())('JIT: random programs that rewrite their own code (SDM Vol. 3A 11.6 "Self-Modifying Code")', () => {
  // x86 makes a store to code visible to the next fetch of it, even ahead in the same run of
  // instructions; the interpreter drops the page's decoded blocks and leaves the block (codepages.ts),
  // the JIT must drop the region too. Each program loops over a random body of ALU instructions whose
  // 32-bit immediates and ModRM bytes (ADD <-> SUB <-> XOR) it overwrites as it goes -- behind it,
  // ahead of it, in the instruction that does the store's own block -- and ends with HLT.
  const REGS = ['ebx', 'ecx', 'edx', 'esi'], REG_NUM = [3, 1, 2, 6];
  const MODRM_OPS = [0xc0, 0xe8, 0xf0];   // 81 /0 ADD, /5 SUB, /6 XOR with a register operand (| its number)
  const program = (seed: number, stores = true): string => {
    const rnd = mulberry32(seed);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const n = 4 + Math.floor(rnd() * 8);
    const body: string[] = [];
    for (let i = 0; i < n; i++) {
      body.push(`p${i}: .byte 0x81, ${pick(MODRM_OPS) | pick(REG_NUM)}\n      .long ${Math.floor(rnd() * 0x7fffffff)}`);
      if (rnd() < 0.5) {
        const j = Math.floor(rnd() * n);
        const store = rnd() < 0.6
          ? `mov dword ptr [p${j} + 2], r${8 + Math.floor(rnd() * 4)}d`                 // a new immediate
          : `mov byte ptr [p${j} + 1], ${pick(MODRM_OPS) | pick(REG_NUM)}`;               // another operation or register
        body.push(stores ? store : 'nop');
      }
      if (rnd() < 0.3) body.push(`imul r${8 + Math.floor(rnd() * 4)}d, ${pick(REGS)}, ${1 + Math.floor(rnd() * 1000)}`);
    }
    return `
      mov r12, ${20 + Math.floor(rnd() * 80)}
      mov r8d, ${seed}
      mov r9d, 0x9e3779b9
      mov r10d, 77
      mov r11d, 0x12345
    1:
      ${body.join('\n      ')}
      add r8d, r12d
      dec r12
      jnz 1b
      hlt`;
  };
  const run = (src: string, jit: boolean) => {
    const { stats, ...r } = runToHlt(src, jit, 1);
    return { ...r, compiled: stats.insnsCompiled };
  };
  it('20 programs retire the same instructions, cycles and registers with the JIT on and off', () => {
    let compiled = 0, rewritten = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const src = program(seed);
      const a = run(src, false), b = run(src, true);
      expect(a.reason, src).toBe(HLT);
      expect({ ...b, compiled: 0 }, `seed ${seed}:\n${src}`).toEqual({ ...a, compiled: 0 });
      compiled += b.compiled;
      // The rewrites matter: without the stores (NOPs instead) the program computes something else.
      if (run(program(seed, false), false).regs.join() !== a.regs.join()) rewritten++;
    }
    expect(compiled).toBeGreaterThan(5_000);       // the loops ran compiled between the rewrites
    expect(rewritten).toBeGreaterThan(12);
  });
});

describe('JIT: the command line (--jit on|off)', () => {
  it('run --json --jit on reports the JIT\'s statistics and retires what --jit off retires', () => {
    const cli = (jit: string) => JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bin/vmfunc-vmi.js'), 'run', '--json', '--jit', jit],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    const a = cli('off'), b = cli('on');
    expect(a.jit).toBeUndefined();
    expect(b.jit.regionsCompiled).toBeGreaterThan(0);
    expect(b.jit.failures).toBe(0);
    expect([b.insns, b.vcycles, b.exits]).toEqual([a.insns, a.vcycles, a.exits]);
  });
  it('is on by default; VMFUNC_VMI_JIT=off (the interpreter test project) turns it off', () => {
    const probe = (env: NodeJS.ProcessEnv) => execFileSync(process.execPath, ['--input-type=module', '-e',
      `import { Machine } from ${JSON.stringify(join(ROOT, 'dist/src/machine.js'))}; process.stdout.write(String(Machine.createSync({ memMiB: 4 }).jit));`],
      { encoding: 'utf8', env });
    const { VMFUNC_VMI_JIT: _, ...clean } = process.env;
    expect(probe(clean)).toBe('true');
    expect(probe({ ...clean, VMFUNC_VMI_JIT: 'off' })).toBe('false');
  });
});
