/**
 * Jest transform for the few ES-module-only dependencies (email-reply-parser): n8n's Node loads
 * them with require(), but jest's own module loader on Node < 24.9 cannot. esbuild (already
 * here through tsx) rewrites them to CommonJS so tests run the very library production uses.
 */
const { transformSync } = require('esbuild');

module.exports = {
	process(source, filename) {
		const { code, map } = transformSync(source, {
			format: 'cjs',
			loader: 'js',
			sourcefile: filename,
			sourcemap: 'inline',
			target: 'node20',
			// import.meta does not exist in CommonJS; the library only uses it for createRequire.
			banner: "var __importMetaUrl = require('url').pathToFileURL(__filename).href;",
			define: { 'import.meta.url': '__importMetaUrl' },
		});
		return { code, map };
	},
};
