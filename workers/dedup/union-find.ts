/**
 * Disjoint sets over 0..n-1. The root of a set is always its smallest
 * index: questions arrive in ascending id order, so the root is the
 * cluster's canonical (earliest) question without a second pass.
 */
export class UnionFind {
  private readonly parent: Int32Array;

  constructor(n: number) {
    this.parent = new Int32Array(n);
    for (let i = 0; i < n; i++) this.parent[i] = i;
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
