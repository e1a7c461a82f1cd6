/**
 * One shared string per distinct value while loading: interval, cron, location and path repeat
 * across many rows, and a copy per row is ~24-40 bytes for each of a million jobs. Rows come in
 * key order, so the previous value is checked before the map. Capped so a table of all-distinct
 * values costs no more than a bounded map; dropped with the load.
 */
export class LoadStrings {
  private static readonly MAX_DISTINCT = 100_000;
  private readonly seen = new Map<string, string>();
  private readonly last: (string | null)[] = [];

  /** The shared copy of text; column tells the last-value cache apart. */
  share(column: number, text: string | null): string | null {
    if (text === null) return null;
    const last = this.last[column];
    if (text === last) return last;
    let shared = this.seen.get(text);
    if (shared === undefined) {
      shared = text;
      if (this.seen.size < LoadStrings.MAX_DISTINCT) this.seen.set(text, text);
    }
    this.last[column] = shared;
    return shared;
  }
}
