// Contract check: every recorded exchange between a connector and a provider stand-in must fit
// the provider's own spec file (./specs, vendored; or $KEYWARD_SPECS).
//
//   node check.mjs EXCHANGES.json
//
// EXCHANGES.json: {"datadog": [exchange...], "fastly": [...], "newrelic": [...]}, each exchange
// {method, path, query: [[k, v]...], headers: [[k, v]...], body, status, response_headers, response_body}.
//
// OpenAPI (Datadog, Fastly): the request's path and method must be in the spec, its query
// parameters declared, its security headers present; the response status declared and its JSON
// body valid against the declared schema. GraphQL (New Relic): the query must validate against
// the schema, and the response must execute against it (types, enums, non-null fields).
// Operations outside a subset spec are listed by name as "outside the spec file" and counted,
// never silently passed: the allow-list below is the complete set.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import Ajv from "ajv";
import { buildSchema, parse, validate, execute } from "graphql";

const here = path.dirname(fileURLToPath(import.meta.url));
const specs = process.env.KEYWARD_SPECS || path.join(here, "specs");
const exchanges = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));

// Calls the connectors make that the subset spec files do not describe (with why).
const OUTSIDE = {
  datadog: [
    ["GET", "/api/v1/validate", "v1 API, not in the v2 subset"],
    ["GET", "/api/v2/users", "Users API, not in the key-management subset"],
    ["GET", "/api/v2/personal_access_tokens", "added to Datadog's spec after the subset's commit"],
    ["GET", "/api/v2/service_accounts/{id}/access_tokens", "added to Datadog's spec after the subset's commit"],
  ],
  fastly: [
    ["GET", "/current_user", "User API, not in the tokens excerpt"],
    ["GET", "/customer/{id}/users", "User API, not in the tokens excerpt"],
    ["POST", "/sudo", "Sudo API (re-authentication before making an automation token), not in the tokens excerpt"],
  ],
  newrelic: [["KeywardWhoAmI", "actor.user is not in the apiAccess subset"]],
};

const failures = [];
const report = {};

function templateMatch(template, actual) {
  const t = template.split("/").filter(Boolean);
  const a = actual.split("/").filter(Boolean);
  return t.length === a.length && t.every((seg, i) => seg.startsWith("{") || seg === a[i]);
}

function checkOpenApi(provider, file, list) {
  const spec = YAML.parse(fs.readFileSync(path.join(specs, file), "utf8"));
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  ajv.addSchema(spec, "spec");
  const seen = { checked: 0, outside: {} };
  for (const x of list) {
    const where = `${provider} ${x.method} ${x.path}`;
    const pathKey = Object.keys(spec.paths).find((p) => templateMatch(p, x.path) && spec.paths[p][x.method.toLowerCase()]);
    if (!pathKey) {
      const out = OUTSIDE[provider].find(([m, p]) => m === x.method && templateMatch(p, x.path));
      if (out) {
        seen.outside[`${out[0]} ${out[1]}`] = (seen.outside[`${out[0]} ${out[1]}`] || 0) + 1;
        continue;
      }
      failures.push(`${where}: not in ${file}`);
      continue;
    }
    seen.checked++;
    const item = spec.paths[pathKey];
    const op = item[x.method.toLowerCase()];
    const deref = (p) => (p.$ref ? p.$ref.split("/").slice(1).reduce((o, k) => o[k], spec) : p);
    const params = [...(item.parameters || []), ...(op.parameters || [])].map(deref);
    for (const [name] of x.query) {
      if (!params.some((p) => p.in === "query" && p.name === name)) failures.push(`${where}: query parameter ${name} is not declared`);
    }
    for (const p of params.filter((p) => p.required && p.in === "query")) {
      if (!x.query.some(([n]) => n === p.name)) failures.push(`${where}: required query parameter ${p.name} missing`);
    }
    const security = op.security || spec.security || [];
    if (security.length) {
      const schemes = spec.components.securitySchemes;
      const satisfied = security.some((req) =>
        Object.keys(req).every((name) => {
          const s = schemes[name];
          if (s.type === "apiKey" && s.in === "header") return x.headers.some(([k]) => k.toLowerCase() === s.name.toLowerCase());
          if (s.type === "http") return x.headers.some(([k, v]) => k.toLowerCase() === "authorization" && v.toLowerCase().startsWith(s.scheme));
          return false;
        }),
      );
      if (!satisfied) failures.push(`${where}: none of the declared security requirements is met`);
    }
    const response = op.responses[String(x.status)] || op.responses.default;
    if (!response) {
      failures.push(`${where}: status ${x.status} is not declared`);
      continue;
    }
    const resolved = deref(response);
    const schema = resolved.content?.["application/json"]?.schema;
    if (schema && x.response_body !== null && x.response_body !== "") {
      let body;
      try {
        body = JSON.parse(x.response_body);
      } catch {
        failures.push(`${where}: response is not JSON`);
        continue;
      }
      const ref = schema.$ref ? { $ref: `spec${schema.$ref}` } : JSON.parse(JSON.stringify(schema).replaceAll('"#/', '"spec#/'));
      const valid = ajv.validate(ref, body);
      if (!valid) failures.push(`${where} → ${x.status}: ${ajv.errorsText(ajv.errors.slice(0, 3))}`);
    }
  }
  report[provider] = seen;
}

