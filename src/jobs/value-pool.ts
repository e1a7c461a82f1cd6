/**
 * Interned values with reference counts: the job table stores a small integer per job instead of
 * a pointer to its own copy, and a value no job refers to any more is dropped (its number reused).
 * Values are found by a string identity, so equal values share one entry.
 */
export class ValuePool<T> {
  private readonly ids = new Map<string, number>();
  private readonly values: (T | undefined)[] = [];
  private readonly identities: string[] = [];
  private refs = new Int32Array(16);
  private readonly free: number[] = [];

  /** Distinct values held. */
  get size(): number {
    return this.ids.size;
  }

  /** Takes one reference to the value named `identity` (made by `make` if new), returning its number. */
  acquire(identity: string, make: () => T): number {
    let id = this.ids.get(identity);
    if (id === undefined) {
      id = this.free.pop() ?? this.values.length;
      if (id >= this.refs.length) {
        const grown = new Int32Array(this.refs.length * 2);
        grown.set(this.refs);
        this.refs = grown;
      }
      this.values[id] = make();
      this.identities[id] = identity;
      this.ids.set(identity, id);
    }
    this.refs[id]++;
    return id;
  }

  /** Drops one reference; the value goes when none is left. */
  release(id: number): void {
    if (--this.refs[id] > 0) return;
    this.ids.delete(this.identities[id]);
    this.values[id] = undefined;
    this.identities[id] = '';
    this.free.push(id);
  }

  get(id: number): T {
    return this.values[id] as T;
  }
}
