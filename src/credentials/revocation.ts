import { sql } from 'drizzle-orm';
import { peopleAt } from '../affiliation/sql.js';
import { queryRows, type Db } from '../db/client.js';

export interface RevokedCredential {
  id: string;
  personId: string;
  type: string;
  company: string;
}

/**
 * Set-based: revokes every live credential of these people that was issued under a company
 * other than the one they are affiliated with at `now` (all of them when they have none).
 * Verification already refuses such credentials from the effective instant; this makes it
 * permanent and visible.
 */
export async function revokeCredentialsOfMovers(tx: Db, args: { personIds: string[]; now: Date; reason: string }): Promise<RevokedCredential[]> {
  if (args.personIds.length === 0) return [];
  const now = args.now.toISOString();
  return queryRows<RevokedCredential>(
    tx,
    sql`
    with current as (${peopleAt(args.personIds, args.now)})
    update credentials c set revoked_at = ${now}::timestamptz, revoked_reason = ${args.reason}
    from current r
    where c.person_id = r.person_id and c.revoked_at is null and c.company_code is distinct from r.company_code
    returning c.id, c.person_id as "personId", c.type::text as type, c.company_code as company`,
  );
}
