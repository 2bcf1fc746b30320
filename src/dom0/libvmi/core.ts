// LibVMI's core (libvmi/core.c, accessors.c, read.c, write.c): the
// vmi_instance_t for one domain (`Vmi`), instance information, vCPU
// registers, pause/resume, kernel symbols from the System.map, and the
// reads and writes by physical address, virtual address and symbol, page by
// page. The layers under it, as in LibVMI: the page walk is the arch layer's
// (arch-amd64.ts), pid -> page table the OS layer's (os-linux.ts, chosen by
// the profile), and guest-physical memory the driver's (`DomainAccess`:
// reads and writes through the domain's p2m, as Xen's foreign mappings give
// Dom0; driver-ept.ts is one).
//
// Return conventions (TypeScript has no out-parameters): where LibVMI
// returns status_t and writes through a pointer, the method returns a
// tuple [status, value]; on VMI_FAILURE the value is 0 (or empty). Where
// LibVMI returns only a status, the method returns the status. Functions
// that return a pointer or NULL in C return a value or null. No method
// throws for a guest-side failure (unmapped address, unknown symbol,
// missing offset, a DomainAccess that throws): that is VMI_FAILURE.
import { type Profile } from '../profile.js';
import { SymbolMap } from '../profile.js';
import { VMI_SUCCESS, VMI_FAILURE, VMI_OS_UNKNOWN, regName, type status_t } from './defs.js';
import { PAGE, PHYS_MASK, v2p_ia32e } from './arch-amd64.js';
import { LINUX_OS, MAX_TASKS, linux_kaslr_offset } from './os-linux.js';

/**
 * What Dom0 sees of a domain: the driver interface (LibVMI's
 * driver_interface_t). Implemented by `eptDomainAccess` (driver-ept.ts) over
 * a Machine and an EPT view.
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

const MAX_STR = 1 << 16;                   // bound on string reads

/** LibVMI's os_interface_t, the part we use: what the core asks of the OS layer. */
export interface OsInterface {
  readonly ostype: number;
  /** os_pid_to_pgd: the page-table root of process `pid`, or undefined. */
  pidToDtb(vmi: Vmi, pid: number): bigint | undefined;
}

/** What vmi_init gets besides the domain (LibVMI's config). */
export interface VmiInitOptions {
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
  /** The OS layer: Linux when there is a profile (its ostype is required to be "Linux"). */
  readonly os?: OsInterface;
  /** Bound on task-list walks (os-linux.ts). */
  readonly maxTasks: number;
  private pauses = 0;
  private kaslr?: bigint;
  private readonly entry = (gpa: bigint) => this.readEntry(gpa);

  constructor(domain: DomainAccess, opts: VmiInitOptions = {}) {
    this.domain = domain;
    this.maxTasks = opts.maxTasks ?? MAX_TASKS;
    this.profile = opts.profile;
    this.os = opts.profile ? LINUX_OS : undefined;
    this.symbols = opts.symbols ?? (opts.profile?.sysmap ? SymbolMap.load(opts.profile.sysmap) : new SymbolMap());
  }

  // ---- instance information ----------------------------------------------

  vmi_get_name(): string { return this.domain.name; }
  vmi_get_vmid(): number { return this.domain.id; }
  vmi_get_memsize(): bigint { return BigInt(this.domain.memsize); }
  vmi_get_ostype(): number { return this.os?.ostype ?? VMI_OS_UNKNOWN; }
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

  /** vmi_pagetable_lookup(vmi, dtb, va, &pa): the arch layer's walk (arch-amd64.ts); non-canonical addresses fail. */
  vmi_pagetable_lookup(dtb: bigint, va: bigint): [status_t, bigint] {
    const pa = v2p_ia32e(this.entry, dtb, va);
    return pa === undefined ? FAIL0 : ok(pa);
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

  /**
   * The running kernel's distance from its System.map (KASLR), found once, at the first symbol
   * lookup, by the OS layer (os-linux.ts linux_kaslr_offset); 0 without a Linux profile or when
   * it cannot be found (the System.map's addresses are then used as they are).
   */
  get kaslrOffset(): bigint {
    if (this.kaslr === undefined) {
      this.kaslr = 0n;
      const init = this.os ? this.symbols.lookup('init_task') : undefined;
      if (init !== undefined) this.kaslr = linux_kaslr_offset(this, init) ?? 0n;
    }
    return this.kaslr;
  }

  /** vmi_translate_ksym2v: a kernel symbol's virtual address: the System.map's, plus the KASLR offset. */
  vmi_translate_ksym2v(symbol: string): [status_t, bigint] {
    const v = this.symbols.lookup(symbol);
    return v === undefined ? FAIL0 : ok(BigInt.asUintN(64, v + this.kaslrOffset));
  }

  /** vmi_translate_v2ksym: the symbol defined exactly at `va` (less the KASLR offset), or null. */
  vmi_translate_v2ksym(va: bigint): string | null {
    return this.symbols.nameAt(BigInt.asUintN(64, va - this.kaslrOffset)) ?? null;
  }

  /** vmi_pid_to_dtb: the OS layer's walk (os-linux.ts: the task list, task->mm->pgd). */
  vmi_pid_to_dtb(pid: number): [status_t, bigint] {
    const dtb = this.os?.pidToDtb(this, pid);
    return dtb === undefined ? FAIL0 : ok(dtb);
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
