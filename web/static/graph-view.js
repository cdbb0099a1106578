/* The graph view of a resource page (web/graph_view.py): its neighbourhood drawn with
 * cytoscape, grown a node at a time from /api/neighbourhood?iri=…, filtered by relation.
 * No inline script (the page's Content-Security-Policy forbids it): the first
 * neighbourhood and the messages come from <script type="application/json"> blocks.
 * Without JavaScript, or without cytoscape, the page keeps its text list. */
(function () {
  "use strict";

  var holder = document.getElementById("graph-view");
  var dataBlock = document.getElementById("graph-data");
  if (!holder || !dataBlock || typeof window.cytoscape !== "function") {
    return;
  }
  var first = JSON.parse(dataBlock.textContent);
  var messages = JSON.parse(document.getElementById("graph-messages").textContent);
  var tools = document.getElementById("graph-tools");
  var filter = document.getElementById("graph-filter");
  var selected = document.getElementById("graph-selected");
  var legend = document.getElementById("graph-legend");
  var source = holder.getAttribute("data-src");
  var fonts = getComputedStyle(document.documentElement).fontFamily;
  var hidden = {}; // relation key -> true when filtered out
  var relationNames = {};

  holder.hidden = false;
  tools.hidden = false;
  legend.hidden = false;

  var COLOURS = {
    work: "#1f5f8b", instance: "#6b9ac4", agent: "#b5452f", concept: "#2e7d4f",
    place: "#a66f00", event: "#7b4fa0"
  };
  var SHAPES = {
    work: "round-rectangle", instance: "rectangle", agent: "ellipse", concept: "diamond",
    place: "triangle", event: "star"
  };
  var style = [
    {
      selector: "node",
      style: {
        "label": "data(label)",
        "background-color": function (n) { return COLOURS[n.data("kind")] || "#5b6670"; },
        "shape": function (n) { return SHAPES[n.data("kind")] || "ellipse"; },
        "width": 22, "height": 22,
        "font-family": fonts, "font-size": 11, "color": "#1d2327",
        "text-valign": "bottom", "text-margin-y": 4,
        "text-wrap": "ellipsis", "text-max-width": 150,
        "text-background-color": "#ffffff", "text-background-opacity": 0.8,
        "text-background-padding": 1
      }
    },
    { selector: "node.center", style: { "width": 34, "height": 34, "border-width": 3, "border-color": "#1d2327", "font-weight": "bold" } },
    { selector: "node.expanded", style: { "border-width": 2, "border-color": "#1d2327" } },
    { selector: "node:selected", style: { "overlay-color": "#1f5f8b", "overlay-opacity": 0.2 } },
    {
      selector: "edge",
      style: {
        "label": "data(label)", "font-family": fonts, "font-size": 9, "color": "#5b6670",
        "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.8,
        "width": 1.2, "line-color": "#b7c0c8", "target-arrow-color": "#b7c0c8",
        "text-rotation": "autorotate", "text-background-color": "#ffffff",
        "text-background-opacity": 0.8, "text-background-padding": 1
      }
    },
    { selector: ".filtered", style: { "display": "none" } }
  ];

  var cy = window.cytoscape({
    container: holder,
    style: style,
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 3
  });

  function add(view) {
    var added = cy.collection();
    view.nodes.forEach(function (n) {
      if (cy.getElementById(n.id).empty()) {
        added = added.union(cy.add({
          group: "nodes",
          data: { id: n.id, label: n.label, kind: n.kind, kindName: n.kind_name, href: n.href }
        }));
      }
    });
    view.edges.forEach(function (e) {
      var id = e.source + " " + e.relation + " " + e.target;
      if (cy.getElementById(id).empty()) {
        added = added.union(cy.add({
          group: "edges",
          data: { id: id, source: e.source, target: e.target, label: e.label, relation: e.relation }
        }));
      }
    });
    view.relations.forEach(function (r) {
      if (!(r.key in relationNames)) {
        relationNames[r.key] = r.label;
        addFilter(r.key, r.label);
      }
    });
    applyFilters();
    return added;
  }

  function addFilter(key, label) {
    var box = document.createElement("label");
    var input = document.createElement("input");
    input.type = "checkbox";
    input.checked = true;
    input.addEventListener("change", function () {
      hidden[key] = !input.checked;
      applyFilters();
    });
    box.appendChild(input);
    box.appendChild(document.createTextNode(" " + label));
    filter.appendChild(box);
  }

  function applyFilters() {
    cy.batch(function () {
      cy.edges().forEach(function (e) {
        e.toggleClass("filtered", Boolean(hidden[e.data("relation")]));
      });
      cy.nodes().forEach(function (n) {
        var shown = n.hasClass("center") || n.connectedEdges().some(function (e) {
          return !e.hasClass("filtered");
        });
        n.toggleClass("filtered", !shown);
      });
    });
  }

  // rings around the resource: its neighbours on the first, theirs (once expanded) beyond
  function layout(fit) {
    cy.elements(":visible").layout({
      name: "breadthfirst", circle: true, roots: cy.getElementById(first.center),
      spacingFactor: 1.15, avoidOverlap: true, animate: false, fit: fit, padding: 30
    }).run();
    if (fit && cy.zoom() > 1.2) { // a small neighbourhood is not blown up
      cy.zoom(1.2);
      cy.center();
    }
  }

  function say(text, node) {
    selected.hidden = false;
    selected.textContent = "";
    if (node) {
      selected.appendChild(document.createTextNode(messages.selected + " "));
      var link = document.createElement("a");
      link.href = node.data("href");
      link.textContent = node.data("label");
      selected.appendChild(link);
      selected.appendChild(document.createTextNode(" (" + node.data("kindName") + ") · "));
      var open = document.createElement("a");
      open.href = node.data("href");
      open.textContent = messages.open;
      selected.appendChild(open);
      if (text) {
        selected.appendChild(document.createTextNode(" · " + text));
      }
    } else {
      selected.textContent = text;
    }
  }

  function expand(node) {
    if (node.hasClass("expanded")) {
      say("", node);
      return;
    }
    node.addClass("expanded");
    fetch(source + "?iri=" + encodeURIComponent(node.id()), { headers: { "Accept": "application/json" } })
      .then(function (answer) {
        if (!answer.ok) { throw new Error(String(answer.status)); }
        return answer.json();
      })
      .then(function (view) {
        add(view);
        layout(false);
        say(messages.expanded.replace("%(name)s", node.data("label")), node);
      })
      .catch(function () {
        node.removeClass("expanded");
        say(messages.failed, node);
      });
  }

  add(first);
  cy.getElementById(first.center).addClass("center expanded");
  layout(true);
  say(messages.expand);

  cy.on("tap", "node", function (event) { expand(event.target); });
  cy.on("dbltap", "node", function (event) { window.location.href = event.target.data("href"); });

  tools.addEventListener("click", function (event) {
    var action = event.target.getAttribute && event.target.getAttribute("data-action");
    if (action === "fit") { cy.fit(cy.elements(":visible"), 30); }
    if (action === "zoom-in") { cy.zoom({ level: cy.zoom() * 1.25, renderedPosition: { x: holder.clientWidth / 2, y: holder.clientHeight / 2 } }); }
    if (action === "zoom-out") { cy.zoom({ level: cy.zoom() / 1.25, renderedPosition: { x: holder.clientWidth / 2, y: holder.clientHeight / 2 } }); }
  });

  // for tests and curious readers: what is drawn
  holder.cytoscape = cy;
}());
