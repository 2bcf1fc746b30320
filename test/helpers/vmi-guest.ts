// A synthetic Linux-like guest for the LibVMI and sandbox tests, built
// directly in machine memory: guest RAM behind an EPT view that scatters
// guest-physical pages over machine frames (so guest-physical is not
// machine-physical), the guest's own 4-level page tables (a 1 GiB direct
// map, 2 MiB kernel-image pages, 4 KiB vmalloc and user pages), a task list
// of five tasks laid out like the TVM kernel's struct task_struct, a
// System.map and a profile. Everything a test expects is exported.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine.js';
import { EptTable } from '../../src/xen/ept.js';
import { FrameAllocator, PAGE_SIZE } from '../../src/xen/frames.js';
import { eptDomainAccess, type DomainAccess } from '../../src/dom0/libvmi/index.js';

export const MIB = 1 << 20;
export const GUEST_MEM = 16 * MIB;          // guest-physical size
export const EPT_HOLE = 15 * MIB;           // [15 MiB, 16 MiB) has no EPT mapping
export const PAGE_OFFSET = 0xffff888000000000n;
export const KERNEL_MAP = 0xffffffff80000000n;
export const VMALLOC = 0xffffc90000000000n;
export const USER_VA = 0x400000n;

// Guest-physical layout.
export const KPGD = 0x1000n;                // kernel PML4 (init_mm.pgd)
const KPDPT_DIRECT = 0x2000n, KPDPT_KMAP = 0x3000n, KPD_KMAP = 0x4000n;
const KPDPT_VM = 0x5000n, KPD_VM = 0x6000n, KPT_VM = 0x7000n;

// struct task_struct offsets (the TVM kernel's layout, firmware/tvm/include/tvm/kernel.h).
export const OFF = {
  state: 0, tasks: 40, mm: 56, active_mm: 64, pid: 80, tgid: 84, real_parent: 88, parent: 96, comm: 176,
} as const;
export const TASK_SIZE = 256;

// Symbols (kernel image VA = KERNEL_MAP + guest-physical).
export const SYM = {
  _text: KERNEL_MAP + 0x200000n,
  sys_read: KERNEL_MAP + 0x201000n,
  sys_write: KERNEL_MAP + 0x201100n,
  sys_getpid: KERNEL_MAP + 0x201200n,
  evil_hook: KERNEL_MAP + 0x20f000n,       // not in the table: what a rootkit would install
  init_task: KERNEL_MAP + 0x400000n,
  current_task: KERNEL_MAP + 0x401000n,
  init_mm: KERNEL_MAP + 0x402000n,
  sys_call_table: KERNEL_MAP + 0x403000n,
  linux_banner: KERNEL_MAP + 0x404000n,
  cpu0_pcpu: KERNEL_MAP + 0x405000n,
} as const;
export const BANNER = 'Linux version 6.1.0-tvm (vmfunc-vmi synthetic guest)';

export interface GuestTask { pid: number; comm: string; addr: bigint; userPage?: bigint; pgd?: bigint }

export interface SyntheticGuest {
  m: Machine;
  ept: EptTable;
  domain: DomainAccess;
  /** vCPU registers the domain reports (vCPU 0). */
  regs: Map<string, bigint>;
  tasks: GuestTask[];
  sysmap: string;
  profileJson: Record<string, unknown>;
  /** A folder holding profile.json and System.map. */
  dir: string;
  profilePath: string;
  /** Guest-physical -> machine address, through the EPT view. */
  hpa(gpa: bigint): number;
  writeGpa(gpa: bigint, data: Uint8Array): void;
  write64(gpa: bigint, v: bigint): void;
  pauses: { pause: number; resume: number };
  /** What LibVMI's process-list prints for this guest. */
  processList(): string;
}

const le64 = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); return b; };
const le32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; };

