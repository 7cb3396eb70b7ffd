/** Stylesheets are bundled by esbuild into assets/app.css; importing one yields nothing. */
declare module '*.css'
