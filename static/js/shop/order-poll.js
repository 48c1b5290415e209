// The "payment is being processed" order page asks every few seconds where the order stands and
// reloads itself once the payment has succeeded or failed (Stripe's answer arrives by webhook).
(function () {
  "use strict";
  var panel = document.getElementById("payment-processing");
  if (!panel) { return; }
  var url = panel.getAttribute("data-status-url");
  var seen = panel.getAttribute("data-state");
  var tries = 0;
  function ask() {
    tries += 1;
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.status + ":" + data.payment !== seen) { window.location.reload(); return; }
        if (tries < 100) { window.setTimeout(ask, tries < 20 ? 3000 : 10000); }
      })
      .catch(function () { if (tries < 100) { window.setTimeout(ask, 10000); } });
  }
  window.setTimeout(ask, 3000);
})();
