// The last suggestions, so that coming back to the same spot — or typing the first
// characters of a suggestion shown — needs no new request.

export interface Suggestion {
  text: string;
  completionId?: string;
}

interface Entry extends Suggestion {
  doc: string;
  prefix: string;
  suffix: string;
}

export class SuggestionCache {
  private entries: Entry[] = []; // oldest first

  constructor(private size: number) {}

  resize(size: number): void {
    this.size = size;
    while (this.entries.length > size) this.entries.shift();
  }

  put(doc: string, prefix: string, suffix: string, s: Suggestion): void {
    if (this.size <= 0) return;
    this.entries = this.entries.filter((e) => !(e.doc === doc && e.prefix === prefix && e.suffix === suffix));
    this.entries.push({ doc, prefix, suffix, ...s });
    while (this.entries.length > this.size) this.entries.shift();
  }

  /**
   * lookup returns the suggestion for exactly this spot, or the rest of a suggestion
   * whose first characters the user has typed since (same document, same text after
   * the cursor). The newest match wins.
   */
  lookup(doc: string, prefix: string, suffix: string): (Suggestion & { typed: number }) | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (e.doc !== doc || e.suffix !== suffix || !prefix.startsWith(e.prefix)) continue;
      const typed = prefix.slice(e.prefix.length);
      if (typed.length < e.text.length && e.text.startsWith(typed)) {
        return { text: e.text.slice(typed.length), completionId: e.completionId, typed: typed.length };
      }
    }
    return undefined;
  }

  clear(): void {
    this.entries = [];
  }
}
