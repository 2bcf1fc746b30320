// The `libvmi` import module (the ABI is in vmi/README.md and
// src/dom0/sandbox/abi.ts) and AssemblyScript wrappers named after LibVMI's
// functions. A wrapper that LibVMI gives a status_t plus an out-value
// returns the value and leaves the status in `lastStatus`; `ok()` tells
// whether the last call succeeded.

export const VMI_SUCCESS: i32 = 0;
export const VMI_FAILURE: i32 = 1;
export const VMI_OS_LINUX: i32 = 1;

// LibVMI register numbers (libvmi.h, x86).
export const RAX: i32 = 0, RBX: i32 = 1, RCX: i32 = 2, RDX: i32 = 3, RBP: i32 = 4, RSI: i32 = 5, RDI: i32 = 6, RSP: i32 = 7;
export const RIP: i32 = 8, RFLAGS: i32 = 9;
export const CR0: i32 = 18, CR2: i32 = 19, CR3: i32 = 20, CR4: i32 = 21;
export const FS_BASE: i32 = 50, GS_BASE: i32 = 51, SHADOW_GS: i32 = 68, TSC: i32 = 69, MSR_EFER: i32 = 74;

// ---- raw imports ---------------------------------------------------------------
export declare namespace raw {
  @external("libvmi", "translate_kv2p") function translate_kv2p(va: u64, out: usize): i32;
  @external("libvmi", "translate_uv2p") function translate_uv2p(va: u64, pid: i32, out: usize): i32;
  @external("libvmi", "translate_ksym2v") function translate_ksym2v(name: usize, len: i32, out: usize): i32;
  @external("libvmi", "translate_v2ksym") function translate_v2ksym(va: u64, buf: usize, cap: i32): i32;
  @external("libvmi", "pid_to_dtb") function pid_to_dtb(pid: i32, out: usize): i32;
  @external("libvmi", "pagetable_lookup") function pagetable_lookup(dtb: u64, va: u64, out: usize): i32;
  @external("libvmi", "read_8_va") function read_8_va(va: u64, pid: i32, out: usize): i32;
  @external("libvmi", "read_16_va") function read_16_va(va: u64, pid: i32, out: usize): i32;
  @external("libvmi", "read_32_va") function read_32_va(va: u64, pid: i32, out: usize): i32;
  @external("libvmi", "read_64_va") function read_64_va(va: u64, pid: i32, out: usize): i32;
  @external("libvmi", "read_addr_va") function read_addr_va(va: u64, pid: i32, out: usize): i32;
  @external("libvmi", "read_8_pa") function read_8_pa(pa: u64, out: usize): i32;
  @external("libvmi", "read_16_pa") function read_16_pa(pa: u64, out: usize): i32;
  @external("libvmi", "read_32_pa") function read_32_pa(pa: u64, out: usize): i32;
  @external("libvmi", "read_64_pa") function read_64_pa(pa: u64, out: usize): i32;
  @external("libvmi", "read_addr_pa") function read_addr_pa(pa: u64, out: usize): i32;
  @external("libvmi", "read_8_ksym") function read_8_ksym(name: usize, len: i32, out: usize): i32;
  @external("libvmi", "read_16_ksym") function read_16_ksym(name: usize, len: i32, out: usize): i32;
  @external("libvmi", "read_32_ksym") function read_32_ksym(name: usize, len: i32, out: usize): i32;
  @external("libvmi", "read_64_ksym") function read_64_ksym(name: usize, len: i32, out: usize): i32;
  @external("libvmi", "read_addr_ksym") function read_addr_ksym(name: usize, len: i32, out: usize): i32;
  @external("libvmi", "read_va") function read_va(va: u64, pid: i32, buf: usize, count: i32): i32;
  @external("libvmi", "read_pa") function read_pa(pa: u64, buf: usize, count: i32): i32;
  @external("libvmi", "read_ksym") function read_ksym(name: usize, len: i32, buf: usize, count: i32): i32;
  @external("libvmi", "read_str_va") function read_str_va(va: u64, pid: i32, buf: usize, cap: i32): i32;
  @external("libvmi", "write_va") function write_va(va: u64, pid: i32, buf: usize, count: i32): i32;
  @external("libvmi", "write_pa") function write_pa(pa: u64, buf: usize, count: i32): i32;
  @external("libvmi", "write_8_va") function write_8_va(va: u64, pid: i32, value: u64): i32;
  @external("libvmi", "write_16_va") function write_16_va(va: u64, pid: i32, value: u64): i32;
  @external("libvmi", "write_32_va") function write_32_va(va: u64, pid: i32, value: u64): i32;
  @external("libvmi", "write_64_va") function write_64_va(va: u64, pid: i32, value: u64): i32;
  @external("libvmi", "write_8_pa") function write_8_pa(pa: u64, value: u64): i32;
  @external("libvmi", "write_16_pa") function write_16_pa(pa: u64, value: u64): i32;
  @external("libvmi", "write_32_pa") function write_32_pa(pa: u64, value: u64): i32;
  @external("libvmi", "write_64_pa") function write_64_pa(pa: u64, value: u64): i32;
  @external("libvmi", "get_vcpureg") function get_vcpureg(reg: i32, vcpu: i32, out: usize): i32;
  @external("libvmi", "get_offset") function get_offset(name: usize, len: i32, out: usize): i32;
  @external("libvmi", "get_memsize") function get_memsize(): u64;
  @external("libvmi", "get_name") function get_name(buf: usize, cap: i32): i32;
  @external("libvmi", "get_vmid") function get_vmid(): u64;
  @external("libvmi", "get_ostype") function get_ostype(): i32;
  @external("libvmi", "get_address_width") function get_address_width(): i32;
  @external("libvmi", "pause_vm") function pause_vm(): i32;
  @external("libvmi", "resume_vm") function resume_vm(): i32;
}

