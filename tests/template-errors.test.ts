import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { compileTemplate, createHandlebars } from '../src/templates/handlebars-env.ts'
import type { TemplatePartial } from '../src/templates/load-templates.ts'

const FILE = 'templates/web/t.yaml.hbs'

/** The one-line error of compiling and rendering `source` with these partials, or undefined if it works. */
function errorOf(source: string, partials: TemplatePartial[] = [], context: object = { options: {} }): string | undefined {
  try {
    compileTemplate(createHandlebars(partials), source, FILE)(context)
  } catch (error) {
    return (error as { oneLine?: string }).oneLine ?? String(error)
  }
  return undefined
}

const partial = (name: string, source: string): TemplatePartial => ({ name, file: `templates/_partials/${name}.hbs`, source })

const Syntax = suite('template syntax errors: where on the line, in plain words')

const syntaxCases: Array<[string, string]> = [
  ['a: 1\nb: {{quote options.x bar=}}\n', `${FILE}:2:26: template syntax error: bar= has no value: write bar=value`],
  ['a: 1\nb: {{quote options.x\n  bar=\n}}\n', `${FILE}:4:1: template syntax error: bar= has no value: write bar=value`],
  ['a: 1\n  {{else}}\n', `${FILE}:2:3: {{else}} is outside any block: it goes between {{#if …}} (or #unless, #each, #with) and its {{/…}}`],
  ['a: {{#if x}}1{{else}}2{{else}}3{{/if}}\n', `${FILE}:1:23: a second {{else}} in one block: a block has one {{else}}, after any {{else if …}}`],
  ['a: 1\nb: 2 {{/if}}\n', `${FILE}:2:6: {{/if}} closes a block that is not open`],
  ['a: {{quote %}}\n', `${FILE}:1:12: template syntax error: expected }} to end the {{…}}, got "%"`],
  ['a: {{quote "x}}\n', `${FILE}:1:12: a string opened with " is not closed: end it with " before }}`],
  ['a: {{quote (lower x}}\n', `${FILE}:1:20: template syntax error: expected ) to end the (…), got }}`],
  ['a: {{quote a b=1 c}}\n', `${FILE}:1:19: template syntax error: expected = after the name: once a key=value is given, the values after it must be key=value too`],
  ['a: 1\n  {{> }}\n', `${FILE}:2:7: template syntax error: the {{> …}} names no partial: write {{> name}}, the name of a file in templates/_partials/`],
  ['a: 1\nb: {{x', `${FILE}:2:4: {{ is not closed: end the tag with }}`],
  ['a: 1\n{{!-- note\nb: 2\n', `${FILE}:2:1: {{!-- is not closed: end the comment with --}}`],
  // the parser's excerpt of the text, which the column is read from, is off after a long comment: a column only where it is sure
  ['{{!-- a comment longer than twenty characters --}}\nb: {{quote x y=}}\n', `${FILE}:2:16: template syntax error: y= has no value: write y=value`],
]
for (const [source, expected] of syntaxCases) {
  Syntax(JSON.stringify(source), () => {
    const line = errorOf(source)
    assert.is(line, expected)
    assert.not.match(line ?? '', /Expecting|'[A-Z_]+'|\b(?:ID|CLOSE|OPEN_\w+|INVALID|EOF)\b/, 'no parser token names')
  })
}

Syntax('misused built-in helpers fail at compile time, at the call, not when a render reaches them', () => {
  const cases: Array<[string, string]> = [
    ['a:\n  {{#each}}x{{/each}}\n', `${FILE}:2:3: {{#each}} takes one value, as {{#each list}}…{{/each}}, and was given 0`],
    ['a: {{#if options.a options.b}}x{{/if}}\n', `${FILE}:1:4: {{#if}} takes one value, as {{#if condition}}…{{/if}}, and was given 2`],
    ['a: {{#if options.a}}x{{else if}}y{{/if}}\n', `${FILE}:1:22: {{else if}} takes one value, as {{else if condition}}, and was given 0`],
    ['a: {{if options.a}}\n', `${FILE}:1:4: if is a block: write {{#if condition}}…{{/if}}`],
    ['a: {{quote (with options)}}\n', `${FILE}:1:12: with is a block: write {{#with object}}…{{/with}}`],
    ['a: {{lookup options}}\n', `${FILE}:1:4: lookup takes two values, as {{lookup object key}}, and was given 1`],
    ['a: {{#quote options.a}}x{{/quote}}\n', `${FILE}:1:4: quote is not a block: write {{quote value}}, without # and {{/quote}}`],
    ['a: {{> labels a b}}\n', `${FILE}:1:4: {{> partial}} takes one value (the context it renders with) and key=value pairs, and was given 2 values`],
  ]
  for (const [source, expected] of cases) {
    try {
      compileTemplate(createHandlebars([partial('labels', 'x: 1\n')]), source, FILE)
      assert.unreachable(`${source} compiled`)
    } catch (error) {
      assert.is((error as { oneLine?: string }).oneLine, expected, source)
    }
  }
})

const Partials = suite('errors inside a shared partial: at the partial, saying where it was included from')

const template = 'metadata:\n  name: x\n  labels:\n    {{> labels}}\n'

