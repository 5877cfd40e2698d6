// drizzle-kit reads the schema and writes SQL migrations next to the store; `npm run db:generate`.
// The app applies them at startup (src/store/database.ts), so the generated SQL is committed.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/store/schema.ts',
  out: './src/store/migrations',
  strict: true,
  verbose: false,
});
