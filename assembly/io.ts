// Port I/O: IN/OUT and INS/OUTS with the I/O privilege check (SDM Vol. 1 ch. 19), the I/O-bitmap
// and unconditional I/O exiting controls (SDM Vol. 3C 25.6.4, 26.1.3), the exit qualification of
// Table 28-5 and, for INS/OUTS, the guest-linear address and the VM-exit instruction-information
// field (28.2.5, Table 28-8: address size, segment). With CPL > IOPL the TSS's I/O permission bit
// map decides (SDM Vol. 1 19.5.2, ioPermitted). Without an exit the accesses reach an empty bus, as on a PC with nothing at the
// port. While the host emulates an instruction (assembly/mmio.ts, Xen's hvm_emulate_one after an I/O
// exit for INS/OUTS) the port accesses go to the host's device model instead of exiting, one page
// of the memory operand per emulation, as Xen's hvmemul_rep_ins/outs clip a string to the page.
import * as D from "./decode";
import * as S from "./state";
import * as V from "./vmcs";
import { gpr, setGpr, RCX, RDX, RSI, RDI, cpl, segBase, segLimit, TR } from "./state";
import { stop, raiseGP, requestExit } from "./fault";
import { writeReg } from "./operand";
import { readMem, readMemW, writeMem, machineSize, ssAccess, readSys } from "./mmu";
import { mmioEmulating } from "./mmio";
import { partial } from "./exec";
import { rflagsRest, iopl } from "./flags";
import { MACHINE_BASE } from "./layout";
import { primary } from "./vmx/controls";

// The host's port I/O (src/machine.ts), called only while the host emulates an INS/OUTS.
@external("env", "io_read") declare function hostIoRead(port: u32, size: i32): u32;
@external("env", "io_write") declare function hostIoWrite(port: u32, size: i32, value: u32): void;

/** Iterations of a REP INS/OUTS per run without an exit (a later run resumes at the same RIP). */
const IO_REP_CHUNK: u64 = 4096;

/**
 * The I/O permission check (SDM Vol. 1 19.5.1-19.5.2): with CPL <= IOPL any port; otherwise the
 * bits for port..port+size-1 in the TSS's I/O permission bit map (base at TSS offset 66H) must all
 * be 0. The processor reads the two bytes holding them; any byte beyond the TSS limit means #GP(0).
 * Raises #GP(0) (or the fault of the implicit TSS read) and returns false when denied.
 */
function ioPermitted(port: u32, size: i32): bool {
  if (cpl <= iopl()) return true;
  const base = segBase(TR), limit = <u64>segLimit(TR);
  if (limit < 0x67) { raiseGP(0); return false; }
  const mapBase = readSys(base + 0x66, 2); if (stop) return false;
  const off = mapBase + <u64>(port >> 3);
  if (off + 1 > limit) { raiseGP(0); return false; }
  const bits = readSys(base + off, 2); if (stop) return false;
  const mask: u64 = ((<u64>1 << <u64>size) - 1) << <u64>(port & 7);
  if ((bits & mask) != 0) { raiseGP(0); return false; }
  return true;
}

export function execIo(e: usize, isIn: bool, size: i32): void {
  const dx = load<u8>(e, D.D_SUB) == 1;
  const port = dx ? <u32>(gpr(RDX) & 0xffff) : <u32>load<u64>(e, D.D_IMM);
  if (!ioPermitted(port, size)) return;
  const exits = ioExits(port, size);
  if (exits) {
    const qual: u64 = <u64>(size - 1) | (isIn ? 8 : 0) | (dx ? 0 : 64) | (<u64>port << 16);
    requestExit(V.EXIT_REASON_IO_INSTRUCTION, qual);
    return;
  }
  // No device answers on this CPU's own bus: reads float high, writes are dropped.
  if (isIn) writeReg(0, size, 0xffffffff);
}