Partials('a missing field, a misused helper, a failed required', () => {
  assert.is(errorOf(template, [partial('labels', 'app: web\ntier: {{options.tier}}\n')]), `templates/_partials/labels.hbs:2:9: "tier" is not defined (included from ${FILE}:4:5)`)
  assert.is(
    errorOf(template, [partial('labels', 'app: {{quote}}\n')]),
    `templates/_partials/labels.hbs:1:6: quote takes one value, as {{quote value}}, and was given 0 (included from ${FILE}:4:5)`,
  )
  assert.is(errorOf(template, [partial('labels', 'app: web\nteam: {{required "set options.team" options.team}}\n')]), `templates/_partials/labels.hbs:2:7: set options.team (included from ${FILE}:4:5)`)
})

Partials('the call that failed, of two in one template', () => {
  const labels = partial('labels', '{{#if tier}}tier: {{tier.name}}{{/if}}\n')
  const source = 'a:\n  {{> labels}}\nb:\n  {{> labels tier=options.tier}}\n'
  assert.is(errorOf(source, [labels], { options: { tier: {} } }), `templates/_partials/labels.hbs:1:21: "name" is not defined (included from ${FILE}:4:3)`)
})

Partials('a partial included by a partial: the whole chain', () => {
  const partials = [partial('outer', 'a: 1\n{{> inner}}\n'), partial('inner', 'b: {{options.nope}}\n')]
  assert.is(
    errorOf('x:\n  {{> outer}}\n', partials),
    `templates/_partials/inner.hbs:1:6: "nope" is not defined (included from templates/_partials/outer.hbs:2:1, from ${FILE}:2:3)`,
  )
})

Partials('a syntax error in a partial is found when the partials are compiled, used or not', () => {
  try {
    createHandlebars([partial('fine', 'a: 1\n'), partial('broken', 'a: 1\nb: {{#if x}}\n')])
    assert.unreachable('compiled')
  } catch (error) {
    assert.is((error as { oneLine?: string }).oneLine, 'templates/_partials/broken.hbs:2:4: {{#if}} is not closed: add {{/if}} where its block ends')
  }
  assert.is(errorOf('a: 1\n', [partial('broken', 'a: {{quote x y=}}\n')]), 'templates/_partials/broken.hbs:1:16: template syntax error: y= has no value: write y=value')
})

Partials("the block of a {{#> partial}} is the includer's code; a partial that is not there is an error at the call", () => {
  const layout = partial('layout', 'start: 1\n{{> @partial-block}}\nend: 1\n')
  assert.is(errorOf('a: 1\n{{#> layout}}\nx: {{options.nope}}\n{{/layout}}\n', [layout]), `${FILE}:3:6: "nope" is not defined`)
  assert.is(
    errorOf('a: 1\n{{#> layout}}\n{{> labels}}\n{{/layout}}\n', [layout, partial('labels', 'l: {{quote}}\n')]),
    `templates/_partials/labels.hbs:1:4: quote takes one value, as {{quote value}}, and was given 0 (included from ${FILE}:3:1)`,
  )
  assert.is(errorOf('a: 1\n  {{> lables}}\n', [layout]), `${FILE}:2:3: partial "lables" not found`)
})

Partials('an inline partial is the code of the file that defines it, whichever partial renders it', () => {
  const layout = partial('layout', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n{{> slot}}\n')
  const source = '{{#*inline "slot"}}\n  a: "1"\n  b: {{quote options.nope}}\n{{/inline}}\n{{> layout}}\n'
  assert.is(errorOf(source, [layout]), `${FILE}:3:6: quote was given a value that is not defined`)
  // defined in a partial, rendered by a partial that one includes
  const partials = [partial('a', '{{#*inline "s"}}\nb: {{quote options.nope}}\n{{/inline}}\n{{> b}}\n'), partial('b', 'x: 1\n{{> s}}\n')]
  assert.is(errorOf('{{> a}}\n', partials), `templates/_partials/a.hbs:2:4: quote was given a value that is not defined (included from ${FILE}:1:1)`)
})

Partials('a partial that includes itself without end: stopped at a depth, the repeated call named once with how many times', () => {
  assert.is(
    errorOf('a: 1\n{{> layout}}\n', [partial('layout', 'x: 1\n{{> layout}}\n')]),
    `templates/_partials/layout.hbs:2:1: partials nest more than 100 deep here (included from templates/_partials/layout.hbs:2:1 (99 times), from ${FILE}:2:1)`,
  )
})

Partials('the helper that partial calls go through cannot be called by a template', () => {
  for (const source of ['a: {{[partial call site] options.a}}\n', 'a: {{[partial call site]}}\n', 'a: {{#[partial call site] options.a}}x{{/[partial call site]}}\n']) {
    assert.is(errorOf(source, [], { options: { a: 1 } }), `${FILE}:1:4: unknown helper "partial call site"`, source)
  }
})

Partials('the output is what Handlebars renders: indentation of a partial alone on its line, nested partials, loops', () => {
  const partials = [partial('labels', 'a: 1\nb: 2\n'), partial('two', 'c: 3\n  {{> labels}}\nd: 4\n')]
  const source = 'top:\n  {{> labels}}\nx: {{> labels}}\n    {{> two}}\n{{#each options.list}}\n  - {{> labels}}\n{{/each}}\n'
  const rendered = compileTemplate(createHandlebars(partials), source, FILE)({ options: { list: [1, 2] } })
  assert.is(rendered, 'top:\n  a: 1\n  b: 2\nx: a: 1\nb: 2\n\n    c: 3\n      a: 1\n      b: 2\n    d: 4\n  - a: 1\nb: 2\n\n  - a: 1\nb: 2\n\n')
})

Syntax.run()
Partials.run()
