import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { HomelabError } from '../src/errors.js'
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

Lines.run()
