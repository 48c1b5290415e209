/* Printing at the counter without a new tab.
 *
 * The counter device keeps its printer settings in this browser (localStorage "pos-printer"):
 * paper width (58 / 80 mm), how to print — the PDF through the browser's print (a hidden frame:
 * one dialog, or none with Chrome's --kiosk-printing), or raw ESC/POS bytes straight to a USB /
 * serial printer with Web Serial or WebUSB (the printer is picked once on /pos/printer and
 * remembered) — the QR mode, the cash-drawer kick and auto-print after a sale.
 *
 * Every printable document has a PDF and an ESC/POS form side by side (".../struk.pdf" and
 * ".../struk.escpos"). An element with `data-print` (its value, or its href: the PDF's URL) prints
 * it; F8 presses the retry button or the first visible `data-print-default` element. A printer
 * that is off or unplugged never undoes a sale: the message says so and "Coba cetak lagi" retries.
 * Messages come from the server's catalogue (#print-messages, rendered by pos/_print.html).
 */
(function () {
  "use strict";

  var KEY = "pos-printer";
  var DEFAULTS = { paper: "80", via: "pdf", qr: "native", drawer: true, auto: true, baud: 9600, device: null };
  var CHOICES = { paper: ["80", "58"], via: ["pdf", "serial", "usb"], qr: ["native", "gambar", "tidak"] };
  var TIMEOUT_MS = 20000;

  var messages = {};
  try { messages = JSON.parse((document.getElementById("print-messages") || {}).textContent || "{}"); } catch (e) { /* keys */ }
  function t(key, vars) {
    var text = messages[key] || key;
    Object.keys(vars || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(String(vars[name])); });
    return text;
  }

  function settings() {
    var saved = null;
    try { saved = JSON.parse(window.localStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
    var s = {};
    Object.keys(DEFAULTS).forEach(function (k) { s[k] = saved && saved[k] !== undefined ? saved[k] : DEFAULTS[k]; });
    Object.keys(CHOICES).forEach(function (k) { if (CHOICES[k].indexOf(String(s[k])) < 0) { s[k] = DEFAULTS[k]; } s[k] = String(s[k]); });
    s.drawer = s.drawer !== false; s.auto = s.auto !== false;
    s.baud = Number(s.baud) || DEFAULTS.baud;
    return s;
  }

  function save(changes) {
    var s = settings();
    Object.keys(changes).forEach(function (k) { s[k] = changes[k]; });
    window.localStorage.setItem(KEY, JSON.stringify(s));
    markPaper();
    return settings();
  }

  /* The offline receipt (printed from the page itself) follows the paper width too (pos.css). */
  function markPaper() { document.documentElement.setAttribute("data-kertas", settings().paper); }

  function withParams(url, params) {
    var u = new URL(url, window.location.href);
    Object.keys(params).forEach(function (k) { if (params[k] !== null && params[k] !== undefined) { u.searchParams.set(k, params[k]); } });
    return u.pathname + u.search;
  }

  function escposUrl(pdfUrl) {
    var u = new URL(pdfUrl, window.location.href);
    u.pathname = u.pathname.replace(/\.pdf$/, ".escpos");
    return u.pathname + u.search;
  }

  function failure(key, vars) { var e = new Error(t(key, vars)); e.printError = key; return e; }

  function timeout(promise, key) {
    return new Promise(function (resolve, reject) {
      var timer = window.setTimeout(function () { reject(failure(key)); }, TIMEOUT_MS);
      promise.then(function (v) { window.clearTimeout(timer); resolve(v); },
                   function (e) { window.clearTimeout(timer); reject(e); });
    });
  }

  /* The way this device prints now: a direct printer needs its browser API (Chromium, https or localhost). */
  function transport(s) {
    if (s.via === "serial" && navigator.serial) { return "serial"; }
    if (s.via === "usb" && navigator.usb) { return "usb"; }
    return "pdf";
  }

  /* ---- PDF: fetched once, shown in a hidden frame, then the frame's print() (the browser's
   * dialog, or none with kiosk printing). The frame holds a blob: copy, so the PDF is rendered once
   * and the server's answer is checked first (an error or a login page is never printed). ---- */
  function printPdf(url) {
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("application/pdf") !== 0) { throw failure("server_failed"); }
        return r.blob();
      }, function () { throw failure("server_unreachable"); })
      .then(function (blob) { return timeout(printInFrame(URL.createObjectURL(blob), url), "pdf_failed"); });
  }

  function printInFrame(blobUrl, url) {
    return new Promise(function (resolve, reject) {
      var old = document.getElementById("print-frame");
      if (old) { URL.revokeObjectURL(old.src); old.parentNode.removeChild(old); }
      var frame = document.createElement("iframe");
      frame.id = "print-frame"; frame.className = "print-frame"; frame.tabIndex = -1;
      frame.setAttribute("aria-hidden", "true"); frame.title = t("frame_title");
      frame.setAttribute("data-document", url);
      frame.addEventListener("load", function () {
        window.setTimeout(function () {
          // The frame takes the focus to print; the scanner's keystrokes must go back to the page.
          var back = document.activeElement;
          try { frame.contentWindow.focus(); frame.contentWindow.print(); resolve(); }
          catch (e) { reject(failure("pdf_failed")); }
          if (back && back.focus && back !== document.body) { back.focus(); } else { window.focus(); }
        }, 50);
      });
      frame.src = blobUrl;
      document.body.appendChild(frame);
    });
  }

  /* ---- ESC/POS over Web Serial ---- */
  function serialPort(s) {
    return navigator.serial.getPorts().then(function (ports) {
      var d = s.device && s.device.kind === "serial" ? s.device : null;
      var port = ports.filter(function (p) {
        var info = p.getInfo ? p.getInfo() : {};
        return !d || ((d.usbVendorId === null || info.usbVendorId === d.usbVendorId) &&
                      (d.usbProductId === null || info.usbProductId === d.usbProductId));
      })[0];
      if (!port) { throw failure(s.device ? "unplugged" : "no_printer"); }
      return port;
    });
  }

  function sendSerial(bytes, s) {
    return serialPort(s).then(function (port) {
      return port.open({ baudRate: s.baud }).catch(function (e) {
        if (e && e.name === "InvalidStateError") { return; }  // still open from a job that failed midway
        throw failure("unplugged");
      }).then(function () {
        var writer = port.writable.getWriter();
        return writer.write(bytes).then(function () { return writer.close(); }).then(
          function () { return port.close(); },
          function () {
            try { writer.releaseLock(); } catch (e) { /* already released */ }
            return port.close().catch(function () {}).then(function () { throw failure("unplugged"); });
          });
      });
    });
  }

  /* ---- ESC/POS over WebUSB (a printer no system driver holds: Linux, ChromeOS, Android) ---- */
  function usbDevice(s) {
    return navigator.usb.getDevices().then(function (devices) {
      var d = s.device && s.device.kind === "usb" ? s.device : null;
      var device = devices.filter(function (x) {
        return !d || (x.vendorId === d.vendorId && x.productId === d.productId && (!d.serialNumber || x.serialNumber === d.serialNumber));
      })[0];
      if (!device) { throw failure(s.device ? "unplugged" : "no_printer"); }
      return device;
    });
  }

  function bulkOut(device) {
    var best = null;
    (device.configuration ? device.configuration.interfaces : []).forEach(function (iface) {
      var alt = iface.alternate || iface.alternates[0];
      alt.endpoints.forEach(function (ep) {
        if (ep.direction === "out" && ep.type === "bulk" && (!best || (alt.interfaceClass === 7 && best.cls !== 7))) {
          best = { iface: iface.interfaceNumber, endpoint: ep.endpointNumber, cls: alt.interfaceClass };
        }
      });
    });
    return best;
  }

  function sendUsb(bytes, s) {
    return usbDevice(s).then(function (device) {
      var target = null;
      return device.open()
        .then(function () { return device.configuration ? null : device.selectConfiguration(1); })
        .then(function () {
          target = bulkOut(device);
          if (!target) { throw failure("usb_busy"); }
          return device.claimInterface(target.iface).catch(function () { throw failure("usb_busy"); });
        })
        .then(function () { return device.transferOut(target.endpoint, bytes); })
        .then(function (result) {
          if (result.status !== "ok") { throw failure("unplugged"); }
          return device.releaseInterface(target.iface);
        })
        .then(function () { return device.close(); })
        .catch(function (e) {
          return Promise.resolve().then(function () { return device.opened ? device.close() : null; })
            .catch(function () {}).then(function () { throw e.printError ? e : failure("unplugged"); });
        });
    });
  }

  /* Print the document whose PDF is at `pdfUrl`, the way this device prints. */
  function print(pdfUrl) {
    var s = settings(), via = transport(s);
    if (via === "pdf") {
      return printPdf(withParams(pdfUrl, { kertas: s.paper })).then(function () {
        return { via: "pdf", fallback: s.via !== "pdf" };
      });
    }
    var url = withParams(escposUrl(pdfUrl), { kertas: s.paper, qr: s.qr, laci: s.drawer ? null : "0" });
    return fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw failure("server_failed"); } return r.arrayBuffer(); },
            function () { throw failure("server_unreachable"); })
      .then(function (buffer) {
        var bytes = new Uint8Array(buffer);
        return timeout(via === "serial" ? sendSerial(bytes, s) : sendUsb(bytes, s), "unplugged");
      })
      .then(function () { return { via: via }; });
  }

  /* ---- the page: status line, retry, F8, data-print elements ---- */
  var lastUrl = null, busy = false;

  function statusEl() { return document.getElementById("print-status"); }
  function retryEl() { return document.getElementById("print-retry"); }

  function show(text, failed) {
    var el = statusEl();
    if (el) { el.textContent = text; el.classList.toggle("is-error", !!failed); }
    var retry = retryEl();
    if (retry) { retry.hidden = !failed; }
    document.documentElement.setAttribute("data-print-state", failed ? "failed" : text ? "done" : "");
  }

  function run(pdfUrl) {
    if (!pdfUrl || busy) { return Promise.resolve(null); }
    lastUrl = pdfUrl; busy = true;
    show(t("printing"), false);
    document.documentElement.setAttribute("data-print-state", "printing");
    return print(pdfUrl).then(function (result) {
      busy = false;
      show(result.via === "pdf" ? t(result.fallback ? "sent_pdf_fallback" : "sent_pdf") : t("printed"), false);
      return result;
    }, function (e) {
      busy = false;
      show(e.printError ? e.message : t("failed"), true);
      return null;
    });
  }

  function visible(el) { return !!el && !el.hidden && el.getClientRects().length > 0; }

  document.addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest("[data-print]") : null;
    if (el) {
      ev.preventDefault();
      run(el.getAttribute("data-print") || el.getAttribute("href"));
      return;
    }
    if (ev.target.closest && ev.target.closest("#print-retry")) { ev.preventDefault(); run(lastUrl); }
  });

  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "F8") { return; }
    var retry = retryEl();
    if (visible(retry)) { ev.preventDefault(); run(lastUrl); return; }
    var target = Array.prototype.filter.call(document.querySelectorAll("[data-print-default]"), visible)[0];
    if (target) { ev.preventDefault(); target.click(); }
  });

  /* ---- the settings page (/pos/printer) ---- */
  function describe(device) {
    if (!device) { return t("no_device"); }
    if (device.name) { return device.name; }
    var hex = function (n) { return n === null || n === undefined ? "?" : ("0000" + n.toString(16)).slice(-4); };
    return "USB " + hex(device.usbVendorId !== undefined ? device.usbVendorId : device.vendorId) + ":" +
      hex(device.usbProductId !== undefined ? device.usbProductId : device.productId);
  }

  function choose(via) {
    if (via === "serial" && navigator.serial) {
      return navigator.serial.requestPort().then(function (port) {
        var info = port.getInfo ? port.getInfo() : {};
        var device = { kind: "serial", usbVendorId: info.usbVendorId === undefined ? null : info.usbVendorId,
                       usbProductId: info.usbProductId === undefined ? null : info.usbProductId };
        return save({ device: device });
      });
    }
    if (via === "usb" && navigator.usb) {
      return navigator.usb.requestDevice({ filters: [] }).then(function (d) {
        return save({ device: { kind: "usb", vendorId: d.vendorId, productId: d.productId, serialNumber: d.serialNumber || null,
                                name: [d.manufacturerName, d.productName].filter(Boolean).join(" ") || null } });
      });
    }
    return Promise.reject(failure(window.isSecureContext ? "api_missing" : "insecure"));
  }

  function settingsPage(form) {
    var s = settings();
    Array.prototype.forEach.call(form.querySelectorAll("input[type=radio]"), function (r) { r.checked = String(s[r.name]) === r.value; });
    Array.prototype.forEach.call(form.querySelectorAll("input[type=checkbox]"), function (c) { c.checked = !!s[c.name]; });
    var baud = form.querySelector("select[name=baud]");
    if (baud) { baud.value = String(s.baud); }
    function refresh() {
      var now = settings();
      var direct = now.via !== "pdf";
      form.querySelector("#printer-direct").hidden = !direct;
      form.querySelector("#printer-baud-field").hidden = now.via !== "serial";
      form.querySelector("#printer-device").textContent =
        now.device && now.device.kind === now.via ? describe(now.device) : t("no_device");
      var support = form.querySelector("#printer-support");
      support.textContent = !direct ? "" : transport(now) !== "pdf" ? "" :
        t(window.isSecureContext ? "api_missing" : "insecure");
    }
    form.addEventListener("change", function (ev) {
      var el = ev.target, change = {};
      change[el.name] = el.type === "checkbox" ? el.checked : el.name === "baud" ? Number(el.value) : el.value;
      save(change); refresh();
      show(t("saved"), false);
    });
    form.querySelector("#printer-choose").addEventListener("click", function () {
      choose(settings().via).then(function () { refresh(); show(t("device_saved"), false); },
        function (e) { if (e && e.name === "NotFoundError") { return; } show(e && e.printError ? e.message : t("choose_failed"), true); });
    });
    form.addEventListener("submit", function (ev) { ev.preventDefault(); });
    refresh();
  }

  markPaper();
  var form = document.getElementById("printer-settings");
  if (form) { settingsPage(form); }

  /* A document just made (a refund's slip) prints on arrival; `data-print-auto` names the query
   * parameter that says so, dropped at once so that a reload neither prints nor opens the drawer again. */
  var fresh = document.querySelector("[data-print-auto]");
  if (fresh) {
    var here = new URL(window.location.href), param = fresh.getAttribute("data-print-auto");
    if (param && here.searchParams.has(param)) {
      here.searchParams.delete(param);
      window.history.replaceState(null, "", here.pathname + here.search + here.hash);
      if (settings().auto) { run(fresh.getAttribute("data-print") || fresh.getAttribute("href")); }
    }
  }

  window.PosPrint = {
    settings: settings,
    print: run,
    /* Called by the sale screen when a sale is recorded (static/js/pos/sale.js `finish`). */
    afterSale: function (sale) {
      lastUrl = sale.receipt_pdf_url;
      if (settings().auto) { return run(sale.receipt_pdf_url); }
      show(t("press_f8"), false);
      return Promise.resolve(null);
    },
    /* An offline sale prints from the page itself (the "offline" button): clear the last message. */
    afterOfflineSale: function () { lastUrl = null; show("", false); },
  };
})();
