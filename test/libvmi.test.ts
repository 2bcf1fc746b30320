// Dom0's LibVMI against a synthetic Linux-like guest (test/helpers/vmi-guest.ts):
// every API, with known values and the failures LibVMI reports.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Vmi, VMI_SUCCESS, VMI_FAILURE, VMI_OS_LINUX, LIBVMI_REGS, regName, machineVcpuReg,
  linux_tasks,
} from '../src/dom0/libvmi/index.js';
import { loadProfile, parseProfile, profileFromObject, SymbolMap, ProfileError } from '../src/dom0/profile.js';
import {
  buildSyntheticGuest, type SyntheticGuest, SYM, OFF, KPGD, PAGE_OFFSET, KERNEL_MAP, VMALLOC, USER_VA,
  GUEST_MEM, EPT_HOLE, BANNER,
} from './helpers/vmi-guest.js';
import { packageRoot } from '../src/util/paths.js';

let g: SyntheticGuest;
let vmi: Vmi;
const TVM_PROFILE = join(packageRoot(), 'firmware', 'tvm', 'tvm.profile.json');

beforeAll(() => {
  g = buildSyntheticGuest();
  vmi = new Vmi(g.domain, { profile: loadProfile(g.profilePath) });
});

describe('profile and System.map', () => {
  it('loads the profile with hex and decimal offsets and resolves the System.map beside it', () => {
    const p = loadProfile(g.profilePath);
    expect(p.ostype).toBe('Linux');
    expect(p.sysmap).toBe(join(g.dir, 'System.map'));
    expect(p.offsets.get('linux_tasks')).toBe(BigInt(OFF.tasks));
    expect(p.offsets.get('linux_mm')).toBe(BigInt(OFF.mm));
    expect(p.offsets.get('linux_name')).toBe(BigInt(OFF.comm));
  });

  it('rejects bad profiles with one line naming the file and the field', () => {
    const bad = (o: unknown) => () => profileFromObject(o, '/etc/tvm.json');
    expect(bad({ linux_tasks: 1 })).toThrow('/etc/tvm.json: field "ostype" is missing (use "Linux")');
    expect(bad({ ostype: 'Windows' })).toThrow('/etc/tvm.json: field "ostype" must be "Linux", got "Windows"');
    expect(bad({ ostype: 'Linux', linux_tasks: '0xZZ' })).toThrow('/etc/tvm.json: field "linux_tasks" must be a number or a hex string like "0x2a8", got "0xZZ"');
    expect(bad({ ostype: 'Linux', linux_pid: -4 })).toThrow('/etc/tvm.json: field "linux_pid" must be a non-negative integer, got -4');
    expect(bad({ ostype: 'Linux', linux_name: true })).toThrow('field "linux_name" must be a number or a hex string');
    expect(bad({ ostype: 'Linux', 'Linux-Tasks': 1 })).toThrow('/etc/tvm.json: unknown field "Linux-Tasks"');
    expect(bad({ ostype: 'Linux', sysmap: 3 })).toThrow('/etc/tvm.json: field "sysmap" must be a file path string, got 3');
    expect(bad({ ostype: 'Linux', kpgd: '0x1234' })).toThrow('field "kpgd" must be 4 KiB aligned');
    expect(bad([1, 2])).toThrow('/etc/tvm.json: a profile must be a JSON object');
    expect(() => parseProfile('{"ostype": "Linux",', 'p.json')).toThrow(/^p\.json: not valid JSON/);
    expect(() => loadProfile(join(g.dir, 'missing.json'))).toThrow(/missing\.json: cannot read the profile \(ENOENT\)/);
    for (const f of [bad({}), bad({ ostype: 'x' })]) {
      try { f(); } catch (e) { expect(e).toBeInstanceOf(ProfileError); expect((e as Error).message).not.toContain('\n'); }
    }
  });

  it.skipIf(!existsSync(TVM_PROFILE))('loads the TVM firmware\'s own profile and System.map', () => {
    const p = loadProfile(TVM_PROFILE);
    for (const k of ['linux_tasks', 'linux_mm', 'linux_pid', 'linux_name', 'linux_pgd', 'linux_current_task']) {
      expect(p.offsets.has(k)).toBe(true);
    }
    const syms = SymbolMap.load(p.sysmap!);
    expect(syms.lookup('init_task')).toBeGreaterThanOrEqual(0xffffffff80000000n);
    expect(syms.lookup('sys_call_table')).toBeDefined();
  });

  it('parses nm -n output, skipping undefined symbols, and reports malformed lines with their number', () => {
    const s = SymbolMap.parse(g.sysmap);
    expect(s.lookup('init_task')).toBe(SYM.init_task);
    expect(s.lookup('printk')).toBeUndefined();
    expect(s.nameAt(SYM.sys_write)).toBe('sys_write');
    expect(s.nearest(SYM.sys_write + 0x10n)).toEqual({ name: 'sys_write', offset: 0x10n });
    expect(() => SymbolMap.parse('ffffffff81000000 T _start\nnot a symbol line\n', 'System.map'))
      .toThrow('System.map:2: expected "<hex address> <type> <name>", got "not a symbol line"');
    expect(() => SymbolMap.load('/nonexistent/System.map')).toThrow('/nonexistent/System.map: cannot read the System.map (ENOENT)');
  });
});

