import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { putCompany } from '../../src/affiliation/companies.js';
import { hashRecord, verifyAudit } from '../../src/audit/chain.js';
import { auditRecords } from '../../src/audit/schema.js';
import type { Db } from '../../src/db/client.js';
import { pgErrorInfo } from '../../src/db/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { at, hire, makeUtilityGroup, plusMs, T0, transfer } from '../support/factories.js';
import { startTestServer, type TestServer } from '../support/http.js';

type AuditRecord = typeof auditRecords.$inferSelect;

const PG_INSUFFICIENT_PRIVILEGE = '42501';

const chain = (db: Db): Promise<AuditRecord[]> => db.select().from(auditRecords).orderBy(asc(auditRecords.seq));

/**
 * What someone who owns the database (and so can switch the append-only trigger off) could
 * do. In one transaction, so the trigger is back on whatever happens.
 */
async function asDatabaseOwner(db: Db, tamper: (tx: Db) => Promise<unknown>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`alter table audit_records disable trigger audit_records__append_only_trg`);
    await tamper(tx as unknown as Db);
    await tx.execute(sql`alter table audit_records enable trigger audit_records__append_only_trg`);
  });
}

/** Puts the chain back exactly as it was, so each tamper starts from an intact chain. */
async function restore(db: Db, records: AuditRecord[]): Promise<void> {
  await asDatabaseOwner(db, async (tx) => {
    await tx.delete(auditRecords);
    await tx.insert(auditRecords).values(records);
  });
  expect(await verifyAudit(db)).toEqual({ ok: true, checked: records.length });
}

const editData = (seq: number) => (tx: Db) =>
  tx.execute(sql`update audit_records set data = data || '{"name": "Someone Else Co."}'::jsonb where seq = ${seq}`);
const deleteRecord = (seq: number) => (tx: Db) => tx.execute(sql`delete from audit_records where seq = ${seq}`);
const swapSeqs = (a: number, b: number) => async (tx: Db) => {
  await tx.execute(sql`update audit_records set seq = -1 where seq = ${a}`);
  await tx.execute(sql`update audit_records set seq = ${a} where seq = ${b}`);
  await tx.execute(sql`update audit_records set seq = ${b} where seq = -1`);
};

async function refusal(write: Promise<unknown>): Promise<unknown> {
  try {
    await write;
  } catch (err) {
    return err;
  }
  throw new Error('the write went through');
}

