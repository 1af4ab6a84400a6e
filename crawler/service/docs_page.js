// The Wangzi API docs page (GET /docs): reads /openapi.json with the bearer token a person
// types in, and lists every operation with its parameters, request body and answers.
// Served by the service itself (never from a CDN), so it works offline. Every value from the
// document is put into the page as text (textContent), never as HTML. The token is kept in
// this tab's sessionStorage only, so a reload does not ask again and closing the tab forgets it.
"use strict";

(function () {
  const form = document.getElementById("token-form");
  const input = document.getElementById("token");
  const status = document.getElementById("status");
  const list = document.getElementById("operations");
  const METHODS = ["get", "post", "put", "patch", "delete"];

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error" : "";
  }

  function resolve(doc, schema) {
    let seen = 0;
    while (schema && schema.$ref && seen < 20) {
      const parts = schema.$ref.replace(/^#\//, "").split("/");
      schema = parts.reduce((node, key) => (node ? node[key] : undefined), doc);
      seen += 1;
    }
    return schema || {};
  }

  function typeOf(doc, schema) {
    schema = resolve(doc, schema);
    if (schema.anyOf) return schema.anyOf.map((s) => typeOf(doc, s)).join(" | ");
    if (schema.type === "array") return typeOf(doc, schema.items || {}) + "[]";
    if (schema.type === "object" && schema.additionalProperties) return "{string: " + typeOf(doc, schema.additionalProperties) + "}";
    if (schema.title && !schema.type) return schema.title;
    return schema.type || schema.title || "any";
  }

  function limits(schema) {
    if (schema.anyOf) return schema.anyOf.map(limits).filter(Boolean).join("; ");
    const found = [];
    for (const [key, label] of [["minimum", "≥"], ["maximum", "≤"], ["minLength", "min length"],
                                ["maxLength", "max length"], ["maxItems", "max items"], ["maxProperties", "max keys"]]) {
      if (schema[key] !== undefined) found.push(label + " " + schema[key]);
    }
    return found.join(", ");
  }

  function table(headers, rows) {
    const node = el("table");
    const head = el("tr");
    headers.forEach((h) => head.appendChild(el("th", null, h)));
    node.appendChild(head);
    rows.forEach((cells) => {
      const row = el("tr");
      cells.forEach((cell) => row.appendChild(el("td", null, cell)));
      node.appendChild(row);
    });
    return node;
  }

  function schemaTable(doc, schema) {
    schema = resolve(doc, schema);
    const required = new Set(schema.required || []);
    const rows = Object.entries(schema.properties || {}).map(([name, prop]) => {
      const resolved = resolve(doc, prop);
      const about = resolved.description || prop.description || "";
      const bounds = limits(resolved);
      return [name, typeOf(doc, prop), required.has(name) ? "yes" : "", about && bounds ? about + " (" + bounds + ")" : about || bounds];
    });
    return rows.length ? table(["field", "type", "required", "about"], rows) : el("p", null, typeOf(doc, schema));
  }

  function operation(doc, path, method, op, base) {
    const box = el("details", "operation");
    const head = el("summary");
    const space = () => head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "method " + method, method.toUpperCase()));
    space();
    head.appendChild(el("span", "path", path));
    if (op.summary) { space(); head.appendChild(el("span", "summary", op.summary)); }
    const secured = (op.security || doc.security || []).length > 0;
    if (secured) { space(); head.appendChild(el("span", "auth", "bearer token")); }
    box.appendChild(head);
    const body = el("div", "body");
    if (op.description) body.appendChild(el("p", null, op.description));
    const params = (op.parameters || []).map((p) => resolve(doc, p));
    if (params.length) {
      body.appendChild(el("h3", null, "Parameters"));
      body.appendChild(table(["name", "in", "type", "required", "about"],
        params.map((p) => [p.name, p.in, typeOf(doc, p.schema || {}), p.required ? "yes" : "",
                           [p.description || "", limits(resolve(doc, p.schema || {}))].filter(Boolean).join(" ")])));
    }
    const content = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
    if (content) {
      body.appendChild(el("h3", null, "Request body (JSON)"));
      body.appendChild(schemaTable(doc, content.schema || {}));
    }
    const answers = Object.entries(op.responses || {});
    if (answers.length) {
      body.appendChild(el("h3", null, "Answers"));
      body.appendChild(table(["status", "meaning"], answers.map(([code, r]) => [code, resolve(doc, r).description || ""])));
    }
    body.appendChild(el("h3", null, "Example"));
    const example = ["curl -s"];
    if (secured) example.push("-H 'Authorization: Bearer $WANGZI_API_TOKEN'");
    if (method !== "get") example.push("-X " + method.toUpperCase());
    if (content) example.push("-H 'Content-Type: application/json' -d '{...}'");
    example.push(base + path);
    body.appendChild(el("pre", null, example.join(" ")));
    box.appendChild(body);
    return box;
  }

  function render(doc) {
    list.replaceChildren();
    const info = doc.info || {};
    document.getElementById("title").textContent = (info.title || "API") + (info.version ? " " + info.version : "");
    document.getElementById("description").textContent = info.description || "";
    const byTag = new Map();
    let count = 0;
    for (const [path, item] of Object.entries(doc.paths || {})) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const tag = (op.tags && op.tags[0]) || "other";
        if (!byTag.has(tag)) byTag.set(tag, []);
        byTag.get(tag).push(operation(doc, path, method, op, window.location.origin));
        count += 1;
      }
    }
    for (const [tag, nodes] of byTag) {
      list.appendChild(el("h2", "tag", tag));
      nodes.forEach((node) => list.appendChild(node));
    }
    say(count + " operations", false);
  }

  async function load(token) {
    say("loading /openapi.json …", false);
    let answer;
    try {
      answer = await fetch("/openapi.json", { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
    } catch (error) {
      say("the service did not answer: " + error, true);
      return;
    }
    if (!answer.ok) {
      let detail = "";
      try { detail = (await answer.json()).detail || ""; } catch (error) { detail = ""; }
      say(answer.status + " " + (answer.statusText || "") + (detail ? ": " + detail : ""), true);
      list.replaceChildren();
      sessionStorage.removeItem("wangzi-api-token");
      return;
    }
    sessionStorage.setItem("wangzi-api-token", token);
    render(await answer.json());
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(input.value.trim());
  });
  const kept = sessionStorage.getItem("wangzi-api-token");
  if (kept) {
    input.value = kept;
    load(kept);
  }
})();
