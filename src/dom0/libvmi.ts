// Dom0's LibVMI: introspection of a guest from outside, with LibVMI's names
// and semantics (libvmi/libvmi.h). A `Vmi` is LibVMI's vmi_instance_t for one
// domain. It sees the domain only through `DomainAccess` (guest-physical
// reads and writes through the domain's p2m, as Xen's foreign mappings give
// Dom0, plus vCPU registers and pause/resume), and does everything else the
// way LibVMI does: the 4-level x86-64 page walk in software from
// guest-physical reads (no accessed/dirty side effects), kernel symbols from
// the System.map, structure offsets from the profile, and the Linux task
// list for pid -> page-table lookups.
//
// Return conventions (TypeScript has no out-parameters): where LibVMI
// returns status_t and writes through a pointer, the method returns a
// tuple [status, value]; on VMI_FAILURE the value is 0 (or empty). Where
// LibVMI returns only a status, the method returns the status. Functions
// that return a pointer or NULL in C return a value or null. No method
// throws for a guest-side failure (unmapped address, unknown symbol,
// missing offset, a DomainAccess that throws): that is VMI_FAILURE.
import { type Profile } from './profile.js';
import { SymbolMap } from './profile.js';
import type { Machine } from '../machine.js';
import { GPR_NAMES } from '../../assembly/shared/regs.js';
import {
  MSR_SHADOW_GS_BASE, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_TSC_AUX,
} from '../../assembly/shared/msr-index.js';

export const VMI_SUCCESS = 0;
export const VMI_FAILURE = 1;
export type status_t = typeof VMI_SUCCESS | typeof VMI_FAILURE;

/** os_t */
export const VMI_OS_UNKNOWN = 0, VMI_OS_LINUX = 1;

/**
 * What Dom0 sees of a domain. Implemented by the hypervisor's domain object
 * (or by `eptDomainAccess` over a Machine and an EPT view).
 */
export interface DomainAccess {
  /** Domain id (domid). */
  readonly id: number;
  /** Domain name (what `xl list` shows). */
  readonly name: string;
  /** Bytes of guest-physical memory (LibVMI's vmi_get_memsize). */
  readonly memsize: number | bigint;
  /**
   * Reads guest-physical memory through the domain's p2m (view 0, the
   * original EPT), or undefined if any byte is not mapped. The Vmi never
   * asks for a range that crosses a 4 KiB page boundary.
   */
  readGpa(gpa: bigint, len: number): Uint8Array | undefined;
  /** Writes guest-physical memory through the p2m; false if not mapped. Same page rule as readGpa. */
  writeGpa(gpa: bigint, data: Uint8Array): boolean;
  /**
   * A vCPU register by lower-case LibVMI name (see LIBVMI_REGS: "rax" ...
   * "r15", "rip", "rflags", "cr0", "cr2", "cr3", "cr4", "fs_base",
   * "gs_base", "shadow_gs" (IA32_KERNEL_GS_BASE), "msr_efer", "msr_lstar",
   * "tsc" ...), or undefined if the vCPU or register does not exist.
   */
  vcpuReg(vcpu: number, reg: string): bigint | undefined;
  /** Pauses the domain's vCPUs (xc_domain_pause); may be called nested. */
  pause(): void;
  /** Undoes one pause (xc_domain_unpause). */
  resume(): void;
}

