#!/usr/bin/env node
// Installs what `npm run bench` needs beyond the test tools (scripts/ensure-system-deps.mjs):
// Debian's `ansible`, the baseline the push benchmark measures kbuild against.
import { fileURLToPath } from 'node:url';
import { ensureDebianTools } from './lib/debian-tools.mjs';

/**
 * Absolute path → Debian package that ships it. Absolute: a pip or pyenv Ansible earlier on PATH
 * is not the baseline, and the hosts run Ansible's modules with Debian's python3.
 */
const TOOLS = { '/usr/bin/ansible-playbook': 'ansible', '/usr/bin/python3': 'python3' };

ensureDebianTools({
  prefix: 'ensure-bench-deps:',
  script: fileURLToPath(import.meta.url),
  tools: TOOLS,
  present: `${Object.keys(TOOLS).join(', ')} present, nothing to do`,
});
