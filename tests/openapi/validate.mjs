// Validates an OpenAPI 3.0 document: `node validate.mjs [doc.json] [--instances file.json]`,
// the document on stdin when no file (or "-") is named.
//  1. Against the official OpenAPI JSON schema, with every $ref resolving
//     (@seriousme/openapi-schema-validator).
//  2. What that schema cannot express: unique operationIds, path templates matching the path
//     parameters.
//  3. With --instances: a JSON object {"<component schema name>": [value, ...]} of values that
//     must match those schemas, e.g. records as the server encodes them (checked with Ajv,
//     OpenAPI's `nullable` included; formats Ajv does not know are not checked).
// Exits 1 and prints every problem when anything fails. Run by server_http_test.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const args = process.argv.slice(2);
const instancesAt = args.indexOf("--instances");
const instancesFile = instancesAt >= 0 ? args.splice(instancesAt, 2)[1] : undefined;
const file = args[0];

const problems = [];
let document;
try {
  document = JSON.parse(readFileSync(file && file !== "-" ? file : 0, "utf8"));
} catch (e) {
  console.error(`OpenAPI validation failed: not JSON: ${e.message}`);
  process.exit(1);
}

const result = await new Validator().validate(document);
if (!result.valid) {
  problems.push(
    typeof result.errors === "string" ? result.errors : JSON.stringify(result.errors, null, 2),
  );
}

const methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const operationIds = new Map();
for (const [path, item] of Object.entries(document.paths ?? {})) {
  const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
  for (const method of methods) {
    const op = item?.[method];
    if (!op) continue;
    const where = `${method.toUpperCase()} ${path}`;
    if (op.operationId !== undefined) {
      if (operationIds.has(op.operationId)) {
        problems.push(
          `operationId ${op.operationId} of ${where} also used by ${operationIds.get(op.operationId)}`,
        );
      }
      operationIds.set(op.operationId, where);
    }
    const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])]
      .filter((p) => p && p.in === "path")
      .map((p) => p.name)
      .sort();
    if (JSON.stringify(declared) !== JSON.stringify(templated)) {
      problems.push(`${where}: path parameters [${declared}] do not match the template [${templated}]`);
    }
  }
}

let instances = 0;
if (instancesFile && problems.length === 0) {
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  for (const format of ["int32", "int64", "uint64", "float", "double", "decimal", "password"]) {
    ajv.addFormat(format, true);
  }
  ajv.addFormat("byte", /^[A-Za-z0-9+/]*={0,2}$/);
  ajv.addSchema({ components: document.components }, "openapi");
  const byName = JSON.parse(readFileSync(instancesFile, "utf8"));
  for (const [name, values] of Object.entries(byName)) {
    const validate = ajv.compile({ $ref: `openapi#/components/schemas/${name}` });
    for (const value of values) {
      ++instances;
      if (!validate(value)) {
        problems.push(
          `${JSON.stringify(value)} does not match ${name}: ${JSON.stringify(validate.errors)}`,
        );
      }
    }
  }
}

if (problems.length > 0) {
  console.error(`OpenAPI validation failed:\n${problems.join("\n")}`);
  process.exit(1);
}
console.log(
  `valid OpenAPI ${document.openapi}: ${operationIds.size} operations, ${instances} instances`,
);
