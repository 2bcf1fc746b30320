// MMIO dispatch: the device models behind guest-physical addresses, in the shape of Xen's
// internal MMIO handlers (xen/arch/x86/hvm/intercept.c): register_mmio_handler(d, ops) adds a
// struct hvm_mmio_ops {check, read, write} to the domain's hvm_io_handler list (at most
// NR_IO_HANDLERS), hvm_find_io_handler picks the handler whose check() accepts an access, and
// hvm_mmio_internal says whether one claims an address. An access no handler claims, with no
// ioreq server (external device model) attached -- we have none --, meets Xen's null_handler
// (hvm/emulate.c: null_read returns all ones, null_write drops the value).
// Accesses arrive here from the EPT-violation path (src/xen/vmexit/ept.ts) one chunk at a time:
// 1, 2, 4 or 8 bytes inside one page, as hvmemul_phys_mmio_access splits them.
// An access the null handler serves is logged once per page with hvmemul_do_io's message
// ("unhandled memory read from %#lx size %u" / "write to"), which Xen prints for the hardware
// domain only (gdprintk); we print it for every domain, once per page and for at most
// MMIO_LOG_PAGES pages, so a guest sweeping its address space cannot flood the log.

export type MmioSize = 1 | 2 | 4 | 8;

/** The guest-physical bytes [base, base + size) a device claims (what its check() accepts). */
export interface MmioRange { readonly base: number; readonly size: number }

/** Reads and writes of device registers (Xen's hvm_mmio_read_t / hvm_mmio_write_t); values zero-extended. */
export interface MmioOps {
  read(gpa: number, size: MmioSize): bigint;
  write(gpa: number, size: MmioSize, value: bigint): void;
}

/** A device model behind guest-physical addresses. `range` may change (a relocatable APIC base). */
export interface MmioDevice extends MmioOps {
  readonly name: string;
  readonly range: MmioRange;
}

/** Xen's NR_IO_HANDLERS: the handler slots a domain has (port and MMIO handlers share them in Xen). */
export const NR_IO_HANDLERS = 32;
/** Pages whose unhandled accesses are logged; later pages are counted only. */
export const MMIO_LOG_PAGES = 1024;

const allOnes = (size: MmioSize): bigint => (1n << BigInt(size * 8)) - 1n;

/** Xen's null_handler: reads return all ones, writes are dropped. */
export const nullHandler: MmioOps = {
  read: (_gpa, size) => allOnes(size),
  write: () => {},
};

const claims = (r: MmioRange, gpa: number): boolean => gpa >= r.base && gpa < r.base + r.size;

export class MmioBus {
  private readonly handlers: MmioDevice[] = [];
  /** Accesses no handler claimed (served by the null handler). */
  unclaimed = 0;

  private readonly loggedPages = new Set<number>();

  /**
   * `crash` is domain_crash: Xen's answer to an access a handler accepts only in part. `log` gets
   * the unhandled-access lines (without the domain/vCPU prefix).
   */
  constructor(private readonly crash: (message: string) => void, private readonly log: (line: string) => void = () => {}) {}

  /** register_mmio_handler(): ranges may not overlap, as two handlers claiming one byte would be ambiguous. */
  registerMmioHandler(dev: MmioDevice): void {
    if (this.handlers.length >= NR_IO_HANDLERS) throw new Error(`no free I/O handler slot for ${dev.name} (NR_IO_HANDLERS ${NR_IO_HANDLERS})`);
    const { base, size } = dev.range;
    for (const h of this.handlers) {
      const r = h.range;
      if (base < r.base + r.size && r.base < base + size) {
        throw new Error(`MMIO range 0x${base.toString(16)}+${size} of ${dev.name} overlaps ${h.name} at 0x${r.base.toString(16)}`);
      }
    }
    this.handlers.push(dev);
  }

  /** hvm_mmio_internal(): a registered handler claims `gpa`. */
  hvmMmioInternal(gpa: number): boolean { return this.handlers.some((h) => claims(h.range, gpa)); }

  /**
   * hvm_find_io_handler(): the handler that accepts the access's first byte, or the null
   * handler. If that handler's range ends inside the access the domain is crashed, as
   * hvm_mmio_accept does, and the handler still gets the access.
   */
  hvmFindIoHandler(gpa: number, size: MmioSize, dir: 'read' | 'write' = 'read'): MmioOps {
    const h = this.handlers.find((d) => claims(d.range, gpa));
    if (!h) {
      this.unclaimed++;
      const page = Math.floor(gpa / 4096);
      if (this.loggedPages.size < MMIO_LOG_PAGES && !this.loggedPages.has(page)) {
        this.loggedPages.add(page);
        this.log(`unhandled memory ${dir === 'read' ? 'read from' : 'write to'} 0x${gpa.toString(16)} size ${size}` +
          (this.loggedPages.size === MMIO_LOG_PAGES ? ` (further pages not logged)` : ''));
      }
      return nullHandler;
    }
    if (!claims(h.range, gpa + size - 1)) {
      this.crash(`MMIO access 0x${gpa.toString(16)}+${size} runs past the end of ${h.name}'s range`);
    }
    return h;
  }

  read(gpa: number, size: MmioSize): bigint { return this.hvmFindIoHandler(gpa, size, 'read').read(gpa, size) & allOnes(size); }
  write(gpa: number, size: MmioSize, value: bigint): void { this.hvmFindIoHandler(gpa, size, 'write').write(gpa, size, value & allOnes(size)); }
}
