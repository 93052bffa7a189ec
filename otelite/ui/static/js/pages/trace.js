// One trace: a virtualised waterfall (only the rows in view exist in the DOM, so a
// 10,000-span trace scrolls like a 10-span one), a span detail panel, search in the trace,
// the spans a TraceQL query matched (`match=id,id`) marked, and the critical path (the
// stretches of each span the trace's duration waited on, with its share; `cp=off` hides it).

import { get } from "../api.js";
import { h, replace } from "../dom.js";
import { errorState } from "../empty.js";
import { colour, duration, timestamp } from "../format.js";
import { href, update } from "../router.js";
import { buildTrace, spanMatches, visibleSpans } from "../trace-model.js";
import { spanDetail } from "../span-detail.js";

const ROW_HEIGHT = 24;
const OVERSCAN = 10;

export function render(main, view, alive) {
  const traceId = view.segments[1] || "";
  replace(main, h("p", { class: "muted" }, "Loading trace…"));
  let page = null;
  // Asked for alongside the trace; the waterfall does not wait for it, nor fail with it.
  const criticalPath = get(`/api/traces/${encodeURIComponent(traceId)}/critical-path`).catch(() => null);
  get(`/api/v2/traces/${encodeURIComponent(traceId)}`)
    .then((body) => {
      if (!alive()) return;
      const trace = buildTrace(body.trace.resourceSpans || []);
      page = new TracePage(main, traceId, trace);
      page.show(view.params);
      criticalPath.then((path) => {
        if (alive() && path) page.setCriticalPath(path);
      });
    })
    .catch((error) => {
      if (alive()) replace(main, h("h1", null, "Trace ", h("span", { class: "mono" }, traceId)), errorState(error));
    });
  return {
    update: (next) => {
      if (page && next.segments[1] === traceId) {
        page.show(next.params);
        return true;
      }
      return false;
    },
  };
}

class TracePage {
  constructor(main, traceId, trace) {
    this.traceId = traceId;
    this.trace = trace;
    this.collapsed = new Set();
    this.selected = null;
    this.needle = "";
    this.matches = [];
    this.matchedIds = null; // the `match` parameter last applied
    this.matched = new Set();
    this.onPath = new Map(); // span id → {share, selfMs, sections: [[offsetMs, durationMs]]}
    this.showPath = true;
    this.rows = visibleSpans(trace, this.collapsed);

    const root = trace.roots[0];
    const logsRange = this.logsRange();
    this.search = h("input", {
      type: "search",
      placeholder: "Find in trace (name, attribute, id)…",
      "aria-label": "find in trace",
      oninput: () => update({ q: this.search.value || null }, { replace: true }),
      onkeydown: (event) => {
        if (event.key === "Enter") this.nextMatch(event.shiftKey ? -1 : 1);
      },
    });
    this.matchInfo = h("span", { class: "muted match-info" });
    this.matchedInfo = h("span", { class: "matched-info hidden" });
    this.pathBox = h("input", {
      type: "checkbox",
      checked: true,
      onchange: () => update({ cp: this.pathBox.checked ? null : "off" }, { replace: true }),
    });
    this.pathSummary = h("span", { class: "muted" });
    this.pathInfo = h("label", { class: "path-info hidden", title: "the spans whose work the trace's duration waited on" }, this.pathBox, " Critical path ", this.pathSummary);
    const header = h(
      "div",
      { class: "trace-header" },
      h(
        "h1",
        null,
        h("span", { class: "svc", style: { borderColor: colour(root ? root.service : "") } }, root ? root.service : "?"),
        " ",
        h("span", { class: "span-name" }, root ? root.name : ""),
      ),
      h(
        "div",
        { class: "facts" },
        h("span", { class: "mono" }, this.traceId),
        h("span", null, timestamp(trace.startMs)),
        h("span", null, "duration ", h("b", null, duration(trace.durationMs))),
        h("span", null, h("b", null, String(trace.spans.length)), " spans"),
        h("span", { class: trace.spans.some((s) => s.error) ? "error-count" : "" }, h("b", null, String(trace.spans.filter((s) => s.error).length)), " errors"),
        this.matchedInfo,
        this.pathInfo,
        h("a", { href: href("/logs", { traceId: this.traceId, ...logsRange }), "data-nav": true, class: "button" }, "Logs for this trace"),
      ),
      h("div", { class: "legend" }, trace.services.map((s) => h("span", { class: "chip", style: { borderColor: colour(s) } }, s))),
      h("div", { class: "find" }, this.search, h("button", { type: "button", class: "small", onclick: () => this.nextMatch(-1) }, "↑"), h("button", { type: "button", class: "small", onclick: () => this.nextMatch(1) }, "↓"), this.matchInfo),
    );

    this.spacer = h("div", { class: "spacer" });
    this.viewport = h("div", { class: "viewport", onscroll: () => this.schedule() }, this.spacer);
    const ticks = h("div", { class: "ticks" });
    for (let i = 0; i <= 4; i++) {
      ticks.append(h("span", { style: { left: `${i * 25}%` } }, duration((trace.durationMs * i) / 4)));
    }
    const waterfall = h(
      "div",
      { class: "waterfall" },
      h("div", { class: "wf-head" }, h("div", { class: "name-col" }, "Service · span"), h("div", { class: "bar-col" }, ticks)),
      this.viewport,
    );
    this.detail = h("aside", { class: "detail" }, h("p", { class: "muted" }, "Select a span to see its attributes, events and links."));
    replace(main, header, h("div", { class: "trace-body" }, waterfall, this.detail));
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.pending = false;
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
  }

