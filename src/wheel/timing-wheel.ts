/*
 * Hierarchical timing wheel (pure data structure: no I/O, no timers, no Date.now()).
 *
 * Invariants, in the style of Kafka's TimingWheel.java
 * ------------------------------------------------------
 *
 * Time is measured in ticks: tick(t) = floor(t / tickMs). The wheel has a current time `now`
 * (ms, only ever increased by advance()) and a current tick `cur = tick(now)`. Every timer keeps
 * its own exact due time (integer ms; fractional due times are rounded up so nothing can fire
 * early) and its due tick d = tick(due). Slot positions are only an index for finding timers
 * quickly; the decision to fire is always `due <= now`, made on the timer's own due time.
 *
 * The wheel has L levels of S = 2^b slots each. A slot of level i spans S^i ticks, a whole level
 * i spans S^(i+1) ticks (level 0 has a span of S ticks, one tick per slot; level i+1 has one slot
 * per complete level-i span, and so on).
 *
 * Placement (a pure function of d and cur). Write d and cur in base S, one digit per level.
 * A timer with d >= cur lives at level i, the lowest level such that d and cur have the same
 * digits above level i (i.e. floor(d / S^(i+1)) == floor(cur / S^(i+1))), in the slot given by
 * d's level-i digit: slot = floor(d / S^i) mod S. Computing i is O(1): it is the position of the
 * highest bit in which d and cur differ, divided by b (Math.clz32 on the 2x32-bit halves).
 * Consequences:
 *   - A level-i slot s holds exactly the timers whose due tick lies in
 *       [base(i) + s * S^i, base(i) + (s + 1) * S^i),  base(i) = floor(cur / S^(i+1)) * S^(i+1),
 *     i.e. inside the level's *current* span, so slots never wrap around and never mix rounds.
 *   - At level i > 0 every occupied slot lies strictly after the slot `cur` points at (the
 *     level's cursor); at level 0 an occupied slot is at or after the cursor (at the cursor only
 *     with tickMs > 1: timers due later within the current tick).
 *   - The levels partition the future into consecutive, disjoint ranges: every level-0 slot comes
 *     before the end of cur's level-1 slot, every occupied level-1 slot starts at or after it, and
 *     so on up. So the earliest interesting event is always the first occupied slot (at or after
 *     the cursor) of the lowest non-empty level, found with the per-level occupancy bitmaps.
 *   - Timers with the same due time always sit in the same slot, in insertion order.
 * Two extra lists sit outside the levels:
 *   - overdue: timers added with due <= now. They fire at the very next advance(), first.
 *   - overflow: timers whose d does not share cur's digits above the top level (beyond the top
 *     level's current span; with the defaults that is at least 2^48 ms away, ~8900 years). When
 *     cur reaches the start of the top-level span holding the earliest of them, they are placed
 *     again (some may return to the overflow list).
 *
 * Cascading. When cur reaches the start time of an occupied level-i slot (i > 0), the placement
 * function would put its timers lower, so the slot is emptied and each timer is placed again
 * relative to the slot's start: it lands at a strictly lower level (its digits down to level i
 * now match cur). Cascading preserves the relative order of timers, hence the insertion order of
 * equal due times. A timer cascades at most L times in its life.
 *
 * advance(now'): moves cur from event to event: the next event is the first occupied slot of the
 * lowest non-empty level (or the overflow re-placement point). Events later than tick(now') are
 * not touched; empty slots are never visited (the bitmaps jump straight to the next occupied one),
 * so an advance over years with a handful of timers costs a handful of steps. A level-0 event
 * fires the timers of that slot whose due <= now' (all of them unless it is the final tick), a
 * higher-level event cascades. Between events every timer is at its placement for the current
 * cur, which is why the above invariants hold after advance() sets cur = tick(now').
 *
 * Why it never fires early: only level-0 slots fire, a level-0 slot only holds timers of one tick,
 * and within it each timer is checked against its own due time. Why it never fires late: every
 * timer's slot start (at any level) is <= its due tick, so the event chain reaches its level-0
 * slot by the first advance(now) with now >= due.
 *
 * nextExpiry() is the time of the next event: a cascade start time (<= the due time of every timer
 * in that slot) or, at level 0, the smallest due time of that slot (exact, so a timer driven by
 * nextExpiry() never spins on a slot that is not yet due). It is never later than the earliest
 * due time, and it is > now unless overdue timers are waiting.
 *
 * Layout (no object is allocated per timer): a timer is a number indexing one ArrayBuffer of
 * 24-byte records {due: f64, next: i32, prev: i32, list: i32, 4 bytes unused so that the next
 * record's f64 stays aligned} (one cache line touch per timer), recycled through a free list and
 * grown by doubling. The record number is the timer's handle: insert() returns it, and move() and
 * remove() take it back with the key. There is no key -> timer index (hashing and probing cost
 * most of a keyed add/cancel): the caller keeps each key's handle, as a setTimeout caller keeps
 * its Timeout. A handle goes stale when its timer fires or is removed; a stale one is detected by
 * its record being free (list = -1) or holding another key. Keys live in one array indexed by
 * record number. Per-slot doubly linked lists use head/tail arrays. Each level has an occupancy
 * bitmap (Uint32 words; 64 slots = 2 words) searched with Math.clz32.
 */