export function buildSyntheticGuest(opts: { name?: string; id?: number } = {}): SyntheticGuest {
  const m = Machine.createSync({ memMiB: 48 });
  const frames = new FrameAllocator(m, 256);            // machine frames from 1 MiB
  const ept = new EptTable(m, frames);
  // Guest RAM: 16 MiB of machine frames, guest page i at machine frame base + (i * 2053 mod 4096):
  // a permutation, so neighbouring guest pages are far apart in machine memory.
  const ramBase = frames.alloc(GUEST_MEM / PAGE_SIZE, 512);
  const npages = GUEST_MEM / PAGE_SIZE;
  for (let i = 0; i < EPT_HOLE / PAGE_SIZE; i++) {
    const f = ramBase + ((i * 2053) % npages);
    ept.map(BigInt(i * PAGE_SIZE), BigInt(f * PAGE_SIZE), 4096n);
  }
  const eptp = ept.eptp();
  const regs = new Map<string, bigint>();
  const pauses = { pause: 0, resume: 0 };
  const domain = eptDomainAccess(m, {
    id: opts.id ?? 7, name: opts.name ?? 'tvm', memsize: GUEST_MEM, eptp,
    vcpuReg: (vcpu, reg) => (vcpu === 0 ? regs.get(reg) : undefined),
    pause: () => { pauses.pause++; },
    resume: () => { pauses.resume++; },
  });
  const hpa = (gpa: bigint): number => {
    const r = m.eptWalk(eptp, gpa, 0);
    if (!('hpa' in r)) throw new Error(`gpa 0x${gpa.toString(16)} is not mapped`);
    return Number(r.hpa);
  };
  const writeGpa = (gpa: bigint, data: Uint8Array) => {
    let off = 0;
    while (off < data.length) {
      const a = gpa + BigInt(off);
      const n = Math.min(data.length - off, 4096 - Number(a & 0xfffn));
      m.writePhys(hpa(a), data.subarray(off, off + n));
      off += n;
    }
  };
  const write64 = (gpa: bigint, v: bigint) => writeGpa(gpa, le64(v));
  const str = (gpa: bigint, s: string, size = 0) => {
    const b = new TextEncoder().encode(s);
    const buf = new Uint8Array(Math.max(size, b.length + 1));
    buf.set(b);
    writeGpa(gpa, buf);
  };
  const idx = (va: bigint, level: number) => (va >> BigInt(12 + 9 * (level - 1))) & 511n;
  const P = 1n, RW = 2n, US = 4n, PS = 0x80n, NX = 1n << 63n;

  // ---- kernel page tables --------------------------------------------------
  // Direct map: PAGE_OFFSET -> gpa 0 with one 1 GiB page.
  write64(KPGD + idx(PAGE_OFFSET, 4) * 8n, KPDPT_DIRECT | P | RW);
  write64(KPDPT_DIRECT + idx(PAGE_OFFSET, 3) * 8n, 0n | P | RW | PS | NX);
  // Kernel image: KERNEL_MAP -> gpa 0 with 2 MiB pages over the first 16 MiB.
  write64(KPGD + idx(KERNEL_MAP, 4) * 8n, KPDPT_KMAP | P | RW);
  write64(KPDPT_KMAP + idx(KERNEL_MAP, 3) * 8n, KPD_KMAP | P | RW);
  for (let i = 0n; i < 8n; i++) write64(KPD_KMAP + (idx(KERNEL_MAP, 2) + i) * 8n, (i << 21n) | P | RW | PS);
  // vmalloc: 4 KiB pages, deliberately scattered; page 2 not present; page 3 in the EPT hole.
  write64(KPGD + idx(VMALLOC, 4) * 8n, KPDPT_VM | P | RW);
  write64(KPDPT_VM + idx(VMALLOC, 3) * 8n, KPD_VM | P | RW);
  write64(KPD_VM + idx(VMALLOC, 2) * 8n, KPT_VM | P | RW);
  write64(KPT_VM + 0n * 8n, 0x700000n | P | RW | NX);
  write64(KPT_VM + 1n * 8n, 0x705000n | P | RW | NX);
  write64(KPT_VM + 2n * 8n, 0x706000n | RW);                       // not present
  write64(KPT_VM + 3n * 8n, BigInt(EPT_HOLE) + 0x3000n | P | RW);  // present, but no memory behind it
  // A string across the vmalloc page boundary (two guest pages far apart): "crossing-the-boundary".
  writeGpa(0x700ff0n, new TextEncoder().encode('crossing-the-bou'));
  writeGpa(0x705000n, new TextEncoder().encode('ndary\0'));

  // ---- kernel data ------------------------------------------------------------
  str(SYM.linux_banner - KERNEL_MAP, BANNER);
  // init_mm: pgd (direct-map VA of the kernel PML4), pgd_phys.
  write64(SYM.init_mm - KERNEL_MAP, PAGE_OFFSET + KPGD);
  write64(SYM.init_mm - KERNEL_MAP + 8n, KPGD);
  // sys_call_table: read, write, getpid (by symbol).
  write64(SYM.sys_call_table - KERNEL_MAP, SYM.sys_read);
  write64(SYM.sys_call_table - KERNEL_MAP + 8n, SYM.sys_write);
  write64(SYM.sys_call_table - KERNEL_MAP + 16n, SYM.sys_getpid);

  // ---- tasks ----------------------------------------------------------------------
  const specs = [
    { pid: 0, comm: 'swapper', user: false },
    { pid: 1, comm: 'init', user: true },
    { pid: 2, comm: 'kthreadd', user: false },
    { pid: 7, comm: 'vmi-trigger', user: true },
    { pid: 12, comm: 'sh', user: true },
  ];
  const tasks: GuestTask[] = [];
  let nextPage = 0x800000n;           // guest-physical pages for user page tables and data
  const page = () => { const p = nextPage; nextPage += 0x1000n; return p; };
  specs.forEach((s, i) => {
    const gpa = i === 0 ? SYM.init_task - KERNEL_MAP : 0x600000n + BigInt(i) * 0x1000n;
    const addr = i === 0 ? SYM.init_task : PAGE_OFFSET + gpa;
    const t: GuestTask = { pid: s.pid, comm: s.comm, addr };
    if (s.user) {
      // Its own address space: a PML4 sharing the kernel half, one user page at USER_VA.
      const pml4 = page(), pdpt = page(), pd = page(), pt = page(), data = page();
      for (let e = 256n; e < 512n; e++) {
        const k = new DataView(m.mem.buffer, m.mem.byteOffset + hpa(KPGD + e * 8n), 8).getBigUint64(0, true);
        if (k) write64(pml4 + e * 8n, k);
      }
      write64(pml4 + idx(USER_VA, 4) * 8n, pdpt | P | RW | US);
      write64(pdpt + idx(USER_VA, 3) * 8n, pd | P | RW | US);
      write64(pd + idx(USER_VA, 2) * 8n, pt | P | RW | US);
      write64(pt + idx(USER_VA, 1) * 8n, data | P | RW | US);
      str(data, `user data of ${s.comm}`);
      const mm = 0x680000n + BigInt(i) * 0x100n;     // mm_struct in the direct map
      write64(mm, PAGE_OFFSET + pml4);
      write64(mm + 8n, pml4);
      write64(gpa + BigInt(OFF.mm), PAGE_OFFSET + mm);
      write64(gpa + BigInt(OFF.active_mm), PAGE_OFFSET + mm);
      t.userPage = data;
      t.pgd = pml4;
    } else {
      write64(gpa + BigInt(OFF.mm), 0n);
      write64(gpa + BigInt(OFF.active_mm), SYM.init_mm);
      t.pgd = KPGD;
    }
    writeGpa(gpa + BigInt(OFF.pid), le32(s.pid));
    writeGpa(gpa + BigInt(OFF.tgid), le32(s.pid));
    str(gpa + BigInt(OFF.comm), s.comm, 16);
    tasks.push(t);
  });
  // The circular tasks list (init_task first), and parents (everyone's parent is init, init's is swapper).
  tasks.forEach((t, i) => {
    const next = tasks[(i + 1) % tasks.length], prev = tasks[(i + tasks.length - 1) % tasks.length];
    const gpa = t.addr >= KERNEL_MAP ? t.addr - KERNEL_MAP : t.addr - PAGE_OFFSET;
    write64(gpa + BigInt(OFF.tasks), next.addr + BigInt(OFF.tasks));
    write64(gpa + BigInt(OFF.tasks) + 8n, prev.addr + BigInt(OFF.tasks));
    const parent = i <= 1 ? tasks[0] : tasks[1];
    write64(gpa + BigInt(OFF.parent), parent.addr);
    write64(gpa + BigInt(OFF.real_parent), parent.addr);
  });
  // current_task = vmi-trigger (pid 7); the per-CPU area holds it at offset 16, as the TVM's struct pcpu.
  write64(SYM.current_task - KERNEL_MAP, tasks[3].addr);
  write64(SYM.cpu0_pcpu - KERNEL_MAP + 16n, tasks[3].addr);

  // vCPU 0: running pid 7 in user mode (its CR3), the kernel GS base swapped out.
  regs.set('cr3', tasks[3].pgd!);
  regs.set('rip', USER_VA + 0x10n);
  regs.set('rsp', 0x7ffffffde000n);
  regs.set('rax', 0n);
  regs.set('rcx', 11n);
  regs.set('gs_base', 0n);
  regs.set('shadow_gs', SYM.cpu0_pcpu);
  regs.set('cr0', 0x80050033n);
  regs.set('cr4', 0x3406f0n);
  regs.set('msr_efer', 0xd01n);

  const sysmap = Object.entries(SYM)
    .sort((a, b) => (a[1] < b[1] ? -1 : 1))
    .map(([n, a]) => `${a.toString(16).padStart(16, '0')} ${n.startsWith('sys_') || n === '_text' || n === 'evil_hook' ? 'T' : 'D'} ${n}`)
    .join('\n') + '\n                 U printk\n';
  const profileJson = {
    ostype: 'Linux',
    name: 'tvm-synthetic',
    sysmap: 'System.map',
    linux_tasks: `0x${OFF.tasks.toString(16)}`,
    linux_mm: OFF.mm,
    linux_active_mm: OFF.active_mm,
    linux_pid: `0x${OFF.pid.toString(16)}`,
    linux_pgd: 0,
    linux_name: `0x${OFF.comm.toString(16)}`,
    linux_parent: OFF.parent,
    linux_state: OFF.state,
    linux_current_task: 16,
    linux_nr_syscalls: 3,
  };
  const dir = mkdtempSync(join(tmpdir(), 'vmi-guest-'));
  writeFileSync(join(dir, 'System.map'), sysmap);
  const profilePath = join(dir, 'profile.json');
  writeFileSync(profilePath, JSON.stringify(profileJson, null, 2));

  return {
    m, ept, domain, regs, tasks, sysmap, profileJson, dir, profilePath, hpa, writeGpa, write64, pauses,
    processList() {
      return `Process listing for VM ${domain.name} (id=${domain.id})\n` +
        tasks.map((t) => `[${String(t.pid).padStart(5)}] ${t.comm} (struct addr:${t.addr.toString(16)})\n`).join('');
    },
  };
}

