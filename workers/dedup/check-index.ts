/**
 * In-bank lookup for POST /api/dedup/check: which stored questions could be
 * near-duplicates of one new question, decided from prints alone, so only a
 * handful of texts are read back for verification.
 *
 * The same two candidate routes as a task, as sorted typed arrays searched
 * by binary search: SimHash bands (INDEX_DISTANCE+1 bands; complete for any
 * max_distance <= INDEX_DISTANCE) and sketch keys. The rows are cut into runs
 * of at most RUN_ROWS rows, each sorted on its own: sorting one run takes
 * ~10 ms, where sorting a million rows at once held the main thread for about
 * a second (the first check after a task waited 553 ms on it). A lookup
 * searches every run, so runs are then merged pairwise, as a binary counter
 * (two runs of equal size become one): a million rows end in ~7 runs, not
 * ~120, whose lookups cost ~0.9 ms of the main thread a check. A merge is
 * linear and walks MERGE_STEP_ENTRIES entries a call; the runs it replaces
 * serve lookups until it is done. Rows added since the last run sit in an
 * unsorted delta scanned linearly; `buildStep` sorts the next run and
 * `mergeStep` advances the merge, one step per call, so the caller can turn
 * the event loop between them. Removed ids are tombstoned.
 *
 * Every key is the row's group's own (`inGroup`): a lookup visits only rows of the groups it
 * wants. Keys shared by the whole bank (a stock phrase's sketch key, a common band value) once
 * made each check visit thousands of other groups' rows at a million questions, ~0.45 ms of the
 * main thread a check, and spent the per-key cap on them.
 */
import { bandKey, bandLayout } from './bands.ts';
import { fmix32, hamming64 } from './hash.ts';
import { IdRows } from './id-rows.ts';
import { minhashFloor, mayReach, type MinhashFloor } from './minhash.ts';
import { COUNT_MASK, F_AGREE, F_COUNT, F_EXACT_A, F_EXACT_B, F_MINHASH, F_SIM_HI, F_SIM_LO, F_SKETCH, FP_WORDS } from './print.ts';
import { NO_KEY, SKETCH_KEYS, looseDistance, minSharedKeys, sharedInUnionSketchOf } from './sketch.ts';

/** Bands are built for this distance: the contract default. */
export const INDEX_DISTANCE = 3;
/** Rows looked at per key: a stock phrase shared by 100k questions must not cost 100k checks. */
const KEY_SCAN_CAP = 512;
/** Rows sorted at once into one run: ~100k entries, ~10 ms of the main thread. */
export const RUN_ROWS = 8192;
/** Entries a merge step writes: ~0.5 ms of the main thread. */
const MERGE_STEP_ENTRIES = 65_536;
/** Runs grow by merging up to this many rows: a run's positions stay exact in a double (key * 2^21 + position). */
const MAX_MERGED_ROWS = 1 << 21;

export interface CheckQuery {
  maxDistance: number;
  minSimilarity: number;
  /** Same type and subject always; same channel too unless scope is "subject". */
  typeSubject: string;
  channel: string;
  scope: 'channel' | 'subject';
}

export interface Candidate {
  row: number;
  id: number;
  distance: number;
  /** Same normalized text: similarity 1 without reading anything. */
  exact: boolean;
}

interface Sorted {
  /** key * 2^posBits + (row - from), ascending. */
  entries: Float64Array;
  scale: number;
  shift: number;
  /** The first row of the run. */
  from: number;
}

/** One run: rows from..to-1 sorted by each band and by sketch key. */
interface Run {
  bands: Sorted[];
  sketch: Sorted;
  rows: number;
}

/** Two adjacent runs being merged into one: each index's entries, walked a step at a time. */
interface Merge {
  left: Run;
  right: Run;
  scale: number;
  /** Per index (bands, then sketch): the merged entries so far, and how far into each side. */
  parts: { out: Float64Array; a: Sorted; b: Sorted; i: number; j: number; k: number }[];
}

/**
 * A key as group `group` holds it. For one group this is a bijection of the key, so two keys of
 * a group never meet; another group's rows that land on the same value are left out by the
 * lookup's group test, as rows of other groups always were.
 */
function inGroup(key: number, group: number): number {
  return fmix32((key ^ fmix32(group + 1)) >>> 0);
}

