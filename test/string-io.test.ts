// String port I/O (INS/OUTS) as Xen emulates it: an I/O exit with the string bit (SDM Vol. 3C
// 28.2.1 Table 28-5) goes to hvm_emulate_one_insn(x86_insn_is_portio) in vmx_vmexit_handler, and
// x86_emulate runs the instruction with hvmemul_rep_ins / hvmemul_rep_outs (xen/arch/x86/hvm/
// emulate.c): the ports through the I/O handlers (COM1's LSR reads 0x60, unclaimed ports all
// ones), the memory through the guest's page tables, REP counts with DF and the address size,
// the segment override for OUTS, one page of the string per emulation (the instruction exits
// again for the rest), and a fault in the middle delivered with RCX/RSI/RDI at the iterations done.
// Before this, every INS/OUTS that exited crashed the domain ("Unsupported I/O exit").
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImage, type RunSummary } from '../src/run.js';
import type { Domain } from '../src/xen/domain.js';
import { asm, haveAssembler } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-strio-'));
let seq = 0;
const OUT = 0x200000;   // RAM where the guests store results
const BUF = 0x208000;   // a buffer in RAM
const EXIT0 = 'xor eax, eax\nmov dx, 0x501\nout dx, eax\n';

interface IoRun { s: RunSummary; d: Domain; log: string[]; console: string; u64(off: number): bigint; bytes(gpa: number, n: number): number[] }

interface IoExit { qual: bigint; gla: bigint; info: bigint }

function runAsm(src: string, memMiB = 3, exits?: IoExit[]): IoRun {
  const file = join(dir, `g${seq++}.elf`);
  writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(src, 0x100000) }]));
  let d: Domain | undefined;
  const log: string[] = [];
  let console = '';
  const s = runImage({ image: file, systemMap: false, memMiB, maxInsns: 1_000_000n, onLog: (l) => log.push(l),
    onConsole: (b) => { console += Buffer.from(b).toString('latin1'); },
    beforeRun: (dom) => {
      d = dom;
      dom.vcpus[0].exitHooks.push((v, reason) => {
        if ((reason & 0xffff) === 30) exits?.push({ qual: v.m.vmread('EXIT_QUALIFICATION'), gla: v.m.vmread('GUEST_LINEAR_ADDRESS'), info: v.m.vmread('VMX_INSTRUCTION_INFO') });
      });
    } });
  return { s, d: d!, log, console, u64: (off) => new DataView(d!.readGuestPhys(OUT + off, 8)!.buffer).getBigUint64(0, true),
    bytes: (gpa, n) => [...d!.readGuestPhys(gpa, n)!] };
}

/** Stores RCX, RSI, RDI at OUT, OUT+8, OUT+16. */
const SAVE = `mov [${OUT}], rcx\nmov [${OUT + 8}], rsi\nmov [${OUT + 16}], rdi\n`;

