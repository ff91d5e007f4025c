/**
 * Notifications after a run: one message per event (a lineage that failed, was renewed, or expires
 * within 7 days), as a JSON POST to a webhook (Slack/Mattermost read its "text") and as an e-mail
 * through the local sendmail (-t: recipients from the headers). Sending is best effort: a
 * notification that cannot be sent is returned as a problem line and never changes the run's outcome.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import { hostname } from 'node:os';
import type { NotifyConfig, NotifyEvent } from '../config/notify.js';

export interface LineageOutcome {
  name: string;
  domains: string[];
  status: 'failed' | 'renewed' | 'issued' | 'current' | 'other';
  /** The error line of a failure. */
  error?: string;
  /** notAfter of the live certificate, ISO 8601. */
  expiry?: string;
}

export interface Notification {
  event: NotifyEvent;
  text: string;
  lineage: string;
  domains: string[];
  /** What failed ("renewal", "issuance"), for failures. */
  failed?: string;
  error?: string;
  expiry?: string;
  host: string;
}

const EXPIRY_MS = 7 * 86_400_000;

/** The notifications a run's outcomes call for under `on` (pure). */
export function notificationsFor(outcomes: readonly LineageOutcome[], on: readonly NotifyEvent[], opts: { mode: 'issue' | 'renew'; nowMs: number; host: string }): Notification[] {
  const out: Notification[] = [];
  const what = opts.mode === 'renew' ? 'renewal' : 'issuance';
  for (const o of outcomes) {
    const base = { lineage: o.name, domains: o.domains, host: opts.host, ...(o.expiry === undefined ? {} : { expiry: o.expiry }) };
    const until = o.expiry === undefined ? '' : ` (the live certificate expires ${o.expiry})`;
    if (o.status === 'failed' && on.includes('failure')) {
      out.push({ ...base, event: 'failure', failed: what, ...(o.error === undefined ? {} : { error: o.error }), text: `gxit-cert on ${opts.host}: ${what} of ${o.name} [${o.domains.join(', ')}] failed: ${o.error ?? 'unknown error'}${until}` });
    } else if ((o.status === 'renewed' || o.status === 'issued') && on.includes('renewal')) {
      out.push({ ...base, event: 'renewal', text: `gxit-cert on ${opts.host}: ${o.name} [${o.domains.join(', ')}] ${o.status}${o.expiry === undefined ? '' : `, valid until ${o.expiry}`}` });
    }
    if (on.includes('expiry') && o.status !== 'renewed' && o.status !== 'issued' && o.expiry !== undefined && Date.parse(o.expiry) - opts.nowMs < EXPIRY_MS) {
      out.push({ ...base, event: 'expiry', text: `gxit-cert on ${opts.host}: ${o.name} [${o.domains.join(', ')}] expires ${o.expiry}, in less than 7 days` });
    }
  }
  return out;
}

/** POSTs one JSON document; resolves on a 2xx answer. The URL is never put into a message (it may hold a token). */
export function postWebhook(url: string, doc: unknown, timeoutMs: number): Promise<void> {
  const target = new URL(url);
  const body = Buffer.from(JSON.stringify(doc));
  const client = target.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = client.request(target, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`the webhook at ${target.host} answered HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`the webhook at ${target.host} did not answer within ${timeoutMs / 1000} s`)));
    req.on('error', (error) => reject(new Error(`the webhook at ${target.host} could not be reached: ${error.message.replace(url, target.host)}`)));
    req.end(body);
  });
}

/** Hands one message to `sendmail -t`; resolves when it exits 0. */
export function sendMail(sendmail: string, to: readonly string[], subject: string, text: string, timeoutMs: number): Promise<void> {
  const message = [`To: ${to.join(', ')}`, `Subject: ${subject.replace(/[\r\n]+/g, ' ')}`, 'Content-Type: text/plain; charset=utf-8', 'Auto-Submitted: auto-generated', '', text, ''].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(sendmail, ['-t'], { stdio: ['pipe', 'ignore', 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${sendmail} could not be started: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${sendmail} -t ${signal === null ? `exited with ${code}` : `was killed (${signal})`}${err.trim() === '' ? '' : `: ${err.trim().split('\n')[0]}`}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(message);
  });
}

/** Sends every notification to every receiver; returns one problem line per one that could not be sent. */
export async function sendNotifications(config: NotifyConfig, notifications: readonly Notification[], timeoutMs = 10_000): Promise<string[]> {
  const problems: string[] = [];
  for (const n of notifications) {
    if (config.webhook !== undefined) {
      await postWebhook(config.webhook, n, timeoutMs).catch((error: unknown) => problems.push(`notification (${n.event}, ${n.lineage}) not sent: ${error instanceof Error ? error.message : String(error)}`));
    }
    if (config.email.length > 0) {
      await sendMail(config.sendmail, config.email, `gxit-cert: ${n.event} of ${n.lineage} on ${n.host}`, `${n.text}\n`, timeoutMs).catch((error: unknown) =>
        problems.push(`notification e-mail (${n.event}, ${n.lineage}) not sent: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  }
  return problems;
}

export function localHost(): string {
  return hostname();
}
