// Starts the planner. Trunk writes the hashed names of the wasm-bindgen JS and the wasm as the
// preload links #app-js and #app-wasm (see Trunk.toml); this file is loaded as a same-origin
// module, so the page needs no inline script.
const status = document.getElementById('boot-status');

try {
  const js = document.getElementById('app-js');
  const wasm = document.getElementById('app-wasm');
  if (!js || !wasm) throw new Error('the build did not write the #app-js and #app-wasm links');
  const { default: init } = await import(js.href);
  await init({ module_or_path: wasm.href });
  status?.remove();
} catch (error) {
  if (status) status.textContent = `The planner failed to load: ${error}`;
  throw error;
}
