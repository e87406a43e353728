// The typed messages are checked against the documents they implement: the frame
// tables of docs/protocol.md and the error catalogue of docs/api.md.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { CATALOGUE, CLIENT_FIELDS, PENDING_IN_DOC, SERVER_FIELDS } from "../dist/esm/index.js";

const docs = new URL("../../../docs/", import.meta.url);
const protocol = readFileSync(new URL("protocol.md", docs), "utf8");
const api = readFileSync(new URL("api.md", docs), "utf8");

/** tableAfter returns the rows (cells) of the first Markdown table after the heading. */
function tableAfter(md, heading) {
  const at = md.indexOf("\n" + heading + "\n");
  assert.ok(at >= 0, `heading ${heading} not found`);
  const rows = [];
  let inTable = false;
  for (const line of md.slice(at + heading.length + 2).split("\n")) {
    if (line.startsWith("|")) {
      inTable = true;
      const cells = line.replace(/\\\|/g, "\u0000").split("|").slice(1, -1).map((c) => c.replace(/\u0000/g, "|").trim());
      if (!/^-+$/.test(cells[0].replace(/:/g, ""))) rows.push(cells);
    } else if (inTable) {
      break;
    }
  }
  return rows.slice(1); // without the header
}

/** frames maps each documented frame type to its field names. */
function frames(rows) {
  const out = {};
  for (const [typeCell, fieldsCell] of rows) {
    const type = /`([^`]+)`/.exec(typeCell)[1];
    const bare = fieldsCell.split(" — ")[0].replace(/\([^)]*\)/g, "");
    const fields = [...bare.matchAll(/`([^`]+)`/g)].map((m) => /^[A-Za-z_]+/.exec(m[1])?.[0]).filter(Boolean);
    out[type] = fields;
  }
  return out;
}

function check(documented, implemented, side) {
  const pendingTypes = new Set(PENDING_IN_DOC.filter((p) => !p.includes(".") || Object.hasOwn(implemented, p)));
  for (const type of Object.keys(documented)) {
    assert.ok(Object.hasOwn(implemented, type), `${side}: docs/protocol.md has ${type}, the client does not`);
  }
  for (const type of Object.keys(implemented)) {
    if (!Object.hasOwn(documented, type)) {
      assert.ok(pendingTypes.has(type), `${side}: the client has ${type}, docs/protocol.md does not (and it is not listed as pending)`);
      continue;
    }
    const doc = new Set(documented[type]);
    const impl = new Set(implemented[type]);
    for (const f of doc) assert.ok(impl.has(f), `${side}: ${type}.${f} is documented but not in the client`);
    for (const f of impl) {
      assert.ok(doc.has(f) || PENDING_IN_DOC.includes(`${type}.${f}`), `${side}: ${type}.${f} is in the client but not documented`);
    }
  }
}

test("client frames match docs/protocol.md", () => {
  const documented = frames(tableAfter(protocol, "### Client → server"));
  assert.ok(Object.keys(documented).length >= 5);
  check(documented, CLIENT_FIELDS, "client → server");
});

test("server frames match docs/protocol.md", () => {
  const documented = frames(tableAfter(protocol, "### Server → client"));
  assert.ok(Object.keys(documented).length >= 9);
  check(documented, SERVER_FIELDS, "server → client");
});

test("the error catalogue matches docs/api.md", () => {
  const rows = tableAfter(api, "### Error catalogue");
  assert.equal(rows.length, Object.keys(CATALOGUE).length, "number of codes");
  for (const [code, status, message, retryable] of rows) {
    const c = CATALOGUE[code];
    assert.ok(c, `${code} is missing from CATALOGUE`);
    assert.equal(c.status, Number(status), `${code} status`);
    assert.equal(c.message, message, `${code} message`);
    assert.equal(c.retryable, retryable === "yes", `${code} retryable`);
  }
});
