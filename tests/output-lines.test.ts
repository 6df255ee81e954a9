import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HomelabError } from '../src/errors.js'
import { compileTemplate, createHandlebars } from '../src/templates/handlebars-env.js'
import { locateInTemplate, templateLineOf } from '../src/templates/output-lines.js'

const Lines = suite('errors in rendered YAML, moved to their template line')

const TEMPLATE = ['kind: ConfigMap', 'metadata:', '  labels:', '{{> labels}}', 'data:', '  image: {{options.image}}', '  tag: {{options.tag}}', ''].join('\n')
const RENDERED = ['kind: ConfigMap', 'metadata:', '  labels:', '    a: "1"', '    b: "2"', 'data:', '  image: nginx: 1', '  tag: v1', ''].join('\n')

Lines('the same line when it renders as itself or fills in to it; else the one line that can', () => {
  assert.is(templateLineOf(TEMPLATE, RENDERED, 1), 1)
  assert.is(templateLineOf(TEMPLATE, RENDERED, 6), 5, 'data: moved down by the partial')
  assert.is(templateLineOf(TEMPLATE, RENDERED, 7), 6, 'the image line, found by its literal text')
  assert.is(templateLineOf(TEMPLATE, RENDERED, 8), 7)
  assert.is(templateLineOf(TEMPLATE, RENDERED, 4), undefined, 'a line of the partial is in no line of the template')
  assert.is(templateLineOf('a: {{x}}\na: {{y}}\n', 'b: 1\nb: 2\na: 3\n', 3), undefined, 'two candidates: no telling which')
})

Lines('an error is moved to the template line, keeping a column inside its literal text only', () => {
  const file = 'templates/web/cm.yaml.hbs'
  const moved = locateInTemplate(new HomelabError('Nested mappings are not allowed', { location: { file, line: 7, col: 3 } }), { file, source: TEMPLATE }, RENDERED)
  assert.is(moved.oneLine, `${file}:6:3: Nested mappings are not allowed`)
  const afterTag = locateInTemplate(new HomelabError('bad value', { location: { file, line: 7, col: 14 } }), { file, source: TEMPLATE }, RENDERED)
  assert.is(afterTag.oneLine, `${file}:6: bad value`)
  const unknown = locateInTemplate(new HomelabError('bad label', { location: { file, line: 4, col: 5 } }), { file, source: TEMPLATE }, RENDERED)
  assert.is(unknown.oneLine, `${file}: bad label; it is on line 4 of what the template rendered: a: "1"`)
  const elsewhere = new HomelabError('other file', { location: { file: 'templates/web/other.yaml', line: 2 } })
  assert.is(locateInTemplate(elsewhere, { file, source: TEMPLATE }, RENDERED), elsewhere)
})

/** Render `source` with the partials, and locate an error at a line of the output the way render does. */
function locateRendered(source: string, partials: Record<string, string>, context: object, line: number, col?: number): string {
  const file = 'templates/web/cm.yaml.hbs'
  const env = createHandlebars(Object.entries(partials).map(([name, text]) => ({ name, file: `templates/_partials/${name}.hbs`, source: text })))
  const compiled = compileTemplate(env, source, file)
  const rendered = compiled(context)
  const error = new HomelabError('bad', { location: { file, line, col } })
  return locateInTemplate(error, { file, source }, rendered, () => compiled.trace(context, rendered)).oneLine
}

Lines('a line a shared partial rendered is found in the partial, not at a template line that looks like it', () => {
  const source = 'data:\n{{> kv}}\n  a: {{w}}\n'
  // the old guess: the one template line whose text fits, line 3, which rendered "  a: 1"
  assert.is(locateRendered(source, { kv: '  a: {{v}}\n' }, { v: 'x: y', w: 1 }, 2, 3), 'templates/_partials/kv.hbs:1:3: bad (included from templates/web/cm.yaml.hbs:2:1)')
  // indented (a partial alone on its line), and nested
  const partials = { labels: 'app: web\ntier: {{tier}}\n', two: 'c: 3\n  {{> labels}}\nd: 4\n' }
  const nested = 'top:\n    {{> two}}\nend: 1\n'
  assert.is(locateRendered(nested, partials, { tier: 'a: b' }, 4, 7), 'templates/_partials/labels.hbs:2:1: bad (included from templates/_partials/two.hbs:2:3, from templates/web/cm.yaml.hbs:2:5)')
  assert.is(locateRendered(nested, partials, { tier: 'a: b' }, 5, 5), 'templates/_partials/two.hbs:3:1: bad (included from templates/web/cm.yaml.hbs:2:5)')
  // a partial line that two of its lines could have rendered: the partial file, the rendered text quoted
  const each = { each: '{{#each list}}\n  - {{this}}\n{{/each}}\n  - {{last}}\n' }
  assert.is(locateRendered('x:\n{{> each}}\n', each, { list: [1, 2], last: 3 }, 3), 'templates/_partials/each.hbs:2: bad (included from templates/web/cm.yaml.hbs:2:1)')
  assert.is(
    locateRendered('x:\n{{> each}}\n', each, { list: [1, 2], last: 3 }, 4),
    'templates/_partials/each.hbs: bad; it is on line 3 of what the partial rendered: - 3 (included from templates/web/cm.yaml.hbs:2:1)',
  )
})

Lines("the template's own lines below a partial: the lines the partial added are taken off before the same-number guess", () => {
  const source = 'data:\n  {{> two}}\n  b: {{x}}\n  b: {{y}}\n'
  // rendered line 4 is template line 3; template line 4 would fit its text too
  assert.is(locateRendered(source, { two: 'one: 1\ntwo: 2\n' }, { x: 'x: y', y: 1 }, 4, 3), 'templates/web/cm.yaml.hbs:3:3: bad')
})

Lines("the block of a {{#> partial}}, and an inline partial, are looked for in the includer's file", () => {
  const block = '# config\n{{#> layout}}\ndata:\n  a: "1"\n  b: [x\n{{/layout}}\n'
  const layout = { layout: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n{{> @partial-block}}\n' }
  // rendered line 8 is "  b: [x", written by the block: template line 5, not the layout's line 5
  assert.is(locateRendered(block, layout, {}, 8, 6), 'templates/web/cm.yaml.hbs:5:6: bad')
  const inline = '{{#*inline "slot"}}\n  a: "1"\n  b: [x\n{{/inline}}\n{{> layout}}\n'
  assert.is(locateRendered(inline, { layout: 'apiVersion: v1\nkind: ConfigMap\ndata:\n{{> slot}}\n' }, {}, 5, 6), 'templates/web/cm.yaml.hbs:3:6: bad')
})

Lines('no guess at the same line below a {{> …}} with whitespace control: the ~ takes line breaks away', () => {
  const source = 'apiVersion: v1\nkind: List\nitems:\n- x\n{{~> p}}\n- {{quote "a"}}\n- {{quote "b"}} ]\n'
  // rendered line 8 is template line 7; line 6 fits its text too
  assert.is(locateRendered(source, { p: '\n- p1\n- p2\n' }, {}, 8), 'templates/web/cm.yaml.hbs: bad; it is on line 8 of what the template rendered: - "b" ]')
})

Lines.run()
