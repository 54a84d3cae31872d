// Validates a `keyward report` against the format's published JSON schema (./specs).
//
//   node report.mjs sarif REPORT.sarif     the SARIF 2.1.0 schema (OASIS, draft-04)
//   node report.mjs ocsf REPORT.json       every event against OCSF Detection Finding (class 2004)
//
// Prints "ok N" (results or events) and exits 0, or prints each schema error and exits 1.

import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import AjvDraft04 from "ajv-draft-04";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const here = path.dirname(fileURLToPath(import.meta.url));
const [format, file] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(file, "utf8"));
const load = (name) => JSON.parse(fs.readFileSync(path.join(here, "specs", name), "utf8"));

let validate;
let items;
if (format === "sarif") {
  // The OASIS schema is draft-04.
  // Its language-tag pattern is not valid with the `u` flag.
  const ajv = new AjvDraft04({ strict: false, allErrors: true, unicodeRegExp: false });
  addFormats(ajv);
  validate = ajv.compile(load("sarif-2.1.0-rtm.5.schema.json"));
  items = [report];
} else if (format === "ocsf") {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  validate = ajv.compile(load("ocsf-detection-finding.schema.json"));
  if (!Array.isArray(report)) {
    console.error("an OCSF report is a JSON array of Detection Finding events");
    process.exit(1);
  }
  items = report;
} else {
  console.error(`unknown format ${format} (sarif, ocsf)`);
  process.exit(2);
}

let bad = 0;
items.forEach((item, i) => {
  if (!validate(item)) {
    bad++;
    if (bad <= 5) {
      for (const e of validate.errors.slice(0, 10)) {
        console.error(`#${i} ${e.instancePath || "/"} ${e.message} ${JSON.stringify(e.params)}`);
      }
    }
  }
});
if (bad) {
  console.error(`${bad} of ${items.length} invalid`);
  process.exit(1);
}
const n = format === "sarif" ? report.runs.reduce((a, r) => a + r.results.length, 0) : items.length;
console.log(`ok ${n}`);