describe.skipIf(!haveAssembler())('INS/OUTS emulation (vmx_vmexit_handler -> hvm_emulate_one_insn -> hvmemul_rep_ins/outs)', () => {
  it('REP OUTSB to COM1: the bytes reach the console, RCX counts down to 0, RSI advances; the domain goes on', () => {
    const r = runAsm(`
      lea rsi, [rip + msg]
      mov dx, 0x3f8
      mov ecx, 6
      cld
      rep outsb
      ${SAVE}
      ${EXIT0}
    msg: .ascii "hello\\n"`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.console).toBe('hello\n');
    expect(r.u64(0)).toBe(0n);
    expect(r.log.filter((l) => /crash|Unsupported/.test(l))).toEqual([]);
  });

  it('OUTSW with DF set walks backwards; single OUTSD without REP moves once', () => {
    const r = runAsm(`
      lea rsi, [rip + msg + 4]
      mov dx, 0x3f8
      mov ecx, 3
      std
      rep outsw
      cld
      ${SAVE}
      lea rsi, [rip + msg]
      outsd
      mov [${OUT + 24}], rsi
      ${EXIT0}
    msg: .ascii "abcdef"`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    // COM1 takes the low byte of each word written to THR: e, c, a (backwards), then 'a' of the dword.
    expect(r.console).toBe('ecaa');
    expect(r.u64(0)).toBe(0n);
    const msg = Number(r.u64(24)) - 4;
    expect(Number(r.u64(8))).toBe(msg + 4 - 6);        // three words back from msg+4
    expect(Number(r.u64(24))).toBe(msg + 4);           // OUTSD moved RSI by 4, RCX untouched
  });

  it('REP INSB/INSD: LSR reads 0x60 and an unclaimed port all ones, stored through RDI', () => {
    const r = runAsm(`
      mov rdi, ${BUF}
      mov dx, 0x3fd
      mov ecx, 3
      cld
      rep insb
      mov dx, 0x1234
      mov ecx, 2
      rep insd
      ${SAVE}
      ${EXIT0}`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.bytes(BUF, 11)).toEqual([0x60, 0x60, 0x60, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    expect(r.u64(0)).toBe(0n);
    expect(Number(r.u64(16))).toBe(BUF + 11);
  });

  it('a string longer than a page takes one emulation per page (hvmemul_rep_ins clips to the page)', () => {
    const n = 3 * 4096 + 10;
    const r = runAsm(`
      mov rdi, ${BUF}
      mov dx, 0x3fd
      mov ecx, ${n}
      cld
      rep insb
      ${SAVE}
      ${EXIT0}`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.bytes(BUF, n).every((b) => b === 0x60)).toBe(true);
    expect(r.u64(0)).toBe(0n);
    expect(Number(r.u64(16))).toBe(BUF + n);
    // BUF is page-aligned: pages of 4096, 4096, 4096 and 10 bytes, then the OUT to the exit port.
    expect(r.s.exits.by_reason.IO_INSTRUCTION).toBe(4 + 1);
  });

  it('32-bit address size (0x67): ESI is used and written back zero-extended', () => {
    const r = runAsm(`
      mov rsi, 0xffffffff00000000
      lea rax, [rip + msg]
      or rsi, rax
      mov dx, 0x3f8
      mov ecx, 2
      cld
      .byte 0x67, 0xf3, 0x6e          # addr32 rep outsb
      ${SAVE}
      ${EXIT0}
    msg: .ascii "ok"`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.console).toBe('ok');
    expect(r.u64(8) >> 32n).toBe(0n);
  });

  it('OUTS honours a segment override (FS base from MSR 0xc0000100); INS always writes through ES', () => {
    const r = runAsm(`
      lea rax, [rip + msg]
      mov rdx, rax
      shr rdx, 32
      mov ecx, 0xc0000100
      wrmsr                             # FS base = msg
      xor esi, esi
      mov dx, 0x3f8
      mov ecx, 3
      cld
      .byte 0x64, 0xf3, 0x6e          # rep outsb fs:[rsi]
      ${SAVE}
      ${EXIT0}
    msg: .ascii "fs!"`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.console).toBe('fs!');
    expect(r.u64(8)).toBe(3n);
  });

  it('the exit records what SDM 28.2.1 / 28.2.5 say: qualification (size, IN, string, REP, port), linear address, address size and segment', () => {
    const exits: IoExit[] = [];
    const r = runAsm(`
      mov rax, ${0x208000}
      xor edx, edx
      mov ecx, 0xc0000101
      wrmsr                             # GS base = 0x208000
      mov esi, 0x10
      mov rdi, ${BUF}
      mov dx, 0x1234
      mov ecx, 1
      .byte 0x65, 0xf3, 0x66, 0x6f      # rep outsw gs:[rsi]
      .byte 0x67, 0x6d                  # insd (addr32): [edi]
      ${EXIT0}`, 3, exits);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(exits.length).toBe(3);
    // OUTSW: size 2 (bits 2:0 = 1), OUT, string (bit 4), REP (bit 5), port 0x1234 in bits 31:16.
    expect(exits[0].qual).toBe(0x1n | 0x10n | 0x20n | (0x1234n << 16n));
    expect(exits[0].gla).toBe(0x208010n);                      // GS base + RSI
    expect(exits[0].info).toBe((2n << 7n) | (5n << 15n));      // 64-bit address size, GS
    // INSD: size 4, IN (bit 3), string, no REP; 32-bit address size; the segment is undefined for INS.
    expect(exits[1].qual).toBe(0x3n | 0x8n | 0x10n | (0x1234n << 16n));
    expect(exits[1].gla).toBe(BigInt(BUF));
    expect(exits[1].info & (7n << 7n)).toBe(1n << 7n);
  });

  it('a #PF in the middle of REP INSB: delivered with CR2 at the unmapped page and RCX/RDI at the iterations done', () => {
    // 4 MiB of RAM: the loader's page tables map linear [0, 4 MiB); 0x400000 is not mapped.
    const IDT = 0x210000;
    const r = runAsm(`
      lea rax, [rip + pf]
      mov word ptr [${IDT + 14 * 16}], ax
      mov word ptr [${IDT + 14 * 16 + 2}], 0x08
      mov word ptr [${IDT + 14 * 16 + 4}], 0x8e00
      shr rax, 16
      mov word ptr [${IDT + 14 * 16 + 6}], ax
      mov dword ptr [${IDT + 14 * 16 + 8}], 0
      lidt [rip + idtr]
      mov rdi, 0x3ffffe
      mov dx, 0x3fd
      mov ecx, 5
      cld
      rep insb
      hlt
    idtr: .word 0xfff
      .quad ${IDT}
    pf:
      ${SAVE}
      pop rax
      mov [${OUT + 24}], rax          # error code
      mov rax, cr2
      mov [${OUT + 32}], rax
      ${EXIT0}`, 4);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.u64(0)).toBe(3n);                 // two of five done
    expect(r.u64(16)).toBe(0x400000n);
    expect(r.u64(32)).toBe(0x400000n);
    expect(r.u64(24)).toBe(2n);                // a write to a not-present page at CPL 0
    expect(r.bytes(0x3ffffe, 2)).toEqual([0x60, 0x60]);
  });
});
