// Hand-written cases with known outcomes: one or more per category, including every kind of
// exception the generator aims at. Both the host and the emulator must produce the expectation.

export interface HandCase {
  name: string;
  category: string;
  code: string;
  regs?: Record<string, string>;
  rflags?: string;
  undef?: number; // rflags bits the SDM leaves undefined after this code (not compared)
  expect: {
    stop: 'end' | 'exception';
    vector?: number;
    error_code?: string;
    cr2?: string;
    ripOff?: number; // rip - 0x10000000 (or an absolute rip if abs is set)
    rip?: string;
    regs?: Record<string, string>;
    flags?: { mask: number; value: number };
  };
}

const SP = '0x20008000';

export const HAND_CASES: HandCase[] = [
  { name: 'add rax, rbx', category: 'alu', code: '4801d8', regs: { rax: '0x5', rbx: '0x7' },
    expect: { stop: 'end', ripOff: 3, regs: { rax: '0xc' }, flags: { mask: 0x8d5, value: 0x4 } } },
  { name: 'adc rax, rbx with CF', category: 'alu', code: '4811d8', regs: { rax: '0x5', rbx: '0x7' }, rflags: '0x203',
    expect: { stop: 'end', regs: { rax: '0xd' } } },
  { name: 'sub eax, ebx zero-extends, sets CF', category: 'alu', code: '29d8', regs: { rax: '0xffffffff00000001', rbx: '0x2' },
    expect: { stop: 'end', regs: { rax: '0xffffffff' }, flags: { mask: 0x8d5, value: 0x95 } } },
  { name: 'shl rax, cl', undef: 0x810, category: 'shift', code: '48d3e0', regs: { rax: '0x1', rcx: '0x44' },
    expect: { stop: 'end', regs: { rax: '0x10' } } },
  { name: 'rcr al, 1 with CF', category: 'shift', code: 'd0d8', regs: { rax: '0x2' }, rflags: '0x203',
    expect: { stop: 'end', regs: { rax: '0x81' }, flags: { mask: 0x801, value: 0x800 } } },
  { name: 'shld eax, ebx, 4', undef: 0x810, category: 'shld', code: '0fa4d804', regs: { rax: '0x12345678', rbx: '0x9abcdef0' },
    expect: { stop: 'end', regs: { rax: '0x23456789' } } },
  { name: 'mul rbx', undef: 0xd4, category: 'mul', code: '48f7e3', regs: { rax: '0x8000000000000000', rbx: '0x4' },
    expect: { stop: 'end', regs: { rax: '0x0', rdx: '0x2' }, flags: { mask: 0x801, value: 0x801 } } },
  { name: 'imul ecx, ebx, -3', undef: 0xd4, category: 'mul', code: '6bcbfd', regs: { rbx: '0x5' },
    expect: { stop: 'end', regs: { rcx: '0xfffffff1' } } },
  { name: 'div rbx', undef: 0x8d5, category: 'div', code: '48f7f3', regs: { rax: '0x64', rbx: '0x7' },
    expect: { stop: 'end', regs: { rax: '0xe', rdx: '0x2' } } },
  { name: 'cqo', category: 'conv', code: '4899', regs: { rax: '0x8000000000000000' },
    expect: { stop: 'end', regs: { rdx: '0xffffffffffffffff' } } },
  { name: 'bt eax, 3 / setc', undef: 0x894, category: 'bt', code: '0fbae003' + '0f92c1', regs: { rax: '0x8' },
    expect: { stop: 'end', regs: { rcx: '0x1' } } },
  { name: 'bsf rax, rbx', undef: 0x895, category: 'bsf', code: '480fbcc3', regs: { rbx: '0x100' },
    expect: { stop: 'end', regs: { rax: '0x8' }, flags: { mask: 0x40, value: 0 } } },
  { name: 'tzcnt eax, ebx of 0', undef: 0x894, category: 'count', code: 'f30fbcc3', regs: { rax: '0x55' },
    expect: { stop: 'end', regs: { rax: '0x20' }, flags: { mask: 0x41, value: 0x1 } } },
  { name: 'popcnt rax, rbx', category: 'count', code: 'f3480fb8c3', regs: { rbx: '0xff00ff' },
    expect: { stop: 'end', regs: { rax: '0x10' } } },
  { name: 'cmove eax, ebx (false) zero-extends', category: 'cmov', code: '0f44c3', regs: { rax: '0xffffffff12345678', rbx: '0x1' },
    expect: { stop: 'end', regs: { rax: '0x12345678' } } },
  { name: 'xchg eax, eax (87 c0) zero-extends', category: 'xchg', code: '87c0', regs: { rax: '0xffffffff00000001' },
    expect: { stop: 'end', regs: { rax: '0x1' } } },
  { name: 'movsx eax, bh', category: 'movx', code: '0fbec7', regs: { rax: '0xffffffffffffffff', rbx: '0x8000' },
    expect: { stop: 'end', regs: { rax: '0xffffff80' } } },
  { name: 'lea eax, [rbx+rcx*8+0x10]', category: 'lea', code: '8d44cb10', regs: { rbx: '0xffffffff00000001', rcx: '0x2' },
    expect: { stop: 'end', regs: { rax: '0x21' } } },
  { name: 'bswap rax', category: 'bswap', code: '480fc8', regs: { rax: '0x0102030405060708' },
    expect: { stop: 'end', regs: { rax: '0x807060504030201' } } },
  { name: 'push rbx / pop rax', category: 'stack', code: '5358', regs: { rbx: '0x1122', rsp: SP },
    expect: { stop: 'end', regs: { rax: '0x1122', rsp: SP } } },
  { name: 'call / ret', category: 'call', code: 'e802000000' + 'eb01' + 'c3', regs: { rsp: SP },
    expect: { stop: 'end', ripOff: 8, regs: { rsp: SP } } },
  { name: 'push 0x602 / popf sets DF', category: 'pushf', code: '6802060000' + '9d', regs: { rsp: SP },
    expect: { stop: 'end', flags: { mask: 0xcd5, value: 0x402 & 0xcd5 } } },
  { name: 'lahf', category: 'flags', code: '9f', rflags: '0x2d7',
    expect: { stop: 'end', regs: { rax: '0xd700' } } },
  { name: 'enter 16, 0 / leave', category: 'frame', code: 'c8100000' + 'c9', regs: { rsp: SP, rbp: '0x1234' },
    expect: { stop: 'end', regs: { rsp: SP, rbp: '0x1234' } } },
  { name: 'jnz forward taken', category: 'jcc', code: '7502' + '31c0' + '90', regs: { rax: '0x7' }, rflags: '0x202',
    expect: { stop: 'end', ripOff: 5, regs: { rax: '0x7' } } },
  { name: 'loop backwards 3 times', category: 'loop', code: 'b903000000' + '48ffc0' + 'e2fb', regs: { rax: '0x0' },
    expect: { stop: 'end', regs: { rax: '0x3', rcx: '0x0' } } },
  { name: 'rep movsb', category: 'string', code: 'f3a4', regs: { rsi: '0x20000000', rdi: '0x20001000', rcx: '0x10' },
    expect: { stop: 'end', regs: { rsi: '0x20000010', rdi: '0x20001010', rcx: '0x0' } } },
  { name: 'std / rep stosq', category: 'string', code: 'fd' + 'f348ab', regs: { rdi: '0x20004000', rcx: '0x4' },
    expect: { stop: 'end', regs: { rdi: '0x20003fe0' }, flags: { mask: 0x400, value: 0x400 } } },
  { name: 'repne scasb finds the byte', category: 'string', code: 'f2ae', regs: { rdi: '0x20000000', rcx: '0x100', rax: '0x8a' },
    expect: { stop: 'end', regs: { rdi: '0x20000002', rcx: '0xfe' } } },
  { name: 'lock cmpxchg [rbx], ecx succeeds', category: 'atomic', code: 'f00fb10b', regs: { rbx: '0x20000000', rax: '0x900d8a07', rcx: '0x1' },
    expect: { stop: 'end', regs: { rax: '0x900d8a07' }, flags: { mask: 0x40, value: 0x40 } } },
  { name: 'lock xadd [rbx], eax', category: 'atomic', code: 'f00fc103', regs: { rbx: '0x20000000', rax: '0x1' },
    expect: { stop: 'end', regs: { rax: '0x900d8a07' } } },
  { name: 'nop forms and fences', category: 'nop', code: '90' + '0f1f4000' + 'f390' + '0faee8' + '0faef0' + '0faef8',
    expect: { stop: 'end', ripOff: 16 } },
  // exceptions
  { name: '#DE div by zero', category: 'fault_de', code: '48f7f3', regs: { rax: '0x5', rbx: '0x0' },
    expect: { stop: 'exception', vector: 0, ripOff: 0, regs: { rax: '0x5' } } },
  { name: '#DE idiv quotient overflow', category: 'fault_de', code: '4899' + '48f7fb', regs: { rax: '0x8000000000000000', rbx: '0xffffffffffffffff' },
    expect: { stop: 'exception', vector: 0, ripOff: 2 } },
  { name: '#DE div quotient overflow', category: 'fault_de', code: 'f7f3', regs: { rax: '0x0', rdx: '0x5', rbx: '0x5' },
    expect: { stop: 'exception', vector: 0, ripOff: 0 } },
  { name: '#PF read unmapped', category: 'fault_pf', code: '8b03', regs: { rbx: '0x30000000' },
    expect: { stop: 'exception', vector: 14, error_code: '0x4', cr2: '0x30000000', ripOff: 0 } },
  { name: '#PF write unmapped', category: 'fault_pf', code: '8903', regs: { rbx: '0x30000000' },
    expect: { stop: 'exception', vector: 14, error_code: '0x6', cr2: '0x30000000' } },
  { name: '#PF write to code', category: 'fault_pf', code: '890500000000',
    expect: { stop: 'exception', vector: 14, error_code: '0x7', cr2: '0x10000006', ripOff: 0 } },
  { name: '#PF fetch from the NX data window', category: 'fault_pf', code: 'ffe3', regs: { rbx: '0x20000100' },
    expect: { stop: 'exception', vector: 14, error_code: '0x15', cr2: '0x20000100', rip: '0x20000100' } },
  { name: '#PF fetch unmapped', category: 'fault_pf', code: 'ffe3', regs: { rbx: '0x30000000' },
    expect: { stop: 'exception', vector: 14, error_code: '0x14', cr2: '0x30000000', rip: '0x30000000' } },
  { name: '#PF qword straddling the window end', category: 'fault_pf', code: '488b03', regs: { rbx: '0x2000fffc' },
    expect: { stop: 'exception', vector: 14, error_code: '0x4', cr2: '0x20010000' } },
  { name: '#PF push with RSP in the code region', category: 'fault_pf', code: '50', regs: { rsp: '0x10000100' },
    expect: { stop: 'exception', vector: 14, error_code: '0x7', cr2: '0x100000f8', regs: { rsp: '0x10000100' } } },
  { name: '#PF rep movsb partway', category: 'fault_pf', code: 'f3a4', regs: { rsi: '0x2000fff0', rdi: '0x20000000', rcx: '0x64' },
    expect: { stop: 'exception', vector: 14, error_code: '0x4', cr2: '0x20010000', regs: { rcx: '0x54', rsi: '0x20010000', rdi: '0x20000010' } } },
  { name: '#UD ud2 mid-code', category: 'fault_ud', code: '0f0b90',
    expect: { stop: 'exception', vector: 6, ripOff: 0 } },
  { name: '#UD lock add reg, reg', category: 'fault_ud', code: 'f001c0',
    expect: { stop: 'exception', vector: 6, ripOff: 0 } },
  { name: '#UD push es (invalid in 64-bit mode)', category: 'fault_ud', code: '06',
    expect: { stop: 'exception', vector: 6, ripOff: 0 } },
  { name: '#GP hlt at CPL 3', category: 'fault_gp', code: 'f4',
    expect: { stop: 'exception', vector: 13, error_code: '0x0', ripOff: 0 } },
  { name: '#GP cli with IOPL 0', category: 'fault_gp', code: 'fa',
    expect: { stop: 'exception', vector: 13, error_code: '0x0' } },
  { name: '#GP in al, dx', category: 'fault_gp', code: 'ec',
    expect: { stop: 'exception', vector: 13, error_code: '0x0' } },
  { name: '#GP rdmsr', category: 'fault_gp', code: '0f32',
    expect: { stop: 'exception', vector: 13, error_code: '0x0' } },
  { name: '#GP mov rax, cr0', category: 'fault_gp', code: '0f20c0',
    expect: { stop: 'exception', vector: 13, error_code: '0x0' } },
  { name: '#GP non-canonical load', category: 'fault_gp', code: '488b03', regs: { rbx: '0x8000000000000000' },
    expect: { stop: 'exception', vector: 13, error_code: '0x0', ripOff: 0 } },
  { name: '#GP jmp to a non-canonical address', category: 'fault_gp', code: 'ffe3', regs: { rbx: '0x8000000000000000' },
    expect: { stop: 'exception', vector: 13, error_code: '0x0', ripOff: 0 } },
  { name: '#GP cmpxchg16b misaligned', category: 'fault_gp', code: 'f0480fc70b', regs: { rbx: '0x20000008' },
    expect: { stop: 'exception', vector: 13, error_code: '0x0', ripOff: 0 } },
  { name: '#SS push with a non-canonical RSP', category: 'fault_ss', code: '50', regs: { rsp: '0x8000000000000000' },
    expect: { stop: 'exception', vector: 12, error_code: '0x0', ripOff: 0 } },
  { name: '#BP int3 reports RIP after it', category: 'fault_bp', code: 'cc90',
    expect: { stop: 'exception', vector: 3, ripOff: 1 } },
];

