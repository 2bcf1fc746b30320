// Assembles small Intel-syntax snippets with GNU as (present wherever gcc is),
// caching the bytes by content so reruns need no toolchain work.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const CACHE = join(import.meta.dirname ?? '.', '..', '.cache', 'asm');

export function haveAssembler(): boolean {
  try { execFileSync('as', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Assembles `src` for 64-bit mode at origin `org`; returns the raw bytes of .text. */
export function asm(src: string, org = 0): Uint8Array {
  const text = `.intel_syntax noprefix\n.code64\n.text\n${src}\n`;
  const key = createHash('sha256').update(text).update(String(org)).digest('hex').slice(0, 24);
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${key}.bin`);
  if (existsSync(out)) return new Uint8Array(readFileSync(out));
  const dir = tmpdir();
  const s = join(dir, `vmvmi-${key}.s`), o = join(dir, `vmvmi-${key}.o`), e = join(dir, `vmvmi-${key}.elf`);
  writeFileSync(s, text);
  execFileSync('as', ['--64', '-o', o, s]);
  execFileSync('ld', ['-Ttext', '0x' + org.toString(16), '--oformat', 'binary', '-e', '0', '-o', e, o], { stdio: 'pipe' });
  const bytes = readFileSync(e);
  writeFileSync(out, bytes);
  return new Uint8Array(bytes);
}

/**
 * A guest that installs an IDT whose vector 0x20 handler counts ticks in ebx, then loops STI; HLT
 * until `ticks` ticks have come, then runs `exit` (assembly that ends the run). `setup` runs after
 * LIDT (programming the interrupt controller and timer); `eoi` runs in the handler before IRETQ.
 */
export function tickLoop(ticks: number, exit: string, setup = '', eoi = ''): string {
  return `
      lea rax, [rip + handler]
      lea rdi, [rip + idt]
      mov word ptr [rdi + 0x200], ax
      mov word ptr [rdi + 0x202], 0x08
      mov word ptr [rdi + 0x204], 0x8e00
      shr rax, 16
      mov word ptr [rdi + 0x206], ax
      lea rax, [rip + idtr]
      mov qword ptr [rax + 2], rdi
      lidt [rax]
      ${setup}
      xor ebx, ebx
    1: sti
      hlt
      cli
      cmp ebx, ${ticks}
      jb 1b
      ${exit}
    handler:
      inc ebx
      ${eoi}
      iretq
      .balign 16
    idtr: .word 0x2ff
      .quad 0
      .balign 16
    idt: .skip 0x300`;
}
