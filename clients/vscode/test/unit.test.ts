// Pure parts of the extension: server URL handling and the suggestion cache.
import assert from "node:assert/strict";
import { test } from "node:test";

import { SuggestionCache } from "../src/cache";
import { endpoints } from "../src/config";

test("endpoints derive the REST base and the socket URL", () => {
  assert.deepEqual(endpoints("http://localhost:8000"), { http: "http://localhost:8000", ws: "ws://localhost:8000/api/v1/realtime" });
  assert.deepEqual(endpoints("https://hapa.example.com/"), { http: "https://hapa.example.com", ws: "wss://hapa.example.com/api/v1/realtime" });
  assert.deepEqual(endpoints("wss://hapa.example.com/gw/api/v1/realtime"), { http: "https://hapa.example.com/gw", ws: "wss://hapa.example.com/gw/api/v1/realtime" });
  assert.deepEqual(endpoints("http://10.0.0.1:8000/api/v1"), { http: "http://10.0.0.1:8000", ws: "ws://10.0.0.1:8000/api/v1/realtime" });
  assert.throws(() => endpoints("localhost:8000"), /http/);
  assert.throws(() => endpoints(""), /not a URL/);
});

test("the cache answers the same spot and the rest of a suggestion being typed", () => {
  const c = new SuggestionCache(2);
  c.put("a.py", "def f(", ")", { text: "x, y", completionId: "cmpl-1" });
  assert.deepEqual(c.lookup("a.py", "def f(", ")"), { text: "x, y", completionId: "cmpl-1", typed: 0 });
  assert.deepEqual(c.lookup("a.py", "def f(x", ")"), { text: ", y", completionId: "cmpl-1", typed: 1 });
  assert.equal(c.lookup("a.py", "def f(z", ")"), undefined, "typed something else");
  assert.equal(c.lookup("a.py", "def f(x, y", ")"), undefined, "typed it all");
  assert.equal(c.lookup("b.py", "def f(", ")"), undefined, "other document");
  assert.equal(c.lookup("a.py", "def f(", ""), undefined, "other text after the cursor");
  c.put("a.py", "1", "", { text: "2" });
  c.put("a.py", "3", "", { text: "4" });
  assert.equal(c.lookup("a.py", "def f(", ")"), undefined, "evicted");
  new SuggestionCache(0).put("a.py", "p", "", { text: "t" });
});
