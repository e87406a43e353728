// Builds the browser module static/js/hapa-realtime.js from src/ (one ES module, not
// minified, no imports), so that the admin console and any page use the same client
// as Node and the VS Code extension. The output is committed; `make check-clients`
// rebuilds it and fails when the committed file differs.
//
// Usage: node scripts/build-browser.mjs [out-file]
import { build } from "esbuild";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const out = process.argv[2] ?? fileURLToPath(new URL("../../../static/js/hapa-realtime.js", import.meta.url));
const banner = `// hapa-realtime.js — browser client of HAPA's WebSocket protocol hapa.v1
// (docs/protocol.md). GENERATED from clients/typescript/src by \`make clients\`
// (clients/typescript/scripts/build-browser.mjs): do not edit; change the TypeScript.
//
//   import { HapaClient, HapaRealtime, HapaError, reconnectDelay } from "/static/js/hapa-realtime.js";
//
// HapaClient is the full client (reconnects, keepalive, session.closing, feedback;
// clients/typescript/README.md). HapaRealtime is the console's callback API on top of
// it (docs/protocol.md, "Browser client"): one socket, no reconnect, onClose tells.
`;

const result = await build({
  entryPoints: [fileURLToPath(new URL("../src/index.ts", import.meta.url))],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: false,
  legalComments: "none",
  write: false,
  logLevel: "warning",
});
writeFileSync(out, banner + result.outputFiles[0].text);
console.log("wrote " + out);
