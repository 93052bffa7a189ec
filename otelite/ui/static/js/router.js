// Every view's state lives in the URL: path = page, query = its filters. Links are real
// links (open in a new tab, copy, share); in-page navigation uses the History API, so the
// back button walks through views and filter changes.

const listeners = [];

/** The current view: `{path, segments, params}` with `params` a URLSearchParams. */
export function current() {
  const path = location.pathname;
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { path, segments, params: new URLSearchParams(location.search) };
}

/** An href for `path` with `params` (object or URLSearchParams; empty values dropped). */
export function href(path, params = {}) {
  const query = new URLSearchParams();
  const entries = params instanceof URLSearchParams ? params.entries() : Object.entries(params);
  for (const [key, value] of entries) {
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== undefined && v !== null && v !== "") query.append(key, v);
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** Go to `url` (from `href`); `replace` rewrites the current history entry instead. */
export function navigate(url, { replace = false } = {}) {
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  notify();
}

/** Change some query parameters of the current view (null removes one). */
export function update(changes, { replace = false } = {}) {
  const params = new URLSearchParams(location.search);
  for (const [key, value] of Object.entries(changes)) {
    params.delete(key);
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) if (v !== undefined && v !== null && v !== "") params.append(key, v);
  }
  navigate(href(location.pathname, params), { replace });
}

export function onChange(listener) {
  listeners.push(listener);
}

function notify() {
  for (const listener of listeners) listener(current());
}

window.addEventListener("popstate", notify);

// Same-origin links marked data-nav are handled in the page (modifier clicks still open tabs).
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[data-nav]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