// ---- wrappers ------------------------------------------------------------------

const cell = memory.data(8);
/** The status of the last wrapper call that has one. */
export let lastStatus: i32 = VMI_SUCCESS;
export function ok(): bool { return lastStatus == VMI_SUCCESS; }

function value64(status: i32): u64 {
  lastStatus = status;
  return status == VMI_SUCCESS ? load<u64>(cell) : 0;
}

// Names are passed as (ptr, len) UTF-8; these helpers keep the encoded bytes alive for the call.
function utf8(s: string): ArrayBuffer { return String.UTF8.encode(s); }

export function vmi_translate_kv2p(va: u64): u64 { return value64(raw.translate_kv2p(va, cell)); }
export function vmi_translate_uv2p(va: u64, pid: i32): u64 { return value64(raw.translate_uv2p(va, pid, cell)); }
export function vmi_translate_ksym2v(sym: string): u64 {
  const b = utf8(sym);
  return value64(raw.translate_ksym2v(changetype<usize>(b), b.byteLength, cell));
}
export function vmi_pid_to_dtb(pid: i32): u64 { return value64(raw.pid_to_dtb(pid, cell)); }
export function vmi_pagetable_lookup(dtb: u64, va: u64): u64 { return value64(raw.pagetable_lookup(dtb, va, cell)); }

export function vmi_read_8_va(va: u64, pid: i32): u8 { store<u64>(cell, 0); return <u8>value64(raw.read_8_va(va, pid, cell)); }
export function vmi_read_16_va(va: u64, pid: i32): u16 { store<u64>(cell, 0); return <u16>value64(raw.read_16_va(va, pid, cell)); }
export function vmi_read_32_va(va: u64, pid: i32): u32 { store<u64>(cell, 0); return <u32>value64(raw.read_32_va(va, pid, cell)); }
export function vmi_read_64_va(va: u64, pid: i32): u64 { return value64(raw.read_64_va(va, pid, cell)); }
export function vmi_read_addr_va(va: u64, pid: i32): u64 { return value64(raw.read_addr_va(va, pid, cell)); }
export function vmi_read_8_pa(pa: u64): u8 { store<u64>(cell, 0); return <u8>value64(raw.read_8_pa(pa, cell)); }
export function vmi_read_16_pa(pa: u64): u16 { store<u64>(cell, 0); return <u16>value64(raw.read_16_pa(pa, cell)); }
export function vmi_read_32_pa(pa: u64): u32 { store<u64>(cell, 0); return <u32>value64(raw.read_32_pa(pa, cell)); }
export function vmi_read_64_pa(pa: u64): u64 { return value64(raw.read_64_pa(pa, cell)); }
export function vmi_read_addr_pa(pa: u64): u64 { return value64(raw.read_addr_pa(pa, cell)); }
export function vmi_read_32_ksym(sym: string): u32 {
  const b = utf8(sym);
  store<u64>(cell, 0);
  return <u32>value64(raw.read_32_ksym(changetype<usize>(b), b.byteLength, cell));
}
export function vmi_read_64_ksym(sym: string): u64 {
  const b = utf8(sym);
  return value64(raw.read_64_ksym(changetype<usize>(b), b.byteLength, cell));
}
export function vmi_read_addr_ksym(sym: string): u64 {
  const b = utf8(sym);
  return value64(raw.read_addr_ksym(changetype<usize>(b), b.byteLength, cell));
}

