import { randomUUID } from 'node:crypto';
import { putCompany } from '../../src/affiliation/companies.js';
import type { CompanyKind } from '../../src/affiliation/schema.js';
import type { Db } from '../../src/db/client.js';
import { receiveHrEvent } from '../../src/hr/intake.js';

/** Fixed instants: tests never read the clock. */
export const T0 = new Date('2026-04-01T00:00:00+09:00');
export const at = (iso: string): Date => new Date(iso);
export const plusMs = (d: Date, ms: number): Date => new Date(d.getTime() + ms);

let seq = 0;
export const uniqueId = (prefix: string): string => `${prefix}-${++seq}-${randomUUID().slice(0, 8)}`;

export async function makeCompany(db: Db, code: string, kind: CompanyKind, actsFor?: string): Promise<string> {
  await putCompany({ db, now: T0, actor: 'test', code, name: `${code} Co.`, kind, actsFor });
  return code;
}

/** The usual cast: a wheeling company, its retail company, a new entrant, a contractor for the wheeling side. */
export async function makeUtilityGroup(db: Db): Promise<{ nw: string; ep: string; shinden: string; contractor: string }> {
  return {
    nw: await makeCompany(db, 'nw', 'wheeling'),
    ep: await makeCompany(db, 'ep', 'retail'),
    shinden: await makeCompany(db, 'shinden-a', 'retail'),
    contractor: await makeCompany(db, 'nw-sys', 'contractor', 'nw'),
  };
}

export async function hire(db: Db, args: { personId?: string; company: string; at: Date; now?: Date; orgUnit?: string; managerId?: string }) {
  const personId = args.personId ?? uniqueId('P');
  await receiveHrEvent({
    db,
    now: args.now ?? args.at,
    webhookId: uniqueId('wh'),
    event: { type: 'person.hired', personId, name: `Person ${personId}`, company: args.company, orgUnit: args.orgUnit, managerId: args.managerId, effectiveAt: args.at },
  });
  return personId;
}

export async function transfer(db: Db, args: { personId: string; company: string; at: Date; now?: Date; orgUnit?: string }) {
  return receiveHrEvent({
    db,
    now: args.now ?? args.at,
    webhookId: uniqueId('wh'),
    event: { type: 'person.transferred', personId: args.personId, company: args.company, orgUnit: args.orgUnit, effectiveAt: args.at },
  });
}

export async function leave(db: Db, args: { personId: string; at: Date; now?: Date }) {
  return receiveHrEvent({
    db,
    now: args.now ?? args.at,
    webhookId: uniqueId('wh'),
    event: { type: 'person.left', personId: args.personId, effectiveAt: args.at },
  });
}