/** LibVMI's register numbers (libvmi.h, x86), by LibVMI macro name. */
export const LIBVMI_REGS: Readonly<Record<string, number>> = {
  RAX: 0, RBX: 1, RCX: 2, RDX: 3, RBP: 4, RSI: 5, RDI: 6, RSP: 7, RIP: 8, RFLAGS: 9,
  R8: 10, R9: 11, R10: 12, R11: 13, R12: 14, R13: 15, R14: 16, R15: 17,
  CR0: 18, CR2: 19, CR3: 20, CR4: 21, XCR0: 22,
  DR0: 23, DR1: 24, DR2: 25, DR3: 26, DR6: 27, DR7: 28,
  CS_SEL: 29, DS_SEL: 30, ES_SEL: 31, FS_SEL: 32, GS_SEL: 33, SS_SEL: 34, TR_SEL: 35, LDTR_SEL: 36,
  CS_LIMIT: 37, DS_LIMIT: 38, ES_LIMIT: 39, FS_LIMIT: 40, GS_LIMIT: 41, SS_LIMIT: 42, TR_LIMIT: 43,
  LDTR_LIMIT: 44, IDTR_LIMIT: 45, GDTR_LIMIT: 46,
  CS_BASE: 47, DS_BASE: 48, ES_BASE: 49, FS_BASE: 50, GS_BASE: 51, SS_BASE: 52, TR_BASE: 53,
  LDTR_BASE: 54, IDTR_BASE: 55, GDTR_BASE: 56,
  CS_ARBYTES: 57, DS_ARBYTES: 58, ES_ARBYTES: 59, FS_ARBYTES: 60, GS_ARBYTES: 61, SS_ARBYTES: 62,
  TR_ARBYTES: 63, LDTR_ARBYTES: 64,
  SYSENTER_CS: 65, SYSENTER_ESP: 66, SYSENTER_EIP: 67, SHADOW_GS: 68, TSC: 69,
  MSR_FLAGS: 70, MSR_LSTAR: 71, MSR_CSTAR: 72, MSR_SYSCALL_MASK: 73, MSR_EFER: 74, MSR_TSC_AUX: 75,
  MSR_STAR: 119, MSR_SHADOW_GS_BASE: 120,
};
// Aliases LibVMI defines for the same numbers.
const REG_ALIASES: Record<string, string> = {
  EAX: 'RAX', EBX: 'RBX', ECX: 'RCX', EDX: 'RDX', EBP: 'RBP', ESI: 'RSI', EDI: 'RDI', ESP: 'RSP',
  EIP: 'RIP', EFLAGS: 'RFLAGS', MSR_SHADOW_GS_BASE: 'SHADOW_GS',
};
const REG_BY_NUMBER = new Map<number, string>();
for (const [name, n] of Object.entries(LIBVMI_REGS)) {
  const canonical = REG_ALIASES[name] ?? name;
  if (!REG_BY_NUMBER.has(n)) REG_BY_NUMBER.set(n, canonical.toLowerCase());
}
REG_BY_NUMBER.set(LIBVMI_REGS.MSR_SHADOW_GS_BASE, 'shadow_gs');

/** The DomainAccess name of a LibVMI register (number or macro name), or undefined. */
export function regName(reg: number | string): string | undefined {
  if (typeof reg === 'number') return REG_BY_NUMBER.get(reg);
  const up = reg.toUpperCase();
  const canonical = REG_ALIASES[up] ?? up;
  return canonical in LIBVMI_REGS ? canonical.toLowerCase() : undefined;
}

const PAGE = 4096n;
const PHYS_MASK = 0x000ffffffffff000n;     // bits 51:12 of a paging entry
const PS = 0x80n, PRESENT = 1n;
const MAX_TASKS = 1 << 16;                 // bound on task-list walks (the list may change under us)
const MAX_STR = 1 << 16;                   // bound on string reads

export interface VmiOptions {
  /** The OS profile (offsets, System.map path). Without one, only physical access and registers work. */
  profile?: Profile;
  /** Kernel symbols; by default loaded from profile.sysmap. */
  symbols?: SymbolMap;
  /** Bound on task-list walks (default 65536): the list may change, or be corrupt, while we walk it. */
  maxTasks?: number;
}

function ok<T>(v: T): [status_t, T] { return [VMI_SUCCESS, v]; }
const FAIL0: [status_t, bigint] = [VMI_FAILURE, 0n];

/** LibVMI's vmi_instance_t for one domain. */
export class Vmi {
  readonly domain: DomainAccess;
  readonly profile?: Profile;
  readonly symbols: SymbolMap;
  private pauses = 0;
  private readonly maxTasks: number;

  constructor(domain: DomainAccess, opts: VmiOptions = {}) {
    this.domain = domain;
    this.maxTasks = opts.maxTasks ?? MAX_TASKS;
    this.profile = opts.profile;
    this.symbols = opts.symbols ?? (opts.profile?.sysmap ? SymbolMap.load(opts.profile.sysmap) : new SymbolMap());
  }

