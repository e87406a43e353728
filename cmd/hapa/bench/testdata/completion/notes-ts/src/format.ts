import type { Note } from "./types.js";

const MAX_TITLE = 60;

/** formatTitle trims a title and shortens it to MAX_TITLE characters. */
export function formatTitle(title: string): string {
  const t = title.trim() || "Untitled";
  return t.length > MAX_TITLE ? t.slice(0, MAX_TITLE - 1) + "…" : t;
}

/** excerpt returns the first words of a body, at most max characters. */
export function excerpt(body: string, max = 120): string {
  const flat = body.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.lastIndexOf(" ", max);
  return flat.slice(0, cut > 0 ? cut : max) + "…";
}

/** toSummary is what the list view shows of a note. */
export function toSummary(note: Note) {
  return {
    id: note.id,
    title: formatTitle(note.title),
    excerpt: excerpt(note.body),
    tags: note.tags,
    pinned: note.pinned,
    updated: note.updatedAt.toISOString(),
  };
}
