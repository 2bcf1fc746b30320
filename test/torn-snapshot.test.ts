// Issue 11, item 4 and its "done when": with the copy-before-write snapshot (src/xen/snapshot.ts)
// every walk of the churn scenario is consistent, where the same walks on live memory (vtime) are
// not -- the snapshot is what makes the difference, not a quiet scenario.
import { describe, it, expect } from 'vitest';
import { benchTorn } from '../src/bench/torn.js';

describe('bench torn: a copy-before-write snapshot makes every walk of a changing guest consistent', () => {
  it('20 requests under the haswell profile: vtime meets a torn walk, vtime + snapshot none', async () => {
    const b = await benchTorn({ requests: 20, modes: ['vtime', 'snapshot'], profiles: ['haswell'] });
    const [live, snap] = b.rows;
    expect(live.mode).toBe('vtime');
    expect(live.walks).toBe(20);
    expect(live.retries, 'the scenario must tear at least one live walk, or this test proves nothing').toBeGreaterThan(0);
    expect(snap.mode).toBe('snapshot');
    expect(snap.walks).toBe(20);
    expect(snap.consistent).toBe(20);
    expect(snap.retries).toBe(0);
    expect(snap.snapshot_exhausted).toBe(0);
    expect(snap.snapshot_copies).toBeGreaterThan(0);   // the guest did write while the walks ran
  }, 120_000);
});
