/**
 * Sends one signed HR event to a running Sekisho (npm run hr:send -- ...).
 *
 *   npm run hr:send -- transfer E1003 ep
 *   npm run hr:send -- hire E2001 nw "山田 太郎" --at 2027-04-01T00:00:00+09:00
 *   npm run hr:send -- leave E1003 --url http://localhost:3000
 *
 * The secret comes from SEKISHO_HR_WEBHOOK_SECRET, or else from the demo credentials file
 * <SEKISHO_DATA_DIR or ./data>/demo-credentials.json that `npm start` writes in demo mode.
 * The request is signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { secretKey, signWebhook } from '../src/hr/signature.js';

const USAGE = `usage:
  npm run hr:send -- transfer <personId> <company> [options]
  npm run hr:send -- hire <personId> <company> <name...> [options]
  npm run hr:send -- leave <personId> [options]
options:
  --at <RFC 3339>   effective instant (default: now), e.g. 2027-04-01T00:00:00+09:00
  --org-unit <text> organisational unit (hire, transfer)
  --url <base URL>  Sekisho's base URL (default: http://localhost:\${PORT:-3000})
secret: SEKISHO_HR_WEBHOOK_SECRET, else <SEKISHO_DATA_DIR or ./data>/demo-credentials.json`;

function fail(message: string, code = 2): never {
  console.error(`hr:send: ${message}\n\n${USAGE}`);
  process.exit(code);
}

function readSecret(): string {
  const fromEnv = process.env.SEKISHO_HR_WEBHOOK_SECRET;
  if (fromEnv) return fromEnv;
  const file = path.resolve(process.env.SEKISHO_DATA_DIR || './data', 'demo-credentials.json');
  if (!existsSync(file)) {
    fail(`no secret: set SEKISHO_HR_WEBHOOK_SECRET, or start Sekisho in demo mode first (it writes ${file})`, 1);
  }
  const creds = JSON.parse(readFileSync(file, 'utf8')) as { hrWebhookSecret?: string };
  if (!creds.hrWebhookSecret) fail(`${file} has no hrWebhookSecret`, 1);
  return creds.hrWebhookSecret;
}

function buildEvent(positionals: string[], effectiveAt: string, orgUnit: string | undefined): Record<string, string> {
  const [command, personId, company, ...nameParts] = positionals;
  const extra: Record<string, string> = orgUnit ? { orgUnit } : {};
  switch (command) {
    case 'transfer':
      if (!personId || !company || nameParts.length > 0) fail('transfer takes <personId> <company>');
      return { type: 'person.transferred', personId, company, ...extra, effectiveAt };
    case 'hire':
      if (!personId || !company || nameParts.length === 0) fail('hire takes <personId> <company> <name>');
      return { type: 'person.hired', personId, company, name: nameParts.join(' '), ...extra, effectiveAt };
    case 'leave':
      if (!personId || company !== undefined) fail('leave takes <personId>');
      if (orgUnit) fail('--org-unit does not apply to leave');
      return { type: 'person.left', personId, effectiveAt };
    case undefined:
      return fail('say what to send');
    default:
      return fail(`unknown command '${command}'`);
  }
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        at: { type: 'string' },
        'org-unit': { type: 'string' },
        url: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail((err as Error).message);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    return;
  }
  const at = parsed.values.at;
  if (at !== undefined && (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(at) || Number.isNaN(Date.parse(at)))) {
    fail(`--at must be an RFC 3339 instant with an offset, e.g. 2027-04-01T00:00:00+09:00 (got '${at}')`);
  }
  const event = buildEvent(parsed.positionals, at ?? new Date().toISOString(), parsed.values['org-unit']);
  const baseUrl = (parsed.values.url ?? `http://localhost:${process.env.PORT || 3000}`).replace(/\/+$/, '');

  const key = secretKey(readSecret());
  const id = `msg_${randomUUID()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const body = JSON.stringify(event);
  let res: Response;
  try {
    res = await fetch(`${baseUrl}/v1/hr/events`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(key, id, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    console.error(`hr:send: cannot reach ${baseUrl}: ${(err as Error).cause ?? (err as Error).message}`);
    process.exit(1);
  }
  const text = await res.text();
  let shown = text;
  try {
    shown = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: print as it came
  }
  console.log(`POST ${baseUrl}/v1/hr/events  webhook-id ${id}`);
  console.log(`${event.type} ${event.personId}${event.company ? ` -> ${event.company}` : ''} effective ${event.effectiveAt}`);
  console.log(`${res.status} ${res.statusText}`);
  if (shown) console.log(shown);
  if (!res.ok) process.exit(1);
}

await main();
