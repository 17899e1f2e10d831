import { putEntitlement, putSystem, putTerminal } from '../../src/access/catalog.js';
import type { Db } from '../../src/db/client.js';
import { TAKUSO_FIELDS } from '../../src/demo/seed.js';
import { T0 } from './factories.js';

/**
 * The wheeling company's customer system (託送 "takuso") with the switching-support field
 * classes, an entitlement for the wheeling side and one any company may hold, and terminals.
 */
export async function makeTakuso(db: Db) {
  await putSystem({
    db,
    now: T0,
    actor: 'test',
    code: 'takuso',
    name: '託送システム',
    ownerCompany: 'nw',
    ...TAKUSO_FIELDS,
  });
  await putEntitlement({ db, now: T0, actor: 'test', code: 'takuso-operator', system: 'takuso', name: 'Operator', allowedCompanyKinds: ['wheeling'] });
  await putEntitlement({ db, now: T0, actor: 'test', code: 'takuso-switching', system: 'takuso', name: 'Switching support', allowedCompanyKinds: ['wheeling', 'retail'] });
  await putTerminal({ db, now: T0, actor: 'test', id: 'T-NW-01', company: 'nw', site: '青森支社' });
  await putTerminal({ db, now: T0, actor: 'test', id: 'T-EP-01', company: 'ep', site: '八戸営業所' });
  return { system: 'takuso', nwTerminal: 'T-NW-01', epTerminal: 'T-EP-01' };
}
