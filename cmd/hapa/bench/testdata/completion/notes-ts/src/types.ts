export type NoteId = string;

export interface Note {
  id: NoteId;
  title: string;
  body: string;
  tags: string[];
  pinned: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface NoteFilter {
  tag?: string;
  text?: string;
  pinnedOnly?: boolean;
  limit?: number;
}

export class NotFoundError extends Error {
  constructor(public readonly id: NoteId) {
    super(`note ${id} not found`);
  }
}