/** vmi_read_va into `buf`; returns the bytes read (status: all of them). */
export function vmi_read_va(va: u64, pid: i32, buf: Uint8Array): i32 {
  const n = raw.read_va(va, pid, buf.dataStart, buf.length);
  lastStatus = n == buf.length ? VMI_SUCCESS : VMI_FAILURE;
  return n;
}
/** vmi_read_pa into `buf`; returns the bytes read. */
export function vmi_read_pa(pa: u64, buf: Uint8Array): i32 {
  const n = raw.read_pa(pa, buf.dataStart, buf.length);
  lastStatus = n == buf.length ? VMI_SUCCESS : VMI_FAILURE;
  return n;
}

/** vmi_read_str_va: the string at `va`, or null (LibVMI's NULL). */
export function vmi_read_str_va(va: u64, pid: i32): string | null {
  let cap = 256;
  while (true) {
    const buf = new Uint8Array(cap);
    const n = raw.read_str_va(va, pid, buf.dataStart, cap);
    if (n < 0) { lastStatus = VMI_FAILURE; return null; }
    if (n <= cap) { lastStatus = VMI_SUCCESS; return String.UTF8.decodeUnsafe(buf.dataStart, <usize>n); }
    cap = n;
  }
}

/** vmi_translate_v2ksym: the symbol exactly at `va`, or null. */
export function vmi_translate_v2ksym(va: u64): string | null {
  const buf = new Uint8Array(256);
  const n = raw.translate_v2ksym(va, buf.dataStart, 256);
  if (n < 0) { lastStatus = VMI_FAILURE; return null; }
  lastStatus = VMI_SUCCESS;
  return String.UTF8.decodeUnsafe(buf.dataStart, <usize>min(n, 256));
}

export function vmi_write_va(va: u64, pid: i32, buf: Uint8Array): i32 {
  const n = raw.write_va(va, pid, buf.dataStart, buf.length);
  lastStatus = n == buf.length ? VMI_SUCCESS : VMI_FAILURE;
  return n;
}
export function vmi_write_64_va(va: u64, pid: i32, v: u64): i32 { return lastStatus = raw.write_64_va(va, pid, v); }
export function vmi_write_32_va(va: u64, pid: i32, v: u32): i32 { return lastStatus = raw.write_32_va(va, pid, v); }

export function vmi_get_vcpureg(reg: i32, vcpu: i32): u64 { return value64(raw.get_vcpureg(reg, vcpu, cell)); }
export function vmi_get_offset(name: string): u64 {
  const b = utf8(name);
  return value64(raw.get_offset(changetype<usize>(b), b.byteLength, cell));
}
export function vmi_get_memsize(): u64 { return raw.get_memsize(); }
export function vmi_get_vmid(): u64 { return raw.get_vmid(); }
export function vmi_get_ostype(): i32 { return raw.get_ostype(); }
export function vmi_get_name(): string {
  const buf = new Uint8Array(256);
  const n = raw.get_name(buf.dataStart, 256);
  return n <= 0 ? "" : String.UTF8.decodeUnsafe(buf.dataStart, <usize>min(n, 256));
}
export function vmi_pause_vm(): i32 { return lastStatus = raw.pause_vm(); }
export function vmi_resume_vm(): i32 { return lastStatus = raw.resume_vm(); }
