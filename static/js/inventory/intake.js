// Intake form: once a maker or group is chosen, list only their products in each line.
// Without JavaScript every product is listed and the server still checks ownership.
(function () {
  "use strict";
  var owner = document.getElementById("owner");
  if (!owner) { return; }
  var selects = document.querySelectorAll("select[id^='lines-'][id$='-product_id']");

  function filter() {
    var chosen = owner.value;
    selects.forEach(function (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        var mine = !option.dataset.owner || !chosen || option.dataset.owner === chosen;
        option.hidden = !mine;
        option.disabled = !mine;
        if (!mine && option.selected) { select.value = ""; }
      });
    });
  }

  owner.addEventListener("change", filter);
  filter();
})();