describe('instance information', () => {
  it('name, id, memsize, ostype, offsets', () => {
    expect(vmi.vmi_get_name()).toBe('tvm');
    expect(vmi.vmi_get_vmid()).toBe(7);
    expect(vmi.vmi_get_memsize()).toBe(BigInt(GUEST_MEM));
    expect(vmi.vmi_get_ostype()).toBe(VMI_OS_LINUX);
    expect(vmi.vmi_get_offset('linux_pid')).toEqual([VMI_SUCCESS, BigInt(OFF.pid)]);
    expect(vmi.vmi_get_offset('linux_nosuch')).toEqual([VMI_FAILURE, 0n]);
  });

  it('vCPU registers by LibVMI number and name; unknown registers and vCPUs fail', () => {
    expect(vmi.vmi_get_vcpureg(LIBVMI_REGS.CR3, 0)).toEqual([VMI_SUCCESS, g.tasks[3].pgd]);
    expect(vmi.vmi_get_vcpureg('RIP', 0)).toEqual([VMI_SUCCESS, USER_VA + 0x10n]);
    expect(vmi.vmi_get_vcpureg(LIBVMI_REGS.SHADOW_GS, 0)).toEqual([VMI_SUCCESS, SYM.cpu0_pcpu]);
    expect(vmi.vmi_get_vcpureg(LIBVMI_REGS.MSR_SHADOW_GS_BASE, 0)).toEqual([VMI_SUCCESS, SYM.cpu0_pcpu]);
    expect(vmi.vmi_get_vcpureg('EAX', 0)).toEqual([VMI_SUCCESS, 0n]);
    expect(vmi.vmi_get_vcpureg(LIBVMI_REGS.CR3, 1)).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_get_vcpureg(LIBVMI_REGS.DR0, 0)).toEqual([VMI_FAILURE, 0n]);   // the domain does not report it
    expect(vmi.vmi_get_vcpureg(9999, 0)).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_get_vcpureg('NOSUCH', 0)).toEqual([VMI_FAILURE, 0n]);
    expect(regName(LIBVMI_REGS.R8)).toBe('r8');
    expect(regName(LIBVMI_REGS.FS_BASE)).toBe('fs_base');
  });

  it('reads a real machine vCPU through machineVcpuReg (VMCS guest state and GPRs)', () => {
    g.m.vmwrite('GUEST_CR3', 0x5000n);
    g.m.setGpr('rbx', 0x1234n);
    expect(machineVcpuReg(g.m, 'cr3')).toBe(0x5000n);
    expect(machineVcpuReg(g.m, 'rbx')).toBe(0x1234n);
    expect(machineVcpuReg(g.m, 'nosuch')).toBeUndefined();
  });

  it('pause and resume are counted and balanced; resume without pause fails', () => {
    const v = new Vmi(g.domain, { profile: loadProfile(g.profilePath) });
    const before = { ...g.pauses };
    expect(v.vmi_resume_vm()).toBe(VMI_FAILURE);
    expect(v.vmi_pause_vm()).toBe(VMI_SUCCESS);
    expect(v.vmi_pause_vm()).toBe(VMI_SUCCESS);
    expect(v.pauseCount).toBe(2);
    expect(v.vmi_resume_vm()).toBe(VMI_SUCCESS);
    expect(v.releasePauses()).toBe(1);
    expect(v.vmi_resume_vm()).toBe(VMI_FAILURE);
    expect(g.pauses.pause - before.pause).toBe(2);
    expect(g.pauses.resume - before.resume).toBe(2);
  });
});

