import { describe, expect, it } from 'vitest';
import { GxitError } from '../../../src/errors.js';
import {
  mergeCommitState,
  parseLineageState,
  serializeLineageState,
  type LineageState,
} from '../../../src/store/state.js';

const valid: LineageState = {
  name: 'galaxy',
  domains: ['galaxy.example.org', '*.galaxy.example.org'],
  keyType: 'ecdsa-p256',
  server: 'https://acme.example/dir',
  version: 2,
  history: [
    { version: 1, at: '2025-01-01T00:00:00.000Z' },
    { version: 2, at: '2025-03-01T00:00:00.000Z' },
  ],
  lastRun: { at: '2025-03-01T00:00:00.000Z', ok: true },
};

describe('parseLineageState', () => {
  it('round-trips a valid state', () => {
    expect(parseLineageState(serializeLineageState(valid), 'galaxy', '/s/renewal/galaxy.json')).toEqual(valid);
  });

  it('keeps fields it does not know (added by a later version)', () => {
    const text = JSON.stringify({ ...valid, ari: { certId: 'a.b', futureField: 1 }, schedule: { cron: '@daily' } });
    const state = parseLineageState(text, 'galaxy', 'p') as unknown as Record<string, unknown>;
    expect(state.schedule).toEqual({ cron: '@daily' });
    expect(state.ari).toEqual({ certId: 'a.b', futureField: 1 });
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', '{', /is not valid JSON/],
    ['an array', [], /does not hold a JSON object/],
    ['another lineage', { ...valid, name: 'other' }, /names lineage "other", expected "galaxy"/],
    ['no domains', { ...valid, domains: [] }, /"domains"/],
    ['a non-string domain', { ...valid, domains: ['a', 3] }, /"domains"/],
    ['an unknown key type', { ...valid, keyType: 'dsa-1024' }, /unknown "keyType" "dsa-1024"/],
    ['no server', { ...valid, server: '' }, /no "server"/],
    ['version 0', { ...valid, version: 0 }, /invalid "version" 0/],
    ['a fractional version', { ...valid, version: 1.5 }, /invalid "version"/],
    ['a string version', { ...valid, version: '2' }, /invalid "version"/],
    ['broken history', { ...valid, history: [{ version: 'x' }] }, /invalid "history"/],
    ['broken lastRun', { ...valid, lastRun: { at: 'now', ok: 'yes' } }, /invalid "lastRun"/],
    ['a non-object ari', { ...valid, ari: 'soon' }, /invalid "ari"/],
  ])('rejects %s with STORE_IO naming the file', (_label, value, message) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    let caught: unknown;
    try {
      parseLineageState(text, 'galaxy', '/s/renewal/galaxy.json');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(GxitError);
    const error = caught as GxitError;
    expect(error.code).toBe('STORE_IO');
    expect(error.subject).toBe('/s/renewal/galaxy.json');
    expect(error.message).toMatch(message);
    expect(error.fix).toBeTruthy();
  });
});

describe('mergeCommitState', () => {
  const at = new Date('2025-05-01T12:00:00.000Z');

  it('starts a new lineage with version and history', () => {
    const state = mergeCommitState(
      'galaxy',
      undefined,
      { domains: ['a.example'], keyType: 'rsa-2048', server: 'https://ca/dir' },
      1,
      at,
    );
    expect(state).toEqual({
      name: 'galaxy',
      domains: ['a.example'],
      keyType: 'rsa-2048',
      server: 'https://ca/dir',
      version: 1,
      history: [{ version: 1, at: '2025-05-01T12:00:00.000Z' }],
    });
  });

  it('replaces given fields, keeps absent ones (also unknown ones), appends history', () => {
    const previous = { ...valid, ari: { certId: 'old' }, schedule: 'x' } as LineageState;
    const state = mergeCommitState(
      'galaxy',
      previous,
      { domains: ['new.example'], keyType: 'ecdsa-p384', server: valid.server, lastRun: { at: at.toISOString(), ok: true } },
      3,
      at,
    );
    expect(state.domains).toEqual(['new.example']);
    expect(state.keyType).toBe('ecdsa-p384');
    expect(state.version).toBe(3);
    expect(state.ari).toEqual({ certId: 'old' });
    expect((state as unknown as Record<string, unknown>).schedule).toBe('x');
    expect(state.history?.map((h) => h.version)).toEqual([1, 2, 3]);
  });

  it('drops a field passed as undefined', () => {
    const previous: LineageState = { ...valid, ari: { certId: 'old' } };
    const state = mergeCommitState('galaxy', previous, { ...valid, ari: undefined }, 3, at);
    expect(JSON.parse(serializeLineageState(state))).not.toHaveProperty('ari');
  });

  it('name and version cannot be overridden by the update', () => {
    const update = { ...valid, name: 'evil', version: 99 } as unknown as Parameters<typeof mergeCommitState>[2];
    const state = mergeCommitState('galaxy', undefined, update, 1, at);
    expect(state.name).toBe('galaxy');
    expect(state.version).toBe(1);
  });
});
