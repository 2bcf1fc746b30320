// The VMFUNC awareness module and altp2m views: a guest's VMFUNC to a mirror
// index is noticed by the RDTSC exit handler, switched back, and reported.
import { describe, it, expect } from 'vitest';
import { TestGuest } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';
import { FrameAllocator } from '../src/xen/frames.js';
import { Altp2m, contiguousFill, INVALID_EPTP } from '../src/xen/altp2m.js';
import { checkVmiRequest, currentEptpIndex, vmiRequestTraceData, parseVmiRequest } from '../src/xen/vmfunc-awareness.js';

function setup(opts: { ve?: boolean; views?: number } = {}) {
  const g = new TestGuest({ memMiB: 32 });
  const frames = new FrameAllocator(g.m, 0xc00);
  const alt = new Altp2m(g.m, frames, contiguousFill(0n, 0n, 0x800n), { views: opts.views ?? 2, mirrors: true });
  g.m.vmwrite('EPT_POINTER', alt.eptp(0)!);
  g.m.vmwrite('EPTP_LIST_ADDR', alt.listAddr);
  g.m.vmwrite('VM_FUNCTION_CONTROL', 1);
  g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 0x80000000 | (1 << 7) | (1 << 12)); // HLT and RDTSC exiting
  g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', (1 << 1) | (1 << 13) | (opts.ve ? 1 << 18 : 0));
  if (opts.ve) { g.m.fillPhys(0xb10000, 4096, 0); g.m.vmwrite('VIRT_EXCEPTION_INFO', 0xb10000); }
  return { g, alt };
}

describe.skipIf(!haveAssembler())('VMI trigger: VMFUNC + RDTSC emulation', () => {
  it('list layout: views 0..n-1, mirrors 10..10+n-1 with their own roots, the rest an invalid EPTP', () => {
    const { g, alt } = setup({ views: 3 });
    const list = Array.from({ length: 14 }, (_, i) => g.m.read64(alt.listAddr + i * 8));
    expect(list.slice(3, 10).every((e) => e === INVALID_EPTP)).toBe(true);
    const roots = new Set([0, 1, 2, 10, 11, 12].map((i) => list[i] & ~0xfffn));
    expect(roots.size).toBe(6);
    expect(alt.indexOfEptp(list[12])).toBe(12);
    expect(alt.isRequestIndex(12)).toBe(true);
    expect(alt.isRequestIndex(13)).toBe(false);
  });

  for (const ve of [false, true]) {
    it(`a VMFUNC to 10+k is detected at the next RDTSC exit and switched back to view k (${ve ? 'EPTP index field, #VE on' : 'EPT_POINTER matched against the list'})`, () => {
      const { g, alt } = setup({ ve });
      g.userState();
      g.user('xor eax, eax\nmov ecx, 11\nvmfunc\nmov rbx, [0x300000]\nrdtsc\nint3');
      expect(g.run()).toBe(16); // no exit for the VMFUNC itself
      expect(currentEptpIndex(g.m, alt)).toBe(11);
      const req = checkVmiRequest(g.m, alt, 1, 0, 12345n)!;
      expect(req).toMatchObject({ domid: 1, vcpu: 0, eptpIndex: 11, parameter: 1, tsc: 12345n });
      expect(req.rip).toBe(g.m.vmread('GUEST_RIP'));
      expect(g.m.vmread('EPT_POINTER')).toBe(alt.eptp(1));
      expect(g.m.vmread('EPTP_INDEX')).toBe(1n);
      expect(parseVmiRequest(vmiRequestTraceData(req), req.tsc)).toEqual(req);
      // An ordinary view switch is not a request.
      expect(checkVmiRequest(g.m, alt, 1, 0, 1n)).toBeUndefined();
    });
  }

  it('indices beyond the views exit with reason 59 (stock Xen: invalid EPTP in the list)', () => {
    const { g } = setup();
    g.userState(); g.user('xor eax, eax\nmov ecx, 12\nvmfunc\nint3');
    expect(g.run()).toBe(59);
  });

  it('altp2m operations: create, set_mem_access (mirrored), change_gfn, destroy', () => {
    const { g, alt } = setup({ views: 1 });
    const v = alt.createP2m();
    expect(v).toBe(1);
    alt.setMemAccess(1, 0x300n, 1); // read-only
    expect(alt.view(1)!.leaf(0x300000n) & 7n).toBe(1n);
    expect(alt.view(11)!.leaf(0x300000n) & 7n).toBe(1n);
    alt.changeGfn(1, 0x300n, 0x301n);
    expect(alt.view(1)!.leaf(0x300000n) & ~0xfffn).toBe(alt.view(0)!.leaf(0x301000n) & ~0xfffn);
    expect(alt.destroyP2m(1)).toBe(0);
    expect(g.m.read64(alt.listAddr + 8)).toBe(INVALID_EPTP);
    expect(alt.destroyP2m(0)).toBe(-16); // -EBUSY: view 0 is the host p2m (Xen's p2m_destroy_altp2m_by_id)
  });
});