  // Logs of a trace are searched around its time, not in the default last hour.
  logsRange() {
    const margin = 60_000;
    return {
      start: new Date(this.trace.startMs - margin).toISOString(),
      end: new Date(this.trace.startMs + this.trace.durationMs + margin).toISOString(),
    };
  }

  /** Apply the URL's state: `span` (selected span id), `q` (search), `match` (matched spans). */
  show(params) {
    const showPath = params.get("cp") !== "off";
    if (showPath !== this.showPath) {
      this.showPath = showPath;
      this.pathBox.checked = showPath;
      this.draw();
    }
    const matchedIds = params.get("match") || "";
    if (matchedIds !== this.matchedIds) {
      const first = this.matchedIds === null;
      this.matchedIds = matchedIds;
      const ids = matchedIds.split(",").map((id) => id.trim().toLowerCase());
      this.matched = new Set(ids.filter((id) => this.trace.byId.has(id)));
      const count = this.matched.size;
      this.matchedInfo.textContent = `${count} ${count === 1 ? "span" : "spans"} matched the query`;
      this.matchedInfo.classList.toggle("hidden", count === 0);
      this.draw();
      // Opened from the results: the first matched span in sight (a selected one wins).
      const shown = first && !params.get("span") ? this.rows.find((s) => this.matched.has(s.id)) : null;
      if (shown) this.reveal(shown);
    }
    const q = (params.get("q") || "").trim().toLowerCase();
    if (this.search.value.trim().toLowerCase() !== q && document.activeElement !== this.search) {
      this.search.value = params.get("q") || "";
    }
    if (q !== this.needle) {
      this.needle = q;
      this.matches = q ? this.trace.spans.filter((s) => spanMatches(s, q)) : [];
      this.matchSet = new Set(this.matches);
      this.matchInfo.textContent = q ? `${this.matches.length} matching spans` : "";
      this.draw();
    }
    const spanId = params.get("span");
    const span = spanId ? this.trace.byId.get(spanId) : null;
    if (span !== this.selected) this.select(span, { reveal: true });
  }

  /** Mark the spans of the critical path (the answer of /api/traces/{id}/critical-path). */
  setCriticalPath(path) {
    const onPath = new Map();
    for (const s of path.spans || []) onPath.set(s.spanId, { share: s.share, selfMs: s.selfNs / 1e6, sections: [] });
    for (const section of path.sections || []) {
      const span = section.spanId && onPath.get(section.spanId);
      if (!span) continue;
      const start = BigInt(section.startTimeUnixNano);
      const offsetMs = Number(start - this.trace.startNs) / 1e6;
      span.sections.push([offsetMs, Number(BigInt(section.endTimeUnixNano) - start) / 1e6]);
    }
    this.onPath = onPath;
    const top = (path.spans || [])[0];
    const lead = top ? ` · most: ${top.name} ${percent(top.share)}` : "";
    this.pathSummary.textContent = `${onPath.size} ${onPath.size === 1 ? "span" : "spans"}${lead}`;
    this.pathInfo.classList.remove("hidden");
    if (this.selected) this.select(this.selected);
    else this.draw();
  }

  select(span, { reveal = false } = {}) {
    this.selected = span || null;
    if (span) {
      if (reveal) this.reveal(span);
      const path = this.onPath.get(span.id);
      const more = path ? [["Critical path", `${duration(path.selfMs)} on it (${percent(path.share)})`]] : [];
      replace(this.detail, spanDetail(span, this.trace, this.logsRange(), more));
    } else {
      replace(this.detail, h("p", { class: "muted" }, "Select a span to see its attributes, events and links."));
    }
    this.draw();
  }

