// Embed every chart spec on the page with the inlined vega-embed (window.vegaEmbed).
// Specs live in <script type="application/json" data-specnb-chart="<target id>">.
(function () {
  "use strict";
  var options = { actions: false, renderer: "svg" };
  var blocks = document.querySelectorAll("script[data-specnb-chart]");
  Array.prototype.forEach.call(blocks, function (block) {
    var target = document.getElementById(block.getAttribute("data-specnb-chart"));
    if (!target) { return; }
    var fail = function (err) {
      target.className += " specnb-chart-error";
      target.textContent = "Chart could not be rendered: " + (err && err.message ? err.message : err);
    };
    if (typeof window.vegaEmbed !== "function") { fail("vega-embed is missing"); return; }
    try {
      var spec = JSON.parse(block.textContent);
      var opts = Object.assign({ mode: block.getAttribute("data-specnb-mode") }, options);
      window.vegaEmbed(target, spec, opts).catch(fail);
    } catch (err) {
      fail(err);
    }
  });
})();
