/**
 * From what was read out of a certbot directory to what gets written (pure): the lineages with their
 * versions and key types, the account, the hooks, and the text of the configuration file.
 */
import { join } from 'node:path';
import type { KeyType } from '../config/types.js';
import { GxitError } from '../errors.js';
import type { CertbotAccount, CertbotLineage, HookScript, Rfc2136Ini } from './certbot-tree.js';
import type { HookSpec } from './renewal-conf.js';
import { recognizeRoleHook } from './role-hook.js';
import { flow, map, renderYaml, scalar, seq, type YEntry, type YItem } from './yaml-out.js';

export interface PlannedLineage {
  lineage: CertbotLineage;
  keyType: KeyType;
}

export interface ImportInput {
  certbotDir: string;
  stateDir: string;
  lineages: CertbotLineage[];
  /** certbot's account of the lineages' CA, when it could be read. */
  account?: CertbotAccount;
  scripts: HookScript[];
  /** The non-secret settings of the rfc2136 credentials file the lineages name. */
  rfc2136Ini?: Rfc2136Ini;
  /** Where the shipped hooks (install-files, reload-nginx) are. */
  hooksDir: string;
  caBundle?: string;
  now: Date;
}

export interface ImportPlan {
  server: string;
  lineages: PlannedLineage[];
  account?: CertbotAccount;
  hooks: HookSpec[];
  configText: string;
  warnings: string[];
  notes: string[];
}

export function planImport(input: ImportInput): ImportPlan {
  const warnings: string[] = [];
  const notes: string[] = [];
  const first = input.lineages[0];
  if (first === undefined) {
    throw new GxitError('USAGE', `no certbot lineage to import in ${input.certbotDir}`, {
      subject: input.certbotDir,
      fix: 'check --certbot-dir and --lineage (renewal/<name>.conf names the lineages)',
    });
  }
  const server = first.mapping.server;
  const providerKey = (l: CertbotLineage): string => JSON.stringify(l.mapping.provider);
  for (const l of input.lineages.slice(1)) {
    if (l.mapping.server !== server || providerKey(l) !== providerKey(first)) {
      throw new GxitError('USAGE', `lineages ${first.name} and ${l.name} use different CAs or DNS settings; one configuration holds one of each`, {
        subject: l.name,
        fix: 'import them one group at a time with --lineage NAME, into separate state directories and configurations',
      });
    }
  }

  const lineages: PlannedLineage[] = [];
  for (const l of input.lineages) {
    warnings.push(...l.warnings, ...l.mapping.warnings);
    notes.push(...l.mapping.notes);
    const current = l.live.facts.keyType;
    const keyType = l.mapping.keyType ?? current;
    if (keyType === undefined) {
      throw new GxitError('CONFIG_INVALID', `${l.name}: the key is ${l.live.facts.keyTypeProblem ?? 'of an unknown type'}, which gxit-cert cannot renew`, {
        subject: l.name,
        fix: 'leave this lineage out (--lineage for the others), or renew it once with certbot --key-type ecdsa',
      });
    }
    if (current !== undefined && current !== keyType) {
      warnings.push(`${l.name}: the current key is ${current}; the next renewal makes a ${keyType} key, as certbot would`);
    }
    lineages.push({ lineage: l, keyType });
  }

  if (input.account === undefined) {
    warnings.push(`no certbot account for ${server} could be imported; the next order registers a new account`);
  } else if (input.lineages.some((l) => l.mapping.accountId !== undefined && l.mapping.accountId !== input.account?.id)) {
    warnings.push(`the lineages name more than one certbot account; account ${input.account.id} is imported and used for all`);
  }

  const hooks = collectHooks(input, warnings, notes);
  const configText = renderImportedConfig(input, server, lineages, hooks, warnings);
  return { server, lineages, ...(input.account === undefined ? {} : { account: input.account }), hooks, configText, warnings, notes };
}

function collectHooks(input: ImportInput, warnings: string[], notes: string[]): HookSpec[] {
  const hooks: HookSpec[] = [];
  const seen = new Set<string>();
  const add = (hook: HookSpec): void => {
    const key = `${hook.phase} ${JSON.stringify(hook.command)}`;
    if (seen.has(key)) return;
    seen.add(key);
    hooks.push(hook);
  };
  const liveOfCertbot = join(input.certbotDir, 'live');
  const readsCertbotLive = (text: string, what: string): void => {
    if (text.includes(liveOfCertbot)) {
      warnings.push(`${what} reads ${liveOfCertbot}, which gxit-cert does not update; point it at $RENEWED_LINEAGE (set for deploy hooks) or ${join(input.stateDir, 'live')}`);
    }
  };
  for (const l of input.lineages) {
    for (const hook of l.mapping.hooks) {
      if ('shell' in hook.command) readsCertbotLive(hook.command.shell, hook.origin);
      add(hook);
    }
  }
  for (const script of input.scripts) {
    const role = recognizeRoleHook(script.text);
    if (role.ok) {
      // The role's script copies the files and then runs certbot_post_renewal: the same order as
      // deploy hooks, and only when a certificate is new (it reads certbot's live/ by a fixed path).
      add({ phase: 'deploy', command: { argv: [join(input.hooksDir, 'install-files'), ...role.hook.installFilesArgs] }, origin: `${script.path} (the Galaxy certbot role's copy commands)` });
      for (const command of role.hook.otherCommands) add({ phase: 'deploy', command: { shell: command }, origin: `${script.path} (# Other)` });
      for (const note of role.hook.notes) warnings.push(`${script.path}: ${note}`);
      notes.push(`${script.path}: recognised as the Galaxy certbot role's post-renewal script`);
      continue;
    }
    readsCertbotLive(script.text, script.path);
    add({ phase: script.phase, command: { argv: [script.path] }, origin: `renewal-hooks/${script.phase}` });
  }
  return hooks;
}