  // ---- instance information ----------------------------------------------

  vmi_get_name(): string { return this.domain.name; }
  vmi_get_vmid(): number { return this.domain.id; }
  vmi_get_memsize(): bigint { return BigInt(this.domain.memsize); }
  vmi_get_ostype(): number { return this.profile ? VMI_OS_LINUX : VMI_OS_UNKNOWN; }
  vmi_get_address_width(): number { return 8; }

  /** vmi_get_offset(vmi, name, &offset): an offset from the profile. */
  vmi_get_offset(name: string): [status_t, bigint] {
    const v = this.profile?.offsets.get(name);
    return v === undefined ? FAIL0 : ok(v);
  }

  /** vmi_get_vcpureg(vmi, &value, reg, vcpu); `reg` is a LibVMI register number or name ("CR3"). */
  vmi_get_vcpureg(reg: number | string, vcpu: number): [status_t, bigint] {
    const name = regName(reg);
    if (name === undefined || !Number.isInteger(vcpu) || vcpu < 0) return FAIL0;
    const v = this.guard(() => this.domain.vcpuReg(vcpu, name));
    return v === undefined ? FAIL0 : ok(BigInt.asUintN(64, v));
  }

  /** vmi_pause_vm: pauses the domain (nested pauses are counted). */
  vmi_pause_vm(): status_t {
    const done = this.guard(() => { this.domain.pause(); return true; });
    if (!done) return VMI_FAILURE;
    this.pauses++;
    return VMI_SUCCESS;
  }

  /** vmi_resume_vm: undoes one vmi_pause_vm of this instance; fails if there is none. */
  vmi_resume_vm(): status_t {
    if (this.pauses === 0) return VMI_FAILURE;
    const done = this.guard(() => { this.domain.resume(); return true; });
    if (!done) return VMI_FAILURE;
    this.pauses--;
    return VMI_SUCCESS;
  }

  /** Pauses this instance holds (vmi_pause_vm without vmi_resume_vm). */
  get pauseCount(): number { return this.pauses; }

  /** vmi_destroy's duty: resumes every pause this instance still holds; returns how many. */
  releasePauses(): number {
    let n = 0;
    while (this.pauses > 0 && this.vmi_resume_vm() === VMI_SUCCESS) n++;
    this.pauses = 0;
    return n;
  }

  // ---- translation ---------------------------------------------------------

  /**
   * The kernel's page-table root (LibVMI's kpgd): the profile's `kpgd`, else
   * vCPU 0's CR3 (the kernel half is shared by every address space).
   */
  kernelDtb(): bigint | undefined {
    if (this.profile?.kpgd !== undefined) return this.profile.kpgd;
    const cr3 = this.guard(() => this.domain.vcpuReg(0, 'cr3'));
    return cr3 === undefined ? undefined : cr3 & PHYS_MASK;
  }

  /**
   * vmi_pagetable_lookup(vmi, dtb, va, &pa): the IA-32e 4-level walk (4 KiB,
   * 2 MiB and 1 GiB pages) from guest-physical reads, present bits only, no
   * accessed/dirty updates. Non-canonical addresses fail.
   */
  vmi_pagetable_lookup(dtb: bigint, va: bigint): [status_t, bigint] {
    va = BigInt.asUintN(64, va);
    const top = va >> 47n;
    if (top !== 0n && top !== 0x1ffffn) return FAIL0;
    let table = dtb & PHYS_MASK;
    for (let level = 4; level >= 1; level--) {
      const shift = BigInt(12 + 9 * (level - 1));
      const e = this.readEntry(table + ((va >> shift) & 511n) * 8n);
      if (e === undefined || (e & PRESENT) === 0n) return FAIL0;
      if (level === 3 && (e & PS)) return ok((e & 0x000fffffc0000000n) | (va & 0x3fffffffn));
      if (level === 2 && (e & PS)) return ok((e & 0x000fffffffe00000n) | (va & 0x1fffffn));
      if (level === 1) return ok((e & PHYS_MASK) | (va & 0xfffn));
      table = e & PHYS_MASK;
    }
    return FAIL0;
  }

