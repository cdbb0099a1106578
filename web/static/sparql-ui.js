/*
 * The query UI at /sparql: YASGUI (from npm, served from /static/vendor/) against this
 * server's own endpoint, with the dataset's prefixes, example queries and a graph view for
 * CONSTRUCT answers. Nothing here talks to any other host: prefix.cc and Linked Open
 * Vocabularies lookups are replaced by the dataset's own prefixes, classes and properties,
 * and the page's Content-Security-Policy (connect-src 'self') would block them anyway.
 * Settings come from the JSON block #query-ui-config (inline script is not allowed).
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("query-ui-config").textContent);
  const status = document.getElementById("query-ui-status");
  const RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label";
  const SKOS_PREF_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel";

  if (typeof window.Yasgui !== "function") {
    status.textContent = config.messages.editorMissing;
    status.classList.add("problem");
    return;
  }
  const Yasgui = window.Yasgui;
  const endpoint = new URL(config.endpoint, window.location.href).href;
  const prefixes = config.prefixes;
  const prefixLines = Object.entries(prefixes)
    .map(([name, iri]) => `PREFIX ${name}: <${iri}>`)
    .join("\n");

  function compact(iri) {
    for (const [name, namespace] of Object.entries(prefixes)) {
      if (iri.startsWith(namespace) && iri.length > namespace.length) {
        return `${name}:${iri.slice(namespace.length)}`;
      }
    }
    return iri;
  }

  // --- Autocompletion from this dataset only --------------------------------------------
  const termLists = {};
  function datasetTerms(kind) {
    if (!termLists[kind]) {
      const pattern = kind === "class" ? "[] a ?term" : "[] ?term []";
      const body = new URLSearchParams({ query: `SELECT DISTINCT ?term WHERE { ${pattern} } LIMIT 2000` });
      termLists[kind] = fetch(endpoint, {
        method: "POST",
        headers: { Accept: "application/sparql-results+json" },
        body,
      })
        .then((response) => (response.ok ? response.json() : { results: { bindings: [] } }))
        .then((json) => json.results.bindings.map((binding) => binding.term.value).sort())
        .catch(() => []);
    }
    return termLists[kind];
  }
  Yasgui.Yasqe.forkAutocompleter(
    "prefixes",
    {
      name: "datasetPrefixes",
      persistenceId: "catalograph_prefixes",
      get: Object.entries(prefixes).map(([name, iri]) => `${name}: <${iri}>`),
    },
    false,
  );
  for (const kind of ["class", "property"]) {
    Yasgui.Yasqe.forkAutocompleter(
      kind,
      {
        name: `dataset-${kind}`,
        bulk: false,
        get: (yasqe, token) =>
          datasetTerms(kind).then((terms) => {
            const start = (token && token.autocompletionString) || "";
            return terms.filter((term) => term.startsWith(start)).slice(0, 100);
          }),
      },
      false,
    );
  }
  Yasgui.Yasqe.defaults.autocompleters = ["datasetPrefixes", "dataset-class", "dataset-property", "variables"];
  Yasgui.Yasqe.defaults.prefixCcApi = null;
  Yasgui.Yasr.defaults.prefixes = prefixes;

  // --- The graph view of CONSTRUCT and DESCRIBE answers ------------------------------------
  class GraphView {
    constructor(yasr) {
      this.yasr = yasr;
      this.priority = 20;
      this.label = "Graph";
      this.cy = null;
    }

    canHandleResults() {
      const results = this.yasr.results;
      return !!results && results.getType() === "ttl";
    }

    getIcon() {
      const icon = document.createElement("span");
      icon.className = "graph-view-icon";
      icon.textContent = "◎";
      return icon;
    }

    download(filename) {
      const results = this.yasr.results;
      if (!results) return undefined;
      return {
        contentType: "application/n-triples",
        getData: () => results.getOriginalResponseAsString(),
        filename: `${filename || "graph"}.nt`,
        title: config.messages.downloadGraph,
      };
    }

    destroy() {
      if (this.cy) this.cy.destroy();
      this.cy = null;
    }

    draw() {
      const statements = this.yasr.results.getStatements() || [];
      const limit = config.graphViewMaxTriples;
      const shown = statements.slice(0, limit);
      const wrapper = document.createElement("div");
      wrapper.className = "graph-view";
      const note = document.createElement("p");
      note.className = "graph-view-note";
      note.textContent =
        statements.length > limit
          ? config.messages.graphCut.replace("{shown}", limit).replace("{total}", statements.length)
          : config.messages.graphAll.replace("{total}", statements.length);
      const canvas = document.createElement("div");
      canvas.className = "graph-view-canvas";
      wrapper.append(note, canvas);
      this.yasr.resultsEl.appendChild(wrapper);
      if (typeof window.cytoscape !== "function") {
        note.textContent = config.messages.graphMissing;
        return;
      }
      this.cy = window.cytoscape({
        container: canvas,
        elements: graphElements(shown),
        style: GRAPH_STYLE,
        layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: () => 9000 },
        wheelSensitivity: 0.3,
      });
      this.cy.on("tap", "node", (event) => {
        note.textContent = event.target.data("full");
      });
    }
  }

  // A node without a label: its prefixed name, else the end of its IRI (the full IRI shows on click).
  function shortName(iri) {
    const prefixed = compact(iri);
    if (prefixed !== iri) return prefixed;
    const tail = iri.split(/[/#]/).filter(Boolean).pop() || iri;
    return tail.length > 24 ? `${tail.slice(0, 23)}…` : tail;
  }

  function graphElements(statements) {
    const labels = new Map();
    for (const q of statements) {
      const labelling = q.predicate.value === RDFS_LABEL || q.predicate.value === SKOS_PREF_LABEL;
      if (labelling && q.object.termType === "Literal" && !labels.has(q.subject.value)) {
        labels.set(q.subject.value, q.object.value);
      }
    }
    const nodes = new Map();
    const edges = [];
    const resource = (term) => {
      const key = `${term.termType}:${term.value}`;
      if (!nodes.has(key)) {
        const name = term.termType === "NamedNode" ? shortName(term.value) : `_:${term.value}`;
        nodes.set(key, { id: `n${nodes.size}`, label: labels.get(term.value) || name, full: term.value, kind: "resource" });
      }
      return nodes.get(key).id;
    };
    statements.forEach((q, index) => {
      const predicate = q.predicate.value;
      if ((predicate === RDFS_LABEL || predicate === SKOS_PREF_LABEL) && labels.get(q.subject.value) === q.object.value) {
        return; // the node's caption already shows it
      }
      const source = resource(q.subject);
      let target;
      if (q.object.termType === "Literal") {
        target = `l${index}`;
        nodes.set(target, { id: target, label: q.object.value, full: q.object.value, kind: "literal" });
      } else {
        target = resource(q.object);
      }
      edges.push({ data: { id: `e${index}`, source, target, label: compact(predicate) } });
    });
    return [...[...nodes.values()].map((data) => ({ data })), ...edges];
  }

  const GRAPH_STYLE = [
    {
      selector: "node",
      style: {
        label: "data(label)",
        "font-size": 10,
        "text-wrap": "ellipsis",
        "text-max-width": 160,
        "text-valign": "bottom",
        "min-zoomed-font-size": 6,
        "background-color": "#1f5f8b",
        width: 14,
        height: 14,
      },
    },
    { selector: 'node[kind = "literal"]', style: { shape: "round-rectangle", "background-color": "#b7c4cf" } },
    {
      selector: "edge",
      style: {
        label: "data(label)",
        "font-size": 8,
        color: "#5b6670",
        width: 1,
        "line-color": "#9aa7b1",
        "target-arrow-color": "#9aa7b1",
        "target-arrow-shape": "triangle",
        "curve-style": "bezier",
        "text-rotation": "autorotate",
        "min-zoomed-font-size": 7,
      },
    },
  ];

  Yasgui.Yasr.registerPlugin("Graph", GraphView);

  // --- YASGUI itself --------------------------------------------------------------------
  // A signed-in cataloger's updates carry the session's CSRF token; a reader's requests none.
  const headers = config.csrfToken ? { "X-CSRFToken": config.csrfToken } : {};
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint, method: "POST", headers },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint }] },
    persistenceId: "catalograph",
    yasqe: { value: `${prefixLines}\n\n${config.defaultQuery}`, collapsePrefixesOnLoad: true },
  });
  // Tabs kept in the browser from another address of this server still ask this one, with
  // this page's token (a stored tab's token belongs to a session that may be over).
  function adopt(tab) {
    if (!tab) return;
    if (tab.getEndpoint() !== endpoint) tab.setEndpoint(endpoint);
    tab.setRequestConfig({ headers });
  }
  for (const id of Object.keys(yasgui._tabs)) adopt(yasgui.getTab(id));
  yasgui.on("tabAdd", (instance, id) => adopt(instance.getTab(id)));
  // A graph answer (CONSTRUCT, DESCRIBE) opens in the graph view, a table answer in the table.
  yasgui.on("queryResponse", (instance, tab) => {
    setTimeout(() => {
      const yasr = tab.getYasr();
      if (!yasr.results || yasr.results.hasError()) return;
      const graph = yasr.results.getType() === "ttl";
      const selected = yasr.getSelectedPluginName();
      if (graph && selected !== "Graph") yasr.selectPlugin("Graph");
      if (!graph && selected === "Graph") yasr.selectPlugin("table");
    }, 0);
  });
  document.getElementById("sparql-form").hidden = true;
  window.catalographYasgui = yasgui;

  // --- Example queries: one tab each, run when opened -------------------------------------
  const examples = new Map(config.examples.map((example) => [example.id, example]));
  // The example's own tab if it is still as shipped; a new one if the reader edited it.
  function openExample(id) {
    const example = examples.get(id);
    if (!example) return;
    let tab = Object.values(yasgui._tabs).find(
      (candidate) => candidate.getName().startsWith(example.title) && candidate.getQuery() === example.query,
    );
    if (tab) {
      yasgui.selectTabId(tab.getId());
    } else {
      const name = yasgui.createTabName(example.title);
      tab = yasgui.addTab(true, { name, yasqe: { value: example.query }, requestConfig: { endpoint, headers } });
    }
    tab.getYasqe().query().catch(() => {});
  }
  const menu = document.getElementById("query-examples");
  menu.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-example]");
    if (button) openExample(button.dataset.example);
  });
  menu.hidden = false;
  status.textContent = "";
})();