export interface WheelOptions {
  /** Length of one tick in ms. Default 1. */
  tickMs?: number;
  /** Slots per level, a power of two. Default 64. */
  slotsPerLevel?: number;
  /** Number of levels. Default: enough that the top level covers at least 2^48 ms (~8900 years). */
  levels?: number;
}

export interface WheelEntry<K> {
  key: K;
  due: number;
}

export interface WheelLevelStats {
  level: number;
  tickMs: number;
  spanMs: number;
  slots: number;
  occupiedSlots: number;
  timers: number;
  /** Slot index the level's current time points at. */
  cursor: number;
}

export interface WheelStats {
  /** The wheel's current time (last advance), ms. */
  now: number;
  /** Timers held (including overdue ones waiting for the next advance). */
  size: number;
  nextExpiry: number | null;
  levels: WheelLevelStats[];
  /** Timers added with a due time <= now, waiting for the next advance(). */
  overdue: number;
  /** Timers beyond the top level's current span (normally 0). */
  overflow: number;
}

const INV_TWO_32 = 1 / 4294967296;
const MAX_DUE = Number.MAX_SAFE_INTEGER;
const INITIAL_CAPACITY = 16;
const DEFAULT_TOP_SPAN_BITS = 48;

// Timer record layout: 24 bytes = 3 f64 = 6 i32 (i32[6 * i + 5] is padding).
const F64_STRIDE = 3; // due at f64[3 * i]
const I32_STRIDE = 6;
const NEXT = 2; // i32[6 * i + 2]
const PREV = 3;
/** The record's list id; NONE marks a free record. */
const LIST = 4;
const NONE = -1;

export class TimingWheel<K> {
  /** Length of one level-0 tick, ms. */
  readonly tickMs: number;
  readonly slotsPerLevel: number;
  readonly levels: number;

  private readonly slotBits: number;
  private readonly slotMask: number;
  private readonly bitmapWords: number;
  /** pow[i] = S^i, for i in 0..levels. */
  private readonly pow: Float64Array;
  /** invPow[i] = 1 / S^i (exact: powers of two), to divide by multiplying. */
  private readonly invPow: Float64Array;
  /** Level for the highest differing bit of d ^ cur (levels means overflow). */
  private readonly levelOfBit: Int32Array;
  /** List ids: 0..levels*S-1 are wheel slots (level * S + slot), then overflow, then overdue. */
  private readonly overflowList: number;
  private readonly overdueList: number;
  private readonly heads: Int32Array;
  private readonly tails: Int32Array;
  private readonly counts: Int32Array;
  private readonly levelTimers: Int32Array;
  private readonly bitmap: Uint32Array;
  /** Smallest due time per level-0 slot, only maintained when tickMs > 1 (NaN = recompute). */
  private readonly slot0Min: Float64Array;
  /** Lower bound of the smallest due tick in the overflow list (Infinity when empty). */
  private overflowMinTick = Infinity;
  /** Lower bound of the smallest due time in the overdue list (Infinity when empty). */
  private overdueMinDue = Infinity;

  // Timer records (see the layout note above) and their keys.
  private f64: Float64Array;
  private i32: Int32Array;
  private capacity: number;
  private used = 0;
  private freeHead = NONE;
  private live = 0;
  /** keys[record] = its timer's key (undefined for a free record). */
  private readonly keys: (K | undefined)[] = [];
  /** Scratch list of records to fire, reused by every advance(). */
  private readonly picked: number[] = [];
  /** Orders records by due time (Array.sort is stable: list order for ties). */
  private readonly byDue = (a: number, b: number): number => this.f64[a * F64_STRIDE] - this.f64[b * F64_STRIDE];

