// Walkers that a changing guest cannot fool (issue 11, item 2): the bundled VMI programs
// against task lists, system-call tables and memory as a running guest can leave them
// under a walk. Each broken case must end with the torn status and exit code 3, print what
// it read up to the fault, never loop and finish quickly; a consistent guest prints exactly
// as before, with no more libvmi calls.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Vmi, type DomainAccess } from '../src/dom0/libvmi/index.js';
import { loadProfile, SymbolMap } from '../src/dom0/profile.js';
import { Sandbox, type SandboxRunOptions, type SandboxResult } from '../src/dom0/sandbox/index.js';
import { bundledProgram } from '../src/dom0/launch.js';
import { startProgramBench } from './helpers/vmi-programs.js';
import {
  brokenTaskList, patchGuest, kernelGpa, tasksOf, type SyntheticGuest, type Undo,
  SYM, KERNEL_MAP, PAGE_OFFSET, VMALLOC, EPT_HOLE, USER_VA,
} from './helpers/vmi-guest.js';

const EXIT_INCONSISTENT = 3;
let g: SyntheticGuest;
let vmi: Vmi;
let sandbox: Sandbox;

beforeAll(() => { ({ g, vmi, sandbox } = startProgramBench()); });
afterAll(async () => { await sandbox.close(); });

const run = (prog: string, args: string[], o: Partial<SandboxRunOptions> = {}, v: Vmi = vmi): Promise<SandboxResult> =>
  sandbox.run(bundledProgram(prog), v, { args: [prog, ...args], timeLimitMs: 5000, ...o });

/** Runs with the guest broken by `undo`'s builder, and puts it back. */
async function broken(undo: Undo, f: () => Promise<void>): Promise<void> {
  try { await f(); } finally { undo(); }
}

const hex = (v: bigint) => v.toString(16);
const HEADER = 'Process listing for VM tvm (id=7)\n';
/** The first `n` lines of the consistent listing. */
const firstTasks = (n: number) => g.processList().split('\n').slice(1, 1 + n).map((l) => l + '\n').join('');
const STATUS = (why: string) => `inconsistent snapshot: ${why} (the guest changed it during the walk)\n`;

/** A torn process-list: the tasks up to the fault, the status line, exit code 3, two retries said on stderr, quickly. */
async function expectTorn(tasksBefore: number, why: string, o: Partial<SandboxRunOptions> = {}): Promise<SandboxResult> {
  const r = await run('process-list', ['7', '11'], o);
  expect(r.error).toBeUndefined();
  expect(r.stdout).toBe(HEADER + firstTasks(tasksBefore) + STATUS(why));
  expect(r.exitCode).toBe(EXIT_INCONSISTENT);
  expect(r.hostNs).toBeLessThan(3e9);
  return r;
}

