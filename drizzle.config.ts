import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema.ts',
  // The drift test points this at a scratch copy; everyone else uses drizzle/.
  out: process.env.DRIZZLE_OUT ?? './drizzle',
});
