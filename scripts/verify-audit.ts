/**
 * Verifies the audit hash chain (npm run audit:verify): prints {ok, checked, firstBadSeq?} and
 * exits 1 when the chain is broken. Uses the same environment as `npm start` (DATABASE_URL, or
 * the embedded database in SEKISHO_DATA_DIR).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { verifyAudit } from '../src/audit/chain.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';

const config = loadConfig();
if (!config.databaseUrl) {
  // The embedded database serves one process at a time; PGlite removes this file when it closes.
  const dir = path.resolve(config.dataDir);
  if (!existsSync(path.join(dir, 'PG_VERSION'))) {
    console.error(`audit:verify: no embedded database in ${dir} (set SEKISHO_DATA_DIR or DATABASE_URL)`);
    process.exit(2);
  }
  if (existsSync(path.join(dir, 'postmaster.pid'))) {
    console.error(
      `audit:verify: the embedded database in ${dir} is open in another process (npm start?). ` +
        'Stop it first, or ask the running server: GET /v1/audit/verify.',
    );
    process.exit(2);
  }
}

const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
try {
  const result = await verifyAudit(database.db);
  console.log(JSON.stringify(result));
  if (!result.ok) {
    console.error(`audit:verify: the chain is broken at seq ${result.firstBadSeq} (${result.checked} records verified before it)`);
    process.exitCode = 1;
  }
} finally {
  await database.close();
}