describe('translation: the 4-level walk from guest-physical reads', () => {
  it('kernel addresses through 1 GiB, 2 MiB and 4 KiB pages', () => {
    expect(vmi.kernelDtb()).toBe(g.tasks[3].pgd);     // vCPU 0's CR3 (shares the kernel half)
    expect(vmi.vmi_translate_kv2p(PAGE_OFFSET + 0x600123n)).toEqual([VMI_SUCCESS, 0x600123n]);   // 1 GiB
    expect(vmi.vmi_translate_kv2p(SYM.init_task + 0x50n)).toEqual([VMI_SUCCESS, 0x400050n]);     // 2 MiB
    expect(vmi.vmi_translate_kv2p(VMALLOC + 0x1234n)).toEqual([VMI_SUCCESS, 0x705234n]);          // 4 KiB
    expect(vmi.vmi_pagetable_lookup(KPGD, KERNEL_MAP + 0xabcdefn)).toEqual([VMI_SUCCESS, 0xabcdefn]);
  });

  it('fails for non-present entries, missing tables and non-canonical addresses', () => {
    expect(vmi.vmi_translate_kv2p(VMALLOC + 0x2000n)).toEqual([VMI_FAILURE, 0n]);   // PTE not present
    expect(vmi.vmi_translate_kv2p(0xffff900000000000n)).toEqual([VMI_FAILURE, 0n]);  // PML4E not present
    expect(vmi.vmi_translate_kv2p(0x0000800000000000n)).toEqual([VMI_FAILURE, 0n]);  // non-canonical
    expect(vmi.vmi_pagetable_lookup(BigInt(EPT_HOLE), KERNEL_MAP)).toEqual([VMI_FAILURE, 0n]); // page table not in the p2m
    // Translation does not need the memory behind the page: the walk succeeds, the read fails.
    expect(vmi.vmi_translate_kv2p(VMALLOC + 0x3000n)).toEqual([VMI_SUCCESS, BigInt(EPT_HOLE) + 0x3000n]);
    expect(vmi.vmi_read_8_va(VMALLOC + 0x3000n, 0)).toEqual([VMI_FAILURE, 0]);
  });

  it('leaves the guest page tables untouched (no accessed/dirty updates)', () => {
    const table = g.hpa(KPGD);
    const before = g.m.readPhys(table, 4096);
    vmi.vmi_translate_kv2p(SYM.init_task);
    vmi.vmi_read_va(VMALLOC + 0xff0n, 0, 32);
    expect(g.m.readPhys(table, 4096)).toEqual(before);
  });

  it('ksym2v and v2ksym from the System.map', () => {
    expect(vmi.vmi_translate_ksym2v('init_task')).toEqual([VMI_SUCCESS, SYM.init_task]);
    expect(vmi.vmi_translate_ksym2v('no_such_symbol')).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_translate_v2ksym(SYM.sys_getpid)).toBe('sys_getpid');
    expect(vmi.vmi_translate_v2ksym(SYM.sys_getpid + 1n)).toBeNull();
  });

  it('pid -> dtb by walking the task list; uv2p per process; unknown pids fail', () => {
    for (const t of g.tasks) expect(vmi.vmi_pid_to_dtb(t.pid)).toEqual([VMI_SUCCESS, t.pgd]);
    expect(vmi.vmi_pid_to_dtb(4242)).toEqual([VMI_FAILURE, 0n]);
    const init = g.tasks[1], trig = g.tasks[3];
    expect(vmi.vmi_translate_uv2p(USER_VA + 5n, 1)).toEqual([VMI_SUCCESS, init.userPage! + 5n]);
    expect(vmi.vmi_translate_uv2p(USER_VA + 5n, 7)).toEqual([VMI_SUCCESS, trig.userPage! + 5n]);
    expect(vmi.vmi_translate_uv2p(USER_VA, 2)).toEqual([VMI_FAILURE, 0n]);    // a kernel thread has no user page
    expect(vmi.vmi_translate_uv2p(USER_VA, 4242)).toEqual([VMI_FAILURE, 0n]);
    expect(linux_tasks(vmi).map((t) => [t.pid, t.comm, t.addr])).toEqual(g.tasks.map((t) => [t.pid, t.comm, t.addr]));
  });

  it('an explicit kpgd in the profile is the kernel page table', () => {
    const { sysmap: _omit, ...rest } = g.profileJson;
    const p = profileFromObject({ ...rest, kpgd: `0x${KPGD.toString(16)}` }, '<test>');
    const v = new Vmi(g.domain, { profile: p, symbols: SymbolMap.parse(g.sysmap) });
    expect(v.kernelDtb()).toBe(KPGD);
    expect(v.vmi_translate_kv2p(SYM.init_task)).toEqual([VMI_SUCCESS, 0x400000n]);
  });
});

