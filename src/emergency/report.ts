import { asc, eq } from 'drizzle-orm';
import { decisionLog } from '../access/schema.js';
import type { Db } from '../db/client.js';
import { getEmergency } from './declarations.js';

/** Every decision the emergency widened: who, when, which record, which fields. */
export async function emergencyReport(db: Db, id: string) {
  const emergency = await getEmergency(db, id);
  const decisions = await db
    .select({
      decisionId: decisionLog.id,
      at: decisionLog.at,
      personId: decisionLog.personId,
      terminalId: decisionLog.terminalId,
      system: decisionLog.system,
      customerId: decisionLog.customerId,
      area: decisionLog.area,
      allowed: decisionLog.allowed,
      masked: decisionLog.masked,
    })
    .from(decisionLog)
    .where(eq(decisionLog.emergencyId, id))
    .orderBy(asc(decisionLog.at), asc(decisionLog.id));
  return { emergency, decisions };
}
