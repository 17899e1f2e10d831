import { customType } from 'drizzle-orm/pg-core';

/** bytea as a Buffer on both drivers (PGlite hands back Uint8Array). */
export const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => Buffer.from(v),
});
