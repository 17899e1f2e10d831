import { createHash } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import { systems } from '../access/schema.js';
import { companyRules } from '../affiliation/sql.js';
import { appendAudit } from '../audit/chain.js';
import type { Db } from '../db/client.js';
import { withTx } from '../db/tx.js';
import { common, type FieldError } from '../errors.js';
import { zodToFieldErrors } from '../http/problem.js';
import { detectionProblems } from './errors.js';
import { RULES } from './rule-codes.js';
import { accessLogBatches } from './schema.js';
import { accessEventIn, EARLIEST_EVENT, isPlainValidEvent, MAX_EVENTS_PER_REQUEST, MAX_FUTURE_SKEW_MS } from './schemas.js';

/*
 * Access-log intake: a request's events are validated in full first (one bad event refuses the
 * whole request, naming it), then stored in one transaction with their batch row and an audit
 * record, resolved set-based in the INSERT itself: nothing is acknowledged before it is durable,
 * and nothing is stored without its meaning at the event's instant. Rules run later, in the job
 * detection.scan-access-logs, so intake stays one statement per batch.
 */

export type BodyFormat = 'json' | 'ndjson';

/** A request body that passed validation, ready to store. */
export interface ValidatedBatch {
  /** The events as one JSON array text (the body itself for a JSON array, the lines joined for NDJSON). */
  json: string;
  count: number;
  minAt: Date;
  maxAt: Date;
  systems: string[];
  /** The distinct (system, loginId) pairs the events name: the credentials the INSERT needs. */
  logins: { system: string; login_id: string }[];
  /** SHA-256 (hex) of the body bytes as received. */
  sha256: string;
}

/** work_mem of the intake transaction. */
const INGEST_WORK_MEM = '64MB';

/** At most this many bad events are described in one problem. */
const MAX_REPORTED = 10;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function decode(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw common.validation('the body is not valid UTF-8');
  }
}

function tooMany(n: number): never {
  throw detectionProblems.tooManyEvents(`${n} events in one request; send at most ${MAX_EVENTS_PER_REQUEST} per request`);
}

/** Splits NDJSON into its non-blank lines and parses them as one array; a bad line is named. */
function parseNdjson(text: string): { json: string; events: unknown[] } {
  const lines: string[] = [];
  const lineNumbers: number[] = [];
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo += 1;
    const line = text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (line.trim() !== '') {
      lines.push(line);
      lineNumbers.push(lineNo);
      if (lines.length > MAX_EVENTS_PER_REQUEST) tooMany(lines.length);
    }
    start = end + 1;
  }
  const json = `[${lines.join(',')}]`;
  let events: unknown[] | undefined;
  try {
    events = JSON.parse(json) as unknown[];
  } catch {
    events = undefined;
  }
  // A line that is not exactly one JSON value (broken, or two values on one line) is found line by line.
  if (!events || events.length !== lines.length) {
    for (let i = 0; i < lines.length; i++) {
      let ok = true;
      try {
        JSON.parse(lines[i]!);
      } catch {
        ok = false;
      }
      if (!ok) {
        throw common.validation(`line ${lineNumbers[i]} (event ${i}) is not one JSON value`, [{ path: `/${i}`, message: 'not one JSON value' }]);
      }
    }
    throw common.validation('the body is not valid NDJSON');
  }
  return { json, events };
}

/**
 * Parses and validates a POST /v1/access-logs body in full. Throws a problem naming the bad
 * events (JSON Pointers to their index) when any event is not valid; nothing is stored then.
 */
