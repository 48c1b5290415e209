/* Service worker of the counter (served at /pos/sw.js, scope /pos/).
 *
 * - App shell (CSS, JS, fonts, icons): precached at install, served from the cache and refreshed
 *   in the background (a new shell changes this file's VERSION, so the browser installs anew).
 * - The sale page of the open shift: network first (4 s), the last good copy when offline.
 * - JSON API calls and every POST go straight to the network: the page keeps its own offline
 *   data (catalogue, queue) in IndexedDB (offline-queue.js).
 * The server fills in VERSION and SHELL when it serves this file. */
"use strict";

var VERSION = "__VERSION__";
var SHELL = __SHELL__;
var SHELL_CACHE = "pos-shell-" + VERSION;
var PAGE_CACHE = "pos-pages";
var LAST_PAGE = "/pos/__last-sale-page__";
var SALE_PAGE = /^\/pos\/sesi\/\d+\/jual$/;

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("pos-shell-") === 0 && k !== SHELL_CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (r) { clearTimeout(timer); resolve(r); }, function (e) { clearTimeout(timer); reject(e); });
  });
}

function offlinePage() {
  var html = "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><title>Offline</title></head><body>" +
    "<main><h1>Tidak ada koneksi</h1><p>Halaman ini belum tersimpan di perangkat. Buka layar kasir " +
    "sekali saat online agar bisa dipakai offline.</p></main></body></html>";
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function page(request) {
  var url = new URL(request.url);
  var network = fetch(request).then(function (response) {
    if (response.ok && !response.redirected && SALE_PAGE.test(url.pathname)) {
      var copy = response.clone(), second = response.clone();
      caches.open(PAGE_CACHE).then(function (cache) {
        cache.put(url.pathname, copy);
        cache.put(LAST_PAGE, second);
      });
    }
    return response;
  });
  network.catch(function () { /* handled below */ });
  // No answer within 4 s (or no network): the saved copy; without one, keep waiting for the server.
  return withTimeout(network, 4000).catch(function () {
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.match(url.pathname).then(function (hit) {
        if (hit) { return hit; }
        // /pos/ (the start URL) offline: the last sale page this device showed.
        return (url.pathname === "/pos/" ? cache.match(LAST_PAGE) : Promise.resolve(null))
          .then(function (last) { return last || network.catch(function () { return offlinePage(); }); });
      });
    });
  });
}

function shell(request) {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(request, { ignoreSearch: true }).then(function (hit) {
      var network = fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      });
      if (hit) { network.catch(function () { /* offline: the cached copy stays */ }); return hit; }
      return network;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname.indexOf("/pos/") === 0) {
    event.respondWith(page(request));
  } else if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(shell(request));
  }
});