  /** vmi_translate_kv2p: a kernel virtual address through the kernel page tables. */
  vmi_translate_kv2p(va: bigint): [status_t, bigint] {
    const dtb = this.kernelDtb();
    return dtb === undefined ? FAIL0 : this.vmi_pagetable_lookup(dtb, va);
  }

  /** vmi_translate_uv2p: a virtual address in process `pid`'s address space. */
  vmi_translate_uv2p(va: bigint, pid: number): [status_t, bigint] {
    const [st, dtb] = this.vmi_pid_to_dtb(pid);
    return st !== VMI_SUCCESS ? FAIL0 : this.vmi_pagetable_lookup(dtb, va);
  }

  /** vmi_translate_ksym2v: a kernel symbol's virtual address from the System.map. */
  vmi_translate_ksym2v(symbol: string): [status_t, bigint] {
    const v = this.symbols.lookup(symbol);
    return v === undefined ? FAIL0 : ok(v);
  }

  /** vmi_translate_v2ksym: the symbol defined exactly at `va`, or null. */
  vmi_translate_v2ksym(va: bigint): string | null {
    return this.symbols.nameAt(BigInt.asUintN(64, va)) ?? null;
  }

  /**
   * vmi_pid_to_dtb: walks the task list from init_task to the task with
   * `pid`, then task->mm (task->active_mm for kernel threads, at mm + 8 as
   * LibVMI assumes unless the profile has linux_active_mm) -> pgd, a kernel
   * virtual address, translated to physical. Pid 0 without an mm is the
   * kernel's own page table.
   */
  vmi_pid_to_dtb(pid: number): [status_t, bigint] {
    const task = this.findTask(pid);
    if (task === undefined) return FAIL0;
    const dtb = this.taskDtb(task);
    if (dtb !== undefined) return ok(dtb);
    if (pid === 0) {
      const k = this.kernelDtb();
      if (k !== undefined) return ok(k);
    }
    return FAIL0;
  }

  /** The task_struct address of `pid` (walking init_task's list), or undefined. */
  findTask(pid: number): bigint | undefined {
    for (const t of this.tasks()) if (t.pid === pid) return t.addr;
    return undefined;
  }

  /** The page-table root of the task at `task` (mm or active_mm -> pgd -> physical). */
  taskDtb(task: bigint): bigint | undefined {
    const mmOff = this.offset('linux_mm'), pgdOff = this.offset('linux_pgd');
    if (mmOff === undefined || pgdOff === undefined) return undefined;
    let [st, mm] = this.vmi_read_addr_va(task + mmOff, 0);
    if (st !== VMI_SUCCESS) return undefined;
    if (mm === 0n) {
      const activeOff = this.offset('linux_active_mm') ?? mmOff + 8n;
      [st, mm] = this.vmi_read_addr_va(task + activeOff, 0);
      if (st !== VMI_SUCCESS || mm === 0n) return undefined;
    }
    const [st2, pgd] = this.vmi_read_addr_va(mm + pgdOff, 0);
    if (st2 !== VMI_SUCCESS) return undefined;
    const [st3, pa] = this.vmi_translate_kv2p(pgd);
    return st3 === VMI_SUCCESS ? pa & PHYS_MASK : undefined;
  }

  /**
   * The tasks on the list headed by init_task, init_task first:
   * { addr (task_struct), pid, comm }. Stops at the head, at an unreadable
   * link, or after maxTasks tasks (the guest runs while we walk).
   */
  tasks(): Array<{ addr: bigint; pid: number; comm: string }> {
    const out: Array<{ addr: bigint; pid: number; comm: string }> = [];
    const init = this.symbols.lookup('init_task');
    const tasksOff = this.offset('linux_tasks'), pidOff = this.offset('linux_pid');
    if (init === undefined || tasksOff === undefined || pidOff === undefined) return out;
    const nameOff = this.offset('linux_name');
    const head = init + tasksOff;
    let cur = head;
    for (let i = 0; i < this.maxTasks; i++) {
      const task = cur - tasksOff;
      const [st, pid] = this.vmi_read_32_va(task + pidOff, 0);
      if (st !== VMI_SUCCESS) break;
      const comm = nameOff === undefined ? '' : this.vmi_read_str_va(task + nameOff, 0) ?? '';
      out.push({ addr: BigInt.asUintN(64, task), pid: pid | 0, comm });
      const [st2, next] = this.vmi_read_addr_va(cur, 0);
      if (st2 !== VMI_SUCCESS || next === head || next === 0n) break;
      cur = next;
    }
    return out;
  }

