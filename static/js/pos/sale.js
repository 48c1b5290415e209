/* The kasir's sale screen: scan/search, cart (kept in localStorage), tender, submit with an
 * Idempotency-Key generated once per cart (a retry after a dropped connection or a double
 * click is the same sale). Plain JS, no dependencies. The server computes and checks every
 * amount; the figures here are only shown to the kasir.
 *
 * Scanning never loses an item: Enter empties the field at once and the code joins a queue;
 * each code is looked up in the device's copy of the catalogue first (the server is asked only
 * for a code the copy does not know) and the answers are applied in the order scanned, so a
 * slow answer never discards or reorders another one.
 *
 * Every message comes from the server's translation catalogue (the JSON in #pos-messages). */
(function () {
  "use strict";

  var root = document.getElementById("pos");
  if (!root) { return; }

  /* ---- text: the same catalogue as the server's ------------------------------------------ */
  var MESSAGES = (function () {
    var el = document.getElementById("pos-messages");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  })();
  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(MESSAGES, key) ? MESSAGES[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (_m, name) {
      return params && params[name] !== undefined && params[name] !== null ? String(params[name]) : "";
    });
  }
  var english = (document.documentElement.lang || "id").indexOf("en") === 0;

  var shiftId = Number(root.dataset.shiftId);
  var sentraId = Number(root.dataset.sentraId);
  var csrf = root.dataset.csrf;
  var roundingUnit = Number(root.dataset.roundingUnit) || 1;
  var approvalBps = Number(root.dataset.approvalBps) || 10000;
  var storageKey = "pos-cart-" + shiftId;
  var sentraCode = root.dataset.sentraCode;
  var userId = Number(root.dataset.userId);
  var offline = window.PosOffline;
  var catalogue = null;  // the Sentra's products (IndexedDB copy): searched first, online or not
  var byCode = {};       // barcode and upper-cased SKU → product of `catalogue`
  var byId = {};
  // The browser may say "online" (Wi-Fi up) while the server is out of reach: a failed request
  // marks the server down until a probe gets through, and sales are kept offline meanwhile.
  var serverDown = false;
  function isOffline() { return navigator.onLine === false || serverDown; }

  var $ = function (id) { return document.getElementById(id); };
  var scan = $("scan"), results = $("results"), cartBody = $("cart-lines"), totalEl = $("total");
  var tender = $("tender"), done = $("done"), statusEl = $("status"), alertEl = $("alert");
  var tenderedInput = $("tendered"), amountInput = $("amount"), referenceInput = $("reference");
  var pinInput = $("approver-pin"), payButton = $("pay"), problemsEl = $("scan-problems");

  var METHOD_LABELS = MESSAGES.method_labels || {};
  var REF_LABELS = MESSAGES.reference_labels || {};
  var FIELD_INPUTS = { tendered: tenderedInput, amount: amountInput, reference: referenceInput, pin: pinInput };

  function uuid4() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* Every sale starts on cash: the method belongs to the cart, and a new cart is a cash one. */
  function newCart() { return { key: uuid4(), lines: [], payments: [], pending: false, selected: -1, method: "cash" }; }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storageKey) || "null");
      if (saved && saved.key && Array.isArray(saved.lines)) {
        if (!saved.method) { saved.method = "cash"; }
        return saved;
      }
    } catch (e) { /* a broken entry starts a new cart */ }
    return newCart();
  }

  var cart = load();
  var results_ = [], resultsQuery = "", active = -1, searchSeq = 0, searchTimer = null, inFlight = false;

  function save() { window.localStorage.setItem(storageKey, JSON.stringify(cart)); }

  function fmt(n) {
    var sep = english ? "," : ".";
    var s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, sep);
    return (n < 0 ? "-" : "") + (english ? "IDR " : "Rp ") + s;
  }

  function parseAmount(text) {
    var t_ = String(text || "").toLowerCase().replace(/^(rp\.?|idr)/, "").replace(/\s/g, "");
    if (!t_) { return null; }
    var m = t_.match(/^(\d+)(?:,(\d{1,3}))?(rb|ribu|k|jt|juta)$/);
    if (m) {
      var unit = m[3] === "jt" || m[3] === "juta" ? 1000000 : 1000;
      return Number(m[1]) * unit + (m[2] ? Math.round(Number("0." + m[2]) * unit) : 0);
    }
    if (/^\d{1,3}(\.\d{3})+$/.test(t_)) { t_ = t_.replace(/\./g, ""); }
    if (english && /^\d{1,3}(,\d{3})+$/.test(t_)) { t_ = t_.replace(/,/g, ""); }
    return /^\d+$/.test(t_) ? Number(t_) : NaN;
  }

  /* ---- messages: the page's live regions, or the payment panel's while it is open --------- */
  function tenderOpen() { return tender.open === true; }

  function say(text) {
    if (tenderOpen()) { $("tender-status").textContent = text; return; }
    alertEl.textContent = ""; statusEl.textContent = text;
  }

  /* A problem, shown where the kasir looks: next to the field it is about (and announced there),
   * in the open payment panel, or at the top of the sale screen. */
  function warn(text, field) {
    if (tenderOpen()) {
      var box = field && $(field + "-error");
      if (box && FIELD_INPUTS[field] && !FIELD_INPUTS[field].closest("[hidden]")) {
        box.textContent = text;
        FIELD_INPUTS[field].setAttribute("aria-invalid", "true");
        FIELD_INPUTS[field].focus();
        if (FIELD_INPUTS[field].select) { FIELD_INPUTS[field].select(); }
      } else {
        $("tender-error").textContent = text;
      }
      return;
    }
    statusEl.textContent = ""; alertEl.textContent = text;
  }

  function clearTenderErrors() {
    Object.keys(FIELD_INPUTS).forEach(function (name) {
      $(name + "-error").textContent = "";
      FIELD_INPUTS[name].removeAttribute("aria-invalid");
    });
    $("tender-error").textContent = "";
  }

  /* ---- cart math ---------------------------------------------------------------------------- */
  function lineGross(l) { return l.qty * l.price; }
  function lineTotal(l) { return lineGross(l) - l.discount; }
  function cartTotal() { return cart.lines.reduce(function (s, l) { return s + lineTotal(l); }, 0); }
  function roundCash(x) { return roundingUnit <= 1 ? x : Math.floor((x + Math.floor(roundingUnit / 2)) / roundingUnit) * roundingUnit; }
  function paidNonCash() { return cart.payments.filter(function (p) { return p.method !== "cash"; }).reduce(function (s, p) { return s + p.amount; }, 0); }
  function paidCash() { return cart.payments.filter(function (p) { return p.method === "cash"; }).reduce(function (s, p) { return s + p.amount; }, 0); }
  function needsApproval() {
    return cart.lines.some(function (l) { return l.discount * 10000 > lineGross(l) * approvalBps + 5000; });
  }
  function method() { var c = root.querySelector("input[name=method]:checked"); return c ? c.value : "cash"; }

  /* What is still to pay by `forMethod`. Only the part paid in cash is rounded (as the server
   * does): cash pays round(total − non-cash) − cash so far; any other tender pays exactly what
   * is left, so a split may start with cash as well as end with it. */
  function remaining(forMethod) {
    var total = cartTotal(), nonCash = paidNonCash(), cash = paidCash();
    if (forMethod === "cash") { return roundCash(total - nonCash) - cash; }
    return total - nonCash - cash;
  }

  /* Quick cash: the exact amount, then the next Rp 5.000 / 10.000 / 50.000 / 100.000 up. */
  function quickAmounts(due) {
    var out = [due];
    [5000, 10000, 50000, 100000].forEach(function (step) {
      var up = Math.ceil(due / step) * step;
      if (out.indexOf(up) < 0) { out.push(up); }
    });
    return out;
  }

  /* ---- rendering ---------------------------------------------------------------------------- */
  function render() {
    cartBody.textContent = "";
    if (!cart.lines.length) {
      var tr = document.createElement("tr"); tr.className = "empty";
      var td = document.createElement("td"); td.colSpan = 6; td.textContent = t("cart_empty");
      tr.appendChild(td); cartBody.appendChild(tr);
    }
    var selectedRow = null;
    cart.lines.forEach(function (l, i) {
      var tr = document.createElement("tr");
      if (i === cart.selected) { tr.className = "selected"; tr.setAttribute("aria-current", "true"); selectedRow = tr; }
      tr.addEventListener("click", function (ev) {
        if (ev.target.closest("button")) { return; }
        cart.selected = i; save(); render();
      });
      var name = el("td", "name", l.name);
      if (i === cart.selected) { name.appendChild(el("span", "marker", " ◀")); }
      tr.appendChild(name);
      var qty = el("td", "qty");
      qty.appendChild(lineButton("−", t("qty_less", { name: l.name }), function () { cart.selected = i; changeQty(-1); }));
      qty.appendChild(el("span", "qty-n", String(l.qty)));
      qty.appendChild(lineButton("+", t("qty_more", { name: l.name }), function () { cart.selected = i; changeQty(1); }));
      tr.appendChild(qty);
      [[fmt(l.price), "price"], [l.discount ? fmt(-l.discount) : "-", "disc"], [fmt(lineTotal(l)), "sum"]].forEach(function (v) {
        tr.appendChild(el("td", "num " + v[1], v[0]));
      });
      var actions = el("td", "act");
      actions.appendChild(lineButton("✕", t("line_remove", { name: l.name }), function () { cart.selected = i; removeSelected(); }));
      tr.appendChild(actions);
      cartBody.appendChild(tr);
    });
    if (selectedRow) { keepInView(selectedRow); }
    $("cart-count").textContent = cart.lines.length ? t("cart_count", { n: cart.lines.reduce(function (s, l) { return s + l.qty; }, 0) }) : "";
    totalEl.textContent = fmt(cartTotal());
    renderTender();
  }

  /* Scroll the cart (not the page: a finger on a tile stays on it) to show the selected line. */
  function keepInView(row) {
    var box = $("cart-scroll"), head = box.querySelector("thead");
    var c = box.getBoundingClientRect(), r = row.getBoundingClientRect();
    var top = c.top + (head ? head.getBoundingClientRect().height : 0);
    if (r.top < top) { box.scrollTop -= top - r.top; } else if (r.bottom > c.bottom) { box.scrollTop += r.bottom - c.bottom; }
  }

  function lineButton(text, label, onClick) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "secondary small"; b.textContent = text;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  function renderTender() {
    var m = method();
    var due = remaining(m);
    $("due").textContent = fmt(Math.max(0, due));
    var rounded = roundCash(cartTotal() - paidNonCash()) !== cartTotal() - paidNonCash();
    $("due-cash-note").textContent = (m === "cash" && rounded)
      ? t("cash_rounded", { total: fmt(cartTotal()), unit: fmt(roundingUnit) }) : "";
    $("cash-fields").hidden = m !== "cash";
    $("ref-fields").hidden = m === "cash";
    $("reference-label").textContent = REF_LABELS[m] || t("reference");
    renderQuick(m === "cash" ? due : 0);
    var list = $("payments"); list.textContent = "";
    cart.payments.forEach(function (p, i) {
      var li = el("li", "", (METHOD_LABELS[p.method] || p.method) + ": " + fmt(p.amount) + (p.reference ? " (" + p.reference + ")" : ""));
      var b = lineButton("✕", t("payment_remove", { method: METHOD_LABELS[p.method] || p.method, amount: fmt(p.amount) }), function () {
        if (!editable()) { return; }
        cart.payments.splice(i, 1); save(); clearTenderErrors(); render();
        say(t("payment_removed", { due: fmt(remaining(method())) }));
      });
      li.appendChild(b);
      list.appendChild(li);
    });
    $("payments-box").hidden = !cart.payments.length;
    $("approval").hidden = !needsApproval();
    var tendered = parseAmount(tenderedInput.value);
    var change = (m === "cash" && tendered && tendered > due) ? tendered - due : 0;
    $("change").textContent = fmt(change);
    $("change").parentNode.hidden = m !== "cash";
    payButton.disabled = inFlight;
    $("clear-cart").disabled = cart.pending || inFlight;
  }

  var quickShown = "";
  function renderQuick(due) {
    var box = $("quick-cash"), amounts = due > 0 ? quickAmounts(due) : [];
    var key = amounts.join(",");
    if (key === quickShown) { return; }
    var hadFocus = Array.prototype.indexOf.call(box.children, document.activeElement);
    quickShown = key;
    box.textContent = "";
    amounts.forEach(function (a, i) {
      var b = document.createElement("button");
      b.type = "button";
      if (i === 0) {
        b.id = "exact-cash"; b.textContent = t("exact_cash", { amount: fmt(a) });
        b.addEventListener("click", function () { tenderedInput.value = String(remaining("cash")); renderTender(); pay(); });
      } else {
        b.className = "secondary quick-cash"; b.textContent = fmt(a); b.dataset.amount = String(a);
        b.addEventListener("click", function () {
          tenderedInput.value = String(a); clearTenderErrors(); renderTender(); payButton.focus();
          say(t("change_will_be", { change: fmt(a - remaining("cash")) }));
        });
      }
      box.appendChild(b);
    });
    if (hadFocus >= 0 && box.children.length) { box.children[Math.min(hadFocus, box.children.length - 1)].focus(); }
  }

  function showResults(items, query) {
    results_ = items; resultsQuery = query || ""; active = items.length ? 0 : -1;
    results.textContent = "";
    items.forEach(function (p, i) {
      var li = document.createElement("li");
      li.id = "result-" + i; li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.textContent = p.name + " · " + p.sku + " · " + fmt(p.price) + " · " +
        (p.stock === null ? t("service") : t("stock_n", { n: p.stock }));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); hideResults(); schedule(function () { return addProduct(p); }); });
      results.appendChild(li);
    });
    results.hidden = !items.length;
    scan.setAttribute("aria-expanded", items.length ? "true" : "false");
    updateActive();
  }

  function updateActive() {
    Array.prototype.forEach.call(results.children, function (li, i) { li.setAttribute("aria-selected", i === active ? "true" : "false"); });
    if (active >= 0) { scan.setAttribute("aria-activedescendant", "result-" + active); } else { scan.removeAttribute("aria-activedescendant"); }
  }

  function hideResults() { showResults([]); }

  /* Scans that did not land (a code nobody knows, a piece out of stock), listed until the kasir
   * dismisses them: later scans of the same burst never push them out of sight. */
  var problems = [];
  function addProblem(code, text) {
    problems.push({ code: code, text: text });
    renderProblems();
  }
  function renderProblems() {
    problemsEl.textContent = "";
    problems.forEach(function (problem, i) {
      var li = el("li", "", problem.text);
      li.appendChild(lineButton("✕", t("dismiss_code", { code: problem.code }), function () {
        problems.splice(i, 1); renderProblems(); scan.focus();
      }));
      problemsEl.appendChild(li);
    });
    problemsEl.hidden = !problems.length;
  }

  /* ---- looking codes up: the device's catalogue first, then the server ---------------------- */
  function indexCatalogue() {
    byCode = {}; byId = {};
    ((catalogue && catalogue.products) || []).forEach(function (p) {
      byId[p.id] = p;
      if (p.barcode) { byCode[p.barcode] = p; }
      byCode["sku:" + String(p.sku).toUpperCase()] = p;
    });
    renderTiles();
  }

  function localLookup(q) {
    var exact = byCode[q] || byCode["sku:" + q.toUpperCase()];
    if (exact) { return { exact: exact, results: [exact] }; }
    var lower = q.toLowerCase();
    var found = ((catalogue && catalogue.products) || []).filter(function (p) {
      return p.name.toLowerCase().indexOf(lower) >= 0 || String(p.sku).toLowerCase().indexOf(lower) >= 0;
    }).slice(0, 12);
    return { exact: null, results: found };
  }

  /* A product the server knows and the copy did not (new, or its stock changed): kept in the
   * copy at once, and the whole copy refreshed soon after. */
  var refreshSoon = null;
  function learnProduct(p) {
    if (!catalogue) { catalogue = { products: [] }; }
    var products = catalogue.products;
    var i = products.findIndex ? products.findIndex(function (x) { return x.id === p.id; }) : -1;
    var merged = Object.assign({}, i >= 0 ? products[i] : {}, p);
    if (i >= 0) { products[i] = merged; } else { products.push(merged); }
    indexCatalogue();
    window.clearTimeout(refreshSoon);
    refreshSoon = window.setTimeout(function () { refreshFromServer(); }, 3000);
    return merged;
  }

  function serverLookup(q) {
    var url = root.dataset.productsUrl + "?sentra_id=" + sentraId + "&q=" + encodeURIComponent(q);
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) { return { error: res.body.detail || t("search_failed") }; }
        markUp();
        return res.body;
      }, function () { markDown(); return { network: true }; });
  }

  /* What a code means, as a promise: started when the code is queued, so a slow server answer
   * for one code runs while the next ones are looked up. */
  function resolveCode(q) {
    var local = localLookup(q);
    if (local.exact) { return Promise.resolve({ product: local.exact }); }
    if (local.results.length === 1) { return Promise.resolve({ product: local.results[0] }); }
    if (local.results.length > 1) { return Promise.resolve({ choices: local.results }); }
    if (navigator.onLine === false || (serverDown && catalogue)) {
      return Promise.resolve(catalogue ? { unknown: true } : { error: t("offline_no_catalogue") });
    }
    return serverLookup(q).then(function (body) {
      if (body.network) { return catalogue ? { unknown: true } : { error: t("search_offline") }; }
      if (body.error) { return body; }
      if (body.exact) { return { product: learnProduct(body.exact) }; }
      if (body.results.length === 1) { return { product: learnProduct(body.results[0]) }; }
      if (body.results.length) { return { choices: body.results }; }
      return { unknown: true };
    });
  }

  /* ---- the queue: scans, taps and line commands applied one after another, in order --------- */
  var queue = { pending: 0, chain: Promise.resolve(), idle: [], added: 0, lastAdded: null };

  function schedule(step) {
    queue.pending += 1; renderBusy();
    queue.chain = queue.chain.then(step).catch(function (e) { warn(t("scan_failed", { error: String(e) })); })
      .then(function () {
        queue.pending -= 1; renderBusy();
        if (!queue.pending) { drained(); }
      });
  }

  function whenIdle(fn) { if (!queue.pending) { fn(); } else { queue.idle.push(fn); } }

  function drained() {
    if (queue.added > 1) {
      say(t("added_many", { n: queue.added, total: fmt(cartTotal()) }));
    }
    queue.added = 0;
    var waiting = queue.idle; queue.idle = [];
    waiting.forEach(function (fn) { fn(); });
  }

  function renderBusy() {
    var text = queue.pending > 1 ? t("looking_up", { n: queue.pending }) : "";
    var box = $("scan-busy");
    if (box.textContent !== text) { box.textContent = text; }
    root.dataset.scanQueue = String(queue.pending);
  }

  function enqueueCode(raw) {
    var code = cleanCode(raw);
    if (!code) { return; }
    var answer = resolveCode(code);
    schedule(function () {
      return answer.then(function (res) {
        if (res.product) { return addProduct(res.product); }
        if (res.choices) {
          if (!scan.value) { scan.value = code; }
          showResults(res.choices, code);
          say(t("many_found", { n: res.choices.length }));
          return null;
        }
        if (res.unknown) { addProblem(code, t("not_found", { code: code })); return null; }  // listed and announced
        warn(res.error);
        return null;
      });
    });
  }

  function editable() {
    if (cart.pending || inFlight) { warn(t("payment_in_flight")); return false; }
    return true;
  }

  function countInCart(id) {
    return cart.lines.filter(function (l) { return l.id === id; }).reduce(function (s, l) { return s + l.qty; }, 0);
  }

  /* Add one piece; when the copy's stock says no, the server's current stock decides. */
  function addProduct(p, fresh) {
    if (!editable()) { return null; }
    if (p.stock !== null && p.stock !== undefined && countInCart(p.id) + 1 > p.stock) {
      if (!fresh && !isOffline()) {
        return serverLookup(p.barcode || p.sku).then(function (body) {
          if (body.exact && body.exact.id === p.id) { return addProduct(learnProduct(body.exact), true); }
          addProblem(p.barcode || p.sku, t("stock_short", { name: p.name, n: p.stock }));
          return null;
        });
      }
      addProblem(p.barcode || p.sku, t("stock_short", { name: p.name, n: p.stock }));
      return null;
    }
    hideResults();
    done.hidden = true;
    var idx = -1;
    cart.lines.forEach(function (l, i) { if (l.id === p.id && !l.discount) { idx = i; } });
    if (idx >= 0) { cart.lines[idx].qty += 1; cart.lines[idx].stock = p.stock; } else {
      cart.lines.push({ id: p.id, name: p.name, sku: p.sku, price: p.price, qty: 1, discount: 0, stock: p.stock,
                        credit: p.credit || null });
      idx = cart.lines.length - 1;
    }
    cart.selected = idx;
    save(); render();
    queue.added += 1;
    say(t("added", { name: p.name, qty: cart.lines[idx].qty, total: fmt(cartTotal()) }));
    return null;
  }

  function changeQty(delta) {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines[cart.selected];
    if (l.qty + delta < 1) { removeSelected(); return; }
    setQty(l.qty + delta);
  }

  function setQty(qty) {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines[cart.selected];
    if (!(qty >= 1) || qty > 9999) { warn(t("qty_range")); return; }
    if (l.stock !== null && l.stock !== undefined && qty > l.stock) { warn(t("stock_short", { name: l.name, n: l.stock })); return; }
    l.qty = qty;
    if (l.discount > lineGross(l)) { l.discount = lineGross(l); }
    save(); render(); say(t("qty_set", { name: l.name, qty: qty }));
  }

  function setDiscount(amount) {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines[cart.selected];
    if (!(amount >= 0) || amount > lineGross(l)) { warn(t("discount_range", { max: fmt(lineGross(l)) })); return; }
    l.discount = amount;
    save(); render();
    say(needsApproval() ? t("discount_set_approval", { name: l.name, amount: fmt(amount) })
                        : t("discount_set", { name: l.name, amount: fmt(amount) }));
  }

  function removeSelected() {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines.splice(cart.selected, 1)[0];
    cart.selected = Math.min(cart.selected, cart.lines.length - 1);
    save(); render(); say(t("removed", { name: l.name }));
  }

  /* ---- the scanner: prefix/suffix, end key and the gap that tells it from typing ------------ */
  var SETTINGS_KEY = "ska-pos-scanner";
  var DEFAULT_SETTINGS = { prefix: "", suffix: "", endKey: "Enter", gapMs: 35 };
  //: a burst shorter than this is typing, whatever its speed
  var SCAN_MIN_LENGTH = 4;
  function loadSettings() {
    try {
      var s = JSON.parse(window.localStorage.getItem(SETTINGS_KEY) || "null") || {};
      return {
        prefix: typeof s.prefix === "string" ? s.prefix : DEFAULT_SETTINGS.prefix,
        suffix: typeof s.suffix === "string" ? s.suffix : DEFAULT_SETTINGS.suffix,
        endKey: s.endKey === "Tab" ? "Tab" : "Enter",
        gapMs: s.gapMs > 0 && s.gapMs <= 1000 ? Math.round(s.gapMs) : DEFAULT_SETTINGS.gapMs,
      };
    } catch (e) { return Object.assign({}, DEFAULT_SETTINGS); }
  }
  var settings = loadSettings();

  function cleanCode(raw) {
    var code = String(raw || "").trim();
    if (settings.prefix && code.indexOf(settings.prefix) === 0) { code = code.slice(settings.prefix.length); }
    if (settings.suffix && code.length >= settings.suffix.length &&
        code.slice(code.length - settings.suffix.length) === settings.suffix) {
      code = code.slice(0, code.length - settings.suffix.length);
    }
    return code.trim();
  }

  /* The last printable keys and when they came: a burst is a run of keys into the same element,
   * each within `gapMs` of the one before — faster than a person types. */
  var burst = { target: null, count: 0, last: 0, before: "", gaps: [] };
  function trackKey(ev) {
    var now = ev.timeStamp || Date.now();
    if (ev.key && ev.key.length === 1 && !ev.ctrlKey && !ev.altKey && !ev.metaKey) {
      var gap = now - burst.last;
      if (burst.target === ev.target && gap <= settings.gapMs) {
        burst.count += 1; burst.gaps.push(gap);
      } else {
        burst = { target: ev.target, count: 1, last: now, gaps: [],
                  before: ev.target && typeof ev.target.value === "string" ? ev.target.value : "" };
      }
      burst.last = now;
    }
  }
  function isBurst(target) {
    return burst.target === target && burst.count >= SCAN_MIN_LENGTH;
  }
  function isTextField(node) {
    if (!node || !node.tagName) { return false; }
    if (node.isContentEditable || node.tagName === "TEXTAREA" || node.tagName === "SELECT") { return true; }
    return node.tagName === "INPUT" && !/^(button|submit|reset|checkbox|radio|range|color|file|image)$/.test(node.type);
  }

  document.addEventListener("keydown", function (ev) {
    trackKey(ev);
    var target = ev.target;
    if (target === scan || ev.defaultPrevented || ev.ctrlKey || ev.altKey || ev.metaKey) { return; }
    var inSettings = target.closest && target.closest("#scanner-settings");
    var isEnd = ev.key === settings.endKey || ev.key === "Enter";
    // A scan that went into a money or PIN field (a product code is never cash received): taken
    // back out of that field and queued like any other scan. A reference field keeps what a
    // scanner reads into it (a QRIS reference shown on the buyer's phone).
    if (isEnd && target.hasAttribute && target.hasAttribute("data-scan-guard") && isBurst(target) &&
        typeof target.value === "string" && target.value.indexOf(burst.before) === 0) {
      var code = target.value.slice(burst.before.length);
      target.value = burst.before;
      target.dispatchEvent(new Event("input", { bubbles: true }));
      burst.count = 0;
      ev.preventDefault(); ev.stopPropagation();
      enqueueCode(code);
      return;
    }
    // Digits typed with the focus on a button of the payment panel: the cash received.
    if (tenderOpen() && !isTextField(target) && /^[0-9]$/.test(ev.key) && method() === "cash") {
      ev.preventDefault();
      tenderedInput.focus();
      burst.target = tenderedInput; burst.before = burst.count > 1 ? burst.before : tenderedInput.value;
      tenderedInput.value += ev.key;
      tenderedInput.dispatchEvent(new Event("input", { bubbles: true }));
      return;
    }
    // Typing (or a scanner) with the focus on a button, a tile or the page: into the scan field.
    if (!tenderOpen() && !isTextField(target) && !inSettings && ev.key && ev.key.length === 1 && ev.key !== " ") {
      ev.preventDefault();
      scan.focus();
      if (!scan.value && (ev.key === "+" || ev.key === "-")) { changeQty(ev.key === "+" ? 1 : -1); return; }
      scan.value += ev.key;
      burst.target = scan;
      scan.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }, true);

  function onEnter() {
    var v = scan.value.trim();
    if (!results.hidden && active >= 0 && results_[active] && (!v || v === resultsQuery) && !/^[*/]/.test(v)) {
      var picked = results_[active];
      scan.value = ""; hideResults();
      schedule(function () { return addProduct(picked); });
      return;
    }
    scan.value = "";  // at once: the next scan starts in an empty field
    window.clearTimeout(searchTimer); searchSeq += 1;
    hideResults();
    if (!v) { openTender(); return; }
    if (v.charAt(0) === "*") { schedule(function () { setQty(Number(v.slice(1))); }); return; }
    if (v.charAt(0) === "/") { schedule(function () { setDiscount(parseAmount(v.slice(1))); }); return; }
    enqueueCode(v);
  }

  scan.addEventListener("keydown", function (ev) {
    var empty = scan.value === "";
    if (ev.key === "Enter") { ev.preventDefault(); onEnter(); }
    else if (ev.key === "Tab" && settings.endKey === "Tab" && !empty && isBurst(scan)) { ev.preventDefault(); onEnter(); }
    else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      var step = ev.key === "ArrowDown" ? 1 : -1;
      if (!results.hidden && results_.length) {
        active = (active + step + results_.length) % results_.length; updateActive();
      } else if (cart.lines.length) {
        cart.selected = Math.max(0, Math.min(cart.lines.length - 1, cart.selected + step)); save(); render();
        say(t("selected", { name: cart.lines[cart.selected].name }));
      }
    } else if (empty && (ev.key === "+" || ev.key === "-")) { ev.preventDefault(); changeQty(ev.key === "+" ? 1 : -1); }
    else if (empty && ev.key === "Delete") { ev.preventDefault(); removeSelected(); }
    else if (ev.key === "Escape") { hideResults(); }
  });

  /* Search as you type (a person typing a name): the device's catalogue, the server only when
   * the catalogue has nothing. A scanner's burst searches nothing. */
  scan.addEventListener("input", function () {
    var v = scan.value.trim();
    window.clearTimeout(searchTimer);
    if (v.length < 2 || /^[*/]/.test(v)) { hideResults(); return; }
    var seq = ++searchSeq;
    searchTimer = window.setTimeout(function () {
      if (isBurst(scan) && burst.count >= v.length) { return; }
      var local = localLookup(v);
      if (local.results.length || !catalogue || isOffline()) {
        if (scan.value.trim() === v) { showResults(local.results, v); }
        return;
      }
      serverLookup(v).then(function (body) {
        if (seq === searchSeq && body.results && scan.value.trim() === v) { showResults(body.results, v); }
      });
    }, 200);
  });

  /* ---- the settings panel (per device) ------------------------------------------------------ */
  function showSettings() {
    $("scanner-prefix").value = settings.prefix;
    $("scanner-suffix").value = settings.suffix;
    $("scanner-end").value = settings.endKey;
    $("scanner-gap").value = String(settings.gapMs);
  }
  $("scanner-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var gap = Number($("scanner-gap").value);
    var err = $("scanner-gap-error");
    if (!(gap >= 5 && gap <= 1000) || Math.round(gap) !== gap) {
      err.textContent = t("gap_range"); $("scanner-gap").setAttribute("aria-invalid", "true"); $("scanner-gap").focus();
      return;
    }
    err.textContent = ""; $("scanner-gap").removeAttribute("aria-invalid");
    settings = { prefix: $("scanner-prefix").value, suffix: $("scanner-suffix").value,
                 endKey: $("scanner-end").value === "Tab" ? "Tab" : "Enter", gapMs: gap };
    window.localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
    $("scanner-saved").textContent = t("scanner_saved");
  });
  /* The test field: what the scanner sent and how fast, to choose the gap. */
  var probeKeys = [];
  $("scanner-test").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" || ev.key === "Tab") {
      if (!probeKeys.length) { return; }
      ev.preventDefault();
      var gaps = probeKeys.slice(1).map(function (k, i) { return k - probeKeys[i]; });
      var maxGap = gaps.length ? Math.round(Math.max.apply(null, gaps)) : 0;
      $("scanner-test-result").textContent = t("scanner_test_result", {
        code: cleanCode($("scanner-test").value), n: probeKeys.length, gap: maxGap, key: ev.key });
      probeKeys = []; $("scanner-test").value = "";
    } else if (ev.key.length === 1) { probeKeys.push(ev.timeStamp); }
  });
  showSettings();

  /* ---- tiles: products without a barcode to scan (kuliner, tickets), by category and favourite */
  var FAV_KEY = "ska-pos-favourites-" + sentraId;
  var tileFilter = null, editingFavourites = false;
  function favourites() {
    try {
      var ids = JSON.parse(window.localStorage.getItem(FAV_KEY) || "null");
      if (Array.isArray(ids)) { return ids; }
    } catch (e) { /* the default below */ }
    // Until the kasir picks: services and tickets, which carry no barcode label.
    return ((catalogue && catalogue.products) || []).filter(function (p) { return p.kind === "service"; })
      .slice(0, 24).map(function (p) { return p.id; });
  }
  function toggleFavourite(p) {
    var ids = favourites(), i = ids.indexOf(p.id);
    if (i >= 0) { ids.splice(i, 1); } else { ids.push(p.id); }
    window.localStorage.setItem(FAV_KEY, JSON.stringify(ids));
    say(i >= 0 ? t("favourite_removed", { name: p.name }) : t("favourite_added", { name: p.name }));
    renderTiles();
  }

  function renderTiles() {
    var products = (catalogue && catalogue.products) || [];
    var filters = $("tile-filters"), grid = $("tile-grid");
    // Rebuilt after a refresh of the catalogue: the focus stays on the same tile or filter.
    var focused = document.activeElement, focusTile = null, focusFilter = null;
    if (focused && grid.contains(focused)) { focusTile = focused.dataset.productId; }
    if (focused && filters.contains(focused)) { focusFilter = focused.textContent; }
    var favs = favourites();
    var categories = [];
    products.forEach(function (p) { if (categories.indexOf(p.category) < 0) { categories.push(p.category); } });
    categories.sort(function (a, b) { return a.localeCompare(b); });
    if (tileFilter === null || (tileFilter !== "" && categories.indexOf(tileFilter) < 0)) {
      tileFilter = favs.length || !categories.length ? "" : categories[0];
    }
    filters.textContent = "";
    [""].concat(categories).forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button"; b.className = "secondary filter";
      b.textContent = c === "" ? t("favourites") : c;
      b.setAttribute("aria-pressed", c === tileFilter ? "true" : "false");
      b.addEventListener("click", function () { tileFilter = c; renderTiles(); });
      filters.appendChild(b);
    });
    var shown = tileFilter === ""
      ? favs.map(function (id) { return products.filter(function (p) { return p.id === id; })[0]; }).filter(Boolean)
      : products.filter(function (p) { return p.category === tileFilter; });
    grid.textContent = "";
    shown.slice(0, 120).forEach(function (p) {
      var li = document.createElement("li");
      var b = document.createElement("button");
      b.type = "button"; b.className = "tile"; b.dataset.productId = String(p.id);
      b.appendChild(el("span", "tile-name", p.name));
      b.appendChild(el("span", "tile-price", fmt(p.price)));
      if (p.stock !== null && p.stock !== undefined) { b.appendChild(el("span", "tile-stock", t("stock_n", { n: p.stock }))); }
      if (editingFavourites) {
        var fav = favs.indexOf(p.id) >= 0;
        b.setAttribute("aria-pressed", fav ? "true" : "false");
        b.classList.add("editing");
        b.insertBefore(el("span", "tile-star", fav ? "★ " : "☆ "), b.firstChild);
        b.addEventListener("click", function () { toggleFavourite(p); });
      } else {
        b.addEventListener("click", function () { schedule(function () { return addProduct(p); }); });
      }
      li.appendChild(b);
      grid.appendChild(li);
    });
    Array.prototype.forEach.call(filters.children, function (b) { if (focusFilter !== null && b.textContent === focusFilter) { b.focus(); } });
    if (focusTile !== null) {
      var again = grid.querySelector("[data-product-id='" + focusTile + "']");
      (again || filters.querySelector("[aria-pressed=true]") || scan).focus();
    }
    $("tiles-empty").textContent = shown.length ? "" : (catalogue ? (tileFilter === "" ? t("no_favourites") : "") : t("tiles_loading"));
    var edit = $("tiles-edit");
    edit.setAttribute("aria-pressed", editingFavourites ? "true" : "false");
    edit.textContent = t("favourites_edit");
  }
  $("tiles-edit").addEventListener("click", function () {
    editingFavourites = !editingFavourites;
    say(editingFavourites ? t("favourites_editing") : t("favourites_saved"));
    renderTiles();
  });

  /* ---- the payment panel -------------------------------------------------------------------- */
  var openWhenIdle = false;
  function openTender() {
    if (queue.pending) {
      if (!openWhenIdle) { openWhenIdle = true; say(t("waiting_for_items")); whenIdle(function () { openWhenIdle = false; openTender(); }); }
      return;
    }
    if (!cart.lines.length) { warn(t("cart_empty_scan")); scan.focus(); return; }
    hideResults();
    done.hidden = true;
    var radio = root.querySelector("input[name=method][value='" + (cart.payments.length ? cart.method || "cash" : "cash") + "']");
    if (radio) { radio.checked = true; }
    if (!cart.payments.length) { cart.method = "cash"; }
    tenderedInput.value = ""; amountInput.value = ""; referenceInput.value = "";
    clearTenderErrors(); $("tender-status").textContent = "";
    if (!tenderOpen()) { tender.showModal(); }
    render();
    say(t("due_prompt", { due: fmt(remaining(method())) }));
    focusTenderField();
  }

  function focusTenderField() {
    if (method() === "cash") { ($("exact-cash") || tenderedInput).focus(); } else { referenceInput.focus(); }
  }

  function closeTender() {
    if (tenderOpen()) { tender.close(); }
    scan.focus();
  }
  tender.addEventListener("cancel", function (ev) { ev.preventDefault(); closeTender(); });

  function currentEntry(forSplit) {
    var m = method(), due = remaining(m);
    if (due <= 0) { return { error: t("already_paid") }; }
    if (m === "cash") {
      var raw = tenderedInput.value.trim();
      var tendered = raw ? parseAmount(raw) : due;
      if (!(tendered > 0)) { return { error: t("cash_invalid"), field: "tendered" }; }
      if (tendered < due) {
        if (!forSplit) { return { error: t("cash_short", { tendered: fmt(tendered), due: fmt(due) }), field: "tendered" }; }
        if (roundingUnit > 1 && tendered % roundingUnit) {
          return { error: t("cash_split_unit", { unit: fmt(roundingUnit) }), field: "tendered" };
        }
        return { payment: { method: "cash", amount: tendered, tendered: tendered } };
      }
      return { payment: { method: "cash", amount: due, tendered: tendered } };
    }
    var rawAmount = amountInput.value.trim();
    var amount = rawAmount ? parseAmount(rawAmount) : due;
    if (!(amount > 0) || amount > due) { return { error: t("amount_range", { max: fmt(due) }), field: "amount" }; }
    var ref = referenceInput.value.trim();
    if (!ref) { return { error: t("reference_required", { label: REF_LABELS[m] || t("reference") }), field: "reference" }; }
    return { payment: { method: m, amount: amount, tendered: null, reference: ref } };
  }

  $("add-payment").addEventListener("click", function () {
    if (!editable()) { return; }
    clearTenderErrors();
    var e = currentEntry(true);
    if (e.error) { warn(e.error, e.field); return; }
    cart.payments.push(e.payment); save();
    tenderedInput.value = ""; amountInput.value = ""; referenceInput.value = "";
    render();
    say(t("payment_added", { method: METHOD_LABELS[e.payment.method] || e.payment.method, amount: fmt(e.payment.amount) }) + " " +
        t("due_rest", { due: fmt(Math.max(0, remaining(method()))) }));
    focusTenderField();
  });

  function buildPayments() {
    var payments = cart.payments.slice();
    var m = method();
    if (remaining(m) > 0 || !payments.length) {
      var e = currentEntry(false);
      if (e.error) { return e; }
      payments.push(e.payment);
    }
    return { payments: payments };
  }

  /* The field a refusal from the server is about (problem+json `field` or `errors`). */
  function problemField(body) {
    var f = body && (body.field || (body.errors && Object.keys(body.errors)[0])) || "";
    if (f === "approver_pin" || f === "approver_id") { return "pin"; }
    if (/\.tendered$/.test(f)) { return "tendered"; }
    if (/\.reference$/.test(f)) { return "reference"; }
    return null;
  }

  function problemText(body, status) {
    if (body && body.detail) { return body.detail; }
    return t("server_status", { status: status });
  }

  function pay() {
    if (inFlight) { return; }
    if (queue.pending) { whenIdle(pay); return; }
    clearTenderErrors();
    if (isOffline()) { payOffline(); return; }
    var body;
    if (cart.pending && cart.lastBody) {
      body = cart.lastBody;  // resend exactly what may already have been recorded
    } else {
      var built = buildPayments();
      if (built.error) { warn(built.error, built.field); return; }
      body = {
        shift_id: shiftId,
        lines: cart.lines.map(function (l) { return { product_id: l.id, quantity: l.qty, discount: l.discount }; }),
        payments: built.payments,
      };
      if (needsApproval()) {
        var pin = pinInput.value;
        if (!pin) { warn(t("pin_needed"), "pin"); return; }
        body.approver_id = Number($("approver").value); body.approver_pin = pin;
      }
      cart.lastBody = body;
    }
    inFlight = true; cart.pending = true; save(); renderTender();
    say(t("sending"));
    fetch(root.dataset.salesUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "Idempotency-Key": cart.key, "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) { return { status: r.status, data: data }; });
    }).then(function (res) {
      inFlight = false;
      if (res.status === 201 && res.data) { markUp(); finish(res.data, body); return; }
      var field = null;
      if (res.status >= 400 && res.status < 500) {
        // Refused and nothing written: the kasir may fix the cart; the next try is a new sale.
        cart.pending = false; delete cart.lastBody; cart.key = uuid4(); save();
        if (body.approver_pin) { pinInput.value = ""; }
        field = problemField(res.data);
        // The server's total differs (a price changed since the catalogue was saved): fetch it.
        if (res.data && res.data.due !== undefined) { refreshFromServer(); }
      }
      renderTender();
      warn(problemText(res.data, res.status) + (res.status >= 500 ? " " + t("retry_safe") : ""), field);
    }).catch(function () {
      inFlight = false; save(); renderTender();
      markDown();
      warn(t("connection_lost"));
      payButton.focus();
    });
  }

  /* No connection: the sale is kept on this device with a provisional receipt number and sent
   * later with the same Idempotency-Key (if an earlier attempt did reach the server, the sync
   * gets that sale back instead of making a second one). */
  function payOffline() {
    if (!offline) { warn(t("offline_unavailable")); return; }
    var body;
    if (cart.pending && cart.lastBody) {
      body = JSON.parse(JSON.stringify(cart.lastBody));
      delete body.approver_id; delete body.approver_pin;
    } else {
      if (needsApproval()) { warn(t("offline_approval"), "pin"); return; }
      var built = buildPayments();
      if (built.error) { warn(built.error, built.field); return; }
      body = { shift_id: shiftId,
               lines: cart.lines.map(function (l) { return { product_id: l.id, quantity: l.qty, discount: l.discount }; }),
               payments: built.payments };
    }
    body.offline = true;
    body.sold_at = new Date().toISOString();
    body.lines.forEach(function (bl, i) { bl.unit_price = cart.lines[i] ? cart.lines[i].price : bl.unit_price; });
    inFlight = true; renderTender();
    offline.deviceCode(sentraId).then(function (device) {
      if (!device) {
        inFlight = false; renderTender();
        warn(t("device_unregistered"));
        return;
      }
      body.device_code = device;
      var entry = { key: cart.key, sentraId: sentraId, sentraCode: sentraCode, device: device, shiftId: shiftId,
                    userId: userId, body: body, receipt: receiptData(body) };
      return offline.enqueue(entry).then(function (saved) {
        inFlight = false;
        offline.takeLocalStock(sentraId, body.lines).then(loadCatalogue);
        finishOffline(saved);
      });
    }).catch(function (e) {
      inFlight = false; renderTender();
      warn(t("offline_save_failed", { error: String(e) }));
    });
  }

  function receiptData(body) {
    var sentra = (catalogue && catalogue.sentra) || { name: root.dataset.sentraName, address: "" };
    var lines = cart.lines.map(function (l) {
      return { name: l.name, qty: l.qty, price: l.price, discount: l.discount, credit: l.credit || null };
    });
    var total = cartTotal();
    var paid = body.payments.reduce(function (s, p) { return s + p.amount; }, 0);
    var tendered = body.payments.reduce(function (s, p) { return s + (p.tendered !== null && p.tendered !== undefined ? p.tendered : p.amount); }, 0);
    return { sentra: sentra, cashier: root.dataset.cashierName, soldAt: body.sold_at, lines: lines, total: total,
             discountTotal: lines.reduce(function (s, l) { return s + l.discount; }, 0),
             subtotal: lines.reduce(function (s, l) { return s + l.qty * l.price; }, 0),
             rounding: paid - total, paid: paid, tendered: tendered, change: tendered - paid,
             payments: body.payments.map(function (p) { return { label: METHOD_LABELS[p.method] || p.method, reference: p.reference || "", amount: p.tendered || p.amount }; }) };
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }

  function row(table, left, right, cls) {
    var tr = el("tr", cls || ""), a = el("td", "", left), b = el("td", "num", right);
    tr.appendChild(a); tr.appendChild(b); table.appendChild(tr);
  }

  /* The printable receipt, laid out like the 80 mm PDF; printed with the browser (window.print). */
  function renderReceipt(r) {
    var box = $("receipt-print");
    box.textContent = "";
    box.appendChild(el("h1", "", r.sentra.name));
    var head = el("p", "center small");
    [r.sentra.receipt_header, r.sentra.address].forEach(function (x) { if (x) { head.appendChild(el("span", "", x)); head.appendChild(el("br")); } });
    box.appendChild(head);
    box.appendChild(el("p", "copy", t("receipt_offline_banner")));
    box.appendChild(el("hr"));
    var meta = el("table", "small");
    row(meta, t("receipt_offline_number"), r.offlineNumber);
    row(meta, t("receipt_time"), new Date(r.soldAt).toLocaleString(english ? "en-GB" : "id-ID", { timeZone: r.sentra.timezone || undefined }));
    row(meta, t("receipt_cashier"), r.cashier || "-");
    box.appendChild(meta); box.appendChild(el("hr"));
    var items = el("table");
    r.lines.forEach(function (l) {
      var tr = el("tr"), td = el("td", "item", l.name); td.colSpan = 2; tr.appendChild(td); items.appendChild(tr);
      row(items, l.qty + " × " + fmt(l.price), fmt(l.qty * l.price));
      if (l.discount) { row(items, t("receipt_discount"), "-" + fmt(l.discount)); }
      if (l.credit) { var c = el("tr"), ct = el("td", "credit", t("receipt_credit", { name: l.credit })); ct.colSpan = 2; c.appendChild(ct); items.appendChild(c); }
    });
    box.appendChild(items); box.appendChild(el("hr"));
    var sums = el("table");
    if (r.discountTotal) { row(sums, t("receipt_subtotal"), fmt(r.subtotal)); row(sums, t("receipt_discount_total"), "-" + fmt(r.discountTotal)); }
    row(sums, t("receipt_total"), fmt(r.total), "total");
    if (r.rounding) { row(sums, t("receipt_rounding"), fmt(r.rounding)); row(sums, t("receipt_paid"), fmt(r.paid)); }
    r.payments.forEach(function (p) { row(sums, p.label + (p.reference ? " (" + p.reference + ")" : ""), fmt(p.amount)); });
    row(sums, t("receipt_change"), fmt(r.change), "change");
    box.appendChild(sums); box.appendChild(el("hr"));
    var foot = el("p", "center small");
    if (r.sentra.receipt_footer) { foot.appendChild(el("span", "", r.sentra.receipt_footer)); foot.appendChild(el("br")); }
    foot.appendChild(el("span", "", t("receipt_thanks")));
    foot.appendChild(el("br"));
    foot.appendChild(el("span", "", t("receipt_after_sync")));
    box.appendChild(foot);
  }

  /* ---- the done panel: its buttons always belong to the sale just made ---------------------- */
  var doneOffline = null;  // the provisional number shown, while that sale waits to sync

  function showDone(number, change) {
    closeTender();
    done.hidden = false;
    $("done-number").textContent = number;
    $("done-change").textContent = fmt(change);
  }

  function showServerReceipt(sale) {
    $("receipt-link").href = sale.receipt_pdf_url;
    $("ereceipt-link").href = sale.receipt_url;
    $("receipt-link").hidden = false; $("ereceipt-link").hidden = false;
    $("print-offline").hidden = true; $("done-note").textContent = "";
  }

  function finishOffline(entry) {
    cart = newCart(); save();
    problems = []; renderProblems();
    showDone(t("offline_number", { number: entry.number }), entry.receipt.change);
    doneOffline = entry.number;
    $("receipt-link").hidden = true; $("ereceipt-link").hidden = true;
    $("receipt-link").removeAttribute("href"); $("ereceipt-link").removeAttribute("href");
    $("print-offline").hidden = false;
    $("done-note").textContent = t("offline_not_synced");
    renderReceipt(entry.receipt);
    if (window.PosPrint) { window.PosPrint.afterOfflineSale(); }
    tenderedInput.value = ""; pinInput.value = "";
    render();
    say(t("offline_done", { number: entry.number, change: fmt(entry.receipt.change) }));
    refreshSyncStatus();
    scan.focus();
  }

  function finish(sale, body) {
    cart = newCart(); save();
    problems = []; renderProblems();
    showDone(sale.number, sale.change);
    doneOffline = null;
    showServerReceipt(sale);
    tenderedInput.value = ""; pinInput.value = "";
    render();
    say(t("done", { number: sale.number, change: fmt(sale.change) }));
    // The device's copy of the stock follows the sale (the server's figure comes with the next refresh).
    if (offline && body) { offline.takeLocalStock(sentraId, body.lines).then(loadCatalogue, function () {}); }
    if (window.PosPrint) { window.PosPrint.afterSale(sale); }  // print.js: no new tab; a failure keeps the sale
    scan.focus();
  }

  /* The offline sale on the done panel was synced: its buttons now open the server's receipt. */
  function onSynced(synced) {
    synced.forEach(function (s) {
      if (doneOffline && s.offline_number === doneOffline && s.receipt_pdf_url) {
        $("done-number").textContent = t("offline_synced_number", { offline: s.offline_number, number: s.number });
        showServerReceipt(s);
        doneOffline = null;
      }
    });
  }

  tenderedInput.addEventListener("input", function () { $("tendered-error").textContent = ""; tenderedInput.removeAttribute("aria-invalid"); renderTender(); });
  [amountInput, referenceInput, pinInput].forEach(function (input) {
    input.addEventListener("input", function () {
      var name = input === pinInput ? "pin" : input.id;
      $(name + "-error").textContent = ""; input.removeAttribute("aria-invalid");
    });
  });
  [tenderedInput, amountInput, referenceInput, pinInput].forEach(function (input) {
    input.addEventListener("keydown", function (ev) { if (ev.key === "Enter" && !ev.defaultPrevented) { ev.preventDefault(); pay(); } });
  });
  var pointerAt = 0;
  tender.addEventListener("pointerdown", function () { pointerAt = Date.now(); });
  Array.prototype.forEach.call(root.querySelectorAll("input[name=method]"), function (r) {
    r.addEventListener("change", function () {
      cart.method = method(); save();
      clearTenderErrors(); renderTender();
      if (Date.now() - pointerAt < 1000) { focusTenderField(); }  // a tap; arrow keys keep the focus
    });
  });
  payButton.addEventListener("click", pay);
  $("open-tender").addEventListener("click", openTender);
  $("close-tender").addEventListener("click", closeTender);
  $("new-sale").addEventListener("click", function () { done.hidden = true; scan.focus(); });
  $("clear-cart").addEventListener("click", function () {
    if (!editable()) { return; }
    cart = newCart(); save(); problems = []; renderProblems(); render(); say(t("cart_cleared")); scan.focus();
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "F9") { ev.preventDefault(); if (tenderOpen()) { pay(); } else { openTender(); } }
  });

  $("visitor-add").addEventListener("click", function () {
    fetch(root.dataset.visitorsUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ sentra_id: sentraId }),
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.count !== undefined) { $("visitor-count").textContent = data.count; say(t("visitors_today", { n: data.count })); }
      else { warn(data.detail || t("visitor_failed")); }
    }).catch(function () { warn(t("visitor_offline")); });
  });

  $("print-offline").addEventListener("click", function () {
    document.body.classList.add("printing-receipt");
    window.print();
    document.body.classList.remove("printing-receipt");
  });

  /* ---- offline mode: catalogue copy, device code, service worker, queue indicator, sync ---- */
  var syncStatus = $("sync-status"), syncer = null, lastRejected = "";

  function loadCatalogue() {
    if (!offline) { return Promise.resolve(); }
    return offline.getCatalogue(sentraId).then(function (data) {
      if (data) { catalogue = data; indexCatalogue(); repriceCart(); }
    });
  }

  /* The server's prices (and stock) reach the cart with every fresh copy of the catalogue, so
   * what the kasir shows is what the server will charge; a change is said out loud. */
  function repriceCart() {
    if (cart.pending || inFlight) { return; }
    var changed = [];
    cart.lines.forEach(function (l) {
      var p = byId[l.id];
      if (!p) { return; }
      l.stock = p.stock;
      if (p.price !== l.price) {
        changed.push(t("price_changed", { name: l.name, old: fmt(l.price), price: fmt(p.price) }));
        l.price = p.price;
        if (l.discount > lineGross(l)) { l.discount = lineGross(l); }
      }
    });
    if (changed.length) { save(); render(); warn(changed.join(" ")); }
  }

  function refreshSyncStatus() {
    if (!offline) { syncStatus.textContent = t("offline_unsupported"); return Promise.resolve(); }
    return offline.pending().then(function (entries) {
      var n = entries.length;
      var rejected = entries.filter(function (e) { return e.rejected; });
      var text = (navigator.onLine === false ? t("sync_offline") : serverDown ? t("sync_server_down") : t("sync_online")) + " · " +
        (n ? t("sync_waiting", { n: n }) : t("sync_all_done"));
      if (rejected.length) { text += " · " + t("sync_rejected", { n: rejected.length, reason: rejected[0].rejected }); }
      if (syncStatus.textContent !== text) { syncStatus.textContent = text; }
      root.dataset.queue = String(n);
      root.classList.toggle("is-offline", isOffline());
      if (rejected.length && rejected[0].rejected !== lastRejected) {
        lastRejected = rejected[0].rejected;
        warn(t("sync_rejected_alert", { number: rejected[0].number, reason: rejected[0].rejected }));
      }
    });
  }

  function markDown() { if (!serverDown) { serverDown = true; refreshSyncStatus(); } }
  function markUp() {
    if (!serverDown) { return; }
    serverDown = false; refreshSyncStatus();
    if (syncer) { syncer.now(); }
  }
  function probe() {
    if (!serverDown || navigator.onLine === false) { return; }
    fetch(root.dataset.sessionUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (r.ok) { markUp(); refreshFromServer(); } }, function () { /* still down */ });
  }

  function refreshFromServer() {
    if (!offline || navigator.onLine === false) { return Promise.resolve(); }
    var cat = fetch(root.dataset.catalogueUrl + "?sentra_id=" + sentraId, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.products) { return offline.saveCatalogue(sentraId, data); } })
      .catch(function () { /* keep the last copy */ });
    var dev = offline.ensureDevice(sentraId, root.dataset.devicesUrl, csrf).catch(function () { return null; });
    return Promise.all([cat, dev]).then(loadCatalogue);
  }

  function cacheThisPage() {
    if (!("serviceWorker" in navigator) || !window.caches) { return Promise.reject(new Error("no service worker")); }
    return navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.swScope })
      .then(function () { return navigator.serviceWorker.ready; })
      .then(function () {
        if (navigator.onLine === false) { return; }
        return fetch(window.location.pathname, { credentials: "same-origin" }).then(function (r) {
          if (!r.ok || r.redirected) { return; }
          return caches.open("pos-pages").then(function (c) {
            return Promise.all([c.put(window.location.pathname, r.clone()), c.put("/pos/__last-sale-page__", r)]);
          });
        });
      }).catch(function () { throw new Error("no offline copy"); /* selling online still works */ });
  }

  if (offline) {
    // Ask the browser not to evict the queue under storage pressure (installed PWAs get it).
    if (navigator.storage && navigator.storage.persist) { navigator.storage.persist().catch(function () {}); }
    cacheThisPage().then(function () { root.dataset.pageCached = "1"; }, function () { root.dataset.pageCached = "0"; });
    loadCatalogue().then(refreshFromServer).then(function () {
      return offline.deviceCode(sentraId);
    }).then(function (device) {
      root.dataset.device = device || "";
      root.dataset.offlineReady = device && catalogue ? "1" : "0";
      refreshSyncStatus();
    });
    syncer = offline.autoSync({
      sessionUrl: root.dataset.sessionUrl, salesUrl: root.dataset.salesUrl, periodMs: 15000,
      onResult: function (res) {
        if (res && res.stopped === "network") { markDown(); } else if (res && res.synced && res.synced.length) { markUp(); }
        refreshSyncStatus();
        if (res && res.synced && res.synced.length) {
          onSynced(res.synced);
          say(t("synced", { n: res.synced.length, list: res.synced.map(function (x) { return x.offline_number + " → " + x.number; }).join(", ") }));
          refreshFromServer();
        } else if (res && res.stopped === "login") {
          warn(t("sync_login"));
        }
      },
    });
    $("sync-now").addEventListener("click", function () {
      if (navigator.onLine === false) { warn(t("sync_still_offline")); return; }
      say(t("syncing"));
      syncer.now();
    });
    window.addEventListener("online", function () { refreshSyncStatus(); refreshFromServer(); });
    window.addEventListener("offline", refreshSyncStatus);
    window.setInterval(refreshSyncStatus, 5000);
    window.setInterval(probe, 5000);
    window.setInterval(refreshFromServer, 5 * 60 * 1000);  // prices and stock stay fresh while online
  }

  renderTiles();
  render();
  if (cart.pending) { warn(t("pending_after_reload")); }
  scan.focus();
})();