  private nowMs: number;
  private curTick: number;

  constructor(startMs: number, options: WheelOptions = {}) {
    if (typeof startMs !== 'number' || !Number.isFinite(startMs) || startMs < 0 || startMs > MAX_DUE) {
      throw new RangeError(`TimingWheel: startMs must be a finite number >= 0, got ${startMs}`);
    }
    const tickMs = options.tickMs ?? 1;
    if (!Number.isInteger(tickMs) || tickMs < 1) {
      throw new RangeError(`TimingWheel: tickMs must be an integer >= 1, got ${tickMs}`);
    }
    const slots = options.slotsPerLevel ?? 64;
    if (!Number.isInteger(slots) || slots < 2 || slots > 65536 || (slots & (slots - 1)) !== 0) {
      throw new RangeError(`TimingWheel: slotsPerLevel must be a power of two in 2..65536, got ${slots}`);
    }
    const bits = 31 - Math.clz32(slots);
    let levels = options.levels;
    if (levels === undefined) {
      // Top level span = tickMs * S^levels >= 2^48 ms.
      const neededBits = Math.max(1, Math.ceil(DEFAULT_TOP_SPAN_BITS - Math.log2(tickMs)));
      levels = Math.max(1, Math.ceil(neededBits / bits));
    }
    if (!Number.isInteger(levels) || levels < 1 || levels > 64 || levels * bits > 1000) {
      throw new RangeError(`TimingWheel: levels must be an integer in 1..64 (and cover at most 2^1000 ticks), got ${levels}`);
    }

    this.tickMs = tickMs;
    this.slotsPerLevel = slots;
    this.levels = levels;
    this.slotBits = bits;
    this.slotMask = slots - 1;
    this.bitmapWords = Math.max(1, slots >>> 5);
    this.pow = new Float64Array(levels + 1);
    this.invPow = new Float64Array(levels + 1);
    for (let i = 0; i <= levels; i++) {
      this.pow[i] = Math.pow(slots, i);
      this.invPow[i] = 1 / this.pow[i];
    }
    this.levelOfBit = new Int32Array(64);
    for (let bit = 0; bit < 64; bit++) this.levelOfBit[bit] = Math.min(Math.floor(bit / bits), levels);

    const wheelLists = levels * slots;
    this.overflowList = wheelLists;
    this.overdueList = wheelLists + 1;
    this.heads = new Int32Array(wheelLists + 2).fill(NONE);
    this.tails = new Int32Array(wheelLists + 2).fill(NONE);
    this.counts = new Int32Array(wheelLists + 2);
    this.levelTimers = new Int32Array(levels);
    this.bitmap = new Uint32Array(levels * this.bitmapWords);
    this.slot0Min = new Float64Array(tickMs > 1 ? slots : 0).fill(Infinity);

    this.capacity = INITIAL_CAPACITY;
    this.f64 = new Float64Array(INITIAL_CAPACITY * F64_STRIDE);
    this.i32 = new Int32Array(this.f64.buffer);

    this.nowMs = startMs;
    this.curTick = Math.floor(startMs / tickMs);
  }

  /** The wheel's current time (the last advance(), or startMs), ms. */
  get time(): number {
    return this.nowMs;
  }

  get size(): number {
    return this.live;
  }

  /**
   * A new timer for key, and its handle for move() and remove(). O(1). A due time <= now fires at
   * the next advance(). The caller keeps at most one timer per key (the wheel does not look) and
   * its handle, as a setTimeout caller keeps its Timeout. A handle is valid until its timer fires
   * or is removed; a stale one is harmless (see remove()).
   */
  insert(key: K, dueMs: number): number {
    const due = checkedDue(dueMs);
    let i = this.freeHead;
    if (i === NONE) {
      if (this.used === this.capacity) this.grow();
      i = this.used++;
    } else {
      this.freeHead = this.i32[i * I32_STRIDE + NEXT];
    }
    const keys = this.keys;
    if (i === keys.length) keys.push(key);
    else keys[i] = key;
    this.live++;
    this.schedule(i, due);
    return i;
  }

  /** Reschedules the timer of a handle, O(1); false (and nothing changed) if the handle no longer holds key. */
  move(handle: number, key: K, dueMs: number): boolean {
    const due = checkedDue(dueMs);
    if (!this.holds(handle, key)) return false;
    this.unlink(handle);
    this.schedule(handle, due);
    return true;
  }

