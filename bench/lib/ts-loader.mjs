// Registers bench/lib/ts-hooks.mjs: import this before importing any test/support/*.ts module.
import { register } from 'node:module';

register('./ts-hooks.mjs', import.meta.url);
