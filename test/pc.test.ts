// The 'pc' platform of a domain (src/xen/hvm/pc.ts): which ports answer, and
// that ports no device claims behave as on a PC's bus (reads all ones,
// writes dropped: devices/portio.ts), so Linux's probes find no device there
// (drivers/input/serio/i8042.c i8042_controller_check: a status of 0xff
// means "No controller found"; 8250 autoconfig's IER test fails on COM2),
// and the devices in a running guest: I/O exits, the vpic, vmx_intr_assist.
import { describe, it, expect } from 'vitest';
import { Domain } from '../src/xen/domain.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { prepareRun } from '../src/run.js';
import { asm, haveAssembler } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

describe('the pc platform: devices at the PC\'s ports, nothing elsewhere', () => {
  const d = new Domain({ memMiB: 4, platform: 'pc', pc: { rtcStart: new Date(Date.UTC(2030, 0, 2, 3, 4, 5)) } });
  const inb = (p: number) => d.io.read(p, 1), outb = (p: number, v: number) => d.io.write(p, 1, v);

  it('the PICs, PIT, port 0x61, RTC and COM1 answer; the vpic is the domain\'s interrupt controller', () => {
    expect(d.irq).toBe(d.pc!.vpic);
    expect(d.tvmIrq).toBeUndefined();
    outb(0x21, 0x5a); expect(inb(0x21)).toBe(0x5a);
    outb(0xa1, 0xa5); expect(inb(0xa1)).toBe(0xa5);
    outb(0x43, 0x34); outb(0x40, 0x34); outb(0x40, 0x12);
    outb(0x43, 0x00); expect(inb(0x40) | (inb(0x40) << 8)).toBe(0x1234);       // no virtual time has passed
    expect(inb(0x61) & 0x01).toBe(0);                          // channel 2's gate starts low
    outb(0x70, 0x09); expect(inb(0x71)).toBe(0x30);            // the run option's start year
    outb(0x70, 0x04); expect(inb(0x71)).toBe(0x03);
    outb(0x3ff, 0x77); expect(inb(0x3ff)).toBe(0x77);          // COM1 scratch
  });

  it('unclaimed ports read all ones at every size and drop writes: no i8042 at 0x60/0x64, no COM2', () => {
    const before = d.io.unclaimed;
    expect(inb(0x64)).toBe(0xff);                              // i8042_controller_check: no controller
    expect(inb(0x60)).toBe(0xff);
    outb(0x64, 0xaa);                                          // a self-test command goes nowhere
    expect(inb(0x60)).toBe(0xff);
    expect(d.io.read(0x64, 2)).toBe(0xffff);
    expect(d.io.read(0xcfc, 4)).toBe(0xffffffff);
    outb(0x2f9, 0); expect(inb(0x2f9) & 0x0f).toBe(0x0f);      // 8250 autoconfig: IER reads back 0x0f: no UART
    expect(d.io.unclaimed - before).toBe(8);
  });

  it('the tvm platform (the default) has none of them', () => {
    const t = new Domain({ memMiB: 4 });
    expect(t.platform).toBe('tvm');
    expect(t.pc).toBeUndefined();
    expect(t.vcpus[0].timer).toBeDefined();
    expect(t.io.read(0x21, 1)).toBe(0xff);
    expect(t.io.read(0x40, 1)).toBe(0xff);
    expect(t.io.read(0x71, 1)).toBe(0xff);
  });
});


const dir = mkdtempSync(join(tmpdir(), 'vmvmi-pcplat-'));

function runPc(src: string, onConsole?: (b: Uint8Array) => void) {
  const file = join(dir, `g${Math.random().toString(36).slice(2)}.elf`);
  writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(src, 0x100000) }]));
  const p = prepareRun({ image: file, systemMap: false, onConsole, domain: { platform: 'pc' } });
  return { d: p.d, stop: p.d.sched.run({ maxInsns: 2_000_000n }) };
}

/** Installs handler `label` at IDT vector `vec`, loads the IDT, initialises the PICs at 0x30/0x38 (Linux's init_8259A). */
const prologue = (vec: number, label: string) => `
      lea rax, [rip + ${label}]
      lea rdi, [rip + idt]
      mov word ptr [rdi + ${vec * 16}], ax
      mov word ptr [rdi + ${vec * 16 + 2}], 0x08
      mov word ptr [rdi + ${vec * 16 + 4}], 0x8e00
      shr rax, 16
      mov word ptr [rdi + ${vec * 16 + 6}], ax
      lea rax, [rip + idtr]
      mov qword ptr [rax + 2], rdi
      lidt [rax]
      mov al, 0xff; out 0x21, al; out 0xa1, al
      mov al, 0x11; out 0x20, al; mov al, 0x30; out 0x21, al; mov al, 4; out 0x21, al; mov al, 1; out 0x21, al
      mov al, 0x11; out 0xa0, al; mov al, 0x38; out 0xa1, al; mov al, 2; out 0xa1, al; mov al, 1; out 0xa1, al
`;
const epilogue = `
      .balign 16
    idtr: .word 0x3ff
      .quad 0
      .balign 16
    idt: .fill 0x400, 1, 0
`;
const EXIT_EBX = 'mov eax, ebx\nmov dx, 0x501\nout dx, eax\n';

