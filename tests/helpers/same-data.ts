import { inspect, isDeepStrictEqual } from 'node:util'
import * as assert from 'uvu/assert'

/**
 * Fail with `message` unless `actual` and `expected` are the same data by
 * Node's strict deep equality: the same prototypes, own keys and values
 * (`-0` is not `0`). Not uvu's `assert.equal` for data read from YAML: its
 * deep equality compares two objects' `constructor` properties by identity,
 * so two equal mappings with a `constructor:` key of their own count as
 * different (a fuzz seed found it).
 */
export function assertSameData(actual: unknown, expected: unknown, message: string): void {
  if (isDeepStrictEqual(actual, expected)) return
  const show = (value: unknown) => inspect(value, { depth: null, breakLength: Number.POSITIVE_INFINITY })
  assert.unreachable(`${message}\nactual:   ${show(actual)}\nexpected: ${show(expected)}`)
}
