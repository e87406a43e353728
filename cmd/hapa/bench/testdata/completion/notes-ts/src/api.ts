import { toSummary } from "./format.js";
import { NoteStore } from "./storage.js";
import { NotFoundError, type NoteFilter } from "./types.js";

export interface Request {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: unknown;
}

export interface Response {
  status: number;
  body: unknown;
}

export function createHandler(store: NoteStore) {
  return async function handle(req: Request): Promise<Response> {
    try {
      if (req.method === "GET" && req.path === "/notes") {
        const filter: NoteFilter = { tag: req.query.tag, text: req.query.q, pinnedOnly: req.query.pinned === "1" };
        const notes = await store.list(filter);
        return { status: 200, body: notes.map(toSummary) };
      }
      if (req.method === "POST" && req.path === "/notes") {
        const { title, body, tags } = req.body as { title: string; body: string; tags?: string[] };
        const note = await store.create(title, body, tags);
        return { status: 201, body: toSummary(note) };
      }
      const m = /^\/notes\/([^/]+)$/.exec(req.path);
      if (m && req.method === "GET") {
        const note = await store.get(m[1]);
        return { status: 200, body: note };
      }
      if (m && req.method === "PATCH") {
        const note = await store.update(m[1], req.body as object);
        return { status: 200, body: toSummary(note) };
      }
      if (m && req.method === "DELETE") {
        await store.remove(m[1]);
        return { status: 204, body: null };
      }
      return { status: 404, body: { error: "no such route" } };
    } catch (err) {
      if (err instanceof NotFoundError) {
        return { status: 404, body: { error: err.message } };
      }
      throw err;
    }
  };
}