  // ---- reads -----------------------------------------------------------------

  /** vmi_read_pa(vmi, pa, count, buf, &bytes_read): SUCCESS only if all `count` bytes were read. */
  vmi_read_pa(pa: bigint, count: number): [status_t, Uint8Array] {
    const data = this.readPhys(BigInt.asUintN(64, pa), count);
    return [data.length === count ? VMI_SUCCESS : VMI_FAILURE, data];
  }

  /** vmi_read_va(vmi, va, pid, count, buf, &bytes_read): pid 0 is the kernel. */
  vmi_read_va(va: bigint, pid: number, count: number): [status_t, Uint8Array] {
    const dtb = this.dtbFor(pid);
    if (dtb === undefined) return [VMI_FAILURE, new Uint8Array(0)];
    const data = this.readVirt(dtb, BigInt.asUintN(64, va), count);
    return [data.length === count ? VMI_SUCCESS : VMI_FAILURE, data];
  }

  /** vmi_read_ksym(vmi, sym, count, buf, &bytes_read). */
  vmi_read_ksym(sym: string, count: number): [status_t, Uint8Array] {
    const [st, va] = this.vmi_translate_ksym2v(sym);
    return st !== VMI_SUCCESS ? [VMI_FAILURE, new Uint8Array(0)] : this.vmi_read_va(va, 0, count);
  }

  vmi_read_8_pa(pa: bigint): [status_t, number] { return this.num(this.vmi_read_pa(pa, 1)); }
  vmi_read_16_pa(pa: bigint): [status_t, number] { return this.num(this.vmi_read_pa(pa, 2)); }
  vmi_read_32_pa(pa: bigint): [status_t, number] { return this.num(this.vmi_read_pa(pa, 4)); }
  vmi_read_64_pa(pa: bigint): [status_t, bigint] { return this.big(this.vmi_read_pa(pa, 8)); }
  vmi_read_addr_pa(pa: bigint): [status_t, bigint] { return this.vmi_read_64_pa(pa); }

  vmi_read_8_va(va: bigint, pid: number): [status_t, number] { return this.num(this.vmi_read_va(va, pid, 1)); }
  vmi_read_16_va(va: bigint, pid: number): [status_t, number] { return this.num(this.vmi_read_va(va, pid, 2)); }
  vmi_read_32_va(va: bigint, pid: number): [status_t, number] { return this.num(this.vmi_read_va(va, pid, 4)); }
  vmi_read_64_va(va: bigint, pid: number): [status_t, bigint] { return this.big(this.vmi_read_va(va, pid, 8)); }
  vmi_read_addr_va(va: bigint, pid: number): [status_t, bigint] { return this.vmi_read_64_va(va, pid); }

  vmi_read_8_ksym(sym: string): [status_t, number] { return this.num(this.vmi_read_ksym(sym, 1)); }
  vmi_read_16_ksym(sym: string): [status_t, number] { return this.num(this.vmi_read_ksym(sym, 2)); }
  vmi_read_32_ksym(sym: string): [status_t, number] { return this.num(this.vmi_read_ksym(sym, 4)); }
  vmi_read_64_ksym(sym: string): [status_t, bigint] { return this.big(this.vmi_read_ksym(sym, 8)); }
  vmi_read_addr_ksym(sym: string): [status_t, bigint] { return this.vmi_read_64_ksym(sym); }

  /**
   * vmi_read_str_va: the NUL-terminated string at `va` (decoded as UTF-8),
   * or null if its first byte cannot be read. Reading stops at the NUL, at
   * an unreadable page, or after 64 KiB.
   */
  vmi_read_str_va(va: bigint, pid: number): string | null {
    const bytes = this.readStrBytes(va, pid);
    return bytes === null ? null : new TextDecoder().decode(bytes);
  }
  vmi_read_str_pa(pa: bigint): string | null {
    const bytes = this.scanStr((a, n) => this.readPhys(a, n), BigInt.asUintN(64, pa));
    return bytes === null ? null : new TextDecoder().decode(bytes);
  }
  vmi_read_str_ksym(sym: string): string | null {
    const [st, va] = this.vmi_translate_ksym2v(sym);
    return st !== VMI_SUCCESS ? null : this.vmi_read_str_va(va, 0);
  }

