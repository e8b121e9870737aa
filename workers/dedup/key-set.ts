/** A set of uint32 keys (all but 0xffffffff, the empty slot): open addressing over one typed array. */
export class KeySet {
  private readonly slots: Uint32Array;
  private readonly mask: number;

  constructor(capacity: number) {
    let size = 16;
    while (size < 2 * capacity) size *= 2;
    this.slots = new Uint32Array(size).fill(EMPTY);
    this.mask = size - 1;
  }

  add(key: number): void {
    let slot = Math.imul(key, 0x9e3779b1) & this.mask;
    for (;;) {
      const here = this.slots[slot]!;
      if (here === key) return;
      if (here === EMPTY) {
        this.slots[slot] = key;
        return;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  has(key: number): boolean {
    let slot = Math.imul(key, 0x9e3779b1) & this.mask;
    for (;;) {
      const here = this.slots[slot]!;
      if (here === key) return true;
      if (here === EMPTY) return false;
      slot = (slot + 1) & this.mask;
    }
  }
}

const EMPTY = 0xffffffff;