  /**
   * Removes the timer of a handle; false if the handle no longer holds key: its timer fired or was
   * removed, and the record is free or reused for another key (with one timer per key, a record
   * holding key again is key's current timer, so removing it is still right). O(1).
   */
  remove(handle: number, key: K): boolean {
    if (!this.holds(handle, key)) return false;
    this.unlink(handle);
    this.free(handle);
    return true;
  }

  /**
   * The earliest time at which advance() can return a key or needs to cascade; null when empty.
   * Never later than the earliest due time. O(levels + bitmap words).
   */
  nextExpiry(): number | null {
    if (this.live === 0) return null;
    if (this.counts[this.overdueList] > 0) return this.overdueMinDue;
    const levels = this.levels;
    for (let level = 0; level < levels; level++) {
      if (this.levelTimers[level] === 0) continue;
      const slot = this.firstOccupied(level, this.cursor(level));
      if (level === 0) {
        if (this.tickMs === 1) return this.eventTick(0, slot);
        return this.slot0MinDue(slot);
      }
      return this.eventTick(level, slot) * this.tickMs;
    }
    if (this.counts[this.overflowList] > 0) return this.overflowEventTick() * this.tickMs;
    return null; // unreachable while `live` agrees with the lists
  }

  /**
   * Move the wheel's time to nowMs (a smaller nowMs than the current time is treated as the current
   * time) and take out every timer whose due <= nowMs, in due order (ties: insertion order): keys
   * and dues are emptied, then filled in parallel (dues[i] = keys[i]'s due time, as the wheel keeps
   * it), so that the caller need not look the due times up again. The caller owns both arrays and
   * may reuse them for every call (nothing is allocated per expired timer beyond their growth).
   * Returns the number of timers taken out. Jumps over empty slots with the bitmaps.
   */
  advance(nowMs: number, keys: K[], dues: number[]): number {
    keys.length = 0;
    dues.length = 0;
    if (nowMs > this.nowMs) this.nowMs = Math.min(nowMs, MAX_DUE); // NaN and the past are ignored
    const target = this.nowMs;
    const targetTick = Math.floor(target / this.tickMs);
    if (this.live !== 0) {
      if (this.counts[this.overdueList] > 0) this.drainOverdue(keys, dues);
      const levels = this.levels;
      const slots = this.slotsPerLevel;
      events: for (;;) {
        for (let level = 0; level < levels; level++) {
          if (this.levelTimers[level] === 0) continue;
          const slot = this.firstOccupied(level, this.cursor(level));
          const tick = this.eventTick(level, slot);
          if (tick > targetTick) break events;
          this.curTick = tick;
          if (level === 0) {
            this.fireSlot(slot, target, keys, dues);
            if (tick === targetTick) break events;
          } else {
            this.cascade(level * slots + slot);
          }
          continue events;
        }
        if (this.counts[this.overflowList] === 0) break;
        const tick = this.overflowEventTick();
        if (tick > targetTick) break;
        this.curTick = tick;
        this.cascade(this.overflowList);
      }
    }
    if (targetTick > this.curTick) this.curTick = targetTick;
    return keys.length;
  }

  /** The next n entries to fire, in due order, without changing anything. */
  peek(n: number): WheelEntry<K>[] {
    const out: WheelEntry<K>[] = [];
    if (!(n > 0) || this.live === 0) return out;
    if (this.collectSorted(this.overdueList, n, out)) return out;
    const levels = this.levels;
    const slots = this.slotsPerLevel;
    for (let level = 0; level < levels; level++) {
      if (this.levelTimers[level] === 0) continue;
      for (let slot = this.firstOccupied(level, this.cursor(level)); slot !== NONE; ) {
        if (this.collectSorted(level * slots + slot, n, out)) return out;
        slot = slot + 1 < slots ? this.firstOccupied(level, slot + 1) : NONE;
      }
    }
    this.collectSorted(this.overflowList, n, out);
    return out;
  }

