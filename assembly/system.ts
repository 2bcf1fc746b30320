// System instructions and the instructions that VM-exit in VMX non-root operation (SDM Vol. 3C
// 26.1-26.2: unconditional and conditional exits; faults such as #UD and privilege #GP take
// priority over the exit). This file dispatches them and keeps the one-line ones (CPUID, VMCALL,
// INVD, HLT, CLI/STI, INT n, INT1, INVLPG, WBINVD); each larger group lives in the file named for its
// SDM chapter: msr.ts (with RDPMC), io.ts, crdr.ts, segment.ts, descriptor-check.ts (VERR/VERW, LAR,
// LSL), syscall.ts, sysenter.ts, vmfunc.ts, events.ts (IRET).
import * as D from "./decode";
import * as S from "./state";
import * as V from "./vmcs";
import { cpl, F_IF } from "./state";
import { raiseGP, raiseUD, raiseSoft, requestExit } from "./fault";
import { ea } from "./operand";
import { tlbFlushPage } from "./mmu";
import { rflagsRest, iopl } from "./flags";
import { primary, secondary } from "./vmx/controls";
import { execRdtsc, execRdtscp, execMsr, execRdpmc } from "./msr";
import { execIo, execStringIo } from "./io";
import { execMovCr, execMovDr, execClts, execSmsw, execLmsw, execXsetbv, execXgetbv } from "./crdr";
import { execMovSreg, execMovFromSreg, execPushSreg, execPopSreg, execLoadDescTable, execStoreDescTable,
  execLoadSystemSeg, execStoreSystemSeg } from "./segment";
import { execSyscall, execSysret, execSwapgs } from "./syscall";
import { execIret } from "./events";
import { execVmfunc } from "./vmfunc";
import { execVerrw, execLar, execLsl } from "./descriptor-check";
import { execSysenter, execSysexit } from "./sysenter";

export function execSystem(e: usize, op: i32, size: i32): void {
  switch (op) {
    case D.OP_CPUID: requestExit(V.EXIT_REASON_CPUID, 0); return;
    case D.OP_VMCALL: requestExit(V.EXIT_REASON_VMCALL, 0); return;
    case D.OP_VMX: requestExit(<i32>load<u64>(e, D.D_IMM), 0); return;
    // INVD and XSETBV exit unconditionally, but their #UD/#GP checks come first (SDM 26.1.1).
    case D.OP_INVD: if (cpl != 0) { raiseGP(0); return; } requestExit(V.EXIT_REASON_INVD, 0); return;
    case D.OP_XSETBV: execXsetbv(); return;
    case D.OP_XGETBV: execXgetbv(); return;
    case D.OP_RDTSC: execRdtsc(); return;
    case D.OP_RDTSCP: execRdtscp(); return;
    case D.OP_RDMSR: case D.OP_WRMSR: execMsr(op == D.OP_WRMSR); return;
    case D.OP_HLT: {
      if (cpl != 0) { raiseGP(0); return; }
      if ((primary() & V.CPU_BASED_HLT_EXITING) != 0) { requestExit(V.EXIT_REASON_HLT, 0); return; }
      S.halted = true; requestExit(V.EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED, 0); return; // see run/loop.ts handleStop
    }
    case D.OP_CLI: {
      if (cpl > iopl()) { raiseGP(0); return; }
      rflagsRest &= ~F_IF; return;
    }
    case D.OP_STI: {
      if (cpl > iopl()) { raiseGP(0); return; }
      if ((rflagsRest & F_IF) == 0) { S.intrShadow |= 1; S.shadowAge = 2; }
      rflagsRest |= F_IF; return;
    }
    case D.OP_IN: case D.OP_OUT: execIo(e, op == D.OP_IN, size); return;
    case D.OP_INS: case D.OP_OUTS: execStringIo(e, op == D.OP_INS, size); return;
    case D.OP_INT: raiseSoft(<i32>load<u64>(e, D.D_IMM), 4); return;
    case D.OP_INT3: raiseSoft(3, 6); return;
    case D.OP_IRET: execIret(size); return;
    case D.OP_SYSCALL: execSyscall(); return;
    case D.OP_SYSRET: execSysret(e); return;
    case D.OP_SWAPGS: execSwapgs(); return;
    case D.OP_MOV_R_CR: case D.OP_MOV_CR_R: execMovCr(e, op == D.OP_MOV_CR_R); return;
    case D.OP_MOV_R_DR: case D.OP_MOV_DR_R: execMovDr(e, op == D.OP_MOV_DR_R); return;
    case D.OP_CLTS: execClts(); return;
    case D.OP_SMSW: execSmsw(e, size); return;
    case D.OP_LMSW: execLmsw(e); return;
    case D.OP_LGDT: case D.OP_LIDT: execLoadDescTable(e, op == D.OP_LGDT); return;
    case D.OP_SGDT: case D.OP_SIDT: execStoreDescTable(e, op == D.OP_SGDT); return;
    case D.OP_LTR: case D.OP_LLDT: execLoadSystemSeg(e, op == D.OP_LTR); return;
    case D.OP_STR: execStoreSystemSeg(e, size, true); return;
    case D.OP_SLDT: execStoreSystemSeg(e, size, false); return;
    case D.OP_INVLPG: {
      if (cpl != 0) { raiseGP(0); return; }
      const a = ea(e);
      if ((primary() & V.CPU_BASED_INVLPG_EXITING) != 0) { requestExit(V.EXIT_REASON_INVLPG, a); return; }
      tlbFlushPage(a); return;
    }
    case D.OP_WBINVD: {
      if (cpl != 0) { raiseGP(0); return; }
      if ((secondary() & V.SECONDARY_EXEC_WBINVD_EXITING) != 0) requestExit(V.EXIT_REASON_WBINVD, 0);
      return;
    }
    case D.OP_VMFUNC: execVmfunc(); return;
    case D.OP_MOV_SREG_E: execMovSreg(e); return;
    case D.OP_MOV_E_SREG: execMovFromSreg(e, size); return;
    case D.OP_PUSH_SREG: execPushSreg(e, size); return;
    case D.OP_POP_SREG: execPopSreg(e, size); return;
    case D.OP_VERRW: execVerrw(e); return;
    case D.OP_LAR: execLar(e, size); return;
    case D.OP_LSL: execLsl(e, size); return;
    case D.OP_SYSENTER: execSysenter(); return;
    case D.OP_SYSEXIT: execSysexit(e); return;
    case D.OP_RDPMC: execRdpmc(); return;
    // INT1 (ICEBP, F1; SDM Vol. 2A "INT n/INTO/INT3/INT1"): #DB as a privileged software exception,
    // VMX interruption type 5 (Vol. 3C 25.8.3, 28.2.2): a trap after the instruction, no gate-DPL
    // check, EXT = 1 in a nested error code (events.ts), DR6 not written; it VM-exits through the
    // exception bitmap's bit 1 with the instruction length saved (vmx/deliver.ts).
    case D.OP_INT1: raiseSoft(1, 5); return;
  }
  raiseUD();
}
