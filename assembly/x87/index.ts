// The x87 FPU (SDM Vol. 1 chapter 8): the operations of unit UNIT_X87 (assembly/ops.ts) run here.
// The decoder (assembly/decode/x87.ts) leaves the escape byte and ModRM in D_IMM2; each op group
// has its file: load-store.ts, arith.ts, compare.ts, transcendental.ts, control.ts, env.ts.
// Before any x87 instruction: #NM when CR0.EM or CR0.TS (avail.ts); then every waiting instruction
// raises a pending unmasked exception as #MF (SDM Vol. 1 8.6 "x87 FPU Exception Synchronization",
// 8.7; Vol. 3A 6.15 "Interrupt 16"; with CR0.NE = 1, the native mode) -- the non-waiting FNINIT,
// FNCLEX, FNSTCW, FNSTSW, FNSTENV, FNSAVE (and FNENI/FNDISI/FNSETPM) do not check.
// The last non-control instruction's opcode, instruction pointer and data pointer are kept as the
// host keeps them (SDM Vol. 1 8.1.8-8.1.10: FOP, FIP/FCS, FDP/FDS; FDP changes only with a memory
// operand). The host reports neither FDP_EXCPTN_ONLY nor the FCS/FDS deprecation (CPUID.(7,0):EBX
// bits 6 and 13 clear), so FDP/FDS are updated by every memory-operand x87 instruction and FCS/FDS
// are stored, as FNSTENV shows there.
import { D_IMM2, D_OSZ, D_RM, RM_MEM, D_SEG, D_SSDEF } from "../decode/entry";
import { OP_X87_LOAD, OP_X87_STORE, OP_X87_ARITH, OP_X87_CMP, OP_X87_TRANS, OP_X87_CTRL, OP_X87_ENV, OP_FWAIT } from "../ops";
import { raise, stop } from "../fault";
import * as S from "../state";
import { FXSTATE, FX_FOP, FX_FIP, FX_FDP } from "../layout";
import { ea } from "../operand";
import { fpuUsable, waitUsable } from "./avail";
import { fsw, FSW_ES, FX_FCS, FX_FDS } from "./stack";
import { x87Load, x87Store } from "./load-store";
import { x87Arith } from "./arith";
import { x87Compare } from "./compare";
import { x87Control } from "./control";
import { x87Env } from "./env";
import { x87Trans } from "./transcendental";

/** #MF for a pending unmasked exception (FSW.ES); true after raising it. */
function pendingMF(): bool {
  if ((fsw() & FSW_ES) != 0 && (S.cr0 & S.CR0_NE) != 0) { raise(S.MF, 0, false); return true; }
  return false;
}

/** The non-waiting control instructions: FNSTENV, FNSTCW, FNSAVE, FNSTSW, DB E0-E4. */
function nonWaiting(esc: u32, m: u32): bool {
  const mem = (m >> 6) != 3, d = (m >> 3) & 7;
  if (esc == 0xd9) return mem && (d == 6 || d == 7);
  if (esc == 0xdd) return mem && (d == 6 || d == 7);
  if (esc == 0xdb) return !mem && m >= 0xe0 && m <= 0xe4;
  if (esc == 0xdf) return m == 0xe0;
  return false;
}

/** Executes one UNIT_X87 operation. */
export function execX87(e: usize, op: i32): void {
  if (op == OP_FWAIT) { if (waitUsable()) pendingMF(); return; }
  if (!fpuUsable()) return;
  const key = <u32>load<u64>(e, D_IMM2);
  const esc = key & 0xff, m = (key >> 8) & 0xff;
  if (!nonWaiting(esc, m) && pendingMF()) return;
  switch (op) {
    case OP_X87_LOAD: x87Load(e, esc, m); break;
    case OP_X87_STORE: x87Store(e, esc, m); break;
    case OP_X87_ARITH: x87Arith(e, esc, m); break;
    case OP_X87_CMP: x87Compare(e, esc, m); break;
    case OP_X87_TRANS: x87Trans(esc, m); break;
    case OP_X87_ENV: x87Env(e, esc, m, <i32>load<u8>(e, D_OSZ)); return;
    default:
      x87Control(e, esc, m);
      // FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT (and the no-ops of DB E0-E4) are control instructions
      if ((m >> 6) != 3 || (esc == 0xdb && m >= 0xe0) || (esc == 0xdf && m == 0xe0)) return;
  }
  if (stop) return;
  // a non-control instruction: FOP, FIP/FCS, and FDP/FDS with a memory operand
  store<u16>(FXSTATE + FX_FOP, <u16>(((esc & 7) << 8) | m));
  store<u64>(FXSTATE + FX_FIP, S.rip);
  store<u16>(FXSTATE + FX_FCS, S.segSel(1));
  if (load<u16>(e, D_RM) == RM_MEM) {
    store<u64>(FXSTATE + FX_FDP, ea(e));
    const sg = <i32>load<u8>(e, D_SEG);
    store<u16>(FXSTATE + FX_FDS, S.segSel(sg != 0 ? sg : load<u8>(e, D_SSDEF) != 0 ? 2 : 3));
  }
}