/** The scale of a run of n rows: positions take posBits bits below the key. */
function scaleFor(n: number): number {
  let posBits = 1;
  while (1 << posBits < n) posBits++;
  return 2 ** posBits;
}

/** keyOf answers a row's k-th key, or -1 when the row has no more. */
function sortedIndex(from: number, to: number, keysPerRow: number, keyOf: (row: number, k: number) => number): Sorted {
  const n = to - from;
  let posBits = 1;
  while (1 << posBits < n) posBits++;
  const scale = 2 ** posBits;
  const shift = Math.max(0, 32 + posBits - 53);
  const entries = new Float64Array(n * keysPerRow);
  let m = 0;
  for (let row = from; row < to; row++) {
    for (let k = 0; k < keysPerRow; k++) {
      const key = keyOf(row, k);
      if (key < 0) break;
      entries[m++] = (key >>> shift) * scale + (row - from);
    }
  }
  const sorted = entries.slice(0, m);
  sorted.sort();
  return { entries: sorted, scale, shift, from };
}

/** Calls visit(row) for up to cap rows stored under key; returns how many it visited. */
function lookup(index: Sorted, key: number, cap: number, visit: (row: number) => void): number {
  const k = key >>> index.shift;
  const lowest = k * index.scale;
  const e = index.entries;
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (e[mid]! < lowest) lo = mid + 1;
    else hi = mid;
  }
  const end = Math.min(e.length, lo + cap);
  let i = lo;
  for (; i < end; i++) {
    const v = e[i]!;
    if (Math.floor(v / index.scale) !== k) break;
    visit(index.from + v - k * index.scale);
  }
  return i - lo;
}

export class CheckIndex {
  private ids = new Float64Array(1024);
  private prints = new Uint32Array(1024 * FP_WORDS);
  /** Two words a row: a key of the version of the question the print was computed from (0, 0: unknown). */
  private versions = new Uint32Array(1024 * 2);
  /** Each row's group as a small number (groupIds): a check compares numbers, not strings. */
  private groupOf = new Int32Array(1024);
  private readonly groupIds = new Map<string, number>();
  private readonly groupNames: string[] = [];
  /** Scope "subject": each asked prefix's groups, and how many groups were looked at for it. */
  private readonly groupsByPrefix = new Map<string, { upTo: number; ids: number[] }>();
  /**
   * Rows a lookup has seen, stamped with its number: a check visits thousands of rows (12 keys,
   * up to KEY_SCAN_CAP rows each), and a Set of them cost more than the rest of the visit.
   */
  private seenAt = new Uint32Array(1024);
  private lookups = 0;
  private rows = 0;
  /** Rows below `built` are in the sorted runs; the rest are the delta. */
  private built = 0;
  private runs: Run[] = [];
  /** The merge in progress (mergeStep); new runs are only appended meanwhile, after its two. */
  private merging: Merge | undefined;
  private readonly rowOf = new IdRows();
  private readonly layout = bandLayout(INDEX_DISTANCE);
  /** MinHash floors by similarity asked for (minhash.ts). */
  private readonly floors = new Map<number, MinhashFloor>();

  get size(): number {
    return this.rowOf.size;
  }

  get pending(): number {
    return this.rows - this.built;
  }

  /**
   * Adds or replaces a question. group: `${type_name}\u0000${subject_name}\u0000${channel_code}`.
   * version: a two-word key of the question's version the print was computed from, for printOf.
   */
  upsert(id: number, group: string, print: Uint32Array, at = 0, version: ArrayLike<number> = NO_VERSION): void {
    // A task stores the print of every question it ran, most of them the very prints held here
    // already: re-adding each as a new row doubled the index and left a million rows to sort.
    // A print with the keys held (one printed again with its MinHash, after an upgrade) is written
    // over in place: the sorted entries come from the keys alone.
    const held = this.heldWithKeys(id, group, print, at, version);
    if (held >= 0) {
      this.prints.set(print.subarray(at, at + FP_WORDS), held * FP_WORDS);
      return;
    }
    this.remove(id);
    if (this.rows === this.ids.length) {
      this.ids = doubled(this.ids, Float64Array);
      this.prints = doubled(this.prints, Uint32Array);
      this.versions = doubled(this.versions, Uint32Array);
      this.groupOf = doubled(this.groupOf, Int32Array);
      this.seenAt = doubled(this.seenAt, Uint32Array);
    }
    const row = this.rows++;
    this.ids[row] = id;
    this.prints.set(print.subarray(at, at + FP_WORDS), row * FP_WORDS);
    this.versions[2 * row] = version[0]!;
    this.versions[2 * row + 1] = version[1]!;
    this.groupOf[row] = this.groupId(group);
    this.rowOf.set(id, row);
  }

