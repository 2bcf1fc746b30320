// Fuzz: random hypercalls and HVMOPs from a test guest (firmware/README.md "Hypercalls": number in
// RAX, arguments in RDI, RSI, RDX, R10, R8, pointers guest-virtual under CR3, -errno in RAX). The
// guest runs a table of calls: known numbers with their sub-operations (xen_version, console_io,
// sched_op, hvm_op with HVMOP_get/set_param, HVMOP_altp2m's commands, HVMOP_vmi_trigger), unknown
// ones, pointers into a block of random bytes or to nowhere, huge counts. Whatever the guest asks,
// the hypervisor answers or stops the domain as Xen would: the run ends (shutdown, crash or a limit)
// with a summary, the host neither throws nor runs away in time or memory, and unknown numbers are
// counted under their own names.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImage } from '../../src/run.js';
import { asm, haveAssembler } from '../helpers/asm.js';
import { makeElf } from '../helpers/elf.js';
import { fuzz, fuzzTimeout, type Rnd } from './fuzz.js';
import * as X from '../../src/xen/public.js';

const LOAD = 0x100000, CALLS = 300, ENTRY = 48;
const code = () => asm(`
  lea rbx, [rip + table]
  mov r12d, ${CALLS}
1:
  mov rax, [rbx]
  mov rdi, [rbx + 8]
  mov rsi, [rbx + 16]
  mov rdx, [rbx + 24]
  mov r10, [rbx + 32]
  mov r8, [rbx + 40]
  vmcall
  add rbx, ${ENTRY}
  dec r12d
  jnz 1b
  xor eax, eax
  mov dx, 0x501
  out dx, eax
  .balign 64
table:
`, LOAD);

/** The image: the loop, the call table, then a scratch block of random bytes with plausible headers. */
function image(r: Rnd): Uint8Array {
  const c = code();
  const tableAt = LOAD + c.length, scratchAt = tableAt + CALLS * ENTRY, scratchLen = 64 * CALLS;
  const table = new DataView(new ArrayBuffer(CALLS * ENTRY));
  const scratch = r.bytes(scratchLen);
  const sv = new DataView(scratch.buffer);
  const wild = () => r.pick([0n, 0xfffffffffffff000n, 0x8000000000000000n, 0xdead0000000n, BigInt(r.int(2 ** 32)), 0x3ff000n]);
  for (let k = 0; k < CALLS; k++) {
    const block = scratchAt + 64 * k;
    const nr = r.pick([X.__HYPERVISOR_xen_version, X.__HYPERVISOR_console_io, X.__HYPERVISOR_sched_op, X.__HYPERVISOR_hvm_op,
      X.__HYPERVISOR_hvm_op, X.__HYPERVISOR_hvm_op, X.__HYPERVISOR_vcpu_op, X.__HYPERVISOR_event_channel_op, X.__HYPERVISOR_iret, 0, r.int(64), r.int(2 ** 31)]);
    let op = BigInt(r.int(8));
    if (nr === X.__HYPERVISOR_hvm_op) {
      op = BigInt(r.pick([X.HVMOP_set_param, X.HVMOP_get_param, X.HVMOP_altp2m, X.HVMOP_altp2m, X.HVMOP_vmi_trigger, r.int(0x5000)]));
      // struct xen_hvm_altp2m_op: version 1 (mostly), cmd, domain (DOMID_SELF mostly), then the union.
      if (r.chance(0.8)) sv.setUint32(64 * k, 1, true);
      sv.setUint32(64 * k + 4, r.int(14), true);
      if (r.chance(0.8)) sv.setUint16(64 * k + 8, 0x7ff0, true);
      sv.setUint16(64 * k + 16, r.int(12), true);
      if (r.chance(0.5)) sv.setBigUint64(64 * k + 24, BigInt(r.int(0x2000)), true);
    } else if (nr === X.__HYPERVISOR_sched_op) {
      op = BigInt(r.chance(0.02) ? X.SCHEDOP_shutdown : r.pick([X.SCHEDOP_yield, X.SCHEDOP_poll, X.SCHEDOP_shutdown_code, 7, 99]));
    }
    const ptr = r.chance(0.8) ? BigInt(block) : wild();
    const count = r.pick([0n, 1n, 16n, 64n, BigInt(r.int(4096)), 0xffffffffn, 0xffffffffffffffffn]);
    const e = k * ENTRY;
    table.setBigUint64(e, BigInt.asUintN(64, BigInt(nr)), true);
    table.setBigUint64(e + 8, op, true);
    table.setBigUint64(e + 16, nr === X.__HYPERVISOR_console_io ? ptr : r.chance(0.5) ? ptr : BigInt(r.int(2 ** 31)), true);
    table.setBigUint64(e + 24, nr === X.__HYPERVISOR_console_io ? ptr : count, true);
    table.setBigUint64(e + 32, r.chance(0.5) ? ptr : count, true);
    table.setBigUint64(e + 40, wild(), true);
    // console_io: (cmd, count, buffer) = rdi, rsi, rdx.
    if (nr === X.__HYPERVISOR_console_io) { table.setBigUint64(e + 16, count, true); table.setBigUint64(e + 24, ptr, true); }
  }
  const data = new Uint8Array(c.length + CALLS * ENTRY + scratchLen);
  data.set(c); data.set(new Uint8Array(table.buffer), c.length); data.set(scratch, c.length + CALLS * ENTRY);
  return makeElf(LOAD, [{ paddr: LOAD, data }]);
}

describe.skipIf(!haveAssembler())('fuzz: random hypercalls and HVMOPs from a guest', () => {
  it('every run ends with a summary; the host never throws; time and console stay bounded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmvmi-fuzz-hc-'));
    let calls = 0;
    const kinds: Record<string, number> = {};
    const run = await fuzz('hypercall', 60, (r, i) => {
      const file = join(dir, `g${i}.elf`);
      writeFileSync(file, image(r));
      let consoleBytes = 0;
      const t = Date.now();
      const s = runImage({ image: file, systemMap: false, memMiB: 4, maxInsns: 200_000n, vmi: {},
        onConsole: (b) => { consoleBytes += b.length; }, onLog: () => {} });
      if (!['shutdown', 'crash', 'limit'].includes(s.exit.kind)) throw new Error(`exit ${JSON.stringify(s.exit)}`);
      if (Date.now() - t > 20_000) throw new Error(`${Date.now() - t} ms for ${CALLS} calls`);
      if (consoleBytes > CALLS * 4096 * 2) throw new Error(`${consoleBytes} console bytes`);
      for (const [name, n] of Object.entries(s.hypercalls)) {
        if (/-|NaN|undefined/.test(name)) throw new Error(`hypercall counted as "${name}"`);
        calls += n;
      }
      kinds[s.exit.kind] = (kinds[s.exit.kind] ?? 0) + 1;
    });
    console.log(`fuzz hypercall: ${calls} hypercalls, runs ending ${JSON.stringify(kinds)}`);
    expect(run.failures).toEqual([]);
    expect(calls).toBeGreaterThan(1000);
  }, fuzzTimeout(120_000));
});
