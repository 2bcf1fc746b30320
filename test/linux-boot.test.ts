// Issue 14: the bundled Linux (firmware/linux/: Debian's linux-source-6.1 with the vmi_trigger patch,
// a BusyBox initramfs) boots under the emulated Xen by the 64-bit boot protocol (Linux
// Documentation/x86/boot.rst) on the PC platform, and the paper's mechanism introspects it: vmireq
// calls vmi_trigger(1) (HVMOP 0x4001: RDTSC exiting on), executes VMFUNC(0, 11), keeps reading the
// TSC; Xen's RDTSC handler sees the mirror view and raises the request; Dom0's process-list walks
// Linux's own task list with offsets from the kernel's DWARF (firmware/linux/linux.profile.json).
import { describe, it, expect } from 'vitest';
import { runImageWithLaunches } from '../src/run-launch.js';

async function boot(cmdline?: string) {
  let out = '';
  const s = await runImageWithLaunches({
    image: 'linux', ...(cmdline ? { cmdline } : {}), maxInsns: 1_000_000_000n,
    onConsole: (b) => { out += Buffer.from(b).toString('latin1'); },
  });
  return { s, out };
}

describe('the bundled Linux under the emulated Xen (issue 14)', () => {
  it('boots to /init, asks for VMI with VMFUNC, and Dom0 lists Linux\'s tasks, the requester among them', async () => {
    const { s, out } = await boot();
    expect(out).toMatch(/Linux version 6\.1\.\d+ \(vmfunc@vmfunc-vmi\)/);
    expect(out).toMatch(/serial8250: ttyS0 at I\/O 0x3f8 \(irq = 4, base_baud = 115200\) is a 16550A/);
    expect(out).toMatch(/Run \/init as init process/);
    expect(s.first_user_process).not.toBeNull();
    expect(out).toMatch(/vmfunc-vmi guest: Linux 6\.1\.\d+, BusyBox v1\.\d+/);
    expect(out).toMatch(/vmi_trigger: RDTSC exiting on \(HVMOP 0x4001\) -> 0/);
    expect(out).toMatch(/vmireq\[\d+\]: VMFUNC\(0, 11\) done, still running/);
    expect(s.vmi_requests.map((r) => r.eptp_index)).toEqual([11]);
    const pl = s.vmi_programs[0];
    expect(pl.program).toMatch(/process-list/);
    expect(pl.exit_code).toBe(0);
    expect(pl.stdout).toMatch(/\[ +0\] swapper/);
    expect(pl.stdout).toMatch(/\[ +1\] init/);
    expect(pl.stdout).toMatch(/\[ +2\] kthreadd/);
    expect(pl.stdout).toMatch(/\] vmireq \(struct addr:ffff888/);
    expect(s.exit.status).toBe(0);                    // init: vmireq's status, then vmexit
  });

  it('run=CMD runs inside (BusyBox sh) and its exit status ends the run through the exit port', async () => {
    const { s, out } = await boot('console=ttyS0 nolapic panic=-1 vmireq=0 run="echo hello from busybox; exit 7"');
    expect(out).toMatch(/hello from busybox/);
    expect(s.vmi_requests).toEqual([]);
    expect(s.exit.status).toBe(7);
    expect(s.exit.kind).toBe('shutdown');
  });
});
