/**
 * Disjoint sets over 0..n-1. The root of a set is always its smallest
 * index: questions arrive in ascending id order, so the root is the
 * cluster's canonical (earliest) question without a second pass.
 */
export class UnionFind {
  private readonly parent: Int32Array;

  constructor(n: number, parent?: Int32Array) {
    this.parent = parent ?? new Int32Array(n);
    if (parent === undefined) for (let i = 0; i < n; i++) this.parent[i] = i;
  }

  /** An independent copy: the same sets, to be joined further without touching these. */
  clone(): UnionFind {
    return new UnionFind(this.parent.length, this.parent.slice());
  }

  /**
   * Makes each of `rows` a set of its own again. `rows` must be whole sets (a union of them):
   * no row outside may lead to one of them, or it would be left pointing into a broken set.
   */
  isolate(rows: ArrayLike<number>): void {
    for (let k = 0; k < rows.length; k++) this.parent[rows[k]!] = rows[k]!;
  }

  find(x: number): number {
    const p = this.parent;
    while (p[x]! !== x) {
      const grand = p[p[x]!]!;
      p[x] = grand;
      x = grand;
    }
    return x;
  }

  /** Returns false when a and b were already together. */
  union(a: number, b: number): boolean {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return false;
    if (ra < rb) this.parent[rb] = ra;
    else this.parent[ra] = rb;
    return true;
  }
}
