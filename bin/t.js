#!/usr/bin/env node
const laps = []
let last = performance.now()
laps.push(`boot ${last.toFixed(0)}`)
globalThis.__lap = (label) => { const now = performance.now(); laps.push(`${label} ${(now - last).toFixed(1)}`); last = now }
const { main } = await import('../dist/bundle/main.js')
globalThis.__lap('load cli')
process.on('exit', () => { globalThis.__lap('exit'); console.error(laps.join(' | ')) })
main(process.argv)
