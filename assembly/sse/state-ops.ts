// The state instructions of the SSE unit (decoded in assembly/decode/map0f.ts, 0F AE):
//   FXSAVE/FXSAVE64, FXRSTOR/FXRSTOR64 (SDM Vol. 2A "FXSAVE", "FXRSTOR"; the image is Vol. 1 10.5.1,
//     Table 10-2 "Format of an FXSAVE Area"): #NM when CR0.TS or CR0.EM (Table 2-2 of Vol. 3A 2.5),
//     #GP(0) for a memory operand not 16-byte aligned, FXRSTOR #GP(0) for reserved MXCSR bits. The
//     live state goes through assembly/x87/fxsave.ts (fxsaveImage / fxrstorImage) into FX_TMP, and
//     FX_TMP to or from guest memory only after every page of the 512-byte operand has passed its
//     access check, so a fault leaves memory and registers untouched.
//     Without REX.W the image has the 32-bit format of Table 10-2: FPU IP and DP are stored as 32-bit
//     offsets followed by FCS and FDS. This CPU keeps no FPU CS/DS values and stores them as 0000H --
//     what processors that deprecate them do (CPUID.(EAX=07H,ECX=0):EBX[13] = 1, Vol. 1 8.1.8).
//     FXRSTOR of the 32-bit format loads the offsets zero-extended and ignores FCS/FDS.
//     Bytes 416-511 are never written (464-511 are available to software, Table 10-2).
//     XMM0-15 and MXCSR are saved and restored whatever CR4.OSFXSR says: the SDM lets a processor skip
//     them when OSFXSR = 0 ("implementation dependent"); Intel processors do not skip them.
//     The AMD fast-FXSAVE (EFER.FFXSR) does not exist on this Intel CPU.
//   LDMXCSR/STMXCSR (Vol. 2A; Vol. 1 10.2.3): exception type 5 -- #UD when CR0.EM = 1 or
//     CR4.OSFXSR = 0, #NM when CR0.TS = 1 (sse/avail.ts); LDMXCSR #GP(0) on a bit outside MXCSR_MASK.
//   CLFLUSH (Vol. 2A): no cache to flush, but the access is checked as a one-byte read (SDM: "the
//     CLFLUSH instruction is ... treated as a read access": #PF, #GP/#SS for non-canonical, EPT
//     violations); CR0.TS/EM do not apply (it is not an SSE computation).
import { FX_TMP, FXSTATE } from "../layout";
import { FX_FCW, FX_FIP, FX_FDP, FX_MXCSR, FX_IMAGE_USED, FX_IMAGE_BYTES, MXCSR_MASK } from "../shared/fxsave";
import { D_OSZ } from "../decode/entry";
import { ea } from "../operand";
import { readMem, writeMem, translate, ACC_READ, ACC_WRITE } from "../mmu";
import { mmioEmulating } from "../mmio";
import { stop, raiseGP } from "../fault";
import { cpl } from "../state";
import { OP_FXSAVE, OP_FXRSTOR, OP_LDMXCSR, OP_STMXCSR } from "../ops";
import { fxsaveImage, fxrstorImage } from "../x87/fxsave";
import { fpuUsable } from "../x87/avail";
import { fcwValue, recomputeEs } from "../x87/control";
import { fcw } from "../x87/stack";
import { sseUsable } from "./avail";

/** Executes FXSAVE, FXRSTOR, LDMXCSR, STMXCSR or CLFLUSH. */
export function execFpState(e: usize, op: i32): void {
  if (op == OP_FXSAVE || op == OP_FXRSTOR) {
    if (!fpuUsable()) return;
    const la = ea(e);
    if ((la & 15) != 0) { raiseGP(0); return; }
    const wide = load<u8>(e, D_OSZ) == 8;
    if (op == OP_FXSAVE) fxsave(la, wide); else fxrstor(la, wide);
    return;
  }
  if (op == OP_LDMXCSR || op == OP_STMXCSR) {
    if (!sseUsable()) return;
    const la = ea(e);
    if (op == OP_STMXCSR) { writeMem(la, 4, <u64>load<u32>(FXSTATE + FX_MXCSR)); return; }
    const v = <u32>readMem(la, 4); if (stop) return;
    if ((v & ~MXCSR_MASK) != 0) { raiseGP(0); return; }
    store<u32>(FXSTATE + FX_MXCSR, v);
    return;
  }
  // CLFLUSH: the access check of a one-byte read, nothing else.
  const la = ea(e);
  if (mmioEmulating) return; // an MMIO line: no cache, and no device read (CLFLUSH reads no data)
  translate(la, ACC_READ, cpl == 3, true);
}

