// Where things live in the Wasm linear memory: every region the CPU addresses by number is here,
// and nowhere else (test/layout.test.ts checks that regions do not overlap, lie between
// AssemblyScript's static data and MACHINE_BASE, and that no other file in assembly/ names an
// address). Each region NAME has its size in NAME_BYTES.
// Everything below MACHINE_BASE belongs to the CPU itself (register file, VMCS storage, TLB,
// decoded-instruction cache); from MACHINE_BASE on, linear memory *is* machine memory:
// host-physical address P is byte MACHINE_BASE + P.
// Written in the subset both asc and tsc compile (typed constants only), so a test can import it.

// ---- the register file and the CPU's small tables ------------------------------------------
export const REGS: usize = 0x00100000;          // 16 x u64 general-purpose registers (state.ts)
export const REGS_BYTES: usize = 16 * 8;
export const SEGS: usize = 0x00100100;          // 8 x {u64 base, u32 limit, u32 ar, u16 sel}, 32 bytes each (state.ts)
export const SEGS_BYTES: usize = 8 * 32;
/** Virtual cycles charged per retired instruction, by operation (the cost model's CPU side, run/blocks.ts). */
export const COSTS: usize = 0x00109000;         // 1024 x u32 (ops.ts OP_COUNT must fit)
export const COSTS_BYTES: usize = 1024 * 4;
/** The host debugger's linear-address breakpoints (run/debug.ts; the host fills them). */
import { MAX_BREAKPOINTS } from "./shared/limits";
export const BREAKPOINTS: usize = 0x00108400;   // up to 64 x u64
export const BREAKPOINTS_BYTES: usize = <usize>MAX_BREAKPOINTS * 8;

/** The x87, MMX and SSE register state in the FXSAVE memory layout (SDM Vol. 1 10.5.1, Table 10-2):
 *  +0 FCW, +2 FSW, +4 abridged FTW, +6 FOP, +8 FIP, +16 FDP, +24 MXCSR, +28 MXCSR_MASK,
 *  +32 ST0-ST7 / MM0-MM7 (16 bytes each, 80 bits used), +160 XMM0-XMM15 (16 bytes each).
 *  assembly/x87/ says how it keeps the stack registers (FXSAVE stores them ST-relative). */
export const FXSTATE: usize = 0x00108800;
export const FXSTATE_BYTES: usize = 512;
// Offsets into it: FX_FCW, FX_FSW, FX_FTW, FX_FOP, FX_FIP, FX_FDP, FX_MXCSR, FX_MXCSR_MASK, FX_ST, FX_XMM
// (assembly/shared/fxsave.ts: the host reads the same image).
export { FX_FCW, FX_FSW, FX_FTW, FX_FOP, FX_FIP, FX_FDP, FX_MXCSR, FX_MXCSR_MASK, FX_ST, FX_XMM } from "./shared/fxsave";

/** Where SSE/MMX instructions stage a memory source operand (assembly/sse/operand.ts): 64 bytes. */
export const SSE_TMP: usize = 0x00108a00;
export const SSE_TMP_BYTES: usize = 64;
/** Where x87 FRSTOR/FLDENV stage the memory image before loading it (assembly/x87/env.ts): 112 bytes. */
export const X87_TMP: usize = 0x00108a40;
export const X87_TMP_BYTES: usize = 112;

/** Where FXSAVE/FXRSTOR stage the 512-byte image between the x87/SSE state and guest memory
 *  (assembly/sse/state-ops.ts): a fault leaves both sides untouched. */
export const FX_TMP: usize = 0x00108c00;
export const FX_TMP_BYTES: usize = 512;

// ---- the VMCS ---------------------------------------------------------------------------------
export const VMCS: usize = 0x00110000;          // 8192 x u64 field slots (see vmcs.ts)
export const VMCS_BYTES: usize = 8192 * 8;
export const VMCS_PRESENT: usize = 0x00120000;  // 8192 x u8: 1 = field exists on this CPU
export const VMCS_PRESENT_BYTES: usize = 8192;