// The first path in `want` (what executing the query selects) that `got` lacks or has different.
function missingFrom(want, got, at) {
  if (want === null || typeof want !== "object") return JSON.stringify(want) === JSON.stringify(got) ? null : at;
  if (got === null || typeof got !== "object") return at;
  for (const k of Object.keys(want)) {
    const m = missingFrom(want[k], got[k], `${at}.${k}`);
    if (m) return m;
  }
  return null;
}

function checkGraphql(provider, file, list) {
  const schema = buildSchema(fs.readFileSync(path.join(specs, file), "utf8"));
  const seen = { checked: 0, outside: {} };
  for (const x of list) {
    const request = JSON.parse(x.body);
    const doc = parse(request.query);
    const name = doc.definitions[0]?.name?.value || "(anonymous)";
    const out = OUTSIDE[provider].find(([n]) => n === name);
    if (out) {
      seen.outside[name] = (seen.outside[name] || 0) + 1;
      continue;
    }
    seen.checked++;
    const errors = validate(schema, doc);
    if (errors.length) {
      failures.push(`${provider} ${name}: the query does not fit the schema: ${errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    if (x.status !== 200) continue;
    const body = JSON.parse(x.response_body);
    if (body.errors) continue;
    const result = execute({
      schema,
      document: doc,
      rootValue: body.data,
      variableValues: request.variables,
      typeResolver: (value) => value.__typename,
    });
    if (result.errors?.length) {
      failures.push(`${provider} ${name}: the response does not fit the schema: ${result.errors.slice(0, 3).map((e) => e.message).join("; ")}`);
    } else {
      const missing = missingFrom(result.data, body.data, "data");
      if (missing) failures.push(`${provider} ${name}: the response lacks ${missing}, which the query selected`);
    }
  }
  report[provider] = seen;
}

checkOpenApi("datadog", "datadog-v2-key-management.subset.yaml", exchanges.datadog || []);
checkOpenApi("fastly", "fastly-tokens.reconstructed.openapi.yaml", exchanges.fastly || []);
checkGraphql("newrelic", "newrelic-nerdgraph-apiaccess.subset.graphql", exchanges.newrelic || []);

console.log(JSON.stringify(report));
for (const [provider, r] of Object.entries(report)) {
  if (r.checked === 0) failures.push(`${provider}: no exchange was checked against the spec`);
}
if (failures.length) {
  console.error(failures.join("\n"));
  process.exit(1);
}
