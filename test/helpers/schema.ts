import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "vitest";
import { ROOT } from "./cli.js";

const schema = JSON.parse(readFileSync(join(ROOT, "schemas/result.schema.json"), "utf8"));
const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);

/** Fails unless the value is a valid --json result by the published schema. */
export function expectValidResult(value: unknown): void {
  const ok = validate(value);
  expect(ok, JSON.stringify(validate.errors, null, 2)).toBe(true);
}

const schemas = new Map<string, ReturnType<Ajv2020["compile"]>>();

/** Fails unless the value is valid by schemas/<name> (the batch's published shapes among them). */
export function expectValid(name: string, value: unknown): void {
  let check = schemas.get(name);
  if (!check) {
    check = new Ajv2020({ allErrors: true, strict: false }).compile(
      JSON.parse(readFileSync(join(ROOT, "schemas", name), "utf8")),
    );
    schemas.set(name, check);
  }
  expect(check(value), JSON.stringify(check.errors, null, 2)).toBe(true);
}
