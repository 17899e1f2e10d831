import type { Db } from './client.js';

/** Runs fn in a transaction (a savepoint when db is already one). */
export function withTx<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction((tx) => fn(tx as unknown as Db));
}