function hookItems(hooks: HookSpec[], phase: HookSpec['phase']): YItem[] {
  return hooks
    .filter((h) => h.phase === phase)
    .map((h) => ({ value: 'shell' in h.command ? scalar(h.command.shell) : flow(h.command.argv), comment: `from ${h.origin}` }));
}

function renderImportedConfig(input: ImportInput, server: string, lineages: PlannedLineage[], hooks: HookSpec[], warnings: string[]): string {
  const first = lineages[0]!;
  const topKeyType = first.keyType;
  const entries: YEntry[] = [];
  const email = input.account?.email;
  entries.push(
    email === undefined
      ? { key: 'email', value: scalar('admin@example.org'), disabled: true, comment: 'certbot did not record the address; set it for the CA\'s expiry mail' }
      : { key: 'email', value: scalar(email), comment: 'from certbot\'s account' },
  );
  entries.push({ key: 'server', value: scalar(server), comment: `the CA of renewal/${first.lineage.name}.conf` });
  if (input.caBundle !== undefined) entries.push({ key: 'ca_bundle', value: scalar(input.caBundle), comment: 'extra CA for the ACME server\'s HTTPS' });
  entries.push({ key: 'state_dir', value: scalar(input.stateDir), comment: `imported from ${input.certbotDir}; nginx should now read ${join(input.stateDir, 'live')}/<name>/` });
  entries.push({ key: 'key_type', value: scalar(topKeyType) });
  entries.push({
    key: 'certificates',
    value: seq(
      lineages.map((p) => {
        const cert: YEntry[] = [
          { key: 'name', value: scalar(p.lineage.name) },
          { key: 'domains', value: flow(p.lineage.live.facts.domains) },
        ];
        if (p.keyType !== topKeyType) cert.push({ key: 'key_type', value: scalar(p.keyType) });
        const { reuseKey, preferredChain } = p.lineage.mapping;
        // Per certificate, as certbot keeps them per lineage; false is gxit-cert's default too.
        if (reuseKey === true) cert.push({ key: 'reuse_key', value: scalar(true), comment: 'reuse_key of certbot' });
        if (preferredChain !== undefined) cert.push({ key: 'preferred_chain', value: scalar(preferredChain), comment: 'preferred_chain of certbot' });
        return { value: map(cert) };
      }),
    ),
  });

  const provider = first.lineage.mapping.provider;
  if (provider.kind === 'rfc2136') {
    const ini = input.rfc2136Ini;
    const rfc: YEntry[] = [];
    if (ini?.server !== undefined) rfc.push({ key: 'server', value: scalar(ini.server) });
    if (ini?.port !== undefined && /^\d+$/.test(ini.port)) rfc.push({ key: 'port', value: scalar(Number(ini.port)) });
    if (ini?.name !== undefined) rfc.push({ key: 'name', value: scalar(ini.name), comment: 'TSIG key name' });
    if (ini?.algorithm !== undefined) rfc.push({ key: 'algorithm', value: scalar(ini.algorithm) });
    rfc.push({ key: 'secret_file', value: scalar(provider.credentials), comment: 'certbot\'s credentials file, read as it is (keep it 0600)' });
    if (ini === undefined || ini.server === undefined) warnings.push(`${provider.credentials}: no dns_rfc2136_server; set dns.rfc2136.server in the written configuration`);
    if (ini !== undefined && !ini.hasSecret && ini.name !== undefined) warnings.push(`${provider.credentials}: dns_rfc2136_secret is empty`);
    entries.push({ key: 'dns', value: map([{ key: 'provider', value: scalar('rfc2136') }, { key: 'rfc2136', value: map(rfc) }]) });
  } else if (provider.kind === 'route53') {
    entries.push({
      key: 'dns',
      above: ['certbot-dns-route53 uses the AWS SDK\'s default credentials (environment, ~/.aws, instance role); so does gxit-cert'],
      value: map([{ key: 'provider', value: scalar('route53') }]),
    });
  } else {
    entries.push({
      key: 'dns',
      above: [`certbot validated with ${provider.authenticator}; gxit-cert needs DNS-01 through one of its providers (docs/providers.md): fill this in`],
      value: map([
        { key: 'provider', value: scalar('rfc2136') },
        { key: 'rfc2136', value: map([{ key: 'server', value: scalar('ns1.example.org') }, { key: 'name', value: scalar('tsig-key.') }, { key: 'secret_file', value: scalar('/etc/gxit-cert/tsig.secret') }]) },
      ]),
      disabled: true,
    });
  }

  const phases: YEntry[] = [];
  for (const phase of ['pre', 'deploy', 'post'] as const) {
    const items = hookItems(hooks, phase);
    if (items.length > 0) phases.push({ key: phase, value: seq(items) });
  }
  if (phases.length > 0) entries.push({ key: 'hooks', value: map(phases) });
  const days = first.lineage.mapping.renewBeforeDays;
  if (days !== undefined) entries.push({ key: 'renew_before_days', value: scalar(days), comment: 'renew_before_expiry of certbot' });

  const header = [
    `gxit-cert configuration, imported from certbot's ${input.certbotDir} on ${input.now.toISOString().slice(0, 10)}.`,
    `Lineages: ${lineages.map((p) => p.lineage.name).join(', ')}. See docs/migrate-from-certbot.md for the next steps.`,
  ];
  return renderYaml(header, entries);
}
