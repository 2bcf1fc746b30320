// The VMI requests' ring, as Xen's vm_event ring bounds a domain's events
// (xen/common/vm_event.c): a fixed number of request slots per domain. A
// producer claims a slot before it puts a request in (vm_event_claim_slot ->
// vm_event_grab_slot: -EBUSY when vm_event_ring_available() is 0) and the
// slot comes back when Dom0 has answered the request (vm_event_resume reads
// the response, vm_event_release_slot). A request raised from the guest's
// own RDTSC exit cannot wait for a slot: Xen waits only when the producer is
// the target domain's vCPU *and* may sleep (__vm_event_claim_slot with
// allow_sleep, vm_event_wait_slot); the exit handler may not, so with the
// ring full the request is lost -- counted and traced
// (TRC_VMI_REQUEST_DROPPED) rather than silently gone.
//
// Ours, not Xen's: a per-domain rate limit in virtual time (a token bucket
// holding one second's worth, refilled continuously), so that a guest
// cannot keep Dom0 launching programs at the rate its exits allow. Xen has
// no rate on vm_event; the admission order is rate first (every request
// within the rate spends a token), then a slot.
//
// A slot is held from the request's raising until Dom0 answers: by the VMI
// program's end when the launch module runs one (src/dom0/launch.ts), at
// once when Dom0 only logs requests (src/dom0/dom0.ts).

/** Why a request was not admitted (the TRC_VMI_REQUEST_DROPPED record's last word). */
export const VMI_DROP_RING_FULL = 1;
export const VMI_DROP_RATE = 2;
export type VmiDropReason = typeof VMI_DROP_RING_FULL | typeof VMI_DROP_RATE;

/** Defaults of `run` (vmi/README.md states them): ring slots and requests per second of virtual time. */
export const DEFAULT_VMI_QUEUE = 64;
export const DEFAULT_VMI_RATE = 1000;

export interface VmEventRingOptions {
  /** Request slots (vm_event ring size); Infinity for none. */
  slots?: number;
  /** Requests admitted per second of virtual time; Infinity for no limit. */
  ratePerSec?: number;
  /** TSC cycles per second (the domain's tscKhz * 1000). */
  cyclesPerSec: number;
}

export class VmEventRing {
  readonly slots: number;
  readonly ratePerSec: number;
  /** Slots claimed and not yet released (requests raised, not yet answered by Dom0). */
  inUse = 0;
  /** Requests lost, by reason. */
  droppedFull = 0;
  droppedRate = 0;
  private tokens: number;
  private lastRefill: bigint | undefined;
  private readonly cyclesPerSec: number;

  constructor(o: VmEventRingOptions) {
    this.slots = o.slots ?? Infinity;
    this.ratePerSec = o.ratePerSec ?? Infinity;
    if (!(this.slots >= 1)) throw new RangeError(`VMI request queue: ${this.slots} slots (at least 1)`);
    if (!(this.ratePerSec > 0)) throw new RangeError(`VMI request rate: ${this.ratePerSec} per second (above 0)`);
    this.cyclesPerSec = o.cyclesPerSec;
    this.tokens = Math.max(1, this.ratePerSec);
  }

  get dropped(): number { return this.droppedFull + this.droppedRate; }

  /**
   * A guest-raised request at virtual time `now` that cannot wait: claims a slot (0), or says why it
   * is lost (the rate, or -EBUSY from a full ring) and counts it.
   */
  claim(now: bigint): 0 | VmiDropReason {
    if (Number.isFinite(this.ratePerSec)) {
      const cap = Math.max(1, this.ratePerSec);
      if (this.lastRefill !== undefined && now > this.lastRefill) {
        this.tokens = Math.min(cap, this.tokens + Number(now - this.lastRefill) * this.ratePerSec / this.cyclesPerSec);
      }
      this.lastRefill = now;
      if (this.tokens < 1) { this.droppedRate++; return VMI_DROP_RATE; }
      this.tokens -= 1;       // the rate counts the requests raised, whether the ring then takes them or not
    }
    if (this.inUse >= this.slots) { this.droppedFull++; return VMI_DROP_RING_FULL; }
    this.inUse++;
    return 0;
  }

  /** A claimed slot not used after all (vm_event_cancel_slot: the request never reached the ring). */
  cancel(): void { if (this.inUse > 0) this.inUse--; }

  /** Dom0 answered a request: its slot is free again (vm_event_resume). */
  release(): void { if (this.inUse > 0) this.inUse--; }
}