  // Expand the ancestors of `span` and scroll it into view.
  reveal(span) {
    let changed = false;
    for (let p = this.trace.byId.get(span.parentId); p; p = this.trace.byId.get(p.parentId)) {
      if (this.collapsed.delete(p.id)) changed = true;
      if (p.parentId === p.id) break;
    }
    if (changed) this.relayout();
    const index = this.rows.indexOf(span);
    const top = index * ROW_HEIGHT;
    const viewport = this.viewport;
    if (top < viewport.scrollTop || top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight) {
      viewport.scrollTop = Math.max(0, top - viewport.clientHeight / 3);
    }
  }

  nextMatch(step) {
    if (!this.matches.length) return;
    const at = this.matches.indexOf(this.selected);
    const next = this.matches[(at + step + this.matches.length) % this.matches.length];
    this.matchInfo.textContent = `${this.matches.indexOf(next) + 1} of ${this.matches.length} matching spans`;
    update({ span: next.id }, { replace: true });
  }

  toggle(span) {
    if (this.collapsed.has(span.id)) this.collapsed.delete(span.id);
    else this.collapsed.add(span.id);
    this.relayout();
  }

  relayout() {
    this.rows = visibleSpans(this.trace, this.collapsed);
    this.spacer.style.height = `${this.rows.length * ROW_HEIGHT}px`;
    this.draw();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  // Render only the rows in (and just around) the viewport.
  draw() {
    const viewport = this.viewport;
    const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const count = Math.ceil((viewport.clientHeight || 600) / ROW_HEIGHT) + 2 * OVERSCAN;
    const rows = this.rows.slice(first, first + count).map((span, i) => this.row(span, first + i));
    this.spacer.replaceChildren(...rows);
  }

  row(span, index) {
    const total = this.trace.durationMs || 1;
    const left = (span.offsetMs / total) * 100;
    const width = Math.max((span.durationMs / total) * 100, 0.2);
    const hasChildren = span.children.length > 0;
    const classes = ["row"];
    if (span === this.selected) classes.push("selected");
    if (this.needle && this.matchSet.has(span)) classes.push("match");
    const matched = this.matched.has(span.id);
    if (matched) classes.push("matched");
    if (span.error) classes.push("error");
    const path = this.showPath ? this.onPath.get(span.id) : null;
    if (path) classes.push("on-path");
    const toggle = hasChildren
      ? h(
          "button",
          {
            type: "button",
            class: "toggle",
            "aria-label": this.collapsed.has(span.id) ? "expand" : "collapse",
            onclick: (event) => {
              event.stopPropagation();
              this.toggle(span);
            },
          },
          this.collapsed.has(span.id) ? `▸ ${span.children.length}` : "▾",
        )
      : h("span", { class: "toggle leaf" });
    const bar = h("div", {
      class: "bar",
      style: { left: `${left}%`, width: `${width}%`, background: colour(span.service) },
    });
    const ticks = span.events.map((event) => {
      const at = Number(BigInt(event.timeUnixNano || "0") - this.trace.startNs) / 1e6;
      return h("div", { class: "event-tick", title: event.name || "event", style: { left: `${(at / total) * 100}%` } });
    });
    const stretches = path
      ? path.sections.map(([offset, length]) =>
          h("div", { class: "path-stretch", style: { left: `${(offset / total) * 100}%`, width: `${Math.max((length / total) * 100, 0.2)}%` } }),
        )
      : [];
    // The duration after the bar, else before it, else inside it (a bar spanning the trace).
    const place = left + width < 80 ? { left: `${left + width}%` } : left > 20 ? { right: `${100 - left}%` } : { left: `${left}%` };
    const label = h("span", { class: left + width >= 80 && left <= 20 ? "bar-label inside" : "bar-label", style: place }, duration(span.durationMs));
    return h(
      "div",
      {
        class: classes.join(" "),
        style: { top: `${index * ROW_HEIGHT}px` },
        dataset: { spanId: span.id, depth: String(span.depth) },
        onclick: () => update({ span: span.id }, { replace: true }),
      },
      h(
        "div",
        { class: "name-col", style: { paddingLeft: `${Math.min(span.depth, 40) * 14 + 4}px` } },
        toggle,
        h("span", { class: "dot", style: { background: colour(span.service) } }),
        h("span", { class: "svc-name" }, span.service),
        " ",
        matched ? h("span", { class: "matched-mark", role: "img", "aria-label": "matched by the query", title: "matched by the query" }, "◆") : null,
        h("span", { class: "span-name" }, span.name),
        span.error ? h("span", { class: "error-mark", title: "status: error" }, "!") : null,
        path ? h("span", { class: "path-share", title: `${duration(path.selfMs)} on the critical path` }, percent(path.share)) : null,
      ),
      h("div", { class: "bar-col" }, bar, stretches, ticks, label),
    );
  }
}

function percent(share) {
  return `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;
}
