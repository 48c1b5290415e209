// Real Stripe keys only: Stripe Elements collects the card, we post only the PaymentMethod id.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  var mount = document.getElementById("card-element");
  if (!form || !mount || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card", { hidePostalCode: true });
  card.mount(mount);
  var errors = document.getElementById("card-errors");
  form.addEventListener("submit", function (event) {
    var hidden = form.querySelector("input[name=stripe_payment_method]");
    if (hidden.value) { return; }
    event.preventDefault();
    form.querySelector("button[type=submit]").disabled = true;
    stripe.createPaymentMethod({ type: "card", card: card }).then(function (result) {
      if (result.error) {
        errors.textContent = result.error.message;
        form.querySelector("button[type=submit]").disabled = false;
        return;
      }
      hidden.value = result.paymentMethod.id;
      form.submit();
    });
  });
})();