/**
 * INS/OUTS: the same privilege and exit rules as IN/OUT; the exit qualification marks a string
 * instruction (bit 4) and REP (bit 5); the guest-linear address field holds the memory operand's
 * address and the instruction-information field its address size (bits 9:7: 1 = 32-bit, 2 = 64-bit)
 * and, for OUTS, its segment (bits 17:15: 3 DS, 4 FS, 5 GS). RSI/RDI and RCX advance per iteration,
 * so a fault in the middle of a REP string leaves them at the iterations completed; INS probes its
 * store before reading the port, so a faulting iteration has no effect at the port.
 */
export function execStringIo(e: usize, isIn: bool, size: i32): void {
  const port = <u32>(gpr(RDX) & 0xffff);
  if (!ioPermitted(port, size)) return;
  ssAccess = false;
  const pfx = load<u8>(e, D.D_PFX);
  const rep = (pfx & (D.P_REP | D.P_REPNE)) != 0;
  const a32 = load<u8>(e, D.D_ASZ) == 4;
  const amask: u64 = a32 ? 0xffffffff : 0xffffffffffffffff;
  const seg = load<u8>(e, D.D_SEG);
  const srcBase: u64 = !isIn && seg != 0 ? segBase(<i32>seg) : 0;
  if (!mmioEmulating && ioExits(port, size)) {
    const qual: u64 = <u64>(size - 1) | (isIn ? 8 : 0) | 16 | (rep ? 32 : 0) | (<u64>port << 16);
    requestExit(V.EXIT_REASON_IO_INSTRUCTION, qual);
    V.vmcsSet(V.GUEST_LINEAR_ADDRESS, isIn ? gpr(RDI) & amask : srcBase + (gpr(RSI) & amask));
    V.vmcsSet(V.VMX_INSTRUCTION_INFO, (<u64>(a32 ? 1 : 2) << 7) | (<u64>(isIn ? 0 : seg != 0 ? seg : 3) << 15));
    return;
  }
  const step: u64 = (rflagsRest & S.F_DF) != 0 ? <u64>(-size) : <u64>size;
  let n: u64 = 0;
  while (true) {
    if (rep && (gpr(RCX) & amask) == 0) return;
    const idx = isIn ? RDI : RSI;
    const off = gpr(idx) & amask;
    const la = isIn ? off : srcBase + off;
    if (isIn) {
      readMemW(la, size); if (stop) return;          // the store's probe: faults before the port is read
      const v = mmioEmulating ? <u64>hostIoRead(port, size) : 0xffffffff;
      writeMem(la, size, v); if (stop) return;
    } else {
      const v = readMem(la, size); if (stop) return;
      if (mmioEmulating) hostIoWrite(port, size, <u32>v);
    }
    setIdx(idx, off + step, a32);
    if (!rep) return;
    setIdx(RCX, (gpr(RCX) & amask) - 1, a32);
    n++;
    if ((gpr(RCX) & amask) == 0) return;
    // The next iteration waits for a later run: the emulation's page is done (hvmemul_rep_ins/outs
    // stop at the page boundary), or the chunk is full. RIP stays on the instruction.
    const next = isIn ? gpr(RDI) & amask : srcBase + (gpr(RSI) & amask);
    if ((mmioEmulating && (next >> 12) != (la >> 12)) || n == IO_REP_CHUNK) { S.nrip = S.rip; partial = true; return; }
  }
}

/** RSI/RDI/RCX after a step: 32-bit address size writes the low half zero-extended (SDM Vol. 1 3.3.7). */
function setIdx(r: i32, v: u64, a32: bool): void { setGpr(r, a32 ? v & 0xffffffff : v); }

function ioExits(port: u32, size: i32): bool {
  const p = primary();
  let exits = (p & V.CPU_BASED_UNCOND_IO_EXITING) != 0;
  if ((p & V.CPU_BASED_USE_IO_BITMAPS) != 0) {
    exits = false;
    for (let i: u32 = 0; i < <u32>size; i++) {
      const q = (port + i) & 0xffff;
      if (port + i > 0xffff) return true;
      const bm = V.vmcsGet(q < 0x8000 ? V.IO_BITMAP_A : V.IO_BITMAP_B) + <u64>((q & 0x7fff) >> 3);
      if (bm >= machineSize || ((load<u8>(MACHINE_BASE + <usize>bm) >> <u8>(q & 7)) & 1) != 0) return true;
    }
  }
  return exits;
}