  /** The row holding question `id` with this group, version (a known one) and the print's index keys, or -1. */
  private heldWithKeys(id: number, group: string, print: Uint32Array, at: number, version: ArrayLike<number>): number {
    const row = this.rowOf.get(id);
    if (row === undefined || this.groupIds.get(group) !== this.groupOf[row]) return -1;
    const a = this.versions[2 * row]!;
    const b = this.versions[2 * row + 1]!;
    if ((a === 0 && b === 0) || a !== version[0] || b !== version[1]) return -1;
    const from = row * FP_WORDS;
    const p = this.prints;
    if (p[from + F_SIM_HI] !== print[at + F_SIM_HI] || p[from + F_SIM_LO] !== print[at + F_SIM_LO]) return -1;
    for (let k = 0; k < SKETCH_KEYS; k++) if (p[from + F_SKETCH + k] !== print[at + F_SKETCH + k]) return -1;
    return row;
  }

  /** The groups whose name starts with prefix (a type and subject), learnt as groups are added. */
  private groupsStartingWith(prefix: string): number[] {
    let known = this.groupsByPrefix.get(prefix);
    if (known === undefined) this.groupsByPrefix.set(prefix, (known = { upTo: 0, ids: [] }));
    for (; known.upTo < this.groupNames.length; known.upTo++) if (this.groupNames[known.upTo]!.startsWith(prefix)) known.ids.push(known.upTo);
    return known.ids;
  }

  private groupId(group: string): number {
    let id = this.groupIds.get(group);
    if (id === undefined) {
      id = this.groupNames.length;
      this.groupIds.set(group, id);
      this.groupNames.push(group);
    }
    return id;
  }

