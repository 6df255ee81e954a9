import { distance } from 'fastest-levenshtein'

/** Edits between two names, a swap of two neighbouring letters counting as one (a common typo). */
function editDistance(a: string, b: string): number {
  const d = distance(a, b)
  if (d === 2 && a.length === b.length) {
    const diff = [...a].flatMap((c, i) => (c === b[i] ? [] : [i]))
    const [i, j] = diff as [number, number]
    if (diff.length === 2 && j === i + 1 && a[i] === b[j] && a[j] === b[i]) return 1
  }
  return d
}

/**
 * The candidate closest to a misspelt name, if it is close enough to be what
 * the user meant: at most a third of the name's length in edits (at least one).
 */
export function closestMatch(name: string, candidates: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.floor(name.length / 3))
  let best: string | undefined
  let bestDistance = Infinity
  for (const candidate of candidates) {
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= limit ? best : undefined
}

/** ` (did you mean "x"?)`, or nothing. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const match = closestMatch(name, candidates)
  return match === undefined ? '' : ` (did you mean "${match}"?)`
}
