// Runs the compiled tests (out/test) under node --test with the `vscode` module
// resolved to test/stub/vscode (NODE_PATH), so no VS Code is needed.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const stub = fileURLToPath(new URL("./stub", import.meta.url));
const files = readdirSync(root + "out/test").filter((f) => f.endsWith(".test.js")).map((f) => "out/test/" + f);
const r = spawnSync(process.execPath, ["--test", ...files], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, NODE_PATH: stub },
});
process.exit(r.status ?? 1);
