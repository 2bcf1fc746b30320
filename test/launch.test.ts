// The VMI launch module on the bundled TVM (issue: the paper's mechanism end
// to end): the request launches the configured WASI program, which reads the
// guest through view 0 while the guest keeps running; misbehaving programs
// are contained and the guest is unaffected.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImageWithLaunches } from '../src/run-launch.js';
import { DEFAULT_LAUNCH_CONFIG, loadLaunchConfig, LaunchConfigError } from '../src/dom0/launch.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-'));
// Minimal WASI commands: _start traps (unreachable), or loops forever.
const module = (body: number[]) => new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                          // type () -> ()
  0x03, 0x02, 0x01, 0x00,                                      // one function
  0x05, 0x03, 0x01, 0x00, 0x01,                                // memory 1 page
  0x07, 0x13, 0x02, 0x06, ...Buffer.from('_start'), 0x00, 0x00, 0x06, ...Buffer.from('memory'), 0x02, 0x00,
  0x0a, body.length + 3, 0x01, body.length + 1, 0x00, ...body,
]);
writeFileSync(join(dir, 'trap.wasm'), module([0x00, 0x0b]));
writeFileSync(join(dir, 'loop.wasm'), module([0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b]));
const config = (programs: Record<string, string>, extra: Record<string, unknown> = {}) => {
  const f = join(dir, `cfg-${Object.values(programs).join('-').replace(/\W/g, '')}.json`);
  writeFileSync(f, JSON.stringify({ programs, ...extra }));
  return loadLaunchConfig(f);
};

/** The kernel's own task-list printout: "[ 0.003384] [    1] init (struct addr:ffff888000128000) state R ...". */
function kernelTaskLists(console: string): string[][] {
  const lists: string[][] = [];
  for (const line of console.split('\n')) {
    if (/tvm: task list/.test(line)) lists.push([]);
    const m = /\] (\[\s*\d+\] \S+ \(struct addr:[0-9a-f]+\))/.exec(line);
    if (m && lists.length) lists[lists.length - 1].push(m[1]);
  }
  return lists;
}

describe('VMI launch module', () => {
  it('process-list, launched by the request, prints exactly the guest\'s own task list (inline mode)', async () => {
    let console = '';
    const s = await runImageWithLaunches({ launchMode: 'inline', vmi: {}, onConsole: (b) => { console += Buffer.from(b).toString(); } });
    expect(s.exit.status).toBe(0);
    expect(s.vmi_programs).toHaveLength(1);
    const p = s.vmi_programs[0];
    expect(p).toMatchObject({ program: 'process-list', args: ['process-list', '1', '11'], exit_code: 0 });
    const lines = p.stdout.trim().split('\n');
    expect(lines[0]).toBe('Process listing for VM d1 (id=1)');
    const kernel = kernelTaskLists(console);
    expect(kernel.length).toBeGreaterThan(0);
    expect(lines.slice(1)).toEqual(kernel[0]);
    expect(lines.slice(1)).toContain('[    4] vmireq (struct addr:ffff88800015f000)');
  });

  it('the hooked system call of the rootkit scenario is named by syscall-check', async () => {
    const s = await runImageWithLaunches({ launchMode: 'inline', cmdline: 'rootkit', vmi: {},
      launchConfig: config({ 1: 'syscall-check' }) });
    const p = s.vmi_programs[0];
    expect(p.exit_code).toBe(2);
    expect(p.stdout).toMatch(/\[\s+39\] ffffffff[0-9a-f]+ evil_getpid <- HOOKED/);
    expect(p.stdout).toContain('1 of 404 entries hooked.');
  });

  it('without the rootkit, syscall-check finds the table intact', async () => {
    const s = await runImageWithLaunches({ launchMode: 'inline', vmi: {}, launchConfig: config({ 1: 'syscall-check' }) });
    expect(s.vmi_programs[0].exit_code).toBe(0);
    expect(s.vmi_programs[0].stdout).toContain('No hooked entries.');
  });

  it('a trapping program and a looping one are stopped and reported; the guest runs on to a clean exit', async () => {
    const trap = await runImageWithLaunches({ vmi: {}, launchConfig: config({ 1: join(dir, 'trap.wasm') }) });
    expect(trap.exit.status).toBe(0);
    expect(trap.vmi_programs[0].error).toMatch(/^trap: unreachable/);
    const loop = await runImageWithLaunches({ vmi: {}, launchConfig: config({ 1: join(dir, 'loop.wasm') }, { time_limit_ms: 300 }) });
    expect(loop.exit.status).toBe(0);
    expect(loop.vmi_programs[0].error).toMatch(/time limit/);
  });

  it('runs concurrently by default: the guest retires instructions while the program runs', async () => {
    const s = await runImageWithLaunches({ vmi: {} });
    expect(s.exit.status).toBe(0);
    expect(s.vmi_programs[0].exit_code).toBe(0);
    expect(s.vmi_programs[0].guest_insns_during).toBeGreaterThan(0);
    expect(s.vmi_programs[0].stdout).toMatch(/^Process listing for VM d1 \(id=1\)\n\[    0\] swapper/);
  });

  it('launch configurations: defaults, and one-line errors naming the file and field', () => {
    expect(DEFAULT_LAUNCH_CONFIG.programs[1]).toBe('process-list');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ programs: { x: 'a' } }));
    expect(() => loadLaunchConfig(bad)).toThrow(new LaunchConfigError(`${bad}: programs."x": the key must be a request parameter (0..65535)`));
    writeFileSync(bad, JSON.stringify({ nonsense: 1 }));
    expect(() => loadLaunchConfig(bad)).toThrow(/unknown field "nonsense"/);
  });
});
