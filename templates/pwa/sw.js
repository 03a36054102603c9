/* Outreach service worker: the app shell, "Today", the visit form and the guides work with no
   connection; visits wait in the outbox (IndexedDB) and go out with Background Sync. */
"use strict";
importScripts("{{ url_for('static', filename='js/outbox.js') }}");

var CACHE = "outreach-{{ version }}";
var SHELL = {{ shell|tojson }};
var PAGES = {{ pages|tojson }};  // cached as they are visited, served when offline

function cacheable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(SHELL.concat(PAGES).map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (cacheable(response)) return cache.put(url, response);
      }).catch(function () {});
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function networkFirst(request, cacheKey) {
  return fetch(request).then(function (response) {
    if (cacheable(response)) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(cacheKey, copy); });
    }
    return response;
  }, function () {
    return caches.match(cacheKey).then(function (hit) {
      return hit || caches.match("/offline");
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === "/api/v1/assignments") {
    event.respondWith(networkFirst(request, "/api/v1/assignments"));
  } else if (request.mode === "navigate") {
    var page = PAGES.indexOf(url.pathname) >= 0 || url.pathname.indexOf("/g/") === 0;
    event.respondWith(page ? networkFirst(request, url.pathname) : fetch(request).catch(function () {
      return caches.match("/offline");
    }));
  } else if (url.pathname.indexOf("/static/") === 0 || SHELL.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(request, { ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        if (cacheable(response)) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      });
    }));
  }
});

self.addEventListener("sync", function (event) {
  if (event.tag !== "outbox") return;
  event.waitUntil(Outbox.sync().then(function (summary) {
    return self.clients.matchAll().then(function (clients) {
      clients.forEach(function (client) { client.postMessage({ type: "outbox-synced", summary: summary }); });
    });
  }));
});