describe('reads', () => {
  it('8/16/32/64/addr from va, pa and ksym', () => {
    const t1 = g.tasks[1];
    expect(vmi.vmi_read_32_va(t1.addr + BigInt(OFF.pid), 0)).toEqual([VMI_SUCCESS, 1]);
    expect(vmi.vmi_read_16_va(t1.addr + BigInt(OFF.pid), 0)).toEqual([VMI_SUCCESS, 1]);
    expect(vmi.vmi_read_8_va(t1.addr + BigInt(OFF.comm), 0)).toEqual([VMI_SUCCESS, 'i'.charCodeAt(0)]);
    expect(vmi.vmi_read_64_va(SYM.current_task, 0)).toEqual([VMI_SUCCESS, g.tasks[3].addr]);
    expect(vmi.vmi_read_addr_va(SYM.init_task + BigInt(OFF.tasks), 0)).toEqual([VMI_SUCCESS, t1.addr + BigInt(OFF.tasks)]);
    expect(vmi.vmi_read_addr_ksym('current_task')).toEqual([VMI_SUCCESS, g.tasks[3].addr]);
    expect(vmi.vmi_read_64_ksym('sys_call_table')).toEqual([VMI_SUCCESS, SYM.sys_read]);
    expect(vmi.vmi_read_32_ksym('linux_banner')).toEqual([VMI_SUCCESS, 0x756e694c]);   // "Linu"
    expect(vmi.vmi_read_16_ksym('linux_banner')).toEqual([VMI_SUCCESS, 0x694c]);
    expect(vmi.vmi_read_8_ksym('linux_banner')).toEqual([VMI_SUCCESS, 0x4c]);
    expect(vmi.vmi_read_64_pa(0x400000n + BigInt(OFF.tasks))).toEqual([VMI_SUCCESS, t1.addr + BigInt(OFF.tasks)]);
    expect(vmi.vmi_read_addr_pa(SYM.init_mm - KERNEL_MAP)).toEqual([VMI_SUCCESS, PAGE_OFFSET + KPGD]);
    expect(vmi.vmi_read_32_pa(0x600000n + 0x1000n + BigInt(OFF.pid))).toEqual([VMI_SUCCESS, 1]);
    expect(vmi.vmi_read_16_pa(0x401000n)).toEqual([VMI_SUCCESS, Number(g.tasks[3].addr & 0xffffn)]);
    expect(vmi.vmi_read_8_pa(0x404000n)).toEqual([VMI_SUCCESS, 0x4c]);
  });

  it('fails on unmapped VAs, guest-physical holes, unknown symbols and pids', () => {
    expect(vmi.vmi_read_64_va(VMALLOC + 0x2000n, 0)).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_read_32_va(0x1000n, 0)).toEqual([VMI_FAILURE, 0]);
    expect(vmi.vmi_read_64_pa(BigInt(EPT_HOLE))).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_read_64_pa(BigInt(GUEST_MEM) + 0x1000n)).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_read_64_pa(1n << 60n)).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_read_addr_ksym('nope')).toEqual([VMI_FAILURE, 0n]);
    expect(vmi.vmi_read_64_va(USER_VA, 4242)).toEqual([VMI_FAILURE, 0n]);
  });

  it('vmi_read_va across scattered pages, partial reads report the bytes read', () => {
    const [st, d] = vmi.vmi_read_va(VMALLOC + 0xff0n, 0, 22);
    expect(st).toBe(VMI_SUCCESS);
    expect(new TextDecoder().decode(d)).toBe('crossing-the-boundary\0');
    const [st2, d2] = vmi.vmi_read_va(VMALLOC + 0x1ff8n, 0, 16);     // page 2 is not present
    expect(st2).toBe(VMI_FAILURE);
    expect(d2.length).toBe(8);
    const [st3, d3] = vmi.vmi_read_pa(BigInt(EPT_HOLE) - 4n, 8);
    expect(st3).toBe(VMI_FAILURE);
    expect(d3.length).toBe(4);
    expect(vmi.vmi_read_ksym('linux_banner', 5)).toEqual([VMI_SUCCESS, new TextEncoder().encode('Linux')]);
    expect(vmi.vmi_read_va(USER_VA, 7, 20)[1]).toEqual(new TextEncoder().encode('user data of vmi-tri'));
    expect(vmi.vmi_read_va(USER_VA, 1, 9)[1]).toEqual(new TextEncoder().encode('user data'));
  });

  it('strings: NUL-terminated, across pages, null when unreadable', () => {
    expect(vmi.vmi_read_str_va(g.tasks[2].addr + BigInt(OFF.comm), 0)).toBe('kthreadd');
    expect(vmi.vmi_read_str_va(VMALLOC + 0xff0n, 0)).toBe('crossing-the-boundary');
    expect(vmi.vmi_read_str_ksym('linux_banner')).toBe(BANNER);
    expect(vmi.vmi_read_str_pa(0x404000n)).toBe(BANNER);
    expect(vmi.vmi_read_str_va(USER_VA, 12)).toBe('user data of sh');
    expect(vmi.vmi_read_str_va(VMALLOC + 0x2000n, 0)).toBeNull();
    expect(vmi.vmi_read_str_pa(BigInt(EPT_HOLE))).toBeNull();
    expect(vmi.vmi_read_str_ksym('nope')).toBeNull();
  });
});

