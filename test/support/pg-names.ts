/** Set by global setup (unique per run, so concurrent runs never share a template); read by workers. */
export const TEMPLATE_ENV = 'SEKISHO_TEST_TEMPLATE_DB';
/** Set by global setup on PGlite: a dump of a freshly migrated embedded database. */
export const PGLITE_SNAPSHOT_ENV = 'SEKISHO_TEST_PGLITE_SNAPSHOT';

export function withDatabaseName(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}
