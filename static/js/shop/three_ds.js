// Real Stripe keys only: complete 3-D Secure with Stripe.js, then let the server check the result.
(function () {
  "use strict";
  var box = document.getElementById("three-ds");
  if (!box || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(box.dataset.publishableKey);
  stripe.handleNextAction({ clientSecret: box.dataset.clientSecret }).then(function () {
    window.location.assign(box.dataset.returnUrl);
  });
})();
