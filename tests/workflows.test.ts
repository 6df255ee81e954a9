/**
 * The GitHub Actions workflows, checked with GitHub's own workflow parser
 * (@actions/workflow-parser: the workflow-v1.0 schema the Actions service and
 * the VS Code extension use), then for what this project needs of them.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { NoOperationTraceWriter, convertWorkflowTemplate, parseWorkflow } from '@actions/workflow-parser'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { ROOT } from './helpers/cli.js'

const WORKFLOWS = path.join(ROOT, '.github', 'workflows')

/** Every error GitHub's parser finds: schema (unknown keys, wrong types) and expressions. */
async function workflowErrors(name: string, content: string): Promise<string[]> {
  const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  const errors = parsed.context.errors.getErrors().map((error) => error.message)
  if (parsed.value) {
    const template = await convertWorkflowTemplate(parsed.context, parsed.value)
    for (const error of template.errors ?? []) errors.push(error.Message)
  }
  return [...new Set(errors)]
}

interface Step {
  uses?: string
  run?: string
  with?: Record<string, unknown>
  env?: Record<string, string>
}
interface Workflow {
  on: Record<string, { branches?: string[] } | null>
  concurrency?: { group: string; 'cancel-in-progress'?: boolean }
  jobs: Record<string, { steps: Step[] }>
}

function read(file: string): { text: string; workflow: Workflow; steps: Step[] } {
  const text = readFileSync(path.join(WORKFLOWS, file), 'utf8')
  const workflow = parse(text) as Workflow
  return { text, workflow, steps: Object.values(workflow.jobs).flatMap((job) => job.steps) }
}

const Schema = suite('workflows against the GitHub workflow schema')

for (const file of ['test.yaml', 'publish.yaml']) {
  Schema(`${file} is a valid workflow`, async () => {
    assert.equal(await workflowErrors(file, read(file).text), [])
  })
}

Schema('the check catches a broken workflow (it can fail)', async () => {
  const { text } = read('publish.yaml')
  const broken = text.replace('runs-on:', 'runs_on:').replace('cancel-in-progress:', 'cancel-in-progres:').replace('secrets.', 'secret.')
  const errors = await workflowErrors('broken.yaml', broken)
  assert.ok(errors.some((e) => /Unexpected value 'runs_on'/.test(e)), errors.join('\n'))
  assert.ok(errors.some((e) => /Unexpected value 'cancel-in-progres'/.test(e)), errors.join('\n'))
  assert.ok(errors.some((e) => /Unrecognized named-value: 'secret'/.test(e)), errors.join('\n'))
})

Schema.run()

const Content = suite('what the workflows do')

Content('test.yaml installs and runs the test command on every push and pull request', () => {
  const { workflow, steps } = read('test.yaml')
  assert.ok('push' in workflow.on && 'pull_request' in workflow.on)
  assert.ok(steps.some((step) => step.uses?.startsWith('actions/checkout@')))
  assert.ok(steps.some((step) => step.uses?.startsWith('actions/setup-node@') && String(step.with?.['node-version']) === '20'))
  const runs = steps.map((step) => step.run).filter(Boolean)
  assert.equal(runs.slice(-2), ['npm ci', 'npm test'], 'install exactly the lock file, then the test command')
  const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  assert.ok(packageJson.scripts.test, 'npm test exists')
})

Content('publish.yaml publishes on push to main, one run at a time, with the token from a secret', () => {
  const { workflow, steps, text } = read('publish.yaml')
  assert.equal(workflow.on.push?.branches, ['main'])
  assert.ok(workflow.concurrency?.group, 'a concurrency group')
  assert.is(workflow.concurrency?.['cancel-in-progress'], false, 'publishes queue, none is cancelled halfway')
  const checkout = steps.find((step) => step.uses?.startsWith('actions/checkout@'))
  assert.ok(checkout && Number(checkout.with?.['fetch-depth']) >= 1, 'HEAD is fetched (its subject is the commit message)')
  assert.ok(steps.some((step) => step.uses?.startsWith('actions/setup-node@') && String(step.with?.['node-version']) === '20'))
  assert.ok(steps.some((step) => step.run === 'npm ci'))
  const publish = steps.find((step) => step.run === 'node bin/homelab.js publish')
  assert.ok(publish, 'runs homelab publish')
  assert.is(publish?.env?.HOMELAB_GIT_TOKEN, '${{ secrets.HOMELAB_GIT_TOKEN }}')
  assert.not.match(text, /--force|push -f/)
})

Content.run()
