import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes into the Python package, which serves it (peftstudio/server/static, git-ignored).
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "../peftstudio/server/static",
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
});