describe('writes', () => {
  it('8/16/32/64 to va and pa, and vmi_write_va across pages; failures on unmapped memory', () => {
    const scratch = PAGE_OFFSET + 0x900000n;
    expect(vmi.vmi_write_64_va(scratch, 0, 0x1122334455667788n)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_read_64_pa(0x900000n)).toEqual([VMI_SUCCESS, 0x1122334455667788n]);
    expect(vmi.vmi_write_8_va(scratch, 0, 0xff)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_write_16_va(scratch + 2n, 0, 0xabcd)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_write_32_va(scratch + 4n, 0, 0xdeadbeef)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_read_64_va(scratch, 0)).toEqual([VMI_SUCCESS, 0xdeadbeefabcd77ffn]);
    expect(vmi.vmi_write_32_pa(0x900010n, 0x01020304)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_write_16_pa(0x900014n, 0x0506)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_write_8_pa(0x900016n, 7)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_write_64_pa(0x900018n, -1n)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_read_va(scratch + 0x10n, 0, 16)[1]).toEqual(new Uint8Array([4, 3, 2, 1, 6, 5, 7, 0, 255, 255, 255, 255, 255, 255, 255, 255]));
    // The write lands in the guest page's machine frame, wherever the EPT put it.
    expect(g.m.read64(g.hpa(0x900000n) + 4) >> 32n).toBe(0n);
    expect(g.m.read32(g.hpa(0x900000n) + 4)).toBe(0xdeadbeef);
    const msg = new TextEncoder().encode('written across two guest pages');
    const [st, n] = vmi.vmi_write_va(VMALLOC + 0xff8n, 0, msg);
    expect([st, n]).toEqual([VMI_SUCCESS, msg.length]);
    expect(vmi.vmi_read_va(VMALLOC + 0xff8n, 0, msg.length)[1]).toEqual(msg);
    expect(vmi.vmi_write_va(VMALLOC + 0x1ffcn, 0, new Uint8Array(8))).toEqual([VMI_FAILURE, 4]);
    expect(vmi.vmi_write_64_va(VMALLOC + 0x2000n, 0, 1n)).toBe(VMI_FAILURE);
    expect(vmi.vmi_write_64_pa(BigInt(EPT_HOLE), 1n)).toBe(VMI_FAILURE);
    expect(vmi.vmi_write_pa(BigInt(EPT_HOLE) - 2n, new Uint8Array(4))).toEqual([VMI_FAILURE, 2]);
    expect(vmi.vmi_write_64_va(USER_VA, 12, 0x41n)).toBe(VMI_SUCCESS);
    expect(vmi.vmi_read_8_pa(g.tasks[4].userPage!)).toEqual([VMI_SUCCESS, 0x41]);
  });
});

