/**
 * Question id → row of the check index. Ids are database keys, dense from 1 up in practice, so
 * rows live in a typed array indexed by id: a lookup is a few ns, where a Map of a million
 * entries took 100-170 ns, and a re-run looks up every question of its groups. Ids far past the
 * count (a sparse key space) go to a Map; the array never holds fewer than a quarter live ids.
 */
export class IdRows {
  /** Row + 1 by id; 0 for none. Every id below its length lives here, none in `sparse`. */
  private dense = new Int32Array(1024);
  private readonly sparse = new Map<number, number>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): number | undefined {
    if (id >= 0 && id < this.dense.length && Number.isInteger(id)) {
      const row = this.dense[id]! - 1;
      return row < 0 ? undefined : row;
    }
    return this.sparse.get(id);
  }

  set(id: number, row: number): void {
    if (Number.isInteger(id) && id >= this.dense.length && id < 4 * (this.count + 1024)) this.grow(id);
    if (id >= 0 && id < this.dense.length && Number.isInteger(id)) {
      if (this.dense[id] === 0) this.count++;
      this.dense[id] = row + 1;
      return;
    }
    if (!this.sparse.has(id)) this.count++;
    this.sparse.set(id, row);
  }

  delete(id: number): void {
    if (id >= 0 && id < this.dense.length && Number.isInteger(id)) {
      if (this.dense[id] !== 0) this.count--;
      this.dense[id] = 0;
    } else if (this.sparse.delete(id)) this.count--;
  }

  /** Covers `id` with the array, moving the ids it now covers out of the Map. */
  private grow(id: number): void {
    let length = this.dense.length;
    while (length <= id) length *= 2;
    const dense = new Int32Array(length);
    dense.set(this.dense);
    this.dense = dense;
    for (const [sparseId, row] of this.sparse) {
      if (sparseId < 0 || sparseId >= length || !Number.isInteger(sparseId)) continue;
      dense[sparseId] = row + 1;
      this.sparse.delete(sparseId);
    }
  }
}
