#!/usr/bin/env node
// Thin launcher: the CLI lives in dist/src/cli.js (built by `npm install`).
import { main } from '../dist/src/cli.js';
main(process.argv.slice(2));
