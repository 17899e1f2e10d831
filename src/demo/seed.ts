import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { putBirthrightRule } from '../access/birthright.js';
import { putEntitlement, putSystem, putTerminal } from '../access/catalog.js';
import type { FieldClass } from '../access/schema.js';
import { listCompanies, putCompany } from '../affiliation/companies.js';
import type { CompanyKind } from '../affiliation/schema.js';
import { createApiToken, newTokenValue } from '../credentials/api-tokens.js';
import { SCOPES } from '../credentials/schema.js';
import { Keyring } from '../credentials/encryption.js';
import { issueBadge } from '../credentials/issue.js';
import type { Db } from '../db/client.js';
import { putRosterMember } from '../emergency/roster.js';
import { receiveHrEvent } from '../hr/intake.js';

export interface DemoCredentials {
  adminToken: string;
  hrWebhookSecret: string;
  encryptionKeys: string;
}

/** Demo secrets live in the data folder (mode 0600) so they survive restarts and scripts can read them. */
export function loadOrCreateDemoCredentials(dataDir: string): DemoCredentials {
  const file = path.resolve(dataDir, 'demo-credentials.json');
  const stored = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<DemoCredentials>) : {};
  const creds: DemoCredentials = {
    adminToken: stored.adminToken ?? newTokenValue(),
    hrWebhookSecret: stored.hrWebhookSecret ?? `whsec_${randomBytes(32).toString('base64')}`,
    encryptionKeys: stored.encryptionKeys ?? Keyring.generateSpec(),
  };
  const complete = Object.keys(creds).every((k) => k in stored);
  if (!complete) {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  }
  return creds;
}

const COMPANIES: { code: string; name: string; kind: CompanyKind; actsFor?: string }[] = [
  { code: 'nw', name: 'みちのく電力ネットワーク株式会社', kind: 'wheeling' },
  { code: 'ep', name: 'みちのく電力株式会社（小売）', kind: 'retail' },
  { code: 'nw-systems', name: 'みちのくシステムズ株式会社', kind: 'contractor', actsFor: 'nw' },
  { code: 'shinden-a', name: '新電力A株式会社', kind: 'retail' },
  { code: 'shinden-b', name: '新電力B株式会社', kind: 'retail' },
];

const FAMILY = ['佐藤', '鈴木', '高橋', '田中', '伊藤', '渡辺', '山本', '中村', '小林', '加藤', '吉田', '山田', '佐々木', '山口', '松本', '井上', '木村', '林', '斎藤', '清水'];
const GIVEN = ['太郎', '花子', '一郎', '美咲', '健太', '陽子', '大輔', '由美', '翔', '愛', '誠', '恵', '拓也', '直美', '亮', '真理', '悠', '彩', '修', '舞'];

/** People: 12 at the wheeling company, 6 at retail, 2 at the contractor. */
function demoPeople(): { id: string; name: string; company: string; orgUnit: string; managerId?: string }[] {
  return FAMILY.map((family, i) => {
    const name = `${family} ${GIVEN[i]}`;
    if (i < 12) return { id: `E${1001 + i}`, name, company: 'nw', orgUnit: i < 6 ? '青森支社 配電課' : '宮城支社 料金課', ...(i > 0 ? { managerId: 'E1001' } : {}) };
    if (i < 18) return { id: `R${2001 + i - 12}`, name, company: 'ep', orgUnit: '八戸営業所', ...(i > 12 ? { managerId: 'R2001' } : {}) };
    return { id: `C${3001 + i - 18}`, name, company: 'nw-systems', orgUnit: 'システム運用部' };
  });
}

/** The customer system's field classes and emergency set: the demo's, and the tests'. */
export const TAKUSO_FIELDS: { fields: Record<string, FieldClass>; emergencyFields: string[] } = {
  fields: {
    supplyPoint: 'network.public',
    supplyAddress: 'network.public',
    holderName: 'customer.retailer-only',
    phone: 'customer.retailer-only',
    usage: 'customer.retailer-only',
    loadEquipment: 'network.internal',
    retailerName: 'network.internal',
  },
  emergencyFields: ['supplyPoint', 'supplyAddress', 'holderName', 'phone'],
};

/**
 * The wheeling company's customer system (託送システム) as the regulator's cases describe it:
 * public network data, customer data only the customer's own retailer may see, and internal
 * network data; an operator entitlement for the wheeling side, switching support for retailers.
 */
async function seedCatalogue(db: Db, now: Date, actor: string): Promise<void> {
  await putSystem({
    db,
    now,
    actor,
    code: 'takuso',
    name: '託送システム',
    ownerCompany: 'nw',
    ...TAKUSO_FIELDS,
  });
  await putEntitlement({ db, now, actor, code: 'takuso-operator', system: 'takuso', name: '託送システム 運用', allowedCompanyKinds: ['wheeling'] });
  await putEntitlement({ db, now, actor, code: 'takuso-switching', system: 'takuso', name: '託送システム スイッチング支援', allowedCompanyKinds: ['wheeling', 'retail'] });
  await putBirthrightRule({ db, now, actor, code: 'nw-takuso', company: 'nw', entitlement: 'takuso-operator' });
  await putBirthrightRule({ db, now, actor, code: 'nw-systems-takuso', company: 'nw-systems', entitlement: 'takuso-operator' });
  await putBirthrightRule({ db, now, actor, code: 'ep-switching', company: 'ep', entitlement: 'takuso-switching' });
  await putTerminal({ db, now, actor, id: 'T-AOMORI-01', company: 'nw', site: '青森支社' });
  await putTerminal({ db, now, actor, id: 'T-HACHINOHE-01', company: 'ep', site: '八戸営業所' });
}

/** Seeds the demo organisation into an empty database, through the same domain functions as the API. */
export async function seedDemo(db: Db, now: Date, creds: DemoCredentials): Promise<boolean> {
  if ((await listCompanies(db)).length > 0) return false;
  const actor = 'system:demo-seed';
  for (const c of COMPANIES) await putCompany({ db, now, actor, ...c });
  await seedCatalogue(db, now, actor);
  const hired = new Date('2020-04-01T00:00:00+09:00');
  for (const p of demoPeople()) {
    await receiveHrEvent({
      db,
      now,
      webhookId: `demo-seed:${p.id}`,
      event: { type: 'person.hired', personId: p.id, name: p.name, company: p.company, orgUnit: p.orgUnit, managerId: p.managerId, effectiveAt: hired },
    });
  }
  // Everyone carries an ID card; two retail staff are on the disaster-support roster for Aomori.
  for (const p of demoPeople()) await issueBadge({ db, now, actor, personId: p.id, badgeId: `CARD-${p.id}` });
  for (const personId of ['R2002', 'R2003']) {
    await putRosterMember({ db, now, actor, personId, areas: ['aomori'], trainedAt: new Date('2026-05-15T00:00:00+09:00'), contractRef: '災害時応援協定 2026-01' });
  }
  await createApiToken({ db, now, actor, name: 'demo-admin', scopes: [...SCOPES], value: creds.adminToken });
  return true;
}
