/** A one-line terminal progress bar; redrawn in place on a TTY, printed as plain lines otherwise. */

export function renderBar(fraction: number, width = 30): string {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(clamped * 100).toFixed(1).padStart(5)}%`;
}

export interface Output {
  write(text: string): void;
  isTTY?: boolean;
}

export function progressLine(out: Output) {
  let lastPlain = -1;
  let drawn = false;
  return {
    /** On a TTY every update redraws; in a log only every 10% step (and the end) is printed. */
    update(fraction: number, label = '') {
      const line = `${renderBar(fraction)} ${label}`.trimEnd();
      if (out.isTTY) {
        out.write(`\r\x1b[2K${line}`);
        drawn = true;
        return;
      }
      const step = Math.floor(fraction * 10);
      if (step === lastPlain) return;
      lastPlain = step;
      out.write(`${line}\n`);
    },
    done() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
