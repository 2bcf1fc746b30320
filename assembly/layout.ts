// Where things live in the Wasm linear memory.
// Everything below MACHINE_BASE belongs to the CPU itself (register file, VMCS
// storage, TLB, decoded-instruction cache); from MACHINE_BASE on, linear memory
// *is* machine memory: host-physical address P is byte MACHINE_BASE + P.

export const REGS: usize = 0x00100000;        // 16 x u64 general-purpose registers
export const VMCS: usize = 0x00110000;        // 8192 x u64 field slots (see vmcs.ts)
export const VMCS_PRESENT: usize = 0x00120000; // 8192 x u8: 1 = field exists on this CPU
export const DUMMY_READ: usize = 0x00130000;  // a page of 0xFF: reads beyond machine memory
export const DUMMY_WRITE: usize = 0x00131000; // a page that swallows writes beyond machine memory
export const SCRATCH: usize = 0x00132000;     // host <-> CPU staging (decoder tests)
export const MMIO_INSN: usize = 0x00133000;   // one decoded entry (DENTRY bytes): the instruction MMIO emulation re-executes (mmio.ts)

// Software TLB: direct-mapped, TLB_ENTRIES per set; sets for {supervisor,user} x
// {read, write, fetch}. Each entry: u64 tag (linear page number + 1) and u64 wasm
// address of the host page.
export const TLB: usize = 0x00200000;
export const TLB_BITS: u32 = 10;
export const TLB_ENTRIES: u32 = 1 << TLB_BITS;
export const TLB_SET_BYTES: usize = <usize>TLB_ENTRIES * 16;

// Decoded-instruction cache: direct-mapped by the linear RIP of a block's first
// instruction. A block is a run of up to BLOCK_INSNS decoded instructions that
// ends at a control transfer or a system instruction; one tag check per block.
export const DENTRY: usize = 64;               // bytes per decoded instruction
export const BLOCK_INSNS: u32 = 16;
export const BLOCK_BYTES: usize = DENTRY * <usize>(BLOCK_INSNS + 1); // header + entries
export const DCACHE: usize = 0x00400000;
export const DCACHE_BITS: u32 = 13;
export const DCACHE_ENTRIES: u32 = 1 << DCACHE_BITS; // 8192 blocks = 8.5 MiB

// One bit per 4 KiB machine frame: the frame holds decoded instructions.
export const CODEMAP: usize = 0x00d00000;      // 128 KiB: up to 4 GiB of machine memory

export const MACHINE_BASE: usize = 0x01000000; // 16 MiB
