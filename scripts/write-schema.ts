// Writes schemas/*.schema.json from the zod schemas (the one source): the --json result, and
// the batch's batch.json, --json summary and comparison.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { batchJsonSchemas } from "../src/batch/schema.js";
import { resultJsonSchema } from "../src/engine/result.js";

const root = join(import.meta.dirname, "..");
const write = (name: string, schema: unknown) =>
  writeFileSync(join(root, "schemas", name), `${JSON.stringify(schema, null, 2)}\n`);
write("result.schema.json", resultJsonSchema());
for (const [name, schema] of Object.entries(batchJsonSchemas())) write(name, schema);