describe('Linux list walks (include/linux/list.h) with lib/list_debug.c\'s checks (__list_del_entry_valid_or_report): process-list', () => {
  it('a consistent list prints exactly as LibVMI\'s process-list, with the same 23 libvmi calls', async () => {
    const r = await run('process-list', ['7', '11']);
    expect(r).toMatchObject({ exitCode: 0, stdout: g.processList(), stderr: '', calls: 23 });
  });

  it('a cycle that does not pass through the head: "revisits" (visited set), 2 retries, then exit 3', async () => {
    // sh (the last task) points back at kthreadd; every prev still looks right along the way.
    await broken(brokenTaskList.next(g, 4, tasksOf(g, 2)), async () => {
      const r = await expectTorn(5, `task list revisits ${hex(g.tasks[2].addr)} after 5 entries`);
      const why = `task list revisits ${hex(g.tasks[2].addr)} after 5 entries`;
      expect(r.stderr).toBe(`process-list: walk 1 of 3 torn (${why}); walking again\n` +
        `process-list: walk 2 of 3 torn (${why}); walking again\n`);
    });
  });

  it('a next pointer into unmapped memory (direct map, but the EPT hole): bad pointer, not mapped', async () => {
    const ptr = PAGE_OFFSET + BigInt(EPT_HOLE) + 0x28n;
    await broken(brokenTaskList.next(g, 2, ptr), async () => {
      await expectTorn(3, `the next pointer of entry 3 (${hex(g.tasks[2].addr)}) is ${hex(ptr)}: not mapped`);
    });
  });

  it('non-canonical pointers and LIST_POISON1 (include/linux/poison.h) are never read through', async () => {
    await broken(brokenTaskList.next(g, 1, 0x0000900000000028n), async () => {
      const r = await expectTorn(2, `the next pointer of entry 2 (${hex(g.tasks[1].addr)}) is 900000000028: not canonical`);
      expect(r.calls).toBe(7 + 3 * 6);   // setup, then per walk: the head, 2 tasks' fields, 1 arrival; nothing read at the bad pointer
    });
    await broken(brokenTaskList.next(g, 3, 0xdead000000000100n), async () => {
      await expectTorn(4, `the next pointer of entry 4 (${hex(g.tasks[3].addr)}) is dead000000000100: LIST_POISON1, a deleted entry`);
    });
  });

  it('mapped pointers outside the kernel\'s direct map and image (vmalloc, user memory) are refused', async () => {
    for (const ptr of [VMALLOC + 0x28n, USER_VA + 0x28n]) {
      await broken(brokenTaskList.next(g, 2, ptr), async () => {
        await expectTorn(3, `the next pointer of entry 3 (${hex(g.tasks[2].addr)}) is ${hex(ptr)}: outside the kernel's direct map and image`);
      });
    }
  });

  it('a freed task (the TVM\'s list_del links it to itself) met through a stale next: prev mismatch', async () => {
    // The old walker followed its next pointer for ever: "[    7] vmi-trigger" until the time limit.
    await broken(brokenTaskList.del(g, 3, true), async () => {
      await expectTorn(3, `entry 4 (${hex(g.tasks[3].addr)}) has prev ${hex(tasksOf(g, 3))}, should be ${hex(tasksOf(g, 2))} ` +
        '(a task freed or moved under the walk)');
    });
    // Deleted properly, the list is consistent without it.
    await broken(brokenTaskList.del(g, 3), async () => {
      const r = await run('process-list', ['7', '11']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe(HEADER + firstTasks(3) + firstTasks(5).split('\n')[4] + '\n');
    });
  });

  it('the head\'s prev is checked when the walk comes back to it', async () => {
    await broken(brokenTaskList.prev(g, 0, tasksOf(g, 2)), async () => {
      await expectTorn(5, `the task list's head has prev ${hex(tasksOf(g, 2))}, should be ${hex(tasksOf(g, 4))} (entry 5)`);
    });
  });

  it('a comm with garbage bytes, or without a NUL within TASK_COMM_LEN, is a bad field', async () => {
    await broken(brokenTaskList.comm(g, 2, new Uint8Array([0x6b, 0xff, 0x01, 0])), async () => {
      await expectTorn(2, `entry 3 (${hex(g.tasks[2].addr)}) has a comm with byte ff at 1, not printable ASCII`);
    });
    await broken(brokenTaskList.comm(g, 1, new TextEncoder().encode('AAAAAAAAAAAAAAAA')), async () => {
      await expectTorn(1, `entry 2 (${hex(g.tasks[1].addr)}) has a comm with no NUL within TASK_COMM_LEN (16)`);
    });
  });

  it('a pid at or past PID_MAX_LIMIT (include/linux/threads.h) is a bad field', async () => {
    await broken(brokenTaskList.pid(g, 3, 4194304), async () => {
      await expectTorn(3, `entry 4 (${hex(g.tasks[3].addr)}) has pid 4194304, outside 0..4194303`);
    });
    await broken(brokenTaskList.pid(g, 4, 0xffffffff), async () => {
      await expectTorn(4, `entry 5 (${hex(g.tasks[4].addr)}) has pid 4294967295, outside 0..4194303`);
    });
    await broken(brokenTaskList.pid(g, 4, 4194303), async () => {
      expect((await run('process-list', ['7', '11'])).exitCode).toBe(0);
    });
  });

  it('an overlong list stops at the bound: VMI_WALK_MAX, and the default 32768 (PID_MAX_DEFAULT)', async () => {
    const short = await expectTorn(3, 'task list did not return to its head within 3 entries', { env: { VMI_WALK_MAX: '3' } });
    expect(short.stderr).toBe('');                   // not retried: it would be as long again
    await broken(brokenTaskList.extend(g, 32764), async () => {
      // 5 + 32764 tasks: one more than the bound; some 10^5 libvmi calls, more than the default time
      // limit (DEFAULT_VMI_LIMITS) allows on a loaded host.
      const t = Date.now();
      const r = await run('process-list', ['7', '11'], { mode: 'inline', maxOutputBytes: 4 << 20, timeLimitMs: 50_000 });
      console.log(`32768-task walk: ${Date.now() - t} ms, ${r.calls} libvmi calls`);
      expect(r.error).toBeUndefined();
      expect(r.exitCode).toBe(EXIT_INCONSISTENT);
      const lines = r.stdout.split('\n');
      expect(lines.length).toBe(1 + 32768 + 2);
      expect(lines[32768]).toBe(`[32862] t32762 (struct addr:${hex(PAGE_OFFSET + 0x900000n + 32762n * 192n)})`);
      expect(lines[32769]).toBe('inconsistent snapshot: task list did not return to its head within 32768 entries (the guest changed it during the walk)');
      expect(r.stderr).toBe('');
    });
  }, 60_000);

  it('a guest that changes the list during the first walk: the retry lists it consistently (stderr says so)', async () => {
    // When the walk reads kthreadd's list_head, the guest frees vmi-trigger (pid 7) behind it.
    const at = kernelGpa(tasksOf(g, 2));
    let undo: Undo | undefined;
    const changing: DomainAccess = {
      ...g.domain,
      readGpa: (gpa, len) => {
        const r = g.domain.readGpa(gpa, len);
        if (gpa === at && len === 16 && !undo) undo = brokenTaskList.del(g, 3);
        return r;
      },
    };
    try {
      const r = await run('process-list', ['7', '11'], {}, new Vmi(changing, { profile: loadProfile(g.profilePath) }));
      const why = `entry 4 (${hex(g.tasks[3].addr)}) has prev ${hex(tasksOf(g, 3))}, should be ${hex(tasksOf(g, 2))} (a task freed or moved under the walk)`;
      expect(r.stderr).toBe(`process-list: walk 1 of 3 torn (${why}); walking again\n`);
      expect(r.stdout).toBe(HEADER + firstTasks(3) + firstTasks(5).split('\n')[4] + '\n');
      expect(r.exitCode).toBe(0);
      // Without retries the first walk's fault is the answer.
      undo!(); undo = undefined;
      const once = await run('process-list', ['7', '11'], { env: { VMI_WALK_RETRIES: '0' } }, new Vmi(changing, { profile: loadProfile(g.profilePath) }));
      expect(once.stdout).toBe(HEADER + firstTasks(3) + STATUS(why));
      expect(once.exitCode).toBe(EXIT_INCONSISTENT);
    } finally {
      undo?.();
    }
  });

  it('vmi-request lists through the same walker: exit 3 on a torn list', async () => {
    await broken(brokenTaskList.next(g, 4, tasksOf(g, 1)), async () => {
      const r = await run('vmi-request', ['7', '11']);
      expect(r.exitCode).toBe(EXIT_INCONSISTENT);
      expect(r.stdout.split('\n').slice(-2)[0]).toBe(STATUS(`task list revisits ${hex(g.tasks[1].addr)} after 5 entries`).trimEnd());
    });
  });
});

describe('syscall-check: torn reads of sys_call_table', () => {
  const slot = (i: number) => SYM.sys_call_table - KERNEL_MAP + BigInt(8 * i);
  const le64 = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); return b; };
  const HEAD = `System call table of VM tvm (id=7) at ${hex(SYM.sys_call_table)}, 3 entries\n`;

  it('a non-canonical or NULL entry is an inconsistent snapshot (exit 3), printed after what was read', async () => {
    const undos = [patchGuest(g, slot(0), le64(0xffffffffc0001234n)), patchGuest(g, slot(1), le64(0x8000000000001234n))];
    try {
      const r = await run('syscall-check', ['7', '11']);
      expect(r.stdout).toBe(HEAD + '[    0] ffffffffc0001234 (no symbol) <- HOOKED\n' +
        'inconsistent snapshot: sys_call_table[1] holds 8000000000001234, not a canonical address (the guest changed it during the read)\n');
      expect(r.exitCode).toBe(EXIT_INCONSISTENT);
    } finally { for (const u of undos.reverse()) u(); }
    await broken(patchGuest(g, slot(2), le64(0n)), async () => {
      const r = await run('syscall-check', ['7', '11']);
      expect(r.stdout).toBe(HEAD + 'inconsistent snapshot: sys_call_table[2] is NULL (the guest changed it during the read)\n');
      expect(r.exitCode).toBe(EXIT_INCONSISTENT);
    });
  });

  it('a hook into user memory is still a hook (canonical), not a torn read', async () => {
    await broken(patchGuest(g, slot(1), le64(USER_VA)), async () => {
      const r = await run('syscall-check', ['7', '11']);
      expect(r.stdout).toBe(HEAD + `[    1] ${hex(USER_VA)} (no symbol) <- HOOKED\n1 of 3 entries hooked.\n`);
      expect(r.exitCode).toBe(2);
    });
  });

  it('a table outside the kernel image is refused before it is read', async () => {
    const symbols = new SymbolMap([...Object.entries(SYM)].map(([n, a]) => [n, n === 'sys_call_table' ? PAGE_OFFSET + 0x403000n : a] as [string, bigint]));
    const v = new Vmi(g.domain, { profile: loadProfile(g.profilePath), symbols });
    const r = await run('syscall-check', ['7', '11'], {}, v);
    expect(r.stdout).toBe(`sys_call_table at ${hex(PAGE_OFFSET + 0x403000n)} is outside the kernel image\n`);
    expect(r.exitCode).toBe(1);
  });
});