// The operand [la, la+512) after checkImage: page0 is the Wasm address of byte 0; bytes from `split`
// on lie in the next page, at page1 + offset.
let page0: usize = 0, page1: usize = 0, split: usize = FX_IMAGE_BYTES;
/** Checks the access to every page of the 512-byte operand before any byte moves; false after a fault. */
function checkImage(la: u64, kind: i32): bool {
  // The operand's last byte is checked first, then its first: a #PF names la+511 in CR2 when the last
  // byte's page faults, else la -- what the reference host does (which byte of a faulting multi-byte
  // access CR2 names is model-specific; test/fxsave.test.ts pins the host's choice).
  const user = cpl == 3;
  const last = translate(la + <u64>(FX_IMAGE_BYTES - 1), kind, user, true); if (stop) return false;
  page0 = translate(la, kind, user, true); if (stop) return false;
  split = <usize>(0x1000 - (la & 0xfff));
  if (split >= FX_IMAGE_BYTES) { split = FX_IMAGE_BYTES; page1 = 0; return true; }
  page1 = last - (FX_IMAGE_BYTES - 1);
  return true;
}

/** Copies `n` bytes of FX_TMP from offset 0 to the checked guest pages (after checkImage). */
function copyOut(n: usize): void {
  const a = n < split ? n : split;
  memory.copy(page0, FX_TMP, a);
  if (n > split) memory.copy(page1 + split, FX_TMP + split, n - split);
}

function fxsave(la: u64, wide: bool): void {
  if (mmioEmulating) {
    // Emulating an MMIO access (mmio.ts): the host's device takes 8-byte chunks in address order.
    stage(wide);
    for (let i: usize = 0; i < FX_IMAGE_USED; i += 8) { writeMem(la + <u64>i, 8, load<u64>(FX_TMP + i)); if (stop) return; }
    return;
  }
  if (!checkImage(la, ACC_WRITE)) return;
  stage(wide);
  copyOut(FX_IMAGE_USED);
}

/** The image of the live state in FX_TMP, in the 64-bit (REX.W) or 32-bit format. */
function stage(wide: bool): void {
  fxsaveImage(FX_TMP);
  if (!wide) {
    // FPU IP / DP as 32-bit offsets, then FCS / FDS (0000H) and two reserved bytes (Table 10-2).
    store<u32>(FX_TMP + FX_FIP + 4, 0);
    store<u32>(FX_TMP + FX_FDP + 4, 0);
  }
}

function fxrstor(la: u64, wide: bool): void {
  if (mmioEmulating) {
    for (let i: usize = 0; i < FX_IMAGE_BYTES; i += 8) { store<u64>(FX_TMP + i, readMem(la + <u64>i, 8)); if (stop) return; }
  } else {
    if (!checkImage(la, ACC_READ)) return;
    memory.copy(FX_TMP, page0, split);
    if (split < FX_IMAGE_BYTES) memory.copy(FX_TMP + split, page1 + split, FX_IMAGE_BYTES - split);
  }
  if ((load<u32>(FX_TMP + FX_MXCSR) & ~MXCSR_MASK) != 0) { raiseGP(0); return; }
  if (!wide) {
    // The 32-bit format: FCS and FDS are ignored, the offsets load zero-extended.
    store<u32>(FX_TMP + FX_FIP + 4, 0);
    store<u32>(FX_TMP + FX_FDP + 4, 0);
  }
  fxrstorImage(FX_TMP);
  // The x87 control and status words as the FPU holds them, as FLDCW/FLDENV/FRSTOR leave them
  // (x87/control.ts): FCW's reserved bits 7 and 13-15 read 0 and bit 6 reads 1 (Vol. 1 8.1.5,
  // Figure 8-6); FSW.ES summarises the unmasked exception flags and B mirrors it (8.1.3.1).
  store<u16>(FXSTATE + FX_FCW, <u16>fcwValue(fcw()));
  recomputeEs();
}
