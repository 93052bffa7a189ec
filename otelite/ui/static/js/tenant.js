// Choosing a tenant on a multi-tenant server: a small field in the header, shown only when
// /api/ui/info says the server keeps tenants apart. The choice is kept in this tab.

import { get, setTenant, tenant } from "./api.js";
import { h } from "./dom.js";

/** Show the tenant field if the server is multi-tenant; `rerender()` after a change. */
export async function initTenant(rerender) {
  if (document.querySelector("form.tenant")) return; // already shown
  let info;
  try {
    info = await get("/api/ui/info");
  } catch {
    return; // a token is needed first (tried again after sign-in), or the server is away
  }
  if (!info || !info.multiTenant) return;
  const input = h("input", {
    name: "tenant",
    value: tenant() || "",
    placeholder: info.tenantRequired ? "required" : "default",
    "aria-label": "Tenant (X-Scope-OrgID)",
    autocomplete: "off",
    spellcheck: "false",
    maxlength: "150",
    size: "14",
  });
  const choose = (event) => {
    event.preventDefault();
    setTenant(input.value.trim());
    rerender();
  };
  const form = h("form", { class: "tenant", onsubmit: choose }, h("label", null, "Tenant ", input));
  input.addEventListener("change", choose);
  document.getElementById("account").before(form);
}