  /** The timers of one slot of one level, in list (insertion/cascade) order. */
  slotEntries(level: number, slot: number): WheelEntry<K>[] {
    this.checkLevel(level);
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slotsPerLevel) {
      throw new RangeError(`TimingWheel: slot ${slot} out of range 0..${this.slotsPerLevel - 1}`);
    }
    return this.listEntries(level * this.slotsPerLevel + slot);
  }

  /** Timers added with a due time <= now that the next advance() will return, in insertion order. */
  overdueEntries(): WheelEntry<K>[] {
    return this.listEntries(this.overdueList);
  }

  /** Timers beyond the top level's current span (normally none). */
  overflowEntries(): WheelEntry<K>[] {
    return this.listEntries(this.overflowList);
  }

  /** Per-slot timer counts of one level. */
  slotCounts(level: number): number[] {
    this.checkLevel(level);
    const from = level * this.slotsPerLevel;
    return Array.from(this.counts.subarray(from, from + this.slotsPerLevel));
  }

  stats(): WheelStats {
    const levels: WheelLevelStats[] = [];
    const slots = this.slotsPerLevel;
    for (let level = 0; level < this.levels; level++) {
      let occupied = 0;
      const base = level * this.bitmapWords;
      for (let w = 0; w < this.bitmapWords; w++) occupied += popcount(this.bitmap[base + w]);
      levels.push({
        level,
        tickMs: this.tickMs * this.pow[level],
        spanMs: this.tickMs * this.pow[level + 1],
        slots,
        occupiedSlots: occupied,
        timers: this.levelTimers[level],
        cursor: this.cursor(level),
      });
    }
    return {
      now: this.nowMs,
      size: this.live,
      nextExpiry: this.nextExpiry(),
      levels,
      overdue: this.counts[this.overdueList],
      overflow: this.counts[this.overflowList],
    };
  }

  /** Drop everything (the wheel's time is kept) and release the storage. */
  clear(): void {
    this.keys.length = 0;
    this.heads.fill(NONE);
    this.tails.fill(NONE);
    this.counts.fill(0);
    this.levelTimers.fill(0);
    this.bitmap.fill(0);
    this.slot0Min.fill(Infinity);
    this.overflowMinTick = Infinity;
    this.overdueMinDue = Infinity;
    this.capacity = INITIAL_CAPACITY;
    this.f64 = new Float64Array(INITIAL_CAPACITY * F64_STRIDE);
    this.i32 = new Int32Array(this.f64.buffer);
    this.used = 0;
    this.live = 0;
    this.freeHead = NONE;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private checkLevel(level: number): void {
    if (!Number.isInteger(level) || level < 0 || level >= this.levels) {
      throw new RangeError(`TimingWheel: level ${level} out of range 0..${this.levels - 1}`);
    }
  }

  /** Slot index the current tick points at, on one level. */
  private cursor(level: number): number {
    return (level === 0 ? this.curTick : Math.floor(this.curTick / this.pow[level])) & this.slotMask;
  }

  /** Start tick of a slot of a level in the level's current span. */
  private eventTick(level: number, slot: number): number {
    const span = this.pow[level + 1];
    return Math.floor(this.curTick / span) * span + slot * this.pow[level];
  }

  /** Start tick of the top-level span holding the earliest overflow timer. */
  private overflowEventTick(): number {
    const span = this.pow[this.levels];
    return Math.floor(this.overflowMinTick / span) * span;
  }

  /** First occupied slot >= from on a level, or NONE. */
  private firstOccupied(level: number, from: number): number {
    const base = level * this.bitmapWords;
    const words = this.bitmapWords;
    let w = from >>> 5;
    let word = this.bitmap[base + w] & (-1 << (from & 31));
    for (;;) {
      if (word !== 0) return (w << 5) + 31 - Math.clz32(word & -word);
      if (++w >= words) break;
      word = this.bitmap[base + w];
    }
    if (this.levelTimers[level] !== 0 && from <= this.cursor(level)) {
      throw new Error(`TimingWheel: invariant violated, level ${level} has timers before its cursor`);
    }
    return NONE;
  }

  /** Whether handle is a live timer holding key (SameValueZero, like Map: NaN holds NaN). */
  private holds(handle: number, key: K): boolean {
    if (!(handle >= 0 && handle < this.used) || (handle | 0) !== handle) return false;
    if (this.i32[handle * I32_STRIDE + LIST] === NONE) return false;
    const held = this.keys[handle];
    return held === key || (key !== key && held !== held);
  }

  /** Timer i (unlinked) gets due time `due`: overdue list or its wheel slot. */
  private schedule(i: number, due: number): void {
    this.f64[i * F64_STRIDE] = due;
    if (due <= this.nowMs) {
      this.link(i, this.overdueList);
      if (due < this.overdueMinDue) this.overdueMinDue = due;
    } else {
      this.place(i);
    }
  }

  private free(i: number): void {
    this.live--;
    this.keys[i] = undefined;
    this.i32[i * I32_STRIDE + LIST] = NONE;
    this.i32[i * I32_STRIDE + NEXT] = this.freeHead;
    this.freeHead = i;
  }

  /**
   * Room for `timers` records at once (a boot that knows its row count): growing by doubling to
   * millions leaves the freed smaller buffers in the process's memory.
   */
  reserve(timers: number): void {
    if (timers > this.capacity) this.grow(timers);
  }

  private grow(capacity = this.capacity * 2): void {
    const f64 = new Float64Array(capacity * F64_STRIDE);
    f64.set(this.f64);
    this.f64 = f64;
    this.i32 = new Int32Array(f64.buffer);
    this.capacity = capacity;
  }

  /** Put timer i (due > now, so d >= cur) into the wheel at its placement for the current tick. */
  private place(i: number): void {
    const due = this.f64[i * F64_STRIDE];
    const tickMs = this.tickMs;
    const d = tickMs === 1 ? due : Math.floor(due / tickMs);
    const c = this.curTick;
    const high = Math.floor(d * INV_TWO_32) ^ Math.floor(c * INV_TWO_32);
    let bit: number;
    if (high !== 0) {
      bit = 63 - Math.clz32(high);
    } else {
      const low = d ^ c; // ToInt32 keeps the low 32 bits of integers below 2^53
      bit = low === 0 ? 0 : 31 - Math.clz32(low);
    }
    const level = this.levelOfBit[bit];
    if (level === this.levels) {
      this.link(i, this.overflowList);
      if (d < this.overflowMinTick) this.overflowMinTick = d;
      return;
    }
    const slot = (level === 0 ? d : Math.floor(d * this.invPow[level])) & this.slotMask;
    const list = level * this.slotsPerLevel + slot;
    if (this.counts[list] === 0) this.bitmap[level * this.bitmapWords + (slot >>> 5)] |= 1 << (slot & 31);
    this.link(i, list);
    this.levelTimers[level]++;
    if (level === 0 && tickMs > 1) {
      if (due < this.slot0Min[slot]) this.slot0Min[slot] = due; // NaN (dirty) stays NaN
    }
  }

  /** Append timer i to the tail of a list. */
  private link(i: number, list: number): void {
    const i32 = this.i32;
    const at = i * I32_STRIDE;
    const tail = this.tails[list];
    if (tail === NONE) this.heads[list] = i;
    else i32[tail * I32_STRIDE + NEXT] = i;
    i32[at + PREV] = tail;
    i32[at + NEXT] = NONE;
    i32[at + LIST] = list;
    this.tails[list] = i;
    this.counts[list]++;
  }

  /** Take timer i out of its list, keeping counts, bitmaps and minimums right. */
  private unlink(i: number): void {
    const i32 = this.i32;
    const at = i * I32_STRIDE;
    const list = i32[at + LIST];
    const next = i32[at + NEXT];
    const prev = i32[at + PREV];
    if (prev === NONE) this.heads[list] = next;
    else i32[prev * I32_STRIDE + NEXT] = next;
    if (next === NONE) this.tails[list] = prev;
    else i32[next * I32_STRIDE + PREV] = prev;
    const left = --this.counts[list];
    if (list < this.overflowList) {
      const level = list >>> this.slotBits;
      const slot = list & this.slotMask;
      this.levelTimers[level]--;
      if (left === 0) this.bitmap[level * this.bitmapWords + (slot >>> 5)] &= ~(1 << (slot & 31));
      if (level === 0 && this.tickMs > 1) {
        if (left === 0) this.slot0Min[slot] = Infinity;
        else if (this.f64[i * F64_STRIDE] === this.slot0Min[slot]) this.slot0Min[slot] = NaN;
      }
    } else if (left === 0) {
      if (list === this.overflowList) this.overflowMinTick = Infinity;
      else this.overdueMinDue = Infinity;
    }
  }

  /** Empty a whole list at once; returns its former head (NONE when it was empty). */
  private detach(list: number): number {
    const head = this.heads[list];
    const n = this.counts[list];
    this.heads[list] = NONE;
    this.tails[list] = NONE;
    this.counts[list] = 0;
    if (list < this.overflowList) {
      const level = list >>> this.slotBits;
      const slot = list & this.slotMask;
      this.levelTimers[level] -= n;
      this.bitmap[level * this.bitmapWords + (slot >>> 5)] &= ~(1 << (slot & 31));
      if (level === 0 && this.tickMs > 1) this.slot0Min[slot] = Infinity;
    } else if (list === this.overflowList) {
      this.overflowMinTick = Infinity;
    } else {
      this.overdueMinDue = Infinity;
    }
    return head;
  }

  /** Re-place every timer of a list relative to the current tick (they all move lower). */
  private cascade(list: number): void {
    let i = this.detach(list);
    while (i !== NONE) {
      const next = this.i32[i * I32_STRIDE + NEXT];
      this.place(i);
      i = next;
    }
  }

  /** Fire the timers of level-0 slot `slot` whose due <= target, in due order. */
  private fireSlot(slot: number, target: number, keys: K[], dues: number[]): void {
    const list = slot; // level 0
    if (this.tickMs === 1) {
      // One tick per slot and tick == ms: every timer of the slot has the same due time <= target.
      let i = this.detach(list);
      while (i !== NONE) {
        const next = this.i32[i * I32_STRIDE + NEXT];
        keys.push(this.keys[i] as K);
        dues.push(this.f64[i * F64_STRIDE]);
        this.free(i);
        i = next;
      }
      return;
    }
    const picked = this.picked;
    picked.length = 0;
    for (let i = this.heads[list]; i !== NONE; i = this.i32[i * I32_STRIDE + NEXT]) {
      if (this.f64[i * F64_STRIDE] <= target) picked.push(i);
    }
    if (picked.length === this.counts[list]) this.detach(list);
    else for (const j of picked) this.unlink(j);
    this.emitSorted(keys, dues);
  }

  private drainOverdue(keys: K[], dues: number[]): void {
    const picked = this.picked;
    picked.length = 0;
    for (let i = this.detach(this.overdueList); i !== NONE; i = this.i32[i * I32_STRIDE + NEXT]) picked.push(i);
    this.emitSorted(keys, dues);
  }

  /** Output the detached timers of `picked` in due order (stable: list order for ties) and free them. */
  private emitSorted(keys: K[], dues: number[]): void {
    const picked = this.picked;
    if (picked.length > 1) picked.sort(this.byDue);
    for (const j of picked) {
      keys.push(this.keys[j] as K);
      dues.push(this.f64[j * F64_STRIDE]);
      this.free(j);
    }
    picked.length = 0;
  }

  /** Smallest due time in level-0 slot `slot` (tickMs > 1), recomputed when marked dirty. */
  private slot0MinDue(slot: number): number {
    let min = this.slot0Min[slot];
    if (Number.isNaN(min)) {
      min = Infinity;
      for (let i = this.heads[slot]; i !== NONE; i = this.i32[i * I32_STRIDE + NEXT]) {
        const due = this.f64[i * F64_STRIDE];
        if (due < min) min = due;
      }
      this.slot0Min[slot] = min;
    }
    return min;
  }

  private listEntries(list: number): WheelEntry<K>[] {
    const out: WheelEntry<K>[] = [];
    const keys = this.keys;
    for (let i = this.heads[list]; i !== NONE; i = this.i32[i * I32_STRIDE + NEXT]) {
      out.push({ key: keys[i] as K, due: this.f64[i * F64_STRIDE] });
    }
    return out;
  }

  /** Append a list's entries in due order to out until it holds n; returns whether it is full. */
  private collectSorted(list: number, n: number, out: WheelEntry<K>[]): boolean {
    if (this.counts[list] === 0) return out.length >= n;
    const entries = this.listEntries(list);
    if (!(list < this.slotsPerLevel && this.tickMs === 1)) entries.sort((a, b) => a.due - b.due);
    for (const entry of entries) {
      if (out.length >= n) return true;
      out.push(entry);
    }
    return out.length >= n;
  }
}

/** A due time as the wheel keeps it: integer ms, fractions rounded up (never early). */
function checkedDue(dueMs: number): number {
  if (typeof dueMs !== 'number' || !(Math.abs(dueMs) <= MAX_DUE)) {
    throw new RangeError(`TimingWheel: due time must be a finite number of ms, got ${dueMs}`);
  }
  return Math.ceil(dueMs) + 0; // + 0 turns -0 into 0
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