describe('Invariant 6: every state change leaves an audit record, and the records form a verifiable hash chain', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  describe('recording', () => {
    it('creating and updating a company, hiring and transferring each leave a record naming who did what to whom', async () => {
      const { db } = database;
      const newRecords = async (change: () => Promise<unknown>) => {
        const before = (await chain(db)).length;
        await change();
        return (await chain(db)).slice(before);
      };

      const created = await newRecords(() => putCompany({ db, now: T0, actor: 'admin:alice', code: 'nw', name: 'NW', kind: 'wheeling' }));
      expect(created).toMatchObject([
        { actor: 'admin:alice', action: 'company.created', subjectType: 'company', subjectId: 'nw', data: { name: 'NW', kind: 'wheeling' } },
      ]);

      const updated = await newRecords(() =>
        putCompany({ db, now: plusMs(T0, 1), actor: 'admin:bob', code: 'nw', name: 'NW Power Grid', kind: 'wheeling' }),
      );
      expect(updated).toMatchObject([
        { actor: 'admin:bob', action: 'company.updated', subjectId: 'nw', data: { name: 'NW Power Grid', previous: { name: 'NW' } } },
      ]);
      await putCompany({ db, now: T0, actor: 'test', code: 'ep', name: 'EP', kind: 'retail' });

      let personId = '';
      const hired = await newRecords(async () => {
        personId = await hire(db, { company: 'nw', at: at('2026-04-01T09:00:00+09:00') });
      });
      expect(hired.map((r) => [r.action, r.subjectType, r.subjectId])).toEqual([
        ['person.hired.effective', 'person', personId],
        ['hr.event.accepted', 'person', personId],
      ]);
      expect(hired[1]!.data).toMatchObject({ type: 'person.hired', company: 'nw', status: 'applied' });

      // announced ahead of its instant: accepted now, its effects are recorded when it comes due
      const movedAt = at('2026-10-01T00:00:00+09:00');
      const scheduled = await newRecords(() => transfer(db, { personId, company: 'ep', at: movedAt, now: at('2026-09-01T00:00:00+09:00') }));
      expect(scheduled).toMatchObject([
        {
          action: 'hr.event.accepted',
          subjectId: personId,
          data: {
            type: 'person.transferred',
            company: 'ep',
            status: 'scheduled',
            timeline: { added: [{ company: 'nw', validTo: movedAt.toISOString() }, { company: 'ep', validFrom: movedAt.toISOString() }] },
          },
        },
      ]);

      const backAt = at('2027-04-01T00:00:00+09:00');
      const applied = await newRecords(() => transfer(db, { personId, company: 'nw', at: backAt }));
      expect(applied.map((r) => r.action)).toEqual(['person.transferred.effective', 'hr.event.accepted']);

      const all = await chain(db);
      expect(all.map((r) => r.seq)).toEqual(all.map((_, i) => i + 1));
      expect(await verifyAudit(db)).toEqual({ ok: true, checked: all.length });
    });

    it('the application cannot rewrite or erase a record: the database refuses, and the chain is untouched', async () => {
      const { db } = database;
      const before = await chain(db);
      expect(before.length).toBeGreaterThan(2);

      const attempts = [
        db.update(auditRecords).set({ actor: 'nobody' }).where(eq(auditRecords.seq, 2)),
        db.update(auditRecords).set({ data: {} }),
        db.delete(auditRecords).where(eq(auditRecords.seq, before.length)),
        db.delete(auditRecords),
      ];
      for (const attempt of attempts) {
        const err = await refusal(attempt);
        expect(pgErrorInfo(err).code).toBe(PG_INSUFFICIENT_PRIVILEGE);
      }

      expect(await chain(db)).toEqual(before);
      expect(await verifyAudit(db)).toEqual({ ok: true, checked: before.length });
    });
  });

  describe('verification after a privileged tamper names the first bad record', () => {
    let pristine: AuditRecord[];
    let n: number;
    beforeAll(async () => {
      const { db } = database;
      const group = await makeUtilityGroup(db);
      for (let i = 0; i < 3; i++) {
        const id = await hire(db, { company: group.nw, at: plusMs(T0, i) });
        await transfer(db, { personId: id, company: group.contractor, at: plusMs(T0, 1000 + i) });
      }
      pristine = await chain(db);
      n = pristine.length;
      expect(n).toBeGreaterThanOrEqual(10);
    });
    beforeEach(async () => {
      expect(await verifyAudit(database.db)).toEqual({ ok: true, checked: n });
    });
    afterEach(() => restore(database.db, pristine));

    it.each([
      ['the first', () => 1],
      ['a middle', () => Math.floor(n / 2)],
      ['the last', () => n],
    ])('an edit of %s record is caught at that record', async (_where, pick) => {
      const k = pick();
      await asDatabaseOwner(database.db, editData(k));
      expect(await verifyAudit(database.db)).toEqual({ ok: false, checked: k - 1, firstBadSeq: k });
    });

    it.each([
      ['actor', (seq: number) => sql`update audit_records set actor = actor || '-x' where seq = ${seq}`],
      ['action', (seq: number) => sql`update audit_records set action = action || '.x' where seq = ${seq}`],
      ['subject', (seq: number) => sql`update audit_records set subject_id = subject_id || '-x' where seq = ${seq}`],
      ['instant', (seq: number) => sql`update audit_records set at = at - interval '1 day' where seq = ${seq}`],
    ])('an edit of the %s alone is caught too', async (_what, statement) => {
      const k = 3;
      await asDatabaseOwner(database.db, (tx) => tx.execute(statement(k)));
      expect(await verifyAudit(database.db)).toEqual({ ok: false, checked: k - 1, firstBadSeq: k });
    });

    it('a deleted record is caught at the gap it leaves', async () => {
      const k = Math.floor(n / 2);
      await asDatabaseOwner(database.db, deleteRecord(k));
      expect(await verifyAudit(database.db)).toEqual({ ok: false, checked: k - 1, firstBadSeq: k });
    });

    it('the first record deleted is caught at seq 1', async () => {
      await asDatabaseOwner(database.db, deleteRecord(1));
      expect(await verifyAudit(database.db)).toEqual({ ok: false, checked: 0, firstBadSeq: 1 });
    });

    it('two records swapped in order are caught at the earlier position', async () => {
      const [j, k] = [3, 6];
      await asDatabaseOwner(database.db, swapSeqs(j, k));
      const swapped = await chain(database.db);
      expect(swapped[j - 1]!.hash).toBe(pristine[k - 1]!.hash);
      expect(await verifyAudit(database.db)).toEqual({ ok: false, checked: j - 1, firstBadSeq: j });
    });

    it('an edit whose own hash is recomputed by the attacker is caught by the next record’s link', async () => {
      const { db } = database;
      const k = Math.floor(n / 2);
      const original = pristine[k - 1]!;
      const forged = { ...original, data: { ...original.data, company: 'forged-co' } };
      const forgedHash = hashRecord(forged);
      await asDatabaseOwner(db, (tx) => tx.update(auditRecords).set({ data: forged.data, hash: forgedHash }).where(eq(auditRecords.seq, k)));

      const [stored] = await db.select().from(auditRecords).where(eq(auditRecords.seq, k));
      expect(hashRecord(stored!)).toBe(stored!.hash); // the forged record is consistent in itself
      expect(await verifyAudit(db)).toEqual({ ok: false, checked: k, firstBadSeq: k + 1 });
    });
  });

  describe('over HTTP', () => {
    let server: TestServer;
    let auditToken: string;
    beforeAll(async () => {
      server = await startTestServer(database, { now: at('2027-05-01T00:00:00+09:00') });
      auditToken = await server.token('audit');
    });
    afterAll(() => server.close());

    const get = (path: string, token?: string) =>
      fetch(`${server.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

    it('an auditor pages through the whole chain in order, each page continuing where the last ended', async () => {
      const stored = await chain(database.db);
      const seen: number[] = [];
      let afterSeq = 0;
      let pages = 0;
      for (;;) {
        const res = await get(`/v1/audit?afterSeq=${afterSeq}&limit=4`, auditToken);
        expect(res.status).toBe(200);
        const page = (await res.json()) as { items: { seq: number; at: string; hash: string; prevHash: string }[]; nextAfterSeq: number | null };
        pages += 1;
        expect(page.items.length).toBeLessThanOrEqual(4);
        for (const item of page.items) {
          const record = stored[item.seq - 1]!;
          expect(item).toMatchObject({ seq: record.seq, at: record.at.toISOString(), hash: record.hash, prevHash: record.prevHash });
        }
        seen.push(...page.items.map((i) => i.seq));
        if (page.nextAfterSeq === null) {
          expect(page.items.length).toBeLessThan(4);
          break;
        }
        expect(page.nextAfterSeq).toBe(page.items.at(-1)!.seq);
        afterSeq = page.nextAfterSeq;
      }
      expect(seen).toEqual(stored.map((r) => r.seq));
      expect(pages).toBeGreaterThan(2);
    });

    it('an auditor verifies the chain over HTTP and is told the first bad record after a tamper', async () => {
      const { db } = database;
      const intact = await chain(db);
      const ok = await get('/v1/audit/verify', auditToken);
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ ok: true, checked: intact.length });

      await asDatabaseOwner(db, editData(5));
      try {
        const bad = await get('/v1/audit/verify', auditToken);
        expect(bad.status).toBe(200);
        expect(await bad.json()).toEqual({ ok: false, checked: 4, firstBadSeq: 5 });
      } finally {
        await restore(db, intact);
      }
    });

    it('a token without the audit scope may neither read nor verify the audit log', async () => {
      const adminAndHr = await server.token('admin', 'hr');
      for (const path of ['/v1/audit', '/v1/audit/verify']) {
        const forbidden = await get(path, adminAndHr);
        expect(forbidden.status).toBe(403);
        expect(forbidden.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(await forbidden.json()).toMatchObject({ status: 403, code: 'auth.forbidden' });

        expect((await get(path)).status).toBe(401);
      }
    });
  });
});