describe.skipIf(!haveAssembler())('the pc platform in a running guest: interrupt-driven serial and the RTC', () => {
  it('THRE interrupts on IRQ4 (vector 0x34) send a string as Linux\'s serial8250_tx_chars does', () => {
    const out: number[] = [];
    const { d, stop } = runPc(`${prologue(0x34, 'isr')}
      mov al, 0xef; out 0x21, al                 # unmask IRQ4
      mov dx, 0x3fc; mov al, 0x0b; out dx, al    # MCR: DTR RTS OUT2
      lea rsi, [rip + msg]
      mov dx, 0x3f9; mov al, 0x02; out dx, al    # IER: ETBEI
    1: sti
      hlt
      cli
      cmp byte ptr [rsi], 0
      jne 1b
      mov dx, 0x3fa; in al, dx                   # IIR: nothing pending once ETBEI is off
      movzx ebx, al
      ${EXIT_EBX}
    isr:
      push rax; push rdx
      mov dx, 0x3fa; in al, dx                   # IIR
      cmp al, 0xc2; je 2f
      cmp al, 0x02; jne 4f
    2: mov al, byte ptr [rsi]
      test al, al; jz 3f
      mov dx, 0x3f8; out dx, al
      inc rsi
      jmp 4f
    3: mov dx, 0x3f9; xor eax, eax; out dx, al  # nothing left: stop TX
    4: mov al, 0x20; out 0x20, al
      pop rdx; pop rax
      iretq
    msg: .asciz "interrupt-driven\\n"
    ${epilogue}`, (b) => out.push(...b));
    expect(stop).toEqual({ kind: 'shutdown' });
    expect(String.fromCharCode(...out)).toBe('interrupt-driven\n');
    expect(d.shutdownInfo?.status).toBe(0x01);
    expect(d.pc!.vpic.delivered).toBe(17 + 1);               // one per byte, one to find the string's end
  });

  it('a received byte (pushInput) raises RDA on IRQ4; the guest reads it from RBR', () => {
    const file = join(dir, 'rx.elf');
    writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(`${prologue(0x34, 'isr')}
      mov al, 0xef; out 0x21, al
      mov dx, 0x3fc; mov al, 0x0b; out dx, al
      mov dx, 0x3f9; mov al, 0x01; out dx, al    # IER: ERBFI
      xor ebx, ebx
    1: sti
      hlt
      cli
      test ebx, ebx
      jz 1b
      ${EXIT_EBX}
    isr:
      push rax; push rdx
      mov dx, 0x3f8; in al, dx
      movzx ebx, al
      mov al, 0x20; out 0x20, al
      pop rdx; pop rax
      iretq
    ${epilogue}`, 0x100000) }]));
    const p = prepareRun({ image: file, systemMap: false, domain: { platform: 'pc' } });
    expect(p.d.sched.run({ maxInsns: 200_000n, maxVcycles: p.d.machine.vcycles + 1_000_000n })).toEqual({ kind: 'limit', which: 'max-vtime' });
    p.d.uart.pushInput([0x5a]);
    expect(p.d.sched.run({ maxInsns: 200_000n })).toEqual({ kind: 'shutdown' });
    expect(p.d.shutdownInfo?.status).toBe(0x5a);
  });

  it('the guest reads the RTC\'s year through ports 0x70/0x71 (BCD 0x26 by default)', () => {
    const { d, stop } = runPc(`
      mov al, 0x8b; out 0x70, al; in al, 0x71    # register B, NMI-mask bit set
      cmp al, 0x02; jne 9f
      mov al, 0x09; out 0x70, al; in al, 0x71
      movzx ebx, al
      ${EXIT_EBX}
    9: mov ebx, 0xee
      ${EXIT_EBX}`);
    expect(stop).toEqual({ kind: 'shutdown' });
    expect(d.shutdownInfo?.status).toBe(0x26);
  });

  it('Linux\'s pit_calibrate_tsc in the guest: RDTSC across channel 2\'s 10 ms one-shot measures the TSC\'s rate', () => {
    const latch = Math.round(1193182 / 100);      // CAL_LATCH for CAL_MS = 10
    const { d, stop } = runPc(`
      in al, 0x61; and al, 0xfd; or al, 1; out 0x61, al     # gate high, speaker off
      mov al, 0xb0; out 0x43, al                            # channel 2, LSB/MSB, mode 0
      mov al, ${latch & 0xff}; out 0x42, al
      mov al, ${latch >> 8}; out 0x42, al
      rdtsc; shl rdx, 32; or rax, rdx; mov r8, rax
      xor r10d, r10d
    1: inc r10
      in al, 0x61; test al, 0x20; jz 1b
      rdtsc; shl rdx, 32; or rax, rdx; sub rax, r8; mov r9, rax
      xor eax, eax; mov dx, 0x501; out dx, eax`);
    expect(stop).toEqual({ kind: 'shutdown' });
    const measured = Number(d.machine.gpr('r9')), loops = Number(d.machine.gpr('r10'));
    const expected = latch / 1193182 * d.tscKhz * 1000;
    // The PIT and the TSC run on the one virtual clock: the error is at most one poll (an I/O exit).
    expect(Math.abs(measured - expected)).toBeLessThan(measured / loops + 100);
    expect(loops).toBeGreaterThan(1000);            // CAL_PIT_LOOPS: the calibration accepts the run
  });
});