// ---- pages standing in for memory that is not there, and the host's staging area -----------------
export const DUMMY_READ: usize = 0x00130000;    // a page of 0xFF: reads beyond machine memory
export const DUMMY_READ_BYTES: usize = 0x1000;
export const DUMMY_WRITE: usize = 0x00131000;   // a page that swallows writes beyond machine memory
export const DUMMY_WRITE_BYTES: usize = 0x1000;
export const SCRATCH: usize = 0x00132000;       // host <-> CPU staging (instruction bytes for decodeLength)
export const SCRATCH_BYTES: usize = 0x1000;
// The instruction MMIO emulation re-executes (mmio.ts): one decoded entry.
export const MMIO_INSN: usize = 0x00133000;
export const MMIO_INSN_BYTES: usize = 64; // DENTRY (defined below)

// ---- the software TLB ---------------------------------------------------------------------------
// The EPT roots the TLB's view tags stand for (mmu.ts selectView): 15 x u64, slot i = view tag i+1.
export const EPT_VIEWS: usize = 0x001fff00;
export const EPT_VIEWS_BYTES: usize = 0x100;
// Direct-mapped, TLB_ENTRIES per set; sets for {supervisor,user} x {read, write, fetch}. Each
// entry: u64 tag (linear page number + view bias) and u64 wasm address of the host page.
export const TLB: usize = 0x00200000;
export const TLB_BITS: u32 = 10;
export const TLB_ENTRIES: u32 = 1 << TLB_BITS;
export const TLB_SET_BYTES: usize = <usize>TLB_ENTRIES * 16;
export const TLB_BYTES: usize = 6 * TLB_SET_BYTES;

// ---- decoded code ---------------------------------------------------------------------------------
// Decoded-instruction cache: direct-mapped by the machine address of a block's first
// instruction (codepages.ts). A block is a run of up to BLOCK_INSNS decoded instructions
// that ends at a control transfer or a system instruction; one tag check per block.
export const DENTRY: usize = 64;                // bytes per decoded instruction
export const BLOCK_INSNS: u32 = 16;
export const BLOCK_BYTES: usize = DENTRY * <usize>(BLOCK_INSNS + 1); // header + entries
export const DCACHE: usize = 0x00400000;
export const DCACHE_BITS: u32 = 13;
export const DCACHE_ENTRIES: u32 = 1 << DCACHE_BITS; // 8192 blocks = 8.5 MiB
export const DCACHE_BYTES: usize = <usize>DCACHE_ENTRIES * BLOCK_BYTES;
// Per cache slot, the pages the block was decoded from (codepages.ts): u32 Wasm page number of
// its first byte, u32 Wasm page number of the page its bytes run into (0 = none).
export const BLOCK_INDEX: usize = 0x00c80000;
export const BLOCK_INDEX_BYTES: usize = <usize>DCACHE_ENTRIES * 8;
// A block outside the cache for the host's decoder probes: index.ts decodeLength (its first
// entry) and run/blocks.ts decodeScratchBlock (header + entries).
export const DECODE_PROBE: usize = 0x00c90000;
export const DECODE_PROBE_BYTES: usize = BLOCK_BYTES;

// The JIT (assembly/jit/): copies of the decoded entries compiled regions hand back to the
// interpreter (a compiled region must not point into the cache, whose slots are reused), and the
// buffer the region's Wasm module is written into (a function body, then the whole module).
export const JIT_ENTRIES: usize = 0x00ca0000;
export const JIT_ENTRIES_BYTES: usize = 0x20000;  // 2048 x DENTRY
export const JIT_BODY: usize = 0x00cc0000;
export const JIT_BODY_BYTES: usize = 0x20000;
export const JIT_MODULE: usize = 0x00ce0000;
export const JIT_MODULE_BYTES: usize = 0x20000;

// One bit per 4 KiB machine frame: the frame holds decoded instructions.
export const CODEMAP: usize = 0x00d00000;       // up to 4 GiB of machine memory
export const CODEMAP_BYTES: usize = 0x20000;

// ---- machine memory -------------------------------------------------------------------------------
export const MACHINE_BASE: usize = 0x01000000;  // 16 MiB
