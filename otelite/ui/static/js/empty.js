// The empty state teaches: where to send telemetry, and how to point an SDK here.

import { get } from "./api.js";
import { h, replace } from "./dom.js";

// The server's defaults, shown only when it cannot say which ports it listens on.
const HTTP_PORT = 4318;
const GRPC_PORT = 4317;

let info = null; // asked once per page load, and again while the server cannot tell

function serverInfo() {
  if (!info) {
    info = get("/api/ui/info")
      .catch(() => null)
      .then((found) => {
        if (!found || !found.otlp) info = null;
        return found;
      });
  }
  return info;
}

/** A panel saying nothing matched, with the server's OTLP endpoints and SDK settings. */
export function emptyState(what, hint) {
  const details = h("div", null, h("p", { class: "muted" }, "…"));
  serverInfo().then((found) => replace(details, ...endpoints(found)));
  return h("section", { class: "empty" }, h("h2", null, `No ${what} here yet`), hint ? h("p", null, hint) : null, details);
}

function endpoints(found) {
  const otlp = found && found.otlp;
  const host = location.hostname.includes(":") ? `[${location.hostname}]` : location.hostname;
  const http = otlp ? otlp.http : `http://${host}:${HTTP_PORT}`;
  const grpc = otlp ? otlp.grpc : `http://${host}:${GRPC_PORT}`;
  const tls = Boolean(otlp && otlp.tls);
  return [
    h("p", null, "Send OpenTelemetry data to otelite over OTLP:"),
    h(
      "table",
      { class: "endpoints" },
      h("tbody", null,
        h("tr", null, h("th", null, "OTLP/HTTP"), h("td", null, h("code", { class: "otlp-http" }, http)), h("td", null, "protobuf and JSON, /v1/traces /v1/metrics /v1/logs")),
        h("tr", null, h("th", null, "OTLP/gRPC"), h("td", null, h("code", { class: "otlp-grpc" }, grpc)), h("td", null, tls ? "TLS" : "")),
      ),
    ),
    h("p", null, "Point any OpenTelemetry SDK or Collector here with:"),
    h(
      "pre",
      null,
      `export OTEL_EXPORTER_OTLP_ENDPOINT=${http}\n` +
        (tls ? "export OTEL_EXPORTER_OTLP_CERTIFICATE=<the CA or certificate file>\n" : "") +
        `export OTEL_SERVICE_NAME=my-service\n` +
        `# for gRPC exporters:\n` +
        `# export OTEL_EXPORTER_OTLP_ENDPOINT=${grpc}\n` +
        `# export OTEL_EXPORTER_OTLP_PROTOCOL=grpc`,
    ),
    h("p", { class: "muted server-info" }, otlp ? about(found) : "These are the default ports; otelite prints the ones it uses when it starts."),
  ];
}

function about(found) {
  const storage = found.storage || {};
  const where = storage.mode === "memory" ? "data kept in memory (nothing survives a restart)" : `data in ${storage.dataDir}`;
  return `otelite ${found.version} · ${where}`;
}

/** An error from the API, shown in place of results. */
export function errorState(error) {
  if (error && error.status === 401) return h("p", { class: "muted signed-out" }, "Sign in with a query token to see this.");
  return h("div", { class: "api-error", role: "alert" }, String(error && error.message ? error.message : error));
}
