/* The search box as an ARIA combobox (WAI-ARIA 1.2 "list autocomplete"): suggestions from
   /search/suggest as the reader types; ArrowDown/ArrowUp move through them, Enter takes the
   one chosen (its text is searched), Escape closes the list. Without JavaScript the box is a
   plain form. Record text is only ever set as textContent, never as markup. */
(function () {
  "use strict";
  var input = document.getElementById("q");
  var list = document.getElementById("q-suggestions");
  if (!input || !list || !window.fetch) { return; }
  var endpoint = input.getAttribute("data-suggest");
  var options = [];
  var active = -1;
  var timer = null;
  var asked = 0;

  function close() {
    list.hidden = true;
    list.textContent = "";
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function choose(index) {
    options.forEach(function (option, i) {
      option.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (index >= 0) {
      input.setAttribute("aria-activedescendant", options[index].id);
      options[index].scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function take(index) {
    var option = options[index];
    if (!option) { return; }
    input.value = option.getAttribute("data-label");
    close();
    input.form.submit();
  }

  function show(suggestions) {
    close();
    if (!suggestions.length) { return; }
    suggestions.forEach(function (found, i) {
      var option = document.createElement("li");
      option.id = "q-option-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.setAttribute("data-label", found.label);
      option.setAttribute("data-href", found.href);
      var label = document.createElement("span");
      label.textContent = found.label;
      var kind = document.createElement("span");
      kind.className = "kind";
      kind.textContent = found.kind_label;
      option.appendChild(label);
      option.appendChild(kind);
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();  // keep the focus in the box
        take(i);
      });
      list.appendChild(option);
      options.push(option);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
  }

  function ask() {
    var text = input.value;
    if (text.trim().length < 2) { close(); return; }
    var number = ++asked;
    fetch(endpoint + "?q=" + encodeURIComponent(text), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (body) {
        if (number === asked && document.activeElement === input) { show(body.suggestions || []); }
      })
      .catch(function () { close(); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown") {
      if (list.hidden) { ask(); return; }
      event.preventDefault();
      choose(Math.min(active + 1, options.length - 1));
    } else if (event.key === "ArrowUp") {
      if (list.hidden) { return; }
      event.preventDefault();
      choose(Math.max(active - 1, -1));
    } else if (event.key === "Enter") {
      if (!list.hidden && active >= 0) {
        event.preventDefault();
        take(active);
      }
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", function () { setTimeout(close, 100); });
})();
