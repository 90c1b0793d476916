// The app is a static single-page app: all rendering happens in the browser, which holds the session cookies.
export const ssr = false;
export const prerender = false;