// ---- broken task lists (test/walkers.test.ts) --------------------------------------------
// What a walker may meet in a guest that keeps running: each builder changes the synthetic
// guest as a kernel in mid-change (or a torn read) would leave it, and returns its undo.

export type Undo = () => void;

/** The guest-physical address of a kernel address in the direct map or the image. */
export function kernelGpa(va: bigint): bigint { return va >= KERNEL_MAP ? va - KERNEL_MAP : va - PAGE_OFFSET; }

/** Reads guest-physical memory across pages (the domain's reads stay within one). */
export function readGuest(g: SyntheticGuest, gpa: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let off = 0; off < len;) {
    const a = gpa + BigInt(off);
    const n = Math.min(len - off, 4096 - Number(a & 0xfffn));
    out.set(g.domain.readGpa(a, n)!, off);
    off += n;
  }
  return out;
}

/** Writes `data` at `gpa`; the undo puts back what was there. */
export function patchGuest(g: SyntheticGuest, gpa: bigint, data: Uint8Array): Undo {
  const old = readGuest(g, gpa, data.length);
  g.writeGpa(gpa, data);
  return () => g.writeGpa(gpa, old);
}

/** All the undos, last first. */
export function undoAll(undos: Undo[]): Undo { return () => { for (const u of [...undos].reverse()) u(); }; }

