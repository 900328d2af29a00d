/** Setup file of every vitest project: each test file's scratch directories go when it ends. */
import { afterAll } from 'vitest';
import { removeScratchDirs } from './scratch.js';

afterAll(() => removeScratchDirs());
