/* The kasir's sale screen: scan/search, cart (kept in localStorage), tender, submit with an
 * Idempotency-Key generated once per cart (a retry after a dropped connection or a double
 * click is the same sale). Plain JS, no dependencies. The server computes and checks every
 * amount; the figures here are only shown to the kasir. */
(function () {
  "use strict";

  var root = document.getElementById("pos");
  if (!root) { return; }
  var shiftId = Number(root.dataset.shiftId);
  var sentraId = Number(root.dataset.sentraId);
  var csrf = root.dataset.csrf;
  var roundingUnit = Number(root.dataset.roundingUnit) || 1;
  var approvalBps = Number(root.dataset.approvalBps) || 10000;
  var storageKey = "pos-cart-" + shiftId;
  var sentraCode = root.dataset.sentraCode;
  var userId = Number(root.dataset.userId);
  var offline = window.PosOffline;
  var catalogue = null;  // the Sentra's products for searching offline (IndexedDB copy)
  // The browser may say "online" (Wi-Fi up) while the server is out of reach: a failed request
  // marks the server down until a probe gets through, and sales are kept offline meanwhile.
  var serverDown = false;
  function isOffline() { return navigator.onLine === false || serverDown; }

  var $ = function (id) { return document.getElementById(id); };
  var scan = $("scan"), results = $("results"), cartBody = $("cart-lines"), totalEl = $("total");
  var tender = $("tender"), done = $("done"), statusEl = $("status"), alertEl = $("alert");
  var tenderedInput = $("tendered"), amountInput = $("amount"), referenceInput = $("reference");
  var payButton = $("pay");

  var REF_LABELS = { qris: "Nomor referensi QRIS", card: "Kode persetujuan EDC", transfer: "Referensi transfer bank" };
  var METHOD_LABELS = { cash: "Tunai", qris: "QRIS", card: "Kartu (EDC)", transfer: "Transfer bank" };

  function uuid4() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function newCart() { return { key: uuid4(), lines: [], payments: [], pending: false, selected: -1 }; }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(storageKey) || "null");
      if (saved && saved.key && Array.isArray(saved.lines)) { return saved; }
    } catch (e) { /* a broken entry starts a new cart */ }
    return newCart();
  }

  var cart = load();
  var results_ = [], active = -1, searchSeq = 0, searchTimer = null, inFlight = false;

  function save() { window.localStorage.setItem(storageKey, JSON.stringify(cart)); }

  function fmt(n) {
    var s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ".");
    return (n < 0 ? "-" : "") + "Rp " + s;
  }

  function parseAmount(text) {
    var t = String(text || "").toLowerCase().replace(/rp\.?/, "").replace(/\s/g, "");
    if (!t) { return null; }
    var m = t.match(/^(\d+)(?:,(\d{1,3}))?(rb|k|jt)$/);
    if (m) {
      var unit = m[3] === "jt" ? 1000000 : 1000;
      return Number(m[1]) * unit + (m[2] ? Math.round(Number("0." + m[2]) * unit) : 0);
    }
    if (/^\d{1,3}(\.\d{3})+$/.test(t)) { t = t.replace(/\./g, ""); }
    return /^\d+$/.test(t) ? Number(t) : NaN;
  }

  function say(text) { alertEl.textContent = ""; statusEl.textContent = text; }
  function warn(text) { statusEl.textContent = ""; alertEl.textContent = text; }

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

  /* What is still to pay: cash is rounded, other tenders pay exactly. */
  function remaining(forMethod) {
    var total = cartTotal(), nonCash = paidNonCash(), cash = paidCash();
    if (forMethod === "cash" || cash > 0) { return roundCash(total - nonCash) - cash; }
    return total - nonCash;
  }

  function render() {
    cartBody.textContent = "";
    if (!cart.lines.length) {
      var tr = document.createElement("tr"); tr.className = "empty";
      var td = document.createElement("td"); td.colSpan = 6; td.textContent = "Keranjang kosong.";
      tr.appendChild(td); cartBody.appendChild(tr);
    }
    cart.lines.forEach(function (l, i) {
      var tr = document.createElement("tr");
      if (i === cart.selected) { tr.className = "selected"; tr.setAttribute("aria-current", "true"); }
      var name = document.createElement("td");
      name.textContent = l.name + (i === cart.selected ? " ◀" : "");
      tr.appendChild(name);
      [String(l.qty), fmt(l.price), l.discount ? fmt(-l.discount) : "-", fmt(lineTotal(l))].forEach(function (v) {
        var c = document.createElement("td"); c.className = "num"; c.textContent = v; tr.appendChild(c);
      });
      var actions = document.createElement("td");
      [["−", "Kurangi", -1], ["+", "Tambah", 1], ["✕", "Hapus", 0]].forEach(function (spec) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "secondary small"; b.textContent = spec[0];
        b.setAttribute("aria-label", spec[1] + " " + l.name);
        b.addEventListener("click", function () { cart.selected = i; if (spec[2]) { changeQty(spec[2]); } else { removeSelected(); } });
        actions.appendChild(b);
      });
      tr.appendChild(actions);
      cartBody.appendChild(tr);
    });
    totalEl.textContent = fmt(cartTotal());
    renderTender();
  }

  function renderTender() {
    var m = method();
    var due = remaining(m);
    $("due").textContent = fmt(due);
    $("due-cash-note").textContent = (m === "cash" && roundCash(cartTotal() - paidNonCash()) !== cartTotal() - paidNonCash())
      ? "Total " + fmt(cartTotal()) + ", tunai dibulatkan ke " + fmt(roundingUnit) + "." : "";
    $("cash-fields").hidden = m !== "cash";
    $("ref-fields").hidden = m === "cash";
    $("reference-label").textContent = REF_LABELS[m] || "Referensi";
    var list = $("payments"); list.textContent = "";
    cart.payments.forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = METHOD_LABELS[p.method] + ": " + fmt(p.amount) + (p.reference ? " (" + p.reference + ")" : "");
      list.appendChild(li);
    });
    $("approval").hidden = !needsApproval();
    var tendered = parseAmount(tenderedInput.value);
    var change = (m === "cash" && tendered && tendered > due) ? tendered - due : 0;
    $("change").textContent = fmt(change);
    var locked = cart.pending || inFlight;
    payButton.disabled = inFlight;
    $("clear-cart").disabled = locked;
  }

  function showResults(items) {
    results_ = items; active = items.length ? 0 : -1;
    results.textContent = "";
    items.forEach(function (p, i) {
      var li = document.createElement("li");
      li.id = "result-" + i; li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === active ? "true" : "false");
      li.textContent = p.name + " · " + p.sku + " · " + fmt(p.price) + (p.stock === null ? " · layanan" : " · stok " + p.stock);
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); addProduct(p); });
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

  /* Search the device's copy of the catalogue: same answer shape as /pos/api/products. */
  function localLookup(q) {
    var products = (catalogue && catalogue.products) || [];
    var upper = q.toUpperCase(), lower = q.toLowerCase();
    var exact = products.filter(function (p) { return p.barcode === q || String(p.sku).toUpperCase() === upper; })[0];
    if (exact) { return { exact: exact, results: [exact] }; }
    var found = products.filter(function (p) {
      return p.name.toLowerCase().indexOf(lower) >= 0 || String(p.sku).toLowerCase().indexOf(lower) >= 0;
    }).slice(0, 12);
    return { exact: null, results: found };
  }

  function lookup(q) {
    if (isOffline() && catalogue) { return Promise.resolve(localLookup(q)); }
    if (navigator.onLine === false) { warn("Offline dan katalog belum tersimpan di perangkat ini."); return Promise.resolve(null); }
    var seq = ++searchSeq;
    var url = root.dataset.productsUrl + "?sentra_id=" + sentraId + "&q=" + encodeURIComponent(q);
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (seq !== searchSeq) { return null; }
        if (!res.ok) { warn(res.body.detail || "Pencarian gagal."); return null; }
        return res.body;
      })
      .catch(function () {
        if (seq !== searchSeq) { return null; }
        markDown();
        if (catalogue) { return localLookup(q); }
        warn("Koneksi terputus: pencarian gagal. Coba lagi."); return null;
      });
  }

  function editable() {
    if (cart.pending || inFlight) { warn("Pembayaran sedang dikirim/menunggu kepastian. Tekan Bayar untuk mengirim ulang."); return false; }
    return true;
  }

  function addProduct(p) {
    if (!editable()) { return; }
    hideResults(); scan.value = "";
    done.hidden = true;
    var idx = -1;
    cart.lines.forEach(function (l, i) { if (l.id === p.id && !l.discount) { idx = i; } });
    var inCart = cart.lines.filter(function (l) { return l.id === p.id; }).reduce(function (s, l) { return s + l.qty; }, 0);
    if (p.stock !== null && inCart + 1 > p.stock) {
      warn("Stok " + p.name + " tidak cukup: tersisa " + p.stock + ".");
      return;
    }
    if (idx >= 0) { cart.lines[idx].qty += 1; } else {
      cart.lines.push({ id: p.id, name: p.name, sku: p.sku, price: p.price, qty: 1, discount: 0, stock: p.stock,
                        credit: p.credit || null });
      idx = cart.lines.length - 1;
    }
    cart.selected = idx;
    save(); render();
    say("Ditambahkan: " + p.name + " (" + cart.lines[idx].qty + "). Total " + fmt(cartTotal()) + ".");
  }

  function changeQty(delta) {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines[cart.selected];
    setQty(l.qty + delta);
  }

  function setQty(qty) {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines[cart.selected];
    if (!(qty >= 1) || qty > 9999) { warn("Jumlah harus antara 1 dan 9999."); return; }
    if (l.stock !== null && qty > l.stock) { warn("Stok " + l.name + " tidak cukup: tersisa " + l.stock + "."); return; }
    l.qty = qty;
    if (l.discount > lineGross(l)) { l.discount = lineGross(l); }
    save(); render(); say(l.name + ": jumlah " + qty + ".");
  }

  function setDiscount(amount) {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines[cart.selected];
    if (!(amount >= 0) || amount > lineGross(l)) { warn("Diskon harus antara Rp 0 dan " + fmt(lineGross(l)) + "."); return; }
    l.discount = amount;
    save(); render();
    say(l.name + ": diskon " + fmt(amount) + (needsApproval() ? " — perlu PIN manajer saat bayar." : "."));
  }

  function removeSelected() {
    if (!editable() || cart.selected < 0) { return; }
    var l = cart.lines.splice(cart.selected, 1)[0];
    cart.selected = Math.min(cart.selected, cart.lines.length - 1);
    save(); render(); say("Dihapus: " + l.name + ".");
  }

  function onEnter() {
    var v = scan.value.trim();
    if (!results.hidden && active >= 0 && results_[active] && v && !/^[*/]/.test(v)) {
      addProduct(results_[active]); return;
    }
    if (!v) { openTender(); return; }
    if (v.charAt(0) === "*") { setQty(Number(v.slice(1))); scan.value = ""; return; }
    if (v.charAt(0) === "/") { setDiscount(parseAmount(v.slice(1))); scan.value = ""; return; }
    window.clearTimeout(searchTimer);
    lookup(v).then(function (body) {
      if (!body) { return; }
      if (body.exact) { addProduct(body.exact); return; }
      if (body.results.length === 1) { addProduct(body.results[0]); return; }
      if (!body.results.length) { warn("Barang dengan kode/nama “" + v + "” tidak ditemukan."); scan.select(); return; }
      showResults(body.results); say(body.results.length + " barang cocok. Pilih dengan panah lalu Enter.");
    });
  }

  scan.addEventListener("keydown", function (ev) {
    var empty = scan.value === "";
    if (ev.key === "Enter") { ev.preventDefault(); onEnter(); }
    else if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      var step = ev.key === "ArrowDown" ? 1 : -1;
      if (!results.hidden && results_.length) {
        active = (active + step + results_.length) % results_.length; updateActive();
      } else if (cart.lines.length) {
        cart.selected = Math.max(0, Math.min(cart.lines.length - 1, cart.selected + step)); save(); render();
        say("Terpilih: " + cart.lines[cart.selected].name + ".");
      }
    } else if (empty && (ev.key === "+" || ev.key === "-")) { ev.preventDefault(); changeQty(ev.key === "+" ? 1 : -1); }
    else if (empty && ev.key === "Delete") { ev.preventDefault(); removeSelected(); }
    else if (ev.key === "Escape") { hideResults(); }
  });

  scan.addEventListener("input", function () {
    var v = scan.value.trim();
    window.clearTimeout(searchTimer);
    if (v.length < 2 || /^[*/]/.test(v)) { hideResults(); return; }
    searchTimer = window.setTimeout(function () {
      lookup(v).then(function (body) { if (body && scan.value.trim() === v) { showResults(body.results); } });
    }, 200);
  });

  function openTender() {
    if (!cart.lines.length) { warn("Keranjang kosong: pindai barang dulu."); scan.focus(); return; }
    hideResults();
    tender.hidden = false; done.hidden = true;
    tenderedInput.value = ""; amountInput.value = ""; referenceInput.value = "";
    render();
    say("Harus dibayar " + fmt(remaining(method())) + ". Enter = uang pas.");
    (method() === "cash" ? $("exact-cash") : referenceInput).focus();
  }

  function closeTender() { tender.hidden = true; scan.focus(); }

  function currentEntry() {
    var m = method(), due = remaining(m);
    if (due <= 0) { return { error: "Sudah lunas; tekan Bayar." }; }
    if (m === "cash") {
      var tendered = tenderedInput.value.trim() ? parseAmount(tenderedInput.value) : due;
      if (!(tendered >= 0)) { return { error: "Uang diterima tidak valid. Contoh: 50000 atau 50rb." }; }
      if (tendered < due && cart.payments.length === 0) {
        return { error: "Uang diterima " + fmt(tendered) + " kurang dari " + fmt(due) + ". Tambahkan pembayaran lain (split) atau minta uang lagi." };
      }
      var applied = Math.min(tendered, due);
      return { payment: { method: "cash", amount: applied, tendered: tendered } };
    }
    var amount = amountInput.value.trim() ? parseAmount(amountInput.value) : due;
    if (!(amount > 0) || amount > due) { return { error: "Jumlah harus antara Rp 1 dan " + fmt(due) + "." }; }
    var ref = referenceInput.value.trim();
    if (!ref) { return { error: (REF_LABELS[m] || "Referensi") + " wajib diisi." }; }
    return { payment: { method: m, amount: amount, tendered: null, reference: ref } };
  }

  $("add-payment").addEventListener("click", function () {
    if (!editable()) { return; }
    var e = currentEntry();
    if (e.error) { warn(e.error); return; }
    cart.payments.push(e.payment); save();
    tenderedInput.value = ""; amountInput.value = ""; referenceInput.value = "";
    render(); say("Pembayaran dicatat. Sisa " + fmt(remaining(method())) + ".");
  });

  function buildPayments() {
    var payments = cart.payments.slice();
    var m = method();
    if (remaining(m) > 0 || !payments.length) {
      var e = currentEntry();
      if (e.error) { return { error: e.error }; }
      payments.push(e.payment);
    }
    return { payments: payments };
  }

  function problemText(body, status) {
    if (body && body.detail) { return body.detail; }
    return "Server menjawab " + status + ". Coba lagi.";
  }

  function pay() {
    if (inFlight) { return; }
    if (isOffline()) { payOffline(); return; }
    var body;
    if (cart.pending && cart.lastBody) {
      body = cart.lastBody;  // resend exactly what may already have been recorded
    } else {
      var built = buildPayments();
      if (built.error) { warn(built.error); return; }
      body = {
        shift_id: shiftId,
        lines: cart.lines.map(function (l) { return { product_id: l.id, quantity: l.qty, discount: l.discount }; }),
        payments: built.payments,
      };
      if (needsApproval()) {
        var pin = $("approver-pin").value;
        if (!pin) { warn("Diskon di atas batas: manajer perlu memasukkan PIN."); $("approver-pin").focus(); return; }
        body.approver_id = Number($("approver").value); body.approver_pin = pin;
      }
      cart.lastBody = body;
    }
    inFlight = true; cart.pending = true; save(); renderTender();
    say("Mengirim pembayaran…");
    fetch(root.dataset.salesUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "Idempotency-Key": cart.key, "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) { return { status: r.status, data: data }; });
    }).then(function (res) {
      inFlight = false;
      if (res.status === 201 && res.data) { finish(res.data); return; }
      if (res.status >= 400 && res.status < 500) {
        // Refused and nothing written: the kasir may fix the cart; the next try is a new sale.
        cart.pending = false; delete cart.lastBody; cart.key = uuid4(); save();
        if (cart.lastBody) { delete cart.lastBody; }
        if (body.approver_pin) { $("approver-pin").value = ""; }
      }
      warn(problemText(res.data, res.status) + (res.status >= 500 ? " Tekan Bayar untuk mencoba lagi (tidak akan dobel)." : ""));
      renderTender();
    }).catch(function () {
      inFlight = false; save(); renderTender();
      markDown();
      warn("Koneksi terputus. Tekan Bayar lagi: transaksi ini tidak akan tercatat dua kali " +
           "(tanpa koneksi ke server, disimpan di perangkat dan dikirim nanti dengan kunci yang sama).");
      payButton.focus();
    });
  }

  /* No connection: the sale is kept on this device with a provisional receipt number and sent
   * later with the same Idempotency-Key (if an earlier attempt did reach the server, the sync
   * gets that sale back instead of making a second one). */
  function payOffline() {
    if (!offline) { warn("Penyimpanan offline tidak tersedia di peramban ini."); return; }
    var body;
    if (cart.pending && cart.lastBody) {
      body = JSON.parse(JSON.stringify(cart.lastBody));
      delete body.approver_id; delete body.approver_pin;
    } else {
      if (needsApproval()) { warn("Diskon di atas batas perlu PIN manajer, dan PIN hanya bisa diperiksa saat online. Kurangi diskon atau tunggu koneksi."); return; }
      var built = buildPayments();
      if (built.error) { warn(built.error); return; }
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
        warn("Perangkat ini belum terdaftar untuk penjualan offline. Sambungkan ke internet sekali, lalu coba lagi.");
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
      warn("Penjualan offline gagal disimpan di perangkat: " + e + ". Jangan serahkan barang; coba lagi.");
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
    [r.sentra.receipt_header, r.sentra.address].forEach(function (t) { if (t) { head.appendChild(el("span", "", t)); head.appendChild(el("br")); } });
    box.appendChild(head);
    box.appendChild(el("p", "copy", "OFFLINE — belum tersinkron"));
    box.appendChild(el("hr"));
    var meta = el("table", "small");
    row(meta, "No. offline", r.offlineNumber);
    row(meta, "Waktu", new Date(r.soldAt).toLocaleString("id-ID", { timeZone: r.sentra.timezone || undefined }));
    row(meta, "Kasir", r.cashier || "-");
    box.appendChild(meta); box.appendChild(el("hr"));
    var items = el("table");
    r.lines.forEach(function (l) {
      var tr = el("tr"), td = el("td", "item", l.name); td.colSpan = 2; tr.appendChild(td); items.appendChild(tr);
      row(items, l.qty + " × " + fmt(l.price), fmt(l.qty * l.price));
      if (l.discount) { row(items, "Diskon", "-" + fmt(l.discount)); }
      if (l.credit) { var c = el("tr"), ct = el("td", "credit", "Karya: " + l.credit); ct.colSpan = 2; c.appendChild(ct); items.appendChild(c); }
    });
    box.appendChild(items); box.appendChild(el("hr"));
    var sums = el("table");
    if (r.discountTotal) { row(sums, "Subtotal", fmt(r.subtotal)); row(sums, "Total diskon", "-" + fmt(r.discountTotal)); }
    row(sums, "TOTAL", fmt(r.total), "total");
    if (r.rounding) { row(sums, "Pembulatan", fmt(r.rounding)); row(sums, "Dibayar", fmt(r.paid)); }
    r.payments.forEach(function (p) { row(sums, p.label + (p.reference ? " (" + p.reference + ")" : ""), fmt(p.amount)); });
    row(sums, "Kembalian", fmt(r.change), "change");
    box.appendChild(sums); box.appendChild(el("hr"));
    var foot = el("p", "center small");
    if (r.sentra.receipt_footer) { foot.appendChild(el("span", "", r.sentra.receipt_footer)); foot.appendChild(el("br")); }
    foot.appendChild(el("span", "", "Terima kasih telah mendukung karya penerima manfaat Sentra Kreasi ATENSI."));
    foot.appendChild(el("br"));
    foot.appendChild(el("span", "", "Struk resmi dengan nomor server tersedia setelah sinkron."));
    box.appendChild(foot);
  }

  function finishOffline(entry) {
    cart = newCart(); save();
    tender.hidden = true; done.hidden = false;
    $("done-number").textContent = entry.number + " (offline)";
    $("done-change").textContent = fmt(entry.receipt.change);
    $("receipt-link").hidden = true; $("ereceipt-link").hidden = true; $("print-offline").hidden = false;
    renderReceipt(entry.receipt);
    if (window.PosPrint) { window.PosPrint.afterOfflineSale(); }
    tenderedInput.value = ""; $("approver-pin").value = "";
    render();
    say("Transaksi offline " + entry.number + " disimpan di perangkat. Kembalian " + fmt(entry.receipt.change) + ". Akan dikirim ke server saat online.");
    refreshSyncStatus();
    scan.focus();
  }

  function finish(sale) {
    cart = newCart(); save();
    tender.hidden = true; done.hidden = false;
    $("done-number").textContent = sale.number;
    $("done-change").textContent = fmt(sale.change);
    $("receipt-link").href = sale.receipt_pdf_url;
    $("ereceipt-link").href = sale.receipt_url;
    $("receipt-link").hidden = false; $("ereceipt-link").hidden = false; $("print-offline").hidden = true;
    tenderedInput.value = ""; $("approver-pin").value = "";
    render();
    say("Transaksi " + sale.number + " selesai. Kembalian " + fmt(sale.change) + ".");
    if (window.PosPrint) { window.PosPrint.afterSale(sale); }  // print.js: no new tab; a failure keeps the sale
    scan.focus();
  }

  $("exact-cash").addEventListener("click", function () {
    var due = remaining("cash");
    if (due <= 0) { pay(); return; }
    tenderedInput.value = String(due); renderTender(); pay();
  });
  Array.prototype.forEach.call(root.querySelectorAll(".quick-cash"), function (b) {
    b.addEventListener("click", function () { tenderedInput.value = b.dataset.amount; renderTender(); payButton.focus(); });
  });
  tenderedInput.addEventListener("input", renderTender);
  tenderedInput.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); pay(); } });
  referenceInput.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); pay(); } });
  Array.prototype.forEach.call(root.querySelectorAll("input[name=method]"), function (r) {
    r.addEventListener("change", renderTender);
  });
  payButton.addEventListener("click", pay);
  $("open-tender").addEventListener("click", openTender);
  $("close-tender").addEventListener("click", closeTender);
  $("new-sale").addEventListener("click", function () { done.hidden = true; scan.focus(); });
  $("clear-cart").addEventListener("click", function () {
    if (!editable()) { return; }
    cart = newCart(); save(); render(); say("Keranjang dikosongkan."); scan.focus();
  });
  tender.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { closeTender(); } });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "F9") { ev.preventDefault(); openTender(); }
  });

  $("visitor-add").addEventListener("click", function () {
    fetch(root.dataset.visitorsUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ sentra_id: sentraId }),
    }).then(function (r) { return r.json(); }).then(function (data) {
      if (data.count !== undefined) { $("visitor-count").textContent = data.count; say("Pengunjung hari ini: " + data.count + "."); }
      else { warn(data.detail || "Gagal menghitung pengunjung."); }
    }).catch(function () { warn("Koneksi terputus: pengunjung belum terhitung."); });
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
    return offline.getCatalogue(sentraId).then(function (data) { catalogue = data; });
  }

  function refreshSyncStatus() {
    if (!offline) { syncStatus.textContent = "Mode offline tidak tersedia di peramban ini."; return Promise.resolve(); }
    return offline.pending().then(function (entries) {
      var n = entries.length;
      var rejected = entries.filter(function (e) { return e.rejected; });
      var text = (navigator.onLine === false ? "Offline" : serverDown ? "Server tidak terjangkau" : "Online") + " · " +
        (n ? n + " penjualan menunggu sinkron" : "semua penjualan tersinkron");
      if (rejected.length) { text += " · " + rejected.length + " ditolak server: " + rejected[0].rejected; }
      if (syncStatus.textContent !== text) { syncStatus.textContent = text; }
      root.dataset.queue = String(n);
      root.classList.toggle("is-offline", isOffline());
      if (rejected.length && rejected[0].rejected !== lastRejected) { lastRejected = rejected[0].rejected; warn("Penjualan offline " + rejected[0].number + " ditolak server: " + rejected[0].rejected + " Hubungi manajer."); }
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
          say(res.synced.length + " penjualan offline tersinkron: " + res.synced.map(function (x) { return x.offline_number + " → " + x.number; }).join(", ") + ".");
          refreshFromServer();
        } else if (res && res.stopped === "login") {
          warn("Sinkron tertunda: sesi login berakhir. Masuk lagi sebagai kasir yang sama.");
        }
      },
    });
    $("sync-now").addEventListener("click", function () {
      if (navigator.onLine === false) { warn("Masih offline: penjualan dikirim otomatis saat koneksi kembali."); return; }
      say("Menyinkronkan…");
      syncer.now();
    });
    window.addEventListener("online", function () { refreshSyncStatus(); refreshFromServer(); });
    window.addEventListener("offline", refreshSyncStatus);
    window.setInterval(refreshSyncStatus, 5000);
    window.setInterval(probe, 5000);
    window.setInterval(refreshFromServer, 5 * 60 * 1000);  // prices and stock stay fresh while online
  }

  render();
  if (cart.pending) { warn("Pembayaran terakhir belum pasti terkirim. Buka pembayaran (F9) lalu tekan Bayar untuk mengirim ulang — tidak akan dobel."); }
  scan.focus();
})();
