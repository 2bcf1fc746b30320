// Outcomes of one MMIO emulation step (assembly/mmio.ts mmioEmulate), read by the host's
// handle_mmio (src/xen/vmexit/ept.ts) -- Xen's X86EMUL_* results of hvm_emulate_one, reduced to
// the three an interpreter that never unwinds can give. Compiled by both asc and tsc.

/** The instruction completed (RIP is past it), or a REP string did a chunk (RIP stays, counts updated). */
export const MMIO_DONE: i32 = 0;
/** It raised an exception (Xen: X86EMUL_EXCEPTION): the host injects it; no access after the fault was made. */
export const MMIO_EXCEPTION: i32 = 1;
/** It needs a VM exit (an EPT violation on RAM, a misconfiguration, ...): the host handles it like one. */
export const MMIO_EXIT: i32 = 2;
