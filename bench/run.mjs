// `npm run bench` (after the build): runs every benchmark section in turn. Add a section by
// exporting `run()` from a module here and listing it below. Numbers only; nothing passes or fails.
import 'reflect-metadata';

const sections = [['PKI', () => import('./pki.mjs')]];

for (const [name, load] of sections) {
  console.log(`== ${name}`);
  const section = await load();
  await section.run();
}