export function validateAccessLogBody(args: { raw: Buffer; format: BodyFormat; now: Date }): ValidatedBatch {
  const sha256 = createHash('sha256').update(args.raw).digest('hex');
  const text = decode(args.raw);
  let json: string;
  let events: unknown;
  if (args.format === 'ndjson') {
    ({ json, events } = parseNdjson(text));
  } else {
    json = text;
    try {
      events = JSON.parse(text);
    } catch {
      throw common.validation('the body is not valid JSON');
    }
    if (!Array.isArray(events)) throw common.validation('send a JSON array of events (or NDJSON as application/x-ndjson)', [{ path: '', message: 'not an array' }]);
  }
  const list = events as unknown[];
  if (list.length === 0) throw common.validation('the batch holds no events', [{ path: '', message: 'no events' }]);
  if (list.length > MAX_EVENTS_PER_REQUEST) tooMany(list.length);

  const latest = args.now.getTime() + MAX_FUTURE_SKEW_MS;
  const errors: FieldError[] = [];
  let bad = 0;
  let minAt = Infinity;
  let maxAt = -Infinity;
  const systemCodes = new Set<string>();
  const logins = new Map<string, { system: string; login_id: string }>();
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as { at: string; system: string; loginId?: string | null };
    if (!isPlainValidEvent(e)) {
      const r = accessEventIn.safeParse(e);
      if (!r.success) {
        if (++bad <= MAX_REPORTED) errors.push(...zodToFieldErrors(r.error, `/${i}`));
        continue;
      }
    }
    const t = Date.parse(e.at);
    if (t < EARLIEST_EVENT || t > latest) {
      if (++bad <= MAX_REPORTED) errors.push({ path: `/${i}/at`, message: t < EARLIEST_EVENT ? 'before 2000-01-01' : 'more than a day ahead of Sekisho’s clock' });
      continue;
    }
    if (t < minAt) minAt = t;
    if (t > maxAt) maxAt = t;
    systemCodes.add(e.system);
    if (e.loginId != null) {
      const k = `${e.system}/${e.loginId}`;
      if (!logins.has(k)) logins.set(k, { system: e.system, login_id: e.loginId });
    }
  }
  if (bad > 0) {
    const shown = bad > MAX_REPORTED ? ` (the first ${MAX_REPORTED} are listed)` : '';
    throw common.validation(`${bad} of ${list.length} events are not valid${shown}; nothing was stored: ` + errors.map((e) => `${e.path} ${e.message}`).join('; '), errors);
  }
  return { json, count: list.length, minAt: new Date(minAt), maxAt: new Date(maxAt), systems: [...systemCodes], logins: [...logins.values()], sha256 };
}

export interface IngestResult {
  batchId: string;
  accepted: number;
  /** True when this Idempotency-Key had been accepted before: nothing was stored this time. */
  replayed: boolean;
}

/**
 * The INSERT … SELECT that stores a batch's events with their meaning at their instant. Every
 * join is set-based over the batch (hash joins on small catalogue tables), so the cost per event
 * does not depend on how many events came before.
 *
 *  - viewer: personId as logged, else the holder of the login: the password credential of that
 *    login on that system in force at `at` (each credential of a login covers [its creation,
 *    the next one's creation));
 *  - affiliation of the viewer at `at` (current knowledge of valid time), and the company and
 *    kind whose rules apply (a contractor's actsFor);
 *  - nonpublic: the viewer is not of the wheeling company at `at` and saw a field other than
 *    network.public ones, and the customer's retailer-only fields unless the customer's retailer
 *    is the viewer's rules company (missing retailer: someone else's customer). A field the
 *    system never declared counts as non-public (fail closed, like decisions mask it);
 *  - emergency: a roster member for the event's area, during an emergency covering that area;
 *  - shared secret: a login to a shared account (a shared secret named like the login) while
 *    the version then in force had been carried to another company by a holder who moved (from
 *    their move, or from the exposure the HR side effects recorded) and not yet rotated away.
 */
