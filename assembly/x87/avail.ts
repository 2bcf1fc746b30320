// Whether an x87 FPU instruction (or WAIT/FWAIT) may execute (SDM Vol. 3A 2.5 "Control Registers",
// Table 2-2 "Action Taken By x87 FPU Instructions for Different Combinations of EM, MP, and TS";
// Vol. 3A 6.15 "Interrupt 7 -- Device Not Available Exception"): an x87 instruction raises #NM when
// CR0.EM = 1 or CR0.TS = 1; WAIT/FWAIT raises #NM only when CR0.MP = 1 and CR0.TS = 1 (EM is ignored).
// Pending unmasked x87 exceptions (#MF) are checked by the instruction after these (x87/).
import * as S from "../state";
import { raise } from "../fault";

/** The device-not-available check of every x87 instruction except WAIT: false after raising #NM. */
export function fpuUsable(): bool {
  if ((S.cr0 & (S.CR0_EM | S.CR0_TS)) != 0) { raise(S.NM, 0, false); return false; }
  return true;
}

/** The check of WAIT/FWAIT (9B): #NM when CR0.MP and CR0.TS are both set; false after raising it. */
export function waitUsable(): bool {
  if ((S.cr0 & (S.CR0_MP | S.CR0_TS)) == (S.CR0_MP | S.CR0_TS)) { raise(S.NM, 0, false); return false; }
  return true;
}
