import { describe, expect, it } from 'vitest';
import type { CertificateConfig } from '../../../src/config/types.js';
import type { RenewalAriState } from '../../../src/renew/ari.js';
import type { LineageSnapshot, LiveCertificate } from '../../../src/renew/facts.js';
import { needsOrder, needsWork, planRenewal, type RenewPlanItem } from '../../../src/renew/plan.js';
import type { RunRecord } from '../../../src/renew/record.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');
const SERVER = 'https://ca.example/dir';
const cert: CertificateConfig = { name: 'rnw.example.org', domains: ['rnw.example.org', '*.ep.interactivetool.rnw.example.org'], keyType: 'ecdsa-p256' };

function snapshot(opts: { left?: number; server?: string; domains?: string[]; ari?: RenewalAriState; runs?: RunRecord; liveVersion?: number; noCert?: boolean } = {}): LineageSnapshot {
  const left = opts.left ?? 60;
  const live: LiveCertificate = {
    serial: '01',
    issuer: 'CA',
    notBeforeMs: NOW + (left - 90) * DAY,
    notAfterMs: NOW + left * DAY,
    fingerprint256: 'AA',
    sans: cert.domains,
    certId: 'id',
  };
  const state = {
    name: cert.name,
    domains: opts.domains ?? cert.domains,
    keyType: 'ecdsa-p256' as const,
    server: opts.server ?? SERVER,
    version: 2,
    ...(opts.ari === undefined ? {} : { ari: opts.ari }),
    ...(opts.runs === undefined ? {} : { runs: opts.runs }),
  };
  const paths = { dir: '/s/live/x', cert: '/s/live/x/cert.pem', chain: '', fullchain: '', privkey: '' };
  return {
    name: cert.name,
    lineage: { state, live: paths, liveVersion: opts.liveVersion ?? 2 },
    ...(opts.noCert ? { problem: 'cannot read it' } : { certificate: live }),
  };
}

function plan(snap: LineageSnapshot | undefined, opts: { force?: boolean; renewBeforeDays?: number } = {}): RenewPlanItem {
  const snapshots = new Map(snap ? [[cert.name, snap]] : []);
  const item = planRenewal([cert], snapshots, NOW, { force: opts.force ?? false, server: SERVER, ...(opts.renewBeforeDays === undefined ? {} : { renewBeforeDays: opts.renewBeforeDays }) })[0];
  if (!item) throw new Error('no plan item');
  return item;
}

const future = { certId: 'id', supported: true, window: { start: new Date(NOW + 10 * DAY).toISOString(), end: new Date(NOW + 12 * DAY).toISOString() }, nextFetchAt: new Date(NOW + DAY).toISOString() };

describe('planRenewal', () => {
  it('issues a lineage that does not exist yet, without asking ARI', () => {
    const item = plan(undefined);
    expect(item).toMatchObject({ issueReason: 'new', ariCheck: false, redeploy: false });
    expect(needsOrder(item)).toBe(true);
  });

  it('asks ARI first for a current certificate never checked', () => {
    const item = plan(snapshot());
    expect(item.issueReason).toBeUndefined();
    expect(item.due?.due).toBe(false);
    expect(item.ariCheck).toBe(true);
    expect(needsOrder(item)).toBe(false);
    expect(needsWork(item)).toBe(true);
  });

  it('has nothing to do while Retry-After runs and the window is ahead', () => {
    const item = plan(snapshot({ ari: future }));
    expect(needsWork(item)).toBe(false);
    expect(item.replaces).toBe('id');
  });

  it('renews by lifetime where the CA has no ARI, without `replaces`', () => {
    const item = plan(snapshot({ left: 20, ari: { certId: 'id', supported: false, nextFetchAt: new Date(NOW + DAY).toISOString() } }));
    expect(item.due).toMatchObject({ due: true, basis: 'lifetime' });
    expect(item.replaces).toBeUndefined();
    expect(needsOrder(item)).toBe(true);
  });

  it('renews when the ARI window has passed, with `replaces`', () => {
    const past = { ...future, window: { start: new Date(NOW - 3 * DAY).toISOString(), end: new Date(NOW - DAY).toISOString() } };
    const item = plan(snapshot({ ari: past }));
    expect(item.due).toMatchObject({ due: true, basis: 'ari' });
    expect(item.replaces).toBe('id');
  });

  it('forces with `replaces` where the CA offers ARI', () => {
    expect(plan(snapshot({ ari: future }), { force: true })).toMatchObject({ issueReason: 'forced', replaces: 'id' });
  });

  it('orders changed names without `replaces` and without an ARI check', () => {
    const item = plan(snapshot({ ari: future, domains: ['rnw.example.org'] }));
    expect(item).toMatchObject({ issueReason: 'expanded', ariCheck: false });
    expect(item.replaces).toBeUndefined();
  });

  it('does not ask ARI of, or send `replaces` to, another CA', () => {
    const item = plan(snapshot({ ari: future, server: 'https://old-ca.example/dir' }));
    expect(item).toMatchObject({ issueReason: 'ca-changed', ariCheck: false });
    expect(item.replaces).toBeUndefined();
  });

  it('repairs a lineage whose live certificate cannot be read', () => {
    expect(plan(snapshot({ noCert: true })).due).toMatchObject({ due: true, detail: 'cannot read it' });
  });

  it('orders a new version for a broken lineage, for issue as well (issueReason broken), even when the certificate parses', () => {
    expect(plan(snapshot({ noCert: true })).issueReason).toBe('broken');
    const mismatched = { ...snapshot({ left: 60 }), problem: 'live/x: privkey.pem does not belong to the certificate' };
    const item = plan(mismatched);
    expect(item).toMatchObject({ issueReason: 'broken', due: { due: true, detail: mismatched.problem } });
    expect(needsOrder(item)).toBe(true);
  });

  it('passes renew_before_days to the decision', () => {
    expect(plan(snapshot({ left: 50, ari: { certId: 'id', supported: false, nextFetchAt: new Date(NOW + DAY).toISOString() } }), { renewBeforeDays: 60 }).due).toMatchObject({ due: true, basis: 'renew-before-days' });
  });

  it('deploys again when the deploy of the live version failed, not for an older version', () => {
    const failed = { deploy: { at: 'x', version: 2, ok: false, error: 'reload failed' } };
    expect(plan(snapshot({ ari: future, runs: failed })).redeploy).toBe(true);
    expect(needsWork(plan(snapshot({ ari: future, runs: failed })))).toBe(true);
    expect(plan(snapshot({ ari: future, runs: failed, liveVersion: 3 })).redeploy).toBe(false);
    expect(plan(snapshot({ ari: future, runs: { deploy: { at: 'x', version: 2, ok: true } } })).redeploy).toBe(false);
  });
});