function insertEvents(batchId: number, batch: Pick<ValidatedBatch, 'json' | 'systems' | 'logins'>) {
  const { json } = batch;
  return sql`
    insert into access_events (at, batch_id, seq, nonpublic, credential_id, emergency_id, shared_secret_id, system, action,
      person_id, login_id, terminal_id, customer_id, retailer, area, fields, company_code, rules_company, rules_kind,
      terminal_company, site, nonpublic_fields, breaches)
    with e as (
      select r.at, r.system, r.person_id, r.login_id, r.terminal_id, r.action, r.customer_id, r.retailer, r.area, r.fields,
        coalesce(r.fields, '{}') as seen, (r.ord - 1)::int as seq
      from rows from (jsonb_to_recordset(${json}::jsonb) as (at timestamptz, system text, "personId" text, "loginId" text,
        "terminalId" text, action text, "customerId" text, retailer text, area text, fields text[]))
        with ordinality as r(at, system, person_id, login_id, terminal_id, action, customer_id, retailer, area, fields, ord)
    ),
    named_logins as materialized (
      select x.system, x.login_id from jsonb_to_recordset(${JSON.stringify(batch.logins)}::jsonb) as x(system text, login_id text)
    ),
    logins as (
      select c.id, c.person_id, c.company_code, c.system, c.login_id, c.revoked_at, c.created_at as from_at,
        lead(c.created_at) over (partition by c.system, c.login_id order by c.created_at, c.id) as to_at
      from credentials c
      where c.type = 'password' and (c.system, c.login_id) in (select system, login_id from named_logins)
    ),
    exposures as (
      select x.secret_id, x.system, x.login_id, min(x.from_at) as from_at, x.to_at
      from (
        select s.id as secret_id, s.system, s.name as login_id, h.version,
          least(h.exposed_at, (select min(a.valid_from) from affiliations a where a.person_id = h.person_id
            and a.superseded_at is null and a.valid_from > h.since and a.company_code <> h.company_code)) as from_at,
          case when h.version >= s.version then null
            else coalesce((select min(h2.since) from shared_secret_holders h2 where h2.secret_id = s.id and h2.version > h.version), s.rotated_at) end as to_at
        from shared_secrets s
        join shared_secret_holders h on h.secret_id = s.id
        where (s.system, s.name) in (select system, login_id from named_logins)
      ) x
      where x.from_at is not null
      group by x.secret_id, x.system, x.login_id, x.version, x.to_at
    ),
    classes as (
      select f.system_code,
        coalesce(array_agg(f.field) filter (where f.class = 'network.public'), '{}') as public_fields,
        coalesce(array_agg(f.field) filter (where f.class = 'customer.retailer-only'), '{}') as retailer_fields,
        coalesce(array_agg(f.field) filter (where f.in_emergency_set), '{}') as emergency_fields
      from system_fields f
      where f.system_code in (select jsonb_array_elements_text(${JSON.stringify(batch.systems)}::jsonb))
      group by f.system_code
    ),
    resolved as (
      select e.*, l.id as credential_id, l.company_code as credential_company, l.revoked_at as credential_revoked_at,
        coalesce(e.person_id, l.person_id) as viewer, a.company_code, cr.rules_company, cr.rules_kind,
        t.company_code as terminal_company, t.site, x.secret_id, ro.areas as roster_areas,
        coalesce(cl.emergency_fields, '{}') as emergency_fields,
        case when e.retailer is not null and e.retailer = cr.rules_company
          then coalesce(cl.public_fields, '{}') || coalesce(cl.retailer_fields, '{}')
          else coalesce(cl.public_fields, '{}') end as visible
      from e
      left join logins l on l.system = e.system and l.login_id = e.login_id and l.from_at <= e.at and (l.to_at is null or e.at < l.to_at)
      left join affiliations a on a.person_id = coalesce(e.person_id, l.person_id) and a.superseded_at is null
        and a.valid_from <= e.at and (a.valid_to is null or e.at < a.valid_to)
      left join (${companyRules()}) cr on cr.code = a.company_code
      left join terminals t on t.id = e.terminal_id
      left join exposures x on x.system = e.system and x.login_id = e.login_id and x.from_at <= e.at and (x.to_at is null or e.at < x.to_at)
      left join classes cl on cl.system_code = e.system
      left join emergency_roster ro on ro.person_id = coalesce(e.person_id, l.person_id)
    ),
    judged as (
      select r.*, (r.rules_kind is distinct from 'wheeling' and not (r.seen <@ r.visible)) as nonpublic
      from resolved r
    ),
    covered as (
      select j.*,
        case when j.nonpublic then array(select f from unnest(j.seen) f where not (f = any(j.visible))) end as nonpublic_fields,
        case when j.nonpublic and j.area = any(j.roster_areas) then (
          select em.id from emergencies em
          where em.started_at is not null and em.started_at <= j.at and j.at < least(coalesce(em.ended_at, 'infinity'), em.expires_at)
            and j.area = any(em.areas)
          order by em.started_at, em.id limit 1) end as emergency_id
      from judged j
    )
    select c.at, ${batchId}::bigint, c.seq, c.nonpublic, c.credential_id, c.emergency_id, c.secret_id, c.system, c.action,
      c.viewer, c.login_id, c.terminal_id, c.customer_id, c.retailer, c.area, c.fields, c.company_code, c.rules_company, c.rules_kind,
      c.terminal_company, c.site, c.nonpublic_fields,
      nullif(array_remove(array[
        case when c.nonpublic and not (c.emergency_id is not null and c.nonpublic_fields <@ c.emergency_fields)
          then ${RULES.nonpublicViewed} end,
        case when c.terminal_id is not null and c.viewer is not null and (c.terminal_company is null
            or (c.terminal_company is distinct from c.company_code and c.terminal_company is distinct from c.rules_company))
          then ${RULES.terminalMismatch} end,
        case when c.nonpublic and c.roster_areas is not null and c.emergency_id is null and c.nonpublic_fields && c.emergency_fields
          then ${RULES.emergencyOutside} end,
        case when c.credential_id is not null and c.credential_revoked_at <= c.at then ${RULES.revokedCredential} end,
        case when c.credential_id is not null and c.credential_company is distinct from c.company_code then ${RULES.credentialAfterTransfer} end,
        case when c.secret_id is not null then ${RULES.sharedSecretExposed} end
      ]::text[], null), '{}') as breaches
    from covered c`;
}