describe('dump-memory: frames that change during the dump', () => {
  it('a frame written after it was dumped is reported (exit 3); the dump holds it as first read', async () => {
    const frame = 0x600000n, victim = 0x5f0100n;   // when the dump reaches the tasks' page, an earlier frame changes
    let undo: Undo | undefined;
    const changing: DomainAccess = {
      ...g.domain,
      readGpa: (gpa, len) => {
        const r = g.domain.readGpa(gpa, len);
        if (gpa <= frame + 0xfffn && gpa + BigInt(len) > frame && !undo) undo = patchGuest(g, victim, new TextEncoder().encode('changed'));
        return r;
      },
    };
    try {
      const r = await run('dump-memory', ['7', '11', '-', '0x5f0000', '0x20000'], {}, new Vmi(changing, { profile: loadProfile(g.profilePath) }));
      expect(r.stdout).toMatch(/^Dumped 131072 bytes of guest-physical memory \[0x5f0000, 0x610000\): 32 frames read, 0 unreadable \(written as zeros\); fnv1a64 [0-9a-f]{16}\n/);
      expect(r.stdout.split('\n')[1]).toBe('inconsistent snapshot: 1 of 32 frames changed during the dump (the first at 0x5f0000; ' +
        '0 became readable or unreadable); the dump holds each frame as first read');
      expect(r.exitCode).toBe(EXIT_INCONSISTENT);
    } finally { undo?.(); }
    const still = await run('dump-memory', ['7', '11', '-', '0x5f0000', '0x20000']);
    expect(still.exitCode).toBe(0);
    expect(still.stdout.split('\n').length).toBe(2);
  });
});
