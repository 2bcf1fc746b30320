// HVMOP_altp2m's argument: struct xen_hvm_altp2m_op (public/hvm/hvm_op.h) as Xen's do_altp2m_op
// (xen/arch/x86/hvm/hvm.c) reads and checks it before calling the p2m code (src/xen/altp2m.ts):
//   0 u32 version   4 u32 cmd   8 domid_t domain   10 u16 pad1   12 u32 pad2   16 union u (64 bytes)
// Checks, in Xen's order: pad1/pad2 or a version other than HVMOP_ALTP2M_INTERFACE_VERSION -EINVAL;
// an unknown cmd -EOPNOTSUPP; the domain (DOMID_SELF or our own id, else -ESRCH, checked by the
// caller); altp2m not active -EOPNOTSUPP except for get/set_domain_state; then each sub-op's own
// pad fields (-EINVAL) and the p2m function's checks. The structure is written back only by the
// sub-ops that return something in it (get_domain_state, create_p2m, get_suppress_ve,
// get_mem_access, and set_mem_access_multi's continuation).
// set_mem_access_multi is preemptible as in Xen (p2m_set_mem_access_multi with mask 0x3f): after
// every 64 entries it stores its progress in `opaque` and the hypercall is restarted (ERESTART), so
// one exit never does more than 64 entries of work, whatever `nr` says.
// The guest calls on itself (current->domain == d), so set_mem_access(_multi) and change_gfn clear
// suppress-#VE on the leaves they write in views 1..9, as Xen's sve argument does; view 0 keeps it.
// Not supported (-EOPNOTSUPP): vcpu_enable/disable_notify (the #VE page is fixed at domain build,
// firmware/README.md), set_suppress_ve_multi, get_p2m_idx, set_visibility.
import type { Vcpu } from './vcpu.js';
import type { Altp2m } from './altp2m.js';
import {
  HVMOP_ALTP2M_INTERFACE_VERSION, HVMOP_altp2m_get_domain_state, HVMOP_altp2m_set_domain_state,
  HVMOP_altp2m_create_p2m, HVMOP_altp2m_destroy_p2m, HVMOP_altp2m_switch_p2m, HVMOP_altp2m_set_mem_access,
  HVMOP_altp2m_change_gfn, HVMOP_altp2m_set_mem_access_multi, HVMOP_altp2m_set_suppress_ve,
  HVMOP_altp2m_get_suppress_ve, HVMOP_altp2m_get_mem_access, VMI_MIRROR_BASE, xenmemAccessToEpt,
} from './altp2m.js';
import { EINVAL, EOPNOTSUPP, EFAULT, ERESTART } from './public.js';

/** sizeof(struct xen_hvm_altp2m_op): the header and the 64-byte union. */
export const XEN_HVM_ALTP2M_OP_SIZE = 80;
/** Entries of set_mem_access_multi done per hypercall before a continuation (Xen's mask 0x3f). */
export const SET_MEM_ACCESS_MULTI_STRIDE = 64;

/** What do_altp2m_op needs of the domain's altp2m state. */
export interface Altp2mState {
  readonly altp2m: Altp2m;
  /** d->arch.altp2m_active. */
  active: boolean;
}

/** The result: 0 / -errno (-ERESTART: the hypercall is restarted), and whether the structure goes back to the guest. */
export interface Altp2mOpResult { rc: number; copyBack: boolean }

const KNOWN = new Set([HVMOP_altp2m_get_domain_state, HVMOP_altp2m_set_domain_state, HVMOP_altp2m_create_p2m,
  HVMOP_altp2m_destroy_p2m, HVMOP_altp2m_switch_p2m, HVMOP_altp2m_set_mem_access, HVMOP_altp2m_change_gfn,
  HVMOP_altp2m_set_mem_access_multi, HVMOP_altp2m_set_suppress_ve, HVMOP_altp2m_get_suppress_ve,
  HVMOP_altp2m_get_mem_access]);

/** The header checks that come before the domain lookup; 0 if the operation may go on. */
export function altp2mOpHeaderCheck(op: DataView): number {
  if (op.getUint16(10, true) !== 0 || op.getUint32(12, true) !== 0 ||
      op.getUint32(0, true) !== HVMOP_ALTP2M_INTERFACE_VERSION) return -EINVAL;
  if (!KNOWN.has(op.getUint32(4, true))) return -EOPNOTSUPP;
  return 0;
}

/** The sve argument Xen passes for a guest's call on itself: 0 in an altp2m view, -1 (keep) in view 0. */
const selfSve = (view: number): boolean | 'keep' => (view === 0 ? 'keep' : false);

