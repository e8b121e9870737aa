/**
 * The candidate stages sort (key, position) pairs packed into one float64 each,
 * key * scale + position, with a typed-array sort (no comparator, no hash map), then take
 * the positions that share a key together.
 */

/**
 * Calls visit(key, start, end) for every run of two or more equal keys in `sorted`
 * (ascending values key * scale + position): positions sorted[start..end) share `key`.
 */
export function forEachSharedKey(sorted: Float64Array, scale: number, visit: (key: number, start: number, end: number) => void): void {
  const n = sorted.length;
  let s = 0;
  while (s < n) {
    const key = Math.floor(sorted[s]! / scale);
    let e = s + 1;
    while (e < n && Math.floor(sorted[e]! / scale) === key) e++;
    if (e - s > 1) visit(key, s, e);
    s = e;
  }
}
