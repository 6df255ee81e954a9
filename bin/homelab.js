#!/usr/bin/env node
// CommonJS (bin/package.json): Node starts no ES module loader (src/start.ts)
require('../dist/bundle/start.cjs').start(process.argv)
