// A guest that raises VMI requests and nothing else (firmware/README.md: the boot protocol, and the
// paper's request: HVMOP_vmi_trigger turns RDTSC exiting on, `mov $0, %eax; mov $10+k, %ecx; vmfunc`
// switches to the mirror of view k, the next RDTSC exits and the hypervisor raises the request with
// parameter k). Each burst is a list of parameters raised back to back; between bursts the guest
// spins `gap` loop iterations (two instructions each), then it writes 0 to the exit port.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asm } from './asm.js';
import { makeElf } from './elf.js';

const LOAD = 0x100000;

export function requestGuestElf(bursts: number[][], gap = 0): Uint8Array {
  let body = '';
  bursts.forEach((burst, i) => {
    for (const k of burst) body += `  xor eax, eax\n  mov ecx, ${10 + k}\n  vmfunc\n  rdtsc\n`;
    if (gap && i < bursts.length - 1) body += `  mov ebx, ${gap}\n${20 + i}:\n  dec ebx\n  jnz ${20 + i}b\n`;
  });
  return makeElf(LOAD, [{ paddr: LOAD, data: asm(`
    lea rsi, [rip + arg]
    mov edi, 0x4001
    mov eax, 34
    vmcall
${body}
    xor eax, eax
    mov dx, 0x501
    out dx, eax
  arg: .word 0x7ff0, 0
    .long 1
  `, LOAD) }]);
}

/** A guest raising `n` requests with parameter `k` in one burst, written to `dir`; returns its path. */
export function burstGuest(dir: string, n: number, k = 1): string {
  const path = join(dir, `burst-${n}-${k}.elf`);
  // A loop rather than n copies: the image stays small for any n.
  writeFileSync(path, makeElf(LOAD, [{ paddr: LOAD, data: asm(`
    lea rsi, [rip + arg]
    mov edi, 0x4001
    mov eax, 34
    vmcall
    mov ebx, ${n}
  1:
    xor eax, eax
    mov ecx, ${10 + k}
    vmfunc
    rdtsc
    dec ebx
    jnz 1b
    xor eax, eax
    mov dx, 0x501
    out dx, eax
  arg: .word 0x7ff0, 0
    .long 1
  `, LOAD) }]));
  return path;
}

/** requestGuestElf written to `dir/name`; returns its path. */
export function writeRequestGuest(dir: string, name: string, bursts: number[][], gap = 0): string {
  const path = join(dir, name);
  writeFileSync(path, requestGuestElf(bursts, gap));
  return path;
}
