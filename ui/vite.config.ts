import { defineConfig } from "vite";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// The desktop shell embeds ui/dist (see tauri.conf.json); there is no dev server in the loop.
// Component tests (src/**/*.test.ts that ask for jsdom) mount the real views against a fake
// shell (src/test/shell.ts).
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  test: { include: ["src/**/*.test.ts"], environment: "node" },
});
