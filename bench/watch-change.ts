/**
 * The one-app change under `homelab render --watch`: the change of the
 * benchmark's one-app row, made while a watch runs. Node starts, and the
 * code loads and compiles, once for the whole watch; each change costs the
 * render itself. Every change is timed twice: the render's own time, as its
 * summary line prints it, and from writing the config to that line (which
 * adds the file event and the watch's 100 ms of quiet time after a change).
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { createInterface } from 'node:readline'
import type { Timing } from './bench.js'
import { median, readRenderSummary } from './measure.js'

export interface WatchChangeOptions {
  /** bin/homelab.js of the binary under test. */
  bin: string
  configPath: string
  out: string
  cwd: string
  env: NodeJS.ProcessEnv
  /** Config texts to write in turn, each differing from the one before in one app (the first differs from the config the watch starts with). */
  variants: readonly string[]
  warmup: number
  runs: number
  /** Pause between changes, so that the files the last render wrote are settled, as between the one-shot rows' runs (the memo's STAT_SETTLE_MS is 2 s). */
  pauseMs?: number
  /** How long to wait for a summary line. */
  timeoutMs?: number
}

export interface WatchChangeResult {
  /** The render's own time, from its summary line (whole ms below 1 s, tenths of a second above). */
  render: Timing
  /** From writing the config to the summary line. */
  saveToSummary: Timing
  /** Files written, by each timed render's summary line. */
  written: number[]
}

/** Run a watch, make the changes, stop it with SIGINT (which must end it with 0). */
export async function timeWatchChanges(options: WatchChangeOptions): Promise<WatchChangeResult> {
  const { pauseMs = 2200, timeoutMs = 120_000 } = options
  const child = spawn(process.execPath, [options.bin, 'render', '--watch', '--config', options.configPath, '--out', options.out], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const summaries: Array<{ at: number; written: number; ms: number }> = []
  let wake: (() => void) | undefined
  createInterface({ input: child.stdout }).on('line', (line) => {
    output += `${line}\n`
    const summary = readRenderSummary(line)
    if (!summary) return
    summaries.push({ at: performance.now(), ...summary })
    wake?.()
  })
  const fail = (why: string) => new Error(`render --watch: ${why}\n${output.slice(-2000)}`)
  /** The next summary line after the `seen` ones. */
  const nextSummary = async (seen: number) => {
    const deadline = performance.now() + timeoutMs
    while (summaries.length <= seen) {
      if (child.exitCode !== null) throw fail(`exited ${child.exitCode} before a summary line`)
      if (performance.now() > deadline) throw fail(`no summary line within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 100)
      })
    }
    return summaries[seen] as (typeof summaries)[number]
  }

  const render: number[] = []
  const saveToSummary: number[] = []
  const written: number[] = []
  try {
    // the first render, of the config as it is
    await nextSummary(0)
    for (let round = 0; round < options.warmup + options.runs; round++) {
      await sleep(pauseMs)
      const seen = summaries.length
      const started = performance.now()
      writeFileSync(options.configPath, options.variants[round % options.variants.length] as string)
      const summary = await nextSummary(seen)
      if (round < options.warmup) continue
      render.push(summary.ms)
      saveToSummary.push(summary.at - started)
      written.push(summary.written)
    }
  } finally {
    child.kill('SIGINT')
  }
  const code = await exited
  if (code !== 0) throw fail(`exited ${code} after SIGINT, expected 0`)
  return { render: { samples: render, median: median(render) }, saveToSummary: { samples: saveToSummary, median: median(saveToSummary) }, written }
}
