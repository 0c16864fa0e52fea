"use strict";
// The query page: YASGUI (when installed) plus the example gallery.
// ?example=<slug> loads an example; adding &run=1 also runs it.
(function () {
  var endpointPath = document.getElementById("endpoint").dataset.endpoint;
  var endpoint = new URL(endpointPath, window.location.href).href;
  var params = new URLSearchParams(window.location.search);
  var yasgui = null;
  if (window.Yasgui) {
    yasgui = new window.Yasgui(document.getElementById("yasgui"), {
      requestConfig: { endpoint: endpoint, method: "POST" },
      copyEndpointOnNewTab: false,
      persistenceId: null
    });
  }
  function load(query, run) {
    if (yasgui) {
      var tab = yasgui.getTab();
      tab.setQuery(query);
      if (run) { tab.query(); }
    } else {
      var area = document.getElementById("plain-query");
      if (area) { area.value = query; }
      if (run) { document.getElementById("plain-form").submit(); }
    }
  }
  var buttons = document.querySelectorAll("button.example");
  buttons.forEach(function (button) {
    button.addEventListener("click", function () { load(button.dataset.query, true); });
  });
  var slug = params.get("example");
  if (slug) {
    var chosen = document.querySelector('button.example[data-slug="' + CSS.escape(slug) + '"]');
    if (chosen) { load(chosen.dataset.query, params.get("run") === "1"); }
  }
})();