  /** The raw bytes of the string at `va` (without its NUL), or null. */
  readStrBytes(va: bigint, pid: number): Uint8Array | null {
    const dtb = this.dtbFor(pid);
    if (dtb === undefined) return null;
    return this.scanStr((a, n) => this.readVirt(dtb, a, n), BigInt.asUintN(64, va));
  }

  // ---- writes ----------------------------------------------------------------

  /** vmi_write_pa(vmi, pa, count, buf, &bytes_written). */
  vmi_write_pa(pa: bigint, data: Uint8Array): [status_t, number] {
    const n = this.writePhys(BigInt.asUintN(64, pa), data);
    return [n === data.length ? VMI_SUCCESS : VMI_FAILURE, n];
  }

  /** vmi_write_va(vmi, va, pid, count, buf, &bytes_written). */
  vmi_write_va(va: bigint, pid: number, data: Uint8Array): [status_t, number] {
    const dtb = this.dtbFor(pid);
    if (dtb === undefined) return [VMI_FAILURE, 0];
    let done = 0;
    let a = BigInt.asUintN(64, va);
    while (done < data.length) {
      const [st, pa] = this.vmi_pagetable_lookup(dtb, a);
      if (st !== VMI_SUCCESS) break;
      const n = Math.min(data.length - done, Number(PAGE - (a & 0xfffn)));
      const w = this.writePhys(pa, data.subarray(done, done + n));
      done += w;
      if (w < n) break;
      a = BigInt.asUintN(64, a + BigInt(n));
    }
    return [done === data.length ? VMI_SUCCESS : VMI_FAILURE, done];
  }

  vmi_write_8_pa(pa: bigint, v: number | bigint): status_t { return this.vmi_write_pa(pa, le(v, 1))[0]; }
  vmi_write_16_pa(pa: bigint, v: number | bigint): status_t { return this.vmi_write_pa(pa, le(v, 2))[0]; }
  vmi_write_32_pa(pa: bigint, v: number | bigint): status_t { return this.vmi_write_pa(pa, le(v, 4))[0]; }
  vmi_write_64_pa(pa: bigint, v: number | bigint): status_t { return this.vmi_write_pa(pa, le(v, 8))[0]; }
  vmi_write_addr_pa(pa: bigint, v: number | bigint): status_t { return this.vmi_write_64_pa(pa, v); }
  vmi_write_8_va(va: bigint, pid: number, v: number | bigint): status_t { return this.vmi_write_va(va, pid, le(v, 1))[0]; }
  vmi_write_16_va(va: bigint, pid: number, v: number | bigint): status_t { return this.vmi_write_va(va, pid, le(v, 2))[0]; }
  vmi_write_32_va(va: bigint, pid: number, v: number | bigint): status_t { return this.vmi_write_va(va, pid, le(v, 4))[0]; }
  vmi_write_64_va(va: bigint, pid: number, v: number | bigint): status_t { return this.vmi_write_va(va, pid, le(v, 8))[0]; }
  vmi_write_addr_va(va: bigint, pid: number, v: number | bigint): status_t { return this.vmi_write_64_va(va, pid, v); }

  // ---- internals ---------------------------------------------------------------

  private offset(name: string): bigint | undefined { return this.profile?.offsets.get(name); }

  /** Runs a DomainAccess call; a throw becomes undefined (VMI_FAILURE to the caller). */
  private guard<T>(f: () => T | undefined): T | undefined {
    try {
      return f();
    } catch {
      return undefined;
    }
  }

  private dtbFor(pid: number): bigint | undefined {
    if (pid === 0) return this.kernelDtb();
    const [st, dtb] = this.vmi_pid_to_dtb(pid);
    return st === VMI_SUCCESS ? dtb : undefined;
  }