  /** Writes the print of question `id` at out[at..] and returns true when it holds one for this version. */
  printOf(id: number, version: ArrayLike<number>, out: Uint32Array, at: number): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const a = this.versions[2 * row]!;
    const b = this.versions[2 * row + 1]!;
    if ((a === 0 && b === 0) || a !== version[0] || b !== version[1]) return false;
    const prints = this.prints;
    for (let w = 0, from = row * FP_WORDS; w < FP_WORDS; w++) out[at + w] = prints[from + w]!;
    return true;
  }

  remove(id: number): void {
    const row = this.rowOf.get(id);
    if (row === undefined) return;
    this.rowOf.delete(id);
    this.ids[row] = -1;
  }

  /** Sorts every pending row into runs and merges them at once (tests, benches; the service calls buildStep and mergeStep between turns). */
  build(): void {
    while (this.buildStep()) {}
    while (this.mergeStep()) {}
  }

  /** Runs a lookup searches: fewer after merges. */
  get runCount(): number {
    return this.runs.length;
  }

  /**
   * Advances the merge of two adjacent runs, the older no bigger than the newer (a binary counter
   * of run sizes: each row is merged ~log2(rows / RUN_ROWS) times, ~1 s of the main thread for a
   * million rows, in steps); returns whether merge work is left. Lookups go on using the
   * two runs until the merged one replaces them, between two calls.
   */
  mergeStep(): boolean {
    if (!this.merging) {
      // The smallest pair of adjacent runs whose older one is no bigger than the newer (the oldest
      // such pair on a tie): runs of equal size pair up, as the digits of a binary counter.
      let at = -1;
      for (let i = 0; i + 1 < this.runs.length; i++) {
        const sum = this.runs[i]!.rows + this.runs[i + 1]!.rows;
        if (this.runs[i]!.rows > this.runs[i + 1]!.rows || sum > MAX_MERGED_ROWS) continue;
        if (at < 0 || sum < this.runs[at]!.rows + this.runs[at + 1]!.rows) at = i;
      }
      if (at < 0) return false;
      const left = this.runs[at]!;
      const right = this.runs[at + 1]!;
      const indexes = (run: Run) => [...run.bands, run.sketch];
      const scale = scaleFor(left.rows + right.rows);
      const [as, bs] = [indexes(left), indexes(right)];
      this.merging = { left, right, scale, parts: as.map((a, x) => ({ out: new Float64Array(a.entries.length + bs[x]!.entries.length), a, b: bs[x]!, i: 0, j: 0, k: 0 })) };
    }
    const merge = this.merging;
    let budget = MERGE_STEP_ENTRIES;
    for (const part of merge.parts) {
      if (budget <= 0) break;
      budget -= mergePart(part, merge.scale, merge.right.bands[0]!.from - merge.left.bands[0]!.from, budget);
    }
    if (merge.parts.some((part) => part.k < part.out.length)) return true;
    const from = merge.left.bands[0]!.from;
    const sorted = merge.parts.map((part) => ({ entries: part.out, scale: merge.scale, shift: 0, from }));
    // Runs sorted meanwhile were appended after the two: the merged one takes the two's place.
    this.runs.splice(this.runs.indexOf(merge.left), 2, { bands: sorted.slice(0, -1), sketch: sorted[sorted.length - 1]!, rows: merge.left.rows + merge.right.rows });
    this.merging = undefined;
    return true;
  }

  /** Sorts the next up to RUN_ROWS pending rows into a run; returns whether rows are still pending. */
  buildStep(): boolean {
    const from = this.built;
    const to = Math.min(this.rows, from + RUN_ROWS);
    if (to > from) {
      const { starts, widths } = this.layout;
      const p = this.prints;
      const g = this.groupOf;
      const sketchKey = (row: number, k: number) => {
        const key = p[row * FP_WORDS + F_SKETCH + k]!;
        return key === NO_KEY ? -1 : inGroup(key, g[row]!);
      };
      this.runs.push({
        bands: starts.map((start, b) => sortedIndex(from, to, 1, (row) => inGroup(bandKey(p[row * FP_WORDS + F_SIM_HI]!, p[row * FP_WORDS + F_SIM_LO]!, start, widths[b]!), g[row]!))),
        sketch: sortedIndex(from, to, SKETCH_KEYS, sketchKey),
        rows: to - from,
      });
      this.built = to;
    }
    return this.built < this.rows;
  }

  /**
   * Rows that may be near-duplicates of the question whose print is
   * q[qa..qa+FP_WORDS), decided on prints: exact text, or a shared band
   * within maxDistance, or enough shared sketch keys; formulas must agree, and the MinHashes
   * must not rule out the similarity asked for (minhash.ts).
   */
  candidates(q: Uint32Array, qa: number, query: CheckQuery): Candidate[] {
    const p = this.prints;
    const out: Candidate[] = [];
    // The groups a row may belong to: the one group, or (wanted) every channel of the type and subject.
    const groupPrefix = `${query.typeSubject}\u0000`;
    let wantedOne = -1;
    let wanted: Uint8Array | null = null;
    let groups: number[];
    if (query.scope === 'channel') {
      const id = this.groupIds.get(`${groupPrefix}${query.channel}`);
      if (id === undefined) return out;
      wantedOne = id;
      groups = [id];
    } else {
      wanted = new Uint8Array(this.groupNames.length);
      groups = this.groupsStartingWith(groupPrefix);
      for (const id of groups) wanted[id] = 1;
    }
    if (++this.lookups === 0xffffffff) {
      this.seenAt.fill(0);
      this.lookups = 1;
    }
    const mark = this.lookups;
    const seenAt = this.seenAt;
    const groupOf = this.groupOf;
    const needShared = minSharedKeys(query.minSimilarity);
    const loose = looseDistance(query.minSimilarity);
    const floor = this.floorFor(query.minSimilarity);
    const hi = q[qa + F_SIM_HI]!;
    const lo = q[qa + F_SIM_LO]!;

    const consider = (row: number, viaBand: boolean): void => {
      if (seenAt[row] === mark) return;
      seenAt[row] = mark;
      const group = groupOf[row]!;
      if (wanted === null ? group !== wantedOne : wanted[group] !== 1) return;
      const id = this.ids[row]!;
      if (id < 0 || this.rowOf.get(id) !== row) return;
      const at = row * FP_WORDS;
      const exact = p[at + F_EXACT_A] === q[qa + F_EXACT_A] && p[at + F_EXACT_B] === q[qa + F_EXACT_B];
      const distance = hamming64(hi, lo, p[at + F_SIM_HI]!, p[at + F_SIM_LO]!);
      if (!exact) {
        if (p[at + F_AGREE] !== q[qa + F_AGREE]) return;
        // The distance first: most rows a lookup visits are other questions of the group, too far
        // apart to need their shared keys counted.
        const byBand = viaBand && distance <= query.maxDistance;
        if (!byBand && (distance > loose || sharedInUnionSketchOf(q, qa + F_SKETCH, p, at + F_SKETCH) < needShared)) return;
        // Most candidates the keys propose share a stock phrase or the formulas and fall well short.
        if (!mayReach(q, qa + F_MINHASH, p, at + F_MINHASH, floor)) return;
      }
      out.push({ row, id, distance, exact });
    };

    const { starts, widths } = this.layout;
    // Each group's keys, one budget of KEY_SCAN_CAP rows per key across all runs, oldest rows first (as one sorted index had it).
    for (const group of groups) {
      starts.forEach((start, b) => {
        const key = inGroup(bandKey(hi, lo, start, widths[b]!), group);
        let budget = KEY_SCAN_CAP;
        for (const run of this.runs) if (budget > 0) budget -= lookup(run.bands[b]!, key, budget, (row) => consider(row, true));
      });
      for (let k = 0; k < SKETCH_KEYS; k++) {
        const sketchKey = q[qa + F_SKETCH + k]!;
        if (sketchKey === NO_KEY) break;
        const key = inGroup(sketchKey, group);
        let budget = KEY_SCAN_CAP;
        for (const run of this.runs) if (budget > 0) budget -= lookup(run.sketch, key, budget, (row) => consider(row, false));
      }
    }
    // The delta: rows added since the last build, checked one by one (the question's band keys once).
    const bandKeys = starts.map((start, b) => bandKey(hi, lo, start, widths[b]!));
    for (let row = this.built; row < this.rows; row++) {
      const at = row * FP_WORDS;
      const banded = starts.some((start, b) => bandKeys[b] === bandKey(p[at + F_SIM_HI]!, p[at + F_SIM_LO]!, start, widths[b]!));
      consider(row, banded);
    }
    return out;
  }

  /** The MinHash floor of a similarity, computed once (checks nearly all ask for the default). */
  private floorFor(minSimilarity: number): MinhashFloor {
    let floor = this.floors.get(minSimilarity);
    if (floor === undefined) {
      floor = minhashFloor(minSimilarity);
      if (this.floors.size < 64) this.floors.set(minSimilarity, floor);
    }
    return floor;
  }

  /** Shingle positions of a stored row, for callers that want to skip obviously short texts. */
  countOf(row: number): number {
    return this.prints[row * FP_WORDS + F_COUNT]! & COUNT_MASK;
  }
}

