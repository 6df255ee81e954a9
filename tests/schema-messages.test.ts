import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { assertValid, compileJsonSchema } from '../src/config/schema-check.ts'
import { readYamlData } from '../src/yaml-source.ts'

/**
 * An options schema's rule that a value breaks, as the one-line error says
 * it: the rule itself (the pattern, the allowed values, the bound) and the
 * value, never ajv's bare "must match pattern" or "must NOT have more than".
 */
const Messages = suite('schema errors: the rule and the value, in words')

async function errorOf(schema: object, yaml: string): Promise<string> {
  const validate = await compileJsonSchema({ type: 'object', properties: { v: schema } })
  const { source, data } = readYamlData(yaml, 'app.yaml')
  try {
    assertValid(validate, data, source)
  } catch (error) {
    return (error as { oneLine: string }).oneLine
  }
  assert.unreachable(`${yaml} passed ${JSON.stringify(schema)}`)
  return ''
}

const cases: Array<[string, object, string, string]> = [
  ['pattern', { type: 'string', pattern: '^[a-z0-9-]+$' }, 'v: Web_1\n', 'app.yaml:1:4: v must match the pattern ^[a-z0-9-]+$, not "Web_1"'],
  ['enum', { enum: ['small', 'large', 3, null] }, 'v: smal\n', 'app.yaml:1:4: v must be one of "small", "large", 3, null, not "smal" (did you mean "small"?)'],
  ['const', { const: 'v1' }, 'v: v2\n', 'app.yaml:1:4: v must be "v1", not "v2"'],
  ['minimum', { type: 'integer', minimum: 1 }, 'v: 0\n', 'app.yaml:1:4: v must be at least 1, not 0'],
  ['maximum', { type: 'integer', maximum: 10 }, 'v: 11\n', 'app.yaml:1:4: v must be at most 10, not 11'],
  ['exclusiveMinimum', { type: 'number', exclusiveMinimum: 0 }, 'v: 0\n', 'app.yaml:1:4: v must be more than 0, not 0'],
  ['exclusiveMaximum', { type: 'number', exclusiveMaximum: 1 }, 'v: 1\n', 'app.yaml:1:4: v must be less than 1, not 1'],
  ['multipleOf', { type: 'integer', multipleOf: 5 }, 'v: 7\n', 'app.yaml:1:4: v must be a multiple of 5, not 7'],
  ['minLength 1', { type: 'string', minLength: 1 }, 'v: ""\n', 'app.yaml:1:4: v must not be empty'],
  ['minLength', { type: 'string', minLength: 8 }, 'v: short\n', 'app.yaml:1:4: v must be at least 8 characters long, not 5'],
  ['maxLength', { type: 'string', maxLength: 3 }, 'v: long\n', 'app.yaml:1:4: v must be at most 3 characters long, not 4'],
  ['minItems', { type: 'array', minItems: 2 }, 'v: [a]\n', 'app.yaml:1:4: v must list at least 2 items, not 1'],
  ['maxItems', { type: 'array', maxItems: 1 }, 'v: [a, b]\n', 'app.yaml:1:4: v must list at most 1 item, not 2'],
  ['uniqueItems, at the second', { type: 'array', uniqueItems: true }, 'v: [a, b, a]\n', 'app.yaml:1:11: v lists "a" twice (items 0 and 2): each may appear once'],
  ['maxProperties', { type: 'object', maxProperties: 1 }, 'v: { a: 1, b: 2 }\n', 'app.yaml:1:4: v must have at most 1 key, not 2'],
  ['anyOf of types', { anyOf: [{ type: 'string' }, { type: 'integer' }] }, 'v: true\n', 'app.yaml:1:4: v must be a string or an integer, not boolean true'],
  ['oneOf that two forms fit', { oneOf: [{ type: 'string' }, { type: 'string', minLength: 1 }] }, 'v: abc\n', 'app.yaml:1:4: v fits forms 1 and 2 of the ones its schema allows (oneOf), and must fit exactly one'],
  ['propertyNames, at the key', { type: 'object', propertyNames: { pattern: '^[a-z]+$' } }, 'v: { Bad: 1 }\n', 'app.yaml:1:6: the key "Bad" in v must match the pattern ^[a-z]+$'],
  ['not', { not: { const: 'latest' } }, 'v: latest\n', 'app.yaml:1:4: v is "latest", which its schema rules out ("not")'],
  ['dependencies', { type: 'object', properties: { tls: {}, secret: {} }, dependencies: { tls: ['secret'] } }, 'v: { tls: true }\n', 'app.yaml:1:4: v sets "tls", which needs "secret" set too'],
  ['contains', { type: 'array', contains: { const: 'main' } }, 'v: [dev]\n', 'app.yaml:1:4: v must list an item that fits its "contains" schema'],
]
for (const [name, schema, yaml, expected] of cases) {
  Messages(name, async () => {
    const line = await errorOf(schema, yaml)
    assert.is(line, expected)
    assert.not.match(line, /must NOT|must match pattern|equal to constant|must be [<>]=?|item\(s\)/, "ajv's own wording")
  })
}

Messages("the schema's description of the value comes as the hint: it says what the rule means", async () => {
  const validate = await compileJsonSchema({ type: 'object', properties: { image: { type: 'string', pattern: ':[a-z0-9.]+$', description: 'An image with a\n  pinned tag.' } } })
  const { source, data } = readYamlData('image: nginx\n', 'app.yaml')
  try {
    assertValid(validate, data, source)
    assert.unreachable('nginx passed')
  } catch (error) {
    assert.is((error as { oneLine: string }).oneLine, 'app.yaml:1:8: image must match the pattern :[a-z0-9.]+$, not "nginx"')
    assert.is((error as { hint?: string }).hint, 'An image with a pinned tag.')
  }
  // none without a description
  const bare = await compileJsonSchema({ type: 'object', properties: { image: { type: 'string', pattern: ':[a-z0-9.]+$' } } })
  try {
    assertValid(bare, data, source)
    assert.unreachable('nginx passed')
  } catch (error) {
    assert.is((error as { hint?: string }).hint, undefined)
  }
})

Messages('the standard formats are known: a schema may use them, and a value that breaks one says which', async () => {
  for (const [format, bad, good] of [
    ['email', 'nope', 'admin@home.example.org'],
    ['hostname', 'not a host', 'grafana.home.example.org'],
    ['ipv4', '10.0.0.300', '10.0.0.30'],
    ['uri', 'no scheme', 'https://example.org/x'],
  ]) {
    assert.is(await errorOf({ type: 'string', format }, `v: ${bad}\n`), `app.yaml:1:4: v must be a valid ${format}, not ${JSON.stringify(bad)}`)
    const validate = await compileJsonSchema({ type: 'object', properties: { v: { type: 'string', format } } })
    assert.ok(validate({ v: good }), `${format}: ${good}`)
  }
})

Messages('a long value and a long list of allowed values are cut short', async () => {
  assert.is(await errorOf({ type: 'string', pattern: '^[a-z]+$' }, `v: ${'A'.repeat(5000)}\n`), `app.yaml:1:4: v must match the pattern ^[a-z]+$, not "${'A'.repeat(40)}…"`)
  const many = Array.from({ length: 30 }, (_, i) => `size${i}`)
  assert.is(
    await errorOf({ enum: many }, 'v: huge\n'),
    `app.yaml:1:4: v must be one of ${many
      .slice(0, 12)
      .map((v) => `"${v}"`)
      .join(', ')}, … (30 in all), not "huge"`,
  )
})

Messages.run()
