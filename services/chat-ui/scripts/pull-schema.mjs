// Regenerate the committed copy of the API schema from a running `ragops serve`.
// Usage: RAGOPS_URL=http://127.0.0.1:8000 npm run schema   (pull + regenerate src/api/schema.d.ts)
import { writeFileSync } from 'node:fs';

const base = (process.env.RAGOPS_URL ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const res = await fetch(`${base}/openapi.json`, { signal: AbortSignal.timeout(10_000) });
if (!res.ok) {
  console.error(`GET ${base}/openapi.json -> ${res.status}`);
  process.exit(1);
}
const schema = await res.json();
writeFileSync(new URL('../openapi.json', import.meta.url), JSON.stringify(schema, null, 4) + '\n');
console.log(`openapi.json updated from ${base} (${Object.keys(schema.paths).length} paths)`);
