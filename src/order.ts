/**
 * The one order of paths and ids in homelab's output: by UTF-16 code units,
 * as JavaScript compares strings, the same on every machine (no locale).
 */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
