import { NotFoundError, type Note, type NoteFilter, type NoteId } from "./types.js";

/** NoteStore keeps notes in memory, newest first. */
export class NoteStore {
  private readonly notes = new Map<NoteId, Note>();
  private seq = 0;

  async create(title: string, body: string, tags: string[] = []): Promise<Note> {
    const now = new Date();
    const note: Note = { id: `n${++this.seq}`, title, body, tags, pinned: false, createdAt: now, updatedAt: now };
    this.notes.set(note.id, note);
    return note;
  }

  async get(id: NoteId): Promise<Note> {
    const note = this.notes.get(id);
    if (!note) throw new NotFoundError(id);
    return note;
  }

  async update(id: NoteId, patch: Partial<Pick<Note, "title" | "body" | "tags" | "pinned">>): Promise<Note> {
    const note = await this.get(id);
    const next = { ...note, ...patch, updatedAt: new Date() };
    this.notes.set(id, next);
    return next;
  }

  async remove(id: NoteId): Promise<void> {
    if (!this.notes.delete(id)) throw new NotFoundError(id);
  }

  async list(filter: NoteFilter = {}): Promise<Note[]> {
    const text = filter.text?.toLowerCase();
    const out = [...this.notes.values()]
      .filter((n) => !filter.tag || n.tags.includes(filter.tag))
      .filter((n) => !filter.pinnedOnly || n.pinned)
      .filter((n) => !text || n.title.toLowerCase().includes(text) || n.body.toLowerCase().includes(text))
      .sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime());
    return out.slice(0, filter.limit ?? 50);
  }
}
