import { parse, parseAllDocuments } from 'yaml'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compileTemplate, createHandlebars } from '../src/templates/handlebars-env.ts'
import { indent, join, nindent, quote, toYaml } from '../src/templates/helpers.ts'

/** Kubernetes reads YAML with 1.1 rules: read every output back that way. */
const read11 = (text: string) => parse(text, { version: '1.1' })

const HOSTILE = [
  'no', 'on', 'y', 'Yes', 'off', '0755', '1:30', '1_000', '0x1F', '1e3', '.inf', '~', 'null', 'true',
  'p&ss="x"<y>=', 'foo\nhostNetwork: true', '---\nkind: Secret', 'a: b #c', '', 'line one\nline two\n', '  leading and trailing  ',
  "it's", '\\back\\slash', '\t tab', '{{not handlebars}}', '- item', '[a, b]', '@at', '`tick`', '% percent', 'ünïcödé ✓ 🚀', 'x'.repeat(300),
  'line\u2028separator', 'del\u007fchar',
]

const env = createHandlebars([])
const renderWith = (source: string, value: unknown) => compileTemplate(env, source, 'test.yaml.hbs')({ value })

const Quote = suite('quote')

for (const value of HOSTILE) {
  Quote(`round-trips ${JSON.stringify(value).slice(0, 40)}`, () => {
    const out = renderWith('key: {{quote value}}\nlist:\n  - {{quote value}}\n', value)
    assert.equal(read11(out), { key: value, list: [value] })
    assert.not.match(out, /&(amp|lt|gt|quot|#x27|#39|#x3D);/, 'no HTML entities')
    assert.is(out.split('\n').length, 4, 'one line per value, never folded')
  })
}

Quote('numbers and booleans become strings; objects are refused', () => {
  assert.is(read11(`k: ${quote(3)}`).k, '3')
  assert.is(read11(`k: ${quote(false)}`).k, 'false')
  assert.throws(() => quote({ a: 1 }), /not a list or mapping/)
})

const ToYaml = suite('toYaml')

for (const value of HOSTILE) {
  ToYaml(`round-trips ${JSON.stringify(value).slice(0, 40)} as a value, a key and inside a block`, () => {
    const data = { value, [value || 'empty']: 'as key', nested: { list: [value, { deep: value }] } }
    const out = renderWith('spec:{{nindent 2 (toYaml value)}}\n', data)
    assert.equal(read11(out), { spec: data })
    assert.not.match(out, /&(amp|lt|gt|quot|#x27|#39);/)
  })
}

ToYaml('long strings are never folded onto continuation lines', () => {
  const long = 'word '.repeat(100).trim()
  const out = toYaml({ long })
  assert.is(out, `long: ${long}`)
})

ToYaml('multi-line values indent every line', () => {
  const out = renderWith('data:\n  script:{{nindent 4 (toYaml value)}}\n', 'echo one\necho two\n')
  assert.equal(read11(out), { data: { script: 'echo one\necho two\n' } })
  assert.match(out, /\n    \|\n    echo one\n    echo two\n/)
})

ToYaml('several documents cannot be smuggled in', () => {
  const out = renderWith('a: {{quote value}}\nb:{{nindent 2 (toYaml value)}}\n', '---\nkind: Secret\n...\n---')
  const docs = parseAllDocuments(out)
  assert.is(Array.isArray(docs) ? docs.length : 0, 1)
})

const Others = suite('other helpers')

Others('indent, nindent, join, default, required, b64enc, json, eq, and, or, not, lower, upper', () => {
  assert.is(indent(2, 'a\nb'), '  a\n  b')
  assert.is(nindent(2, 'a'), '\n  a')
  assert.is(join(', ', ['a', 'b']), 'a, b')
  const r = (source: string, value: unknown = undefined) => renderWith(source, value)
  assert.is(r('{{default "x" value}}', ''), 'x')
  assert.is(r('{{default "x" value}}', 'y'), 'y')
  assert.is(r('{{b64enc "hi"}}'), 'aGk=')
  assert.equal(read11(`k: ${r('{{json value}}', { a: ['no', 1] })}`), { k: { a: ['no', 1] } })
  assert.is(r('{{#if (eq value "a")}}yes{{else}}no{{/if}}', 'a'), 'yes')
  assert.is(r('{{#if (and value (not false))}}yes{{/if}}', true), 'yes')
  assert.is(r('{{#if (or false value)}}yes{{else}}no{{/if}}', 0), 'no')
  assert.is(r('{{lower "AbC"}}{{upper "d"}}'), 'abcD')
  assert.throws(() => r('{{required "a host is needed" value}}', ''), /a host is needed/)
})

Others('a missing value given to a helper is an error at its line and column, not an empty string', () => {
  try {
    compileTemplate(env, 'a: 1\nb: {{quote value.nmae}}\n', 't.yaml.hbs')({ value: { name: 'x' } })
    assert.unreachable('should throw')
  } catch (error) {
    const e = error as { oneLine?: string }
    assert.is(e.oneLine, 't.yaml.hbs:2:4: quote was given a value that is not defined')
  }
})

Others('a helper given too few or too many values is an error at its call, never "[object Object]" or the render context', () => {
  const fails = (source: string, message: string, col = 4) => {
    try {
      compileTemplate(env, `a: 1\nb: ${source}\n`, 't.yaml.hbs')({ value: { user: 'alice' }, text: 'x' })
      assert.unreachable(`${source} should throw`)
    } catch (error) {
      assert.is((error as { oneLine?: string }).oneLine, `t.yaml.hbs:2:${col}: ${message}`, source)
    }
  }
  fails('{{b64enc}}', 'b64enc takes one value, as {{b64enc value}}, and was given 0')
  fails('{{json}}', 'json takes one value, as {{json value}}, and was given 0')
  fails('{{toYaml}}', 'toYaml takes one value, as {{toYaml value}}, and was given 0')
  fails('{{lower}}', 'lower takes one value, as {{lower text}}, and was given 0')
  fails('{{required "set options.image"}}', 'required takes 2 values, as {{required "message" value}}, and was given 1')
  fails('{{indent 2}}', 'indent takes 2 values, as {{indent spaces text}}, and was given 1')
  fails('{{quote text text}}', 'quote takes one value, as {{quote value}}, and was given 2')
  fails('{{#if (and text)}}y{{/if}}', 'and takes 2 or more values, as {{and a b …}}, and was given 1', 10)
  fails('{{b64enc value}}', 'b64enc takes a string, number or boolean, not a list or mapping')
  fails('{{upper value}}', 'upper takes a string, number or boolean, not a list or mapping')
  assert.is(renderWith('{{#if (and true true value)}}yes{{/if}}', 1), 'yes', 'and takes more than two')
})

Others('template syntax errors say what is wrong where it starts: an unclosed block, a tag, blocks closed out of order', () => {
  const fails = (source: string) => {
    try {
      compileTemplate(env, source, 't.yaml.hbs')
    } catch (error) {
      return (error as { oneLine?: string }).oneLine
    }
    assert.unreachable(`${source} should not compile`)
  }
  assert.is(fails('{{#if value}}\na: 1\n'), 't.yaml.hbs:1:1: {{#if}} is not closed: add {{/if}} where its block ends')
  assert.is(fails('a:\n  {{#each value}}\n  {{#if x}}y{{/if}}\nb: 2\n'), 't.yaml.hbs:2:3: {{#each}} is not closed: add {{/each}} where its block ends')
  assert.is(fails('a: 1\nb: {{quote value}\n'), 't.yaml.hbs:2:17: template syntax error: expected }} to end the {{…}}, got "}"')
  assert.match(fails('a: {{#each value}}{{/if}}\n') ?? '', /^t\.yaml\.hbs:1:\d+: \{\{\/if\}\} closes \{\{#each\}\}, which is still open: blocks close in the reverse order they open$/)
})

Others('prototype access stays blocked', () => {
  assert.throws(() => renderWith('{{#with value}}{{constructor.name}}{{/with}}', {}), /"name" is not defined/)
  assert.is(renderWith('{{#if value.constructor}}leak{{/if}}', {}), '')
})

Quote.run()
ToYaml.run()
Others.run()