/** do_altp2m_op after the domain lookup. `op` holds the guest's structure (at least 48 bytes for the multi op). */
export function doAltp2mOp(st: Altp2mState, v: Vcpu | undefined, op: DataView): Altp2mOpResult {
  const done = (rc: number, copyBack = false): Altp2mOpResult => ({ rc, copyBack });
  const head = altp2mOpHeaderCheck(op);
  if (head) return done(head);
  const cmd = op.getUint32(4, true);
  if (cmd !== HVMOP_altp2m_get_domain_state && cmd !== HVMOP_altp2m_set_domain_state && !st.active) return done(-EOPNOTSUPP);
  const alt = st.altp2m;
  const view = op.getUint16(16, true);
  switch (cmd) {
    case HVMOP_altp2m_get_domain_state:
      op.setUint8(16, st.active ? 1 : 0);
      return done(0, true);
    case HVMOP_altp2m_set_domain_state:
      st.active = op.getUint8(16) !== 0;
      return done(0);
    case HVMOP_altp2m_create_p2m: {
      // struct xen_hvm_altp2m_view { u16 view; u16 hvmmem_default_access; }: the access must be valid.
      if (xenmemAccessToEpt(op.getUint16(18, true), alt.defaultAccess) === undefined) return done(-EINVAL);
      const idx = alt.createP2m();
      if (idx < 0) return done(idx);
      op.setUint16(16, idx, true);
      return done(0, true);
    }
    case HVMOP_altp2m_destroy_p2m: return done(alt.destroyP2m(view));
    case HVMOP_altp2m_switch_p2m: {
      // p2m_switch_domain_altp2m_by_id: idx < MAX_ALTP2M and a valid view (mirrors are not views).
      if (!v || !alt.isValidView(view) || view >= VMI_MIRROR_BASE) return done(-EINVAL);
      v.m.vmwrite('EPT_POINTER', alt.eptp(view)!);
      v.m.vmwrite('EPTP_INDEX', view);
      return done(0);
    }
    case HVMOP_altp2m_set_mem_access:
      // struct xen_hvm_altp2m_mem_access { u16 view; u16 access; u32 pad; u64 gfn; }
      if (op.getUint32(20, true) !== 0) return done(-EINVAL);
      return done(alt.setMemAccess(view, op.getBigUint64(24, true), op.getUint16(18, true), selfSve(view)));
    case HVMOP_altp2m_change_gfn:
      // struct xen_hvm_altp2m_change_gfn { u16 view; u16 pad1; u32 pad2; u64 old_gfn; u64 new_gfn; }
      if (op.getUint16(18, true) !== 0 || op.getUint32(20, true) !== 0) return done(-EINVAL);
      return done(alt.changeGfn(view, op.getBigUint64(24, true), op.getBigUint64(32, true), false));
    case HVMOP_altp2m_set_suppress_ve: {
      // struct xen_hvm_altp2m_suppress_ve { u16 view; u8 suppress_ve; u8 pad1; u32 pad2; u64 gfn; }
      if (op.getUint8(19) !== 0 || op.getUint32(20, true) !== 0) return done(-EINVAL);
      return done(alt.setSuppressVe(view, op.getBigUint64(24, true), op.getUint8(18) !== 0));
    }
    case HVMOP_altp2m_get_suppress_ve: {
      if (op.getUint8(19) !== 0 || op.getUint32(20, true) !== 0) return done(-EINVAL);
      const r = alt.getSuppressVe(view, op.getBigUint64(24, true));
      if (typeof r === 'number') return done(r);
      op.setUint8(18, r.suppress ? 1 : 0);
      return done(0, true);
    }
    case HVMOP_altp2m_get_mem_access: {
      if (op.getUint32(20, true) !== 0) return done(-EINVAL);
      const r = alt.getMemAccess(view, op.getBigUint64(24, true));
      if (typeof r === 'number') return done(r);
      op.setUint16(18, r.access, true);
      return done(0, true);
    }
    case HVMOP_altp2m_set_mem_access_multi:
      return setMemAccessMulti(alt, v, op);
  }
  return done(-EOPNOTSUPP);
}

/**
 * struct xen_hvm_altp2m_set_mem_access_multi { u16 view; u16 pad; u32 nr; u64 opaque;
 * XEN_GUEST_HANDLE(const_uint64) pfn_list; XEN_GUEST_HANDLE(const_uint8) access_list; }:
 * pad or opaque > nr -EINVAL; then p2m_set_mem_access_multi: a bad view -EINVAL; per entry, an
 * unreadable list -EFAULT, a bad access -EINVAL, the set_mem_access result; progress in opaque.
 */
function setMemAccessMulti(alt: Altp2m, v: Vcpu | undefined, op: DataView): Altp2mOpResult {
  const view = op.getUint16(16, true);
  const nr = op.getUint32(20, true);
  let start = op.getBigUint64(24, true);
  if (op.getUint16(18, true) !== 0 || start > BigInt(nr)) return { rc: -EINVAL, copyBack: false };
  if (view !== 0 && !alt.isValidView(view)) return { rc: -EINVAL, copyBack: false };
  const pfns = op.getBigUint64(32, true), accesses = op.getBigUint64(40, true);
  let s = Number(start);
  while (s < nr) {
    const pb = v?.domain.copyFromGuestVirt(BigInt.asUintN(64, pfns + BigInt(s) * 8n), 8);
    const ab = v?.domain.copyFromGuestVirt(BigInt.asUintN(64, accesses + BigInt(s)), 1);
    if (!pb || !ab) return { rc: -EFAULT, copyBack: false };
    const gfn = new DataView(pb.buffer, pb.byteOffset, 8).getBigUint64(0, true);
    const access = ab[0];
    if (xenmemAccessToEpt(access, alt.defaultAccess) === undefined) return { rc: -EINVAL, copyBack: false };
    const rc = alt.setMemAccess(view, gfn, access, selfSve(view));
    if (rc) return { rc, copyBack: false };
    s++;
    if (s < nr && s % SET_MEM_ACCESS_MULTI_STRIDE === 0) {
      start = BigInt(s);
      op.setBigUint64(24, start, true);
      return { rc: -ERESTART, copyBack: true };
    }
  }
  return { rc: 0, copyBack: false };
}
