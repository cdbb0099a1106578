// The vocabulary editor's concept picker: a field marked data-concept-picker gets a list of
// concepts whose labels match what is typed, from POST /api/suggest (the subject suggester).
// Choosing one puts its IRI in the field; typing a label or an IRI works without this script.
(function () {
  "use strict";
  if (!window.fetch) { return; }
  var endpoint = document.documentElement.getAttribute("data-suggest") || "/api/suggest";
  document.querySelectorAll("input[data-concept-picker]").forEach(function (input, n) {
    var list = document.createElement("datalist");
    list.id = "concept-picker-" + n;
    input.setAttribute("list", list.id);
    input.insertAdjacentElement("afterend", list);
    var timer = null;
    var asked = "";
    input.addEventListener("input", function () {
      var text = input.value.trim();
      if (timer) { clearTimeout(timer); }
      if (text.length < 3 || /^https?:/.test(text) || text === asked) { return; }
      var ask = function (tries) {
        asked = text;
        fetch(endpoint, {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ title: text, limit: 10 })
        }).then(function (answer) {
          if (answer.status === 503 && tries > 0) {  // the index is being made: ask again
            setTimeout(function () { ask(tries - 1); }, 1000);
            return { suggestions: [] };
          }
          return answer.ok ? answer.json() : { suggestions: [] };
        })
          .then(function (found) {
            list.textContent = "";
            (found.suggestions || []).forEach(function (s) {
              var option = document.createElement("option");
              option.value = s.iri;
              option.label = s.label;
              option.textContent = s.label;
              list.appendChild(option);
            });
          }).catch(function () { list.textContent = ""; });
      };
      timer = setTimeout(function () { ask(10); }, 250);
    });
  });
}());
