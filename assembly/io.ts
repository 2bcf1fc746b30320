// Port I/O: IN/OUT and INS/OUTS with the I/O privilege check (SDM Vol. 1 ch. 19), the I/O-bitmap
// and unconditional I/O exiting controls (SDM Vol. 3C 25.6.4, 26.1.3) and the exit qualification of
// Table 28-5. No TSS I/O permission bitmap is modelled: CPL > IOPL faults. Without an exit the
// accesses reach an empty bus, as on a PC with nothing at the port.
import * as D from "./decode";
import * as S from "./state";
import * as V from "./vmcs";
import { gpr, setGpr, RCX, RDX, cpl } from "./state";
import { stop, raiseGP, requestExit } from "./fault";
import { writeReg } from "./operand";
import { readMem, writeMem, machineSize } from "./mmu";
import { rflagsRest, iopl } from "./flags";
import { MACHINE_BASE } from "./layout";
import { primary } from "./vmx/controls";

export function execIo(e: usize, isIn: bool, size: i32): void {
  const dx = load<u8>(e, D.D_SUB) == 1;
  const port = dx ? <u32>(gpr(RDX) & 0xffff) : <u32>load<u64>(e, D.D_IMM);
  if (cpl > iopl()) { raiseGP(0); return; } // no TSS I/O bitmap: CPL > IOPL faults
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
 * INS/OUTS: the same privilege and exit rules as IN/OUT; the exit qualification
 * marks a string instruction (bit 4) and REP (bit 5). Without an exit the
 * transfer runs against the empty bus (reads 0xFF...).
 */
export function execStringIo(e: usize, isIn: bool, size: i32): void {
  const port = <u32>(gpr(RDX) & 0xffff);
  if (cpl > iopl()) { raiseGP(0); return; }
  const rep = (load<u8>(e, D.D_PFX) & (D.P_REP | D.P_REPNE)) != 0;
  if (ioExits(port, size)) {
    const qual: u64 = <u64>(size - 1) | (isIn ? 8 : 0) | 16 | (rep ? 32 : 0) | (<u64>port << 16);
    requestExit(V.EXIT_REASON_IO_INSTRUCTION, qual);
    V.vmcsSet(V.GUEST_LINEAR_ADDRESS, isIn ? gpr(7) : gpr(6));
    return;
  }
  const step: u64 = (rflagsRest & S.F_DF) != 0 ? <u64>(-size) : <u64>size;
  let n: u64 = rep ? gpr(RCX) : 1;
  while (n > 0) {
    if (isIn) { writeMem(gpr(7), size, 0xffffffff); if (stop) return; setGpr(7, gpr(7) + step); }
    else { readMem(gpr(6), size); if (stop) return; setGpr(6, gpr(6) + step); }
    n--;
    if (rep) setGpr(RCX, n);
  }
}

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