import { prepareRun } from '../src/run.js';
import { HVMOP_altp2m_create_p2m, HVMOP_altp2m_switch_p2m, HVMOP_altp2m_set_mem_access, HVMOP_altp2m_destroy_p2m,
  HVMOP_altp2m_get_domain_state } from '../src/xen/altp2m.js';

describe('HVMOP_altp2m on a domain (public/hvm/hvm_op.h xen_hvm_altp2m_op)', () => {
  const op = (cmd: number, view = 0, gfn = 0n, access = 0) => {
    const dv = new DataView(new ArrayBuffer(40));
    dv.setUint32(0, 1, true); dv.setUint32(4, cmd, true); dv.setUint16(8, 0x7ff0, true); // DOMID_SELF
    dv.setUint16(16, view, true); dv.setUint16(18, access, true); dv.setBigUint64(24, gfn, true);
    return dv;
  };
  it('create, switch, set_mem_access and destroy views through the operation structure', () => {
    const { d } = prepareRun({ vmi: { views: 2 } });
    const mech = d.trigger!;
    const st = op(HVMOP_altp2m_get_domain_state);
    expect(mech.altp2mOp(d.vcpus[0], st)).toBe(0);
    expect(st.getUint8(16)).toBe(1);
    const c = op(HVMOP_altp2m_create_p2m);
    expect(mech.altp2mOp(d.vcpus[0], c)).toBe(0);
    const view = c.getUint16(16, true);
    expect(view).toBe(2);
    expect(mech.altp2m.isRequestIndex(12)).toBe(true);
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_switch_p2m, view))).toBe(0);
    expect(d.machine.vmread('EPT_POINTER')).toBe(mech.altp2m.eptp(2));
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_switch_p2m, 12))).toBe(-22); // mirrors are not switchable views
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_destroy_p2m, 0))).toBe(-16); // -EBUSY: the host view stays (p2m_destroy_altp2m_by_id)
    const bad = op(HVMOP_altp2m_create_p2m); bad.setUint32(0, 2, true);
    expect(mech.altp2mOp(d.vcpus[0], bad)).toBe(-22); // interface version mismatch: -EINVAL (do_altp2m_op)
    // A view in use cannot be destroyed (-EBUSY, p2m->active_vcpus): switch back to view 0 first.
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_destroy_p2m, 2))).toBe(-16);
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_switch_p2m, 0))).toBe(0);
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_destroy_p2m, 2))).toBe(0);
    expect(mech.altp2m.isRequestIndex(12)).toBe(false);
    // set_mem_access on one gfn of a view mapped with 2 MiB pages splits the superpage (and its mirror's).
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_set_mem_access, 1, 0x345n, 5))).toBe(0);
    expect(mech.altp2m.view(1)!.leaf(0x345000n) & 7n).toBe(5n);
    expect(mech.altp2m.view(11)!.leaf(0x345000n) & 7n).toBe(5n);
    expect(mech.altp2m.view(1)!.leaf(0x346000n) & 7n).toBe(7n);
    const walk = d.machine.eptWalk(mech.altp2m.eptp(1)!, 0x345123n, 1);
    expect(walk).toMatchObject({ exit: 48 });
    expect(d.machine.eptWalk(mech.altp2m.eptp(1)!, 0x346123n, 1)).toEqual({ hpa: BigInt(d.ramBase) + 0x346123n });
  });
});
