// Where a pointer into an x86-64 Linux kernel's data may point: the kernel's
// direct map of physical memory and its image, as Linux lays them out
// (Documentation/arch/x86/x86_64/mm.rst, 4-level paging;
// arch/x86/include/asm/page_64_types.h). A list walker checks every pointer it
// follows against these before reading through it, so that a stale or torn
// pointer is reported instead of followed. The TVM uses the same layout
// (firmware/tvm/include/tvm/kernel.h). Left out: 5-level paging
// (__PAGE_OFFSET_BASE_L5) and the vmalloc area (task_structs are slab objects
// in the direct map; init_task is in the image).
import { vmi_read_addr_ksym, ok } from "./libvmi";

/** __PAGE_OFFSET_BASE_L4: the direct map's base without KASLR. */
export const PAGE_OFFSET_BASE: u64 = 0xffff888000000000;
/** The direct map's size in mm.rst's 4-level table (ffff888000000000..ffffc87fffffffff): 64 TiB. */
export const DIRECT_MAP_SIZE: u64 = <u64>1 << 46;
/** CPU_ENTRY_AREA_BASE: the end of the region KASLR places the direct map in (arch/x86/mm/kaslr.c's vaddr_end). */
export const KASLR_VADDR_END: u64 = 0xfffffe0000000000;
/** __START_KERNEL_map: the kernel image's mapping of physical 0. */
export const START_KERNEL_MAP: u64 = 0xffffffff80000000;
/** KERNEL_IMAGE_SIZE with CONFIG_RANDOMIZE_BASE: the image lies in [__START_KERNEL_map, +1 GiB). */
export const KERNEL_IMAGE_SIZE: u64 = <u64>1 << 30;

/** A 48-bit canonical address: bits 63..47 all equal (SDM Vol. 1, 3.3.7.1). */
export function isCanonical(va: u64): bool {
  const top = va >> 47;
  return top == 0 || top == 0x1ffff;
}

export class KernelRanges {
  constructor(public directMapStart: u64, public directMapEnd: u64, public imageStart: u64, public imageEnd: u64) {}

  inDirectMap(va: u64): bool { return va >= this.directMapStart && va < this.directMapEnd; }
  inImage(va: u64): bool { return va >= this.imageStart && va < this.imageEnd; }
  /** Whether kernel data may live at `va` (direct map or image). */
  contains(va: u64): bool { return this.inDirectMap(va) || this.inImage(va); }
}

/** Linux's layout without KASLR: the direct map at __PAGE_OFFSET_BASE_L4, the image at __START_KERNEL_map. */
export function linuxKernelRanges(pageOffset: u64 = PAGE_OFFSET_BASE): KernelRanges {
  const end = pageOffset + DIRECT_MAP_SIZE;
  return new KernelRanges(pageOffset, end < pageOffset || end > KASLR_VADDR_END ? KASLR_VADDR_END : end, START_KERNEL_MAP, START_KERNEL_MAP + KERNEL_IMAGE_SIZE);
}

/**
 * The ranges of the guest at hand: the direct map's base from the kernel's
 * `page_offset_base` variable when the System.map has it (a KASLR kernel
 * moves the direct map; arch/x86/mm/kaslr.c), else __PAGE_OFFSET_BASE_L4.
 * One libvmi call.
 */
export function guestKernelRanges(): KernelRanges {
  const base = vmi_read_addr_ksym("page_offset_base");
  return linuxKernelRanges(ok() && isCanonical(base) && base >= PAGE_OFFSET_BASE ? base : PAGE_OFFSET_BASE);
}