/**
 * Stores a validated batch: its batch row (claiming the Idempotency-Key), its events, and an
 * audit record carrying the body's digest, in one transaction. A key accepted before answers
 * as it did then and stores nothing; the same key with another body is refused. Two deliveries
 * of one key at once: the second waits on the key's unique index and then answers as a replay.
 */
export async function ingestAccessLog(args: {
  db: Db;
  now: Date;
  actor: string;
  batch: ValidatedBatch;
  idempotencyKey?: string;
}): Promise<IngestResult> {
  const { db, now, actor, batch } = args;
  const key = args.idempotencyKey ?? null;
  return withTx(db, async (tx) => {
    const [row] = await tx
      .insert(accessLogBatches)
      .values({ idempotencyKey: key, bodySha256: batch.sha256, accepted: batch.count, minAt: batch.minAt, maxAt: batch.maxAt, receivedAt: now, receivedBy: actor })
      .onConflictDoNothing({ target: accessLogBatches.idempotencyKey })
      .returning({ id: accessLogBatches.id });
    if (!row) {
      const [before] = await tx.select().from(accessLogBatches).where(eq(accessLogBatches.idempotencyKey, key!));
      if (!before || before.bodySha256 !== batch.sha256) {
        throw detectionProblems.idempotencyKeyReused(`Idempotency-Key '${key}' was accepted for a different body; nothing was stored`);
      }
      return { batchId: key!, accepted: before.accepted, replayed: true };
    }
    const known = await tx.select({ code: systems.code }).from(systems).where(inArray(systems.code, batch.systems));
    const unknown = batch.systems.filter((s) => !known.some((k) => k.code === s));
    if (unknown.length > 0) {
      throw detectionProblems.unknownSystem(`unknown system(s) ${unknown.join(', ')}: register them with PUT /v1/systems/{code} first; nothing was stored`);
    }
    // The batch is hashed in memory (≈ 12 MB for 100,000 events), not spilled to disk.
    await tx.execute(sql.raw(`set local work_mem = '${INGEST_WORK_MEM}'`));
    await tx.execute(insertEvents(row.id, batch));
    await appendAudit(tx, now, {
      actor,
      action: 'access-log.accepted',
      subjectType: 'access-log-batch',
      subjectId: String(row.id),
      data: { idempotencyKey: key, accepted: batch.count, sha256: batch.sha256, from: batch.minAt.toISOString(), to: batch.maxAt.toISOString() },
    });
    return { batchId: key ?? String(row.id), accepted: batch.count, replayed: false };
  });
}