describe('robustness', () => {
  it('without a profile only physical access and registers work; nothing throws', () => {
    const v = new Vmi(g.domain);
    expect(v.vmi_get_ostype()).toBe(0);
    expect(v.vmi_read_64_pa(0x400000n)[0]).toBe(VMI_SUCCESS);
    expect(v.vmi_translate_ksym2v('init_task')).toEqual([VMI_FAILURE, 0n]);
    expect(v.vmi_pid_to_dtb(1)).toEqual([VMI_FAILURE, 0n]);
    expect(linux_tasks(v)).toEqual([]);
  });

  it('a DomainAccess that throws gives VMI_FAILURE, never an exception', () => {
    const v = new Vmi({
      id: 1, name: 'broken', memsize: 4096,
      readGpa: () => { throw new Error('boom'); },
      writeGpa: () => { throw new Error('boom'); },
      vcpuReg: () => { throw new Error('boom'); },
      pause: () => { throw new Error('boom'); },
      resume: () => { throw new Error('boom'); },
    }, { profile: loadProfile(g.profilePath) });
    expect(v.vmi_read_64_pa(0n)).toEqual([VMI_FAILURE, 0n]);
    expect(v.vmi_write_64_pa(0n, 1n)).toBe(VMI_FAILURE);
    expect(v.vmi_translate_kv2p(SYM.init_task)).toEqual([VMI_FAILURE, 0n]);
    expect(v.vmi_get_vcpureg('CR3', 0)).toEqual([VMI_FAILURE, 0n]);
    expect(v.vmi_pause_vm()).toBe(VMI_FAILURE);
    expect(v.vmi_read_str_va(SYM.linux_banner, 0)).toBeNull();
    expect(v.vmi_pid_to_dtb(0)).toEqual([VMI_FAILURE, 0n]);
  });

  it('a task list that never returns to its head is bounded', () => {
    const gg = buildSyntheticGuest();
    // Make task 4 point at task 1: a cycle that skips init_task.
    const t4 = gg.tasks[4], t1 = gg.tasks[1];
    gg.write64(t4.addr - PAGE_OFFSET + BigInt(OFF.tasks), t1.addr + BigInt(OFF.tasks));
    const dir = mkdtempSync(join(tmpdir(), 'vmi-'));
    writeFileSync(join(dir, 'System.map'), gg.sysmap);
    writeFileSync(join(dir, 'p.json'), JSON.stringify(gg.profileJson));
    const v = new Vmi(gg.domain, { profile: loadProfile(join(dir, 'p.json')), maxTasks: 1000 });
    expect(linux_tasks(v).length).toBe(1000);
    expect(v.vmi_pid_to_dtb(4242)).toEqual([VMI_FAILURE, 0n]);
  });
});
