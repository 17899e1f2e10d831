import { sql, type SQL } from 'drizzle-orm';

/**
 * An item's outcome once its campaign closes: its decision, else the campaign's onNoResponse.
 * SQL over review_items `i` joined to its review_campaigns `c`.
 */
export const OUTCOME_SQL = sql`case when coalesce(i.decision, case when c.on_no_response = 'revoke' then 'revoke' else 'certify' end) = 'revoke' then 'revoked' else 'kept' end`;

/** The items of these campaigns whose outcome is (or, while closing, becomes) a revocation: rows of i and c. */
export const revokedItems = (campaignIds: SQL) => sql`
  review_items i join review_campaigns c on c.id = i.campaign_id
  where i.campaign_id in (${campaignIds}) and ${OUTCOME_SQL} = 'revoked'`;
