import { asc, eq } from 'drizzle-orm';
import { decisionLog } from '../access/schema.js';
import type { Db } from '../db/client.js';
import { toCsv } from '../http/csv.js';
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

/** The report as CSV, for the API and the console alike. */
export function emergencyReportCsv(decisions: Awaited<ReturnType<typeof emergencyReport>>['decisions']): string {
  return toCsv(decisions, [
    { header: 'decision_id', value: (d) => d.decisionId },
    { header: 'at', value: (d) => d.at },
    { header: 'person_id', value: (d) => d.personId },
    { header: 'terminal_id', value: (d) => d.terminalId },
    { header: 'system', value: (d) => d.system },
    { header: 'customer_id', value: (d) => d.customerId },
    { header: 'area', value: (d) => d.area },
    { header: 'allowed_fields', value: (d) => d.allowed },
    { header: 'masked_fields', value: (d) => d.masked },
  ]);
}
