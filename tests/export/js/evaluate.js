// Evaluates exported flagd files with @openfeature/flagd-core, flagd's JavaScript evaluator (its own
// JSON Logic engine, json-logic-engine): an engine independent of the Python provider's panzi-json-logic.
//
// Protocol (the same as tests/export/flagd_runner.py): JSON on stdin, {"jobs": [{"files": {name: text},
// "now": epoch seconds, "evaluations": [[file name, flag key, context], ...]}]}; JSON on stdout,
// {"versions": {...}, "results": [[[variant, reason, error], ...], ...]}.
//
// The clock: flagd-core sets $flagd.timestamp to Math.floor(Date.now() / 1000) when it evaluates, and
// a context cannot override it, so Date.now is replaced by a function returning the job's instant.
// Files load with strict validation: flagd-core checks them against its bundled flagd schemas.
'use strict';

const fs = require('fs');
const path = require('path');
const { FlagdCore, MemoryStorage } = require('@openfeature/flagd-core');

const PINNED = { '@openfeature/flagd-core': '4.0.1', 'json-logic-engine': '5.0.7' };

function versions() {
  const found = {};
  for (const [name, wanted] of Object.entries(PINNED)) {
    // read from node_modules: json-logic-engine does not export its package.json
    const manifest = path.join(__dirname, 'node_modules', name, 'package.json');
    found[name] = JSON.parse(fs.readFileSync(manifest, 'utf8')).version;
    if (found[name] !== wanted) {
      throw new Error(`${name} ${found[name]} is installed, ${wanted} is pinned; run npm ci`);
    }
  }
  return found;
}

const silent = { error() {}, warn() {}, info() {}, debug() {} };
let nowMs = 0;
Date.now = () => nowMs;

function runJob(job) {
  const cores = {};
  for (const [name, text] of Object.entries(job.files)) {
    const storage = new MemoryStorage(silent);
    storage.setConfigurations(text, true);
    cores[name] = new FlagdCore(storage, silent);
  }
  nowMs = job.now * 1000;
  return job.evaluations.map(([name, key, context]) => {
    const got = cores[name].resolveStringEvaluation(key, 'default', context, silent);
    const error = got.errorCode ? `${got.errorCode}: ${got.errorMessage}` : null;
    return [got.value, got.reason, error];
  });
}

const request = JSON.parse(fs.readFileSync(0, 'utf8'));
const found = versions();
process.stdout.write(JSON.stringify({ versions: found, results: request.jobs.map(runJob) }));
