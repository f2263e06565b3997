// Reads .env files with the pinned npm dotenv as an application would: dotenv.parse (what
// config() uses), and its opt-in fast parser, and Node's own util.parseEnv (the parser of
// `node --env-file`) when this Node has it.
//
// Usage: node read.js FILE...; prints one JSON array: per file {"classic", "fast", "node"}
// values or errors, plus the versions first. Part of Junction's dotenv round-trip test.
'use strict'
const fs = require('fs')
const util = require('util')
const dotenv = require('dotenv')

function attempt (fn) {
  try {
    return { values: fn() }
  } catch (e) {
    return { error: String(e) }
  }
}

const out = [{ version: require('dotenv/package.json').version, nodeVersion: process.version }]
for (const path of process.argv.slice(2)) {
  const src = fs.readFileSync(path)
  out.push({
    classic: attempt(() => dotenv.parse(src)),
    fast: attempt(() => dotenv.parse(src, { fast: true })),
    node: util.parseEnv ? attempt(() => util.parseEnv(src.toString('utf8'))) : { error: 'no util.parseEnv' }
  })
}
process.stdout.write(JSON.stringify(out))
