// SLOs: each objective's SLI, error budget left, burn rates and alerts now; one SLO's
// budget and burn rates over the time range. The numbers come from the API (otelite's
// Python computes them); this page only draws them.

import { get, segment } from "../api.js";
import { lineChart } from "../charts.js";
import { h, replace, table } from "../dom.js";
import { errorState } from "../empty.js";
import { colour, number } from "../format.js";
import { rangeParams, timeRange } from "../range.js";
import { href } from "../router.js";

const BURN = [
  ["5m", "#59a14f"],
  ["1h", "#f28e2b"],
  ["6h", "#e15759"],
  ["3d", "#76b7b2"],
];
// The alerts' factors, drawn as flat lines so a burn rate crossing one shows.
const FACTORS = [
  ["page at 14.4", 14.4],
  ["page at 6", 6],
  ["ticket at 1", 1],
];

export function render(main, view, alive) {
  const params = view.params;
  const chosen = params.get("slo");
  const range = timeRange(params);
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  replace(
    main,
    h("h1", null, "SLOs"),
    h(
      "p",
      { class: "muted" },
      "A burn rate is how many times faster than allowed the error budget is spent. " +
        "Alerts page at 14.4× over both 1h and 5m, or 6× over both 6h and 30m; a ticket at 1× over both 3d and 6h.",
    ),
    body,
  );
  const cleanups = [];
  get("/api/slos")
    .then(async ({ slos }) => {
      if (!alive()) return;
      if (!slos.length) {
        replace(body, noSlos());
        return;
      }
      const statuses = await Promise.all(
        slos.map((slo) => get(`/api/slos/${segment(slo.name)}/status`).catch((error) => ({ name: slo.name, error }))),
      );
      if (!alive()) return;
      replace(body, statusTable(statuses, params));
      const slo = chosen && slos.find((s) => s.name === chosen);
      if (!slo) return;
      const history = await get(`/api/slos/${segment(chosen)}/history`, { start: range.start, end: range.end, points: 200 });
      if (!alive()) return;
      body.append(h("h2", null, slo.displayName || slo.name), slo.service ? h("p", null, h("a", { "data-nav": true, href: href("/services", { service: slo.service }) }, `Service ${slo.service} →`)) : null);
      const xs = history.timesUnixMs.map((ms) => ms / 1000);
      for (const objective of history.objectives) {
        const charts = h("div", { class: "charts3 slo-charts" });
        body.append(h("h3", null, `Objective ${objective.name}: ${(objective.target * 100).toFixed(3).replace(/\.?0+$/, "")}%`), charts);
        const budget = h("div", { class: "chart budget-chart" });
        const burn = h("div", { class: "chart burn-chart" });
        charts.append(h("div", null, h("h4", null, `Error budget left (${history.window} window)`), budget), h("div", null, h("h4", null, "Burn rate"), burn));
        cleanups.push(
          lineChart(budget, {
            xs,
            height: 200,
            format: (v) => `${number(v * 100)}%`,
            series: [{ label: "budget left", values: objective.budgetRemaining, colour: "#4e79a7" }],
          }),
        );
        cleanups.push(
          lineChart(burn, {
            xs,
            height: 200,
            format: (v) => `${number(v)}×`,
            series: [
              ...BURN.map(([window, c]) => ({ label: window, values: objective.burnRates[window], colour: c })),
              ...FACTORS.map(([label, factor]) => ({ label, values: xs.map(() => factor), colour: "#bbbbbb" })),
            ],
          }),
        );
      }
    })
    .catch((error) => alive() && replace(body, errorState(error)));
  return () => cleanups.forEach((c) => c());
}

function noSlos() {
  return h(
    "section",
    { class: "empty" },
    h("h2", null, "No SLOs here yet"),
    h("p", null, "An SLO is an OpenSLO document; apply one with the command line or the API:"),
    h("pre", null, "otelite slo apply payment-slo.yaml\n# or\ncurl -X PUT --data-binary @payment-slo.yaml http://HOST:3200/api/slos/NAME"),
    h("p", { class: "muted" }, "README.md, section SLOs, has an example document."),
  );
}

function statusTable(statuses, params) {
  const rows = [];
  for (const status of statuses) {
    const link = h("a", { "data-nav": true, href: href("/slos", { ...rangeParams(params), slo: status.name }) }, status.name);
    if (status.error) {
      rows.push(h("tr", null, h("td", null, link), h("td", { colspan: 9, class: "api-error" }, String(status.error.message || status.error))));
      continue;
    }
    for (const objective of status.objectives) {
      const firing = objective.alerts.filter((a) => a.state === "firing").map((a) => a.name);
      rows.push(
        h(
          "tr",
          { class: params.get("slo") === status.name ? "selected" : "", dataset: { slo: status.name, objective: objective.name } },
          h("td", null, link),
          h("td", null, status.service ? h("span", { class: "svc", style: { borderColor: colour(status.service) } }, status.service) : "–"),
          h("td", null, objective.name),
          h("td", { class: "num" }, fraction(objective.target)),
          h("td", { class: "num sli" }, fraction(objective.sli)),
          h("td", { class: (objective.budgetRemaining ?? 1) < 0 ? "num budget error-count" : "num budget" }, objective.budgetRemaining === null ? "–" : `${number(objective.budgetRemaining * 100)}%`),
          ...["5m", "1h", "6h", "3d"].map((w) => h("td", { class: "num" }, rate(objective.burnRates[w]))),
          h("td", { class: firing.length ? "firing error-count" : "firing" }, firing.join(", ") || "–"),
        ),
      );
    }
  }
  return table(["SLO", "Service", "Objective", "Target", "SLI", "Budget left", "Burn 5m", "1h", "6h", "3d", "Firing"], rows, { class: "grid slos" });
}

function fraction(x) {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(3).replace(/\.?0+$/, "")}%`;
}

function rate(x) {
  return x === null || x === undefined ? "–" : `${number(x)}×`;
}