  private readEntry(gpa: bigint): bigint | undefined {
    const b = this.guard(() => this.domain.readGpa(gpa, 8));
    if (!b || b.length !== 8) return undefined;
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true);
  }

  /** Reads up to `count` bytes of guest-physical memory page by page; stops at the first unmapped page. */
  private readPhys(pa: bigint, count: number): Uint8Array {
    if (!Number.isInteger(count) || count <= 0) return new Uint8Array(0);
    const out = new Uint8Array(count);
    let done = 0;
    while (done < count) {
      const a = pa + BigInt(done);
      if (a >= 1n << 52n) break;
      const n = Math.min(count - done, Number(PAGE - (a & 0xfffn)));
      const b = this.guard(() => this.domain.readGpa(a, n));
      if (!b || b.length !== n) break;
      out.set(b, done);
      done += n;
    }
    return done === count ? out : out.slice(0, done);
  }

  private writePhys(pa: bigint, data: Uint8Array): number {
    let done = 0;
    while (done < data.length) {
      const a = pa + BigInt(done);
      if (a >= 1n << 52n) break;
      const n = Math.min(data.length - done, Number(PAGE - (a & 0xfffn)));
      const chunk = data.slice(done, done + n);
      if (!this.guard(() => this.domain.writeGpa(a, chunk))) break;
      done += n;
    }
    return done;
  }

  /** Reads up to `count` bytes at `va` under `dtb`; stops at the first unmapped page. */
  private readVirt(dtb: bigint, va: bigint, count: number): Uint8Array {
    if (!Number.isInteger(count) || count <= 0) return new Uint8Array(0);
    const out = new Uint8Array(count);
    let done = 0;
    while (done < count) {
      const a = BigInt.asUintN(64, va + BigInt(done));
      const [st, pa] = this.vmi_pagetable_lookup(dtb, a);
      if (st !== VMI_SUCCESS) break;
      const n = Math.min(count - done, Number(PAGE - (a & 0xfffn)));
      const b = this.readPhys(pa, n);
      out.set(b, done);
      done += b.length;
      if (b.length < n) break;
    }
    return done === count ? out : out.slice(0, done);
  }

  private scanStr(read: (a: bigint, n: number) => Uint8Array, addr: bigint): Uint8Array | null {
    const parts: Uint8Array[] = [];
    let total = 0;
    let a = addr;
    while (total < MAX_STR) {
      const n = Math.min(MAX_STR - total, Number(PAGE - (a & 0xfffn)));
      const b = read(a, n);
      if (b.length === 0) {
        if (total === 0) return null;
        break;
      }
      const z = b.indexOf(0);
      if (z >= 0) { parts.push(b.subarray(0, z)); total += z; break; }
      parts.push(b); total += b.length;
      if (b.length < n) break;
      a = BigInt.asUintN(64, a + BigInt(n));
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) { out.set(p, o); o += p.length; }
    return out;
  }

  private num([st, b]: [status_t, Uint8Array]): [status_t, number] {
    if (st !== VMI_SUCCESS) return [VMI_FAILURE, 0];
    let v = 0;
    for (let i = b.length - 1; i >= 0; i--) v = v * 256 + b[i];
    return ok(v);
  }

  private big([st, b]: [status_t, Uint8Array]): [status_t, bigint] {
    if (st !== VMI_SUCCESS) return FAIL0;
    return ok(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
  }
}

function le(v: number | bigint, width: number): Uint8Array {
  let x = BigInt.asUintN(width * 8, BigInt(v));
  const out = new Uint8Array(width);
  for (let i = 0; i < width; i++) { out[i] = Number(x & 0xffn); x >>= 8n; }
  return out;
}

// ---- a DomainAccess over a Machine and an EPT view -----------------------------

export interface EptDomainOptions {
  id: number;
  name: string;
  /** Bytes of guest-physical memory. */
  memsize: number | bigint;
  /** The EPTP of the view Dom0 reads through (view 0), or a function returning it. */
  eptp: bigint | (() => bigint);
  /** vCPU registers; by default vCPU 0 is the machine's one CPU (machineVcpuReg). */
  vcpuReg?: (vcpu: number, reg: string) => bigint | undefined;
  pause?: () => void;
  resume?: () => void;
}