export function checkHand(h: HandCase, res: Record<string, any>): string[] {
  const e = h.expect;
  const bad: string[] = [];
  if (res.error) return [`error ${res.error}`];
  if (res.stop !== e.stop) bad.push(`stop ${res.stop} (expected ${e.stop})`);
  if (e.vector !== undefined && res.vector !== e.vector) bad.push(`vector ${res.vector} (expected ${e.vector})`);
  if (e.error_code !== undefined && res.error_code !== e.error_code) bad.push(`error_code ${res.error_code} (expected ${e.error_code})`);
  if (e.cr2 !== undefined && res.cr2 !== e.cr2) bad.push(`cr2 ${res.cr2} (expected ${e.cr2})`);
  const rip = BigInt(res.rip);
  if (e.ripOff !== undefined && rip !== 0x10000000n + BigInt(e.ripOff)) bad.push(`rip ${res.rip} (expected +${e.ripOff})`);
  if (e.rip !== undefined && rip !== BigInt(e.rip)) bad.push(`rip ${res.rip} (expected ${e.rip})`);
  for (const [r, v] of Object.entries(e.regs ?? {})) if (BigInt(res.regs[r]) !== BigInt(v)) bad.push(`${r} ${res.regs[r]} (expected ${v})`);
  if (e.flags && (Number(BigInt(res.rflags) & BigInt(e.flags.mask)) !== e.flags.value)) {
    bad.push(`rflags ${res.rflags} & ${e.flags.mask.toString(16)} (expected ${e.flags.value.toString(16)})`);
  }
  return bad;
}
