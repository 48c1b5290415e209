/* The counter's offline store and sync (window.PosOffline). Plain JS, no dependencies.
 *
 * IndexedDB "ska-pos":
 *   meta       {k, v}: device code per Sentra ("device:<sentraId>"), receipt sequence per device
 *              ("seq:<sentraId>:<code>"), queue order counter, the sync lease of the fallback lock
 *   queue      one entry per sale made offline, keyed by its Idempotency-Key (a UUID): the exact
 *              body to post, the provisional number printed on the receipt, the receipt data
 *   catalogue  per Sentra: products, prices, stock snapshot, receipt header (no makers' data
 *              beyond the name they consented to print)
 * Nothing here is deleted by a reload, a browser restart or logging out; an entry leaves the
 * queue only when the server has answered 201 for its key (a first answer or a replay). */
(function () {
  "use strict";

  var DB_NAME = "ska-pos", DB_VERSION = 1, LOCK_NAME = "ska-pos-sync", LEASE_MS = 30000;
  var dbPromise = null;

  /* Messages from the server's translation catalogue (the JSON in #pos-messages on every counter page). */
  var MESSAGES = (function () {
    var el = document.getElementById("pos-messages");
    try { return el ? JSON.parse(el.textContent) : {}; } catch (e) { return {}; }
  })();
  function t(key, params) {
    var text = Object.prototype.hasOwnProperty.call(MESSAGES, key) ? MESSAGES[key] : key;
    return text.replace(/%\((\w+)\)s/g, function (_m, name) {
      return params && params[name] !== undefined ? String(params[name]) : "";
    });
  }

  function req(r) {
    return new Promise(function (resolve, reject) {
      r.onsuccess = function () { resolve(r.result); };
      r.onerror = function () { reject(r.error); };
    });
  }

  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var r = window.indexedDB.open(DB_NAME, DB_VERSION);
        r.onupgradeneeded = function () {
          var db = r.result;
          if (!db.objectStoreNames.contains("meta")) { db.createObjectStore("meta", { keyPath: "k" }); }
          if (!db.objectStoreNames.contains("queue")) {
            db.createObjectStore("queue", { keyPath: "key" }).createIndex("order", "order");
          }
          if (!db.objectStoreNames.contains("catalogue")) { db.createObjectStore("catalogue", { keyPath: "sentraId" }); }
        };
        r.onsuccess = function () { resolve(r.result); };
        r.onerror = function () { reject(r.error); };
      });
    }
    return dbPromise;
  }

  /* Run fn(stores) in one transaction; resolves with fn's result once the transaction commits. */
  function tx(names, mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(names, mode), result;
        var stores = {};
        names.forEach(function (n) { stores[n] = t.objectStore(n); });
        Promise.resolve(fn(stores, t)).then(function (v) { result = v; }, function (e) { t.abort(); reject(e); });
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error || new Error("aborted")); };
      });
    });
  }

  function getMeta(k) {
    return tx(["meta"], "readonly", function (s) { return req(s.meta.get(k)); }).then(function (row) { return row ? row.v : null; });
  }
  function setMeta(k, v) { return tx(["meta"], "readwrite", function (s) { s.meta.put({ k: k, v: v }); }); }

  function saveCatalogue(sentraId, data) {
    return tx(["catalogue"], "readwrite", function (s) { s.catalogue.put({ sentraId: sentraId, data: data, savedAt: Date.now() }); });
  }
  function getCatalogue(sentraId) {
    return tx(["catalogue"], "readonly", function (s) { return req(s.catalogue.get(sentraId)); })
      .then(function (row) { return row ? row.data : null; });
  }
  /* Keep the offline stock snapshot honest after an offline sale. */
  function takeLocalStock(sentraId, lines) {
    return tx(["catalogue"], "readwrite", function (s) {
      return req(s.catalogue.get(sentraId)).then(function (row) {
        if (!row) { return; }
        lines.forEach(function (l) {
          row.data.products.forEach(function (p) {
            if (p.id === l.product_id && p.stock !== null) { p.stock = Math.max(0, p.stock - l.quantity); }
          });
        });
        s.catalogue.put(row);
      });
    });
  }

  function deviceCode(sentraId) { return getMeta("device:" + sentraId); }

  /* A device code from the server, once per browser per Sentra (two devices never share one). */
  function ensureDevice(sentraId, devicesUrl, csrf) {
    return deviceCode(sentraId).then(function (code) {
      if (code) { return code; }
      return fetch(devicesUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ sentra_id: sentraId }),
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data || !data.code) { return null; }
        // Another tab may have registered meanwhile: keep the first code stored.
        return tx(["meta"], "readwrite", function (s) {
          return req(s.meta.get("device:" + sentraId)).then(function (row) {
            if (row) { return row.v; }
            s.meta.put({ k: "device:" + sentraId, v: data.code });
            return data.code;
          });
        });
      });
    });
  }

  function pad(n) { var s = String(n); while (s.length < 4) { s = "0" + s; } return s; }

  /* Queue a sale; the provisional number <SENTRA>-<DEVICE>-<seq> is taken in the same transaction. */
  function enqueue(entry) {
    return tx(["meta", "queue"], "readwrite", function (s) {
      var seqKey = "seq:" + entry.sentraId + ":" + entry.device;
      return Promise.all([req(s.meta.get(seqKey)), req(s.meta.get("order"))]).then(function (rows) {
        var seq = (rows[0] ? rows[0].v : 0) + 1, order = (rows[1] ? rows[1].v : 0) + 1;
        s.meta.put({ k: seqKey, v: seq });
        s.meta.put({ k: "order", v: order });
        entry.order = order;
        entry.number = entry.sentraCode + "-" + entry.device + "-" + pad(seq);
        entry.body.offline_number = entry.number;
        entry.receipt.offlineNumber = entry.number;
        entry.createdAt = new Date().toISOString();
        entry.attempts = 0;
        s.queue.add(entry);
        return entry;
      });
    });
  }

  function pending() {
    return tx(["queue"], "readonly", function (s) { return req(s.queue.index("order").getAll()); });
  }
  function count() { return tx(["queue"], "readonly", function (s) { return req(s.queue.count()); }); }
  function remove(key) { return tx(["queue"], "readwrite", function (s) { s.queue.delete(key); }); }
  function update(entry) { return tx(["queue"], "readwrite", function (s) { s.queue.put(entry); }); }

  /* One sync loop per device at a time, across tabs: Web Locks, else a lease in IndexedDB. */
  var me = Math.random().toString(36).slice(2);
  function withLock(fn) {
    if (navigator.locks && navigator.locks.request) {
      return navigator.locks.request(LOCK_NAME, { ifAvailable: true }, function (lock) { return lock ? fn() : { busy: true }; });
    }
    return tx(["meta"], "readwrite", function (s) {
      return req(s.meta.get("lease")).then(function (row) {
        var now = Date.now();
        if (row && row.v.until > now && row.v.owner !== me) { return false; }
        s.meta.put({ k: "lease", v: { owner: me, until: now + LEASE_MS } });
        return true;
      });
    }).then(function (got) {
      if (!got) { return { busy: true }; }
      var release = function () { return tx(["meta"], "readwrite", function (s) { s.meta.delete("lease"); }); };
      return Promise.resolve().then(fn).then(function (r) { return release().then(function () { return r; }); },
        function (e) { return release().then(function () { throw e; }); });
    });
  }

  function postSale(url, csrf, entry) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "Idempotency-Key": entry.key, "X-CSRFToken": csrf },
      body: JSON.stringify(entry.body),
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  /* Post every queued sale of the logged-in kasir, in order. Resolves with
   * {synced: [{number, offline_number}], rejected: n, stopped: reason|null, busy}. */
  function syncOnce(opts) {
    return withLock(function () {
      var result = { synced: [], rejected: 0, stopped: null };
      return fetch(opts.sessionUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          if (r.status === 401 || r.status === 403) { result.stopped = "login"; return null; }
          if (!r.ok) { result.stopped = "server"; return null; }
          return r.json();
        }, function () { result.stopped = "network"; return null; })
        .then(function (session) {
          if (!session) { return result; }
          return pending().then(function (entries) {
            var mine = entries.filter(function (e) { return e.userId === session.user_id; });
            var i = 0;
            function next() {
              if (i >= mine.length) { return result; }
              var entry = mine[i++];
              return postSale(opts.salesUrl, session.csrf_token, entry).then(function (res) {
                if (res.status === 201) {
                  result.synced.push({ number: res.data && res.data.number, offline_number: entry.number,
                                       receipt_pdf_url: res.data && res.data.receipt_pdf_url,
                                       receipt_url: res.data && res.data.receipt_url });
                  return remove(entry.key).then(next);
                }
                if (res.status >= 500 || res.status === 429 || res.status === 400 || res.status === 401 || res.status === 403) {
                  result.stopped = res.status >= 500 || res.status === 429 ? "server" : "login";
                  return result;
                }
                // Refused for good (e.g. 404/409/422): kept (the goods left the shop) and shown.
                entry.attempts += 1;
                entry.rejected = (res.data && res.data.detail) || ("HTTP " + res.status);
                result.rejected += 1;
                return update(entry).then(next);
              }, function () { result.stopped = "network"; return result; });
            }
            return next();
          });
        });
    });
  }

  /* Sync when the connection returns, every `periodMs`, and on demand; retries back off
   * exponentially (2 s, 4 s, ... up to 2 min) after a failed attempt. */
  function autoSync(opts) {
    var failures = 0, timer = null, running = false;
    function schedule(ms) { window.clearTimeout(timer); timer = window.setTimeout(run, ms); }
    function run() {
      if (running) { return Promise.resolve(null); }
      if (navigator.onLine === false) { if (opts.onResult) { opts.onResult({ stopped: "offline", synced: [] }); } schedule(opts.periodMs || 30000); return Promise.resolve(null); }
      running = true;
      return count().then(function (n) {
        if (!n) { return { synced: [], stopped: null, empty: true }; }
        return syncOnce(opts);
      }).then(function (res) {
        running = false;
        if (res && res.stopped && res.stopped !== "login") {
          failures += 1;
          schedule(Math.min(120000, 1000 * Math.pow(2, failures)));
        } else {
          failures = 0;
          schedule(opts.periodMs || 30000);
        }
        if (opts.onResult) { opts.onResult(res || { busy: true, synced: [] }); }
        return res;
      }, function (e) {
        running = false; failures += 1; schedule(Math.min(120000, 1000 * Math.pow(2, failures)));
        if (opts.onResult) { opts.onResult({ stopped: "error", synced: [], error: String(e) }); }
        return null;
      });
    }
    window.addEventListener("online", function () { failures = 0; run(); });
    window.addEventListener("offline", function () { if (opts.onResult) { opts.onResult({ stopped: "offline", synced: [] }); } });
    schedule(50);
    return { now: function () { failures = 0; return run(); } };
  }

  /* Logging out with unsynced sales is refused (the queue belongs to this kasir's session). */
  function guardLogout(notify) {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-logout], form[action$='/accounts/keluar']"), function (form) {
      form.addEventListener("submit", function (ev) {
        if (form.dataset.checked === "1") { return; }
        ev.preventDefault();
        count().then(function (n) {
          if (n > 0) {
            notify(t("logout_refused", { n: n }));
            return;
          }
          var clear = window.caches ? window.caches.delete("pos-pages") : Promise.resolve();
          clear.catch(function () {}).then(function () { form.dataset.checked = "1"; form.submit(); });
        }, function () { form.dataset.checked = "1"; form.submit(); });
      });
    });
  }

  window.PosOffline = {
    openDb: openDb, getMeta: getMeta, setMeta: setMeta, saveCatalogue: saveCatalogue, getCatalogue: getCatalogue,
    takeLocalStock: takeLocalStock, deviceCode: deviceCode, ensureDevice: ensureDevice, enqueue: enqueue,
    pending: pending, count: count, remove: remove, syncOnce: syncOnce, autoSync: autoSync, guardLogout: guardLogout,
    t: t,
  };

  /* Every counter page that loads this file refuses to log out while the queue is not empty. */
  guardLogout(function (text) {
    var target = document.getElementById("alert") || document.getElementById("close-guard") ||
      document.getElementById("logout-guard");
    if (!target) {
      target = document.createElement("p");
      target.id = "logout-guard"; target.className = "flash flash-error"; target.setAttribute("role", "alert");
      var main = document.getElementById("main") || document.body;
      main.insertBefore(target, main.firstChild);
    }
    target.hidden = false; target.textContent = text;
  });

  /* The shift close page: the Tutup button waits while this device still holds unsynced sales. */
  var guard = document.getElementById("close-guard");
  if (guard) {
    var submit = document.getElementById("close-submit");
    var show = function (text) { guard.textContent = text; guard.hidden = !text; };
    var check = function () {
      return pending().then(function (entries) {
        var n = entries.length;
        submit.disabled = n > 0;
        submit.setAttribute("aria-disabled", n > 0 ? "true" : "false");
        show(n > 0 ? t("close_waits", { n: n }) : "");
      });
    };
    // A closed shift's sale screen must not open offline any more: drop its cached copy on close.
    var closeForm = submit.form;
    closeForm.addEventListener("submit", function (ev) {
      if (closeForm.dataset.checked === "1") { return; }
      ev.preventDefault();
      pending().then(function (entries) {
        if (entries.length) { check(); return; }
        var drop = window.caches ? window.caches.open("pos-pages").then(function (c) {
          return Promise.all([c.delete(guard.dataset.saleUrl), c.delete("/pos/__last-sale-page__")]);
        }) : Promise.resolve();
        drop.catch(function () {}).then(function () { closeForm.dataset.checked = "1"; closeForm.submit(); });
      }, function () { closeForm.dataset.checked = "1"; closeForm.submit(); });
    });
    check();
    autoSync({ sessionUrl: guard.dataset.sessionUrl, salesUrl: guard.dataset.salesUrl, periodMs: 10000,
               onResult: function () { check(); } });
  }
})();