/**
 * Merges up to `budget` entries of two sorted indexes of adjacent runs into `out`, re-encoded for
 * the merged run (key * scale + position from its first row; the right run's rows come after the
 * left's, so for one key the older rows still come first). Returns the entries written.
 */
function mergePart(part: Merge['parts'][number], scale: number, rightOffset: number, budget: number): number {
  const { out, a, b } = part;
  const ea = a.entries;
  const eb = b.entries;
  let { i, j, k } = part;
  const end = Math.min(out.length, k + budget);
  const began = k;
  while (k < end) {
    let va = Infinity;
    if (i < ea.length) {
      const key = Math.floor(ea[i]! / a.scale);
      va = key * scale + (ea[i]! - key * a.scale);
    }
    let vb = Infinity;
    if (j < eb.length) {
      const key = Math.floor(eb[j]! / b.scale);
      vb = key * scale + (eb[j]! - key * b.scale) + rightOffset;
    }
    if (va <= vb) {
      out[k++] = va;
      i++;
    } else {
      out[k++] = vb;
      j++;
    }
  }
  part.i = i;
  part.j = j;
  part.k = k;
  return k - began;
}

/** A copy of `array` with twice its length, the new half zeroed. */
function doubled<T extends Float64Array | Uint32Array | Int32Array>(array: T, Kind: new (length: number) => T): T {
  const grown = new Kind(array.length * 2);
  grown.set(array);
  return grown;
}

/** No version known: printOf serves no such row. */
const NO_VERSION = [0, 0] as const;
