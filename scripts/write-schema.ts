// Writes schemas/result.schema.json from the zod schema of the --json result (the one source).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { resultJsonSchema } from "../src/engine/result.js";

const root = join(import.meta.dirname, "..");
writeFileSync(join(root, "schemas/result.schema.json"), `${JSON.stringify(resultJsonSchema(), null, 2)}\n`);