/**
 * A DomainAccess whose guest-physical accesses go through an EPT hierarchy in
 * machine memory, as Xen's foreign mappings go through the p2m: guest-physical
 * is not machine-physical. Used by tests and usable by the hypervisor.
 */
export function eptDomainAccess(m: Machine, opts: EptDomainOptions): DomainAccess {
  const eptp = typeof opts.eptp === 'function' ? opts.eptp : () => opts.eptp as bigint;
  const memsize = BigInt(opts.memsize);
  const hpaOf = (gpa: bigint, len: number): number | undefined => {
    if (gpa < 0n || gpa + BigInt(len) > memsize || (gpa & 0xfffn) + BigInt(len) > PAGE) return undefined;
    const r = m.eptWalk(eptp(), gpa, 0);
    if (!('hpa' in r)) return undefined;
    const hpa = Number(r.hpa);
    return hpa + len <= m.memBytes ? hpa : undefined;
  };
  return {
    id: opts.id,
    name: opts.name,
    memsize: opts.memsize,
    readGpa(gpa, len) {
      const hpa = hpaOf(gpa, len);
      return hpa === undefined ? undefined : m.readPhys(hpa, len);
    },
    writeGpa(gpa, data) {
      const hpa = hpaOf(gpa, data.length);
      if (hpa === undefined) return false;
      m.writePhys(hpa, data);
      return true;
    },
    vcpuReg: opts.vcpuReg ?? ((vcpu, reg) => (vcpu === 0 ? machineVcpuReg(m, reg) : undefined)),
    pause: opts.pause ?? (() => {}),
    resume: opts.resume ?? (() => {}),
  };
}

const VMCS_REG: Record<string, string> = {
  rip: 'GUEST_RIP', rflags: 'GUEST_RFLAGS', cr0: 'GUEST_CR0', cr3: 'GUEST_CR3', cr4: 'GUEST_CR4',
  dr7: 'GUEST_DR7', cs_sel: 'GUEST_CS_SELECTOR', ds_sel: 'GUEST_DS_SELECTOR', es_sel: 'GUEST_ES_SELECTOR',
  fs_sel: 'GUEST_FS_SELECTOR', gs_sel: 'GUEST_GS_SELECTOR', ss_sel: 'GUEST_SS_SELECTOR',
  tr_sel: 'GUEST_TR_SELECTOR', ldtr_sel: 'GUEST_LDTR_SELECTOR',
  cs_base: 'GUEST_CS_BASE', ds_base: 'GUEST_DS_BASE', es_base: 'GUEST_ES_BASE', fs_base: 'GUEST_FS_BASE',
  gs_base: 'GUEST_GS_BASE', ss_base: 'GUEST_SS_BASE', tr_base: 'GUEST_TR_BASE', ldtr_base: 'GUEST_LDTR_BASE',
  idtr_base: 'GUEST_IDTR_BASE', gdtr_base: 'GUEST_GDTR_BASE', idtr_limit: 'GUEST_IDTR_LIMIT',
  gdtr_limit: 'GUEST_GDTR_LIMIT', sysenter_cs: 'GUEST_SYSENTER_CS', sysenter_esp: 'GUEST_SYSENTER_ESP',
  sysenter_eip: 'GUEST_SYSENTER_EIP', msr_efer: 'GUEST_IA32_EFER',
};
const MSR_REG: Record<string, number> = {
  shadow_gs: MSR_SHADOW_GS_BASE, msr_star: MSR_STAR, msr_lstar: MSR_LSTAR, msr_cstar: MSR_CSTAR,
  msr_syscall_mask: MSR_SYSCALL_MASK, msr_tsc_aux: MSR_TSC_AUX,
};

/** A register of the machine's (single) vCPU by DomainAccess name: GPRs, VMCS guest state, CR2, XCR0, MSRs. */
export function machineVcpuReg(m: Machine, reg: string): bigint | undefined {
  if (GPR_NAMES.includes(reg)) return m.gpr(reg);
  if (reg in VMCS_REG) return m.vmread(VMCS_REG[reg]);
  if (reg === 'cr2') return m.cr2;
  if (reg in MSR_REG) return m.rdmsr(MSR_REG[reg]);
  return undefined;
}