const u64le = (v: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true); return b; };
const u32le = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v >>> 0, true); return b; };

/** Task i's `tasks` list_head (guest-virtual). */
export const tasksOf = (g: SyntheticGuest, i: number): bigint => g.tasks[i].addr + BigInt(OFF.tasks);

export const brokenTaskList = {
  /** tasks[i].tasks.next := ptr */
  next(g: SyntheticGuest, i: number, ptr: bigint): Undo {
    return patchGuest(g, kernelGpa(tasksOf(g, i)), u64le(ptr));
  },
  /** tasks[i].tasks.prev := ptr */
  prev(g: SyntheticGuest, i: number, ptr: bigint): Undo {
    return patchGuest(g, kernelGpa(tasksOf(g, i)) + 8n, u64le(ptr));
  },
  /**
   * The TVM's list_del of tasks[i] (firmware/tvm/include/tvm/list.h: the neighbours
   * relinked, the entry linked to itself). `stale`: the neighbours keep pointing at it, as
   * a walker sees it that read the previous task's next before the list_del.
   */
  del(g: SyntheticGuest, i: number, stale = false): Undo {
    const n = g.tasks.length;
    const self = tasksOf(g, i), prev = tasksOf(g, (i + n - 1) % n), next = tasksOf(g, (i + 1) % n);
    const undos = [brokenTaskList.next(g, i, self), brokenTaskList.prev(g, i, self)];
    if (!stale) undos.push(patchGuest(g, kernelGpa(prev), u64le(next)), patchGuest(g, kernelGpa(next) + 8n, u64le(prev)));
    return undoAll(undos);
  },
  pid(g: SyntheticGuest, i: number, pid: number): Undo {
    return patchGuest(g, kernelGpa(g.tasks[i].addr) + BigInt(OFF.pid), u32le(pid));
  },
  /** tasks[i].comm := bytes (at most TASK_COMM_LEN 16). */
  comm(g: SyntheticGuest, i: number, bytes: Uint8Array): Undo {
    return patchGuest(g, kernelGpa(g.tasks[i].addr) + BigInt(OFF.comm), bytes);
  },
  /**
   * A longer, consistent list: `n` more tasks (pid 100 + k, comm "t<k>") after the last,
   * 192-byte structs from guest-physical 9 MiB (room for 32768).
   */
  extend(g: SyntheticGuest, n: number): Undo {
    const STRIDE = 192, BASE = 0x900000n;
    if (n > (0xf00000 - 0x900000) / STRIDE) throw new RangeError(`at most ${(0xf00000 - 0x900000) / STRIDE} more tasks`);
    const region = new Uint8Array(n * STRIDE);
    const dv = new DataView(region.buffer);
    const va = (k: number) => PAGE_OFFSET + BASE + BigInt(k * STRIDE);
    const last = tasksOf(g, g.tasks.length - 1), head = tasksOf(g, 0);
    for (let k = 0; k < n; k++) {
      const o = k * STRIDE;
      dv.setBigUint64(o + OFF.tasks, k + 1 < n ? va(k + 1) + BigInt(OFF.tasks) : head, true);
      dv.setBigUint64(o + OFF.tasks + 8, k > 0 ? va(k - 1) + BigInt(OFF.tasks) : last, true);
      dv.setUint32(o + OFF.pid, 100 + k, true);
      region.set(new TextEncoder().encode(`t${k}`), o + OFF.comm);
    }
    return undoAll([
      patchGuest(g, BASE, region),
      brokenTaskList.next(g, g.tasks.length - 1, va(0) + BigInt(OFF.tasks)),
      brokenTaskList.prev(g, 0, va(n - 1) + BigInt(OFF.tasks)),
    ]);
  },
};
