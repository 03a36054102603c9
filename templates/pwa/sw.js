/* Outreach service worker: the app shell, "Today", the visit form and the guides work with no
   connection; visits wait in the outbox (IndexedDB) and go out with Background Sync. */
"use strict";
importScripts("{{ url_for('static', filename='js/outbox.js') }}");

var CACHE = "outreach-{{ version }}";
// What any visitor may need with no signal: the offline page and the guides. A resident who opened a
// guide gets only these (a few KB), no app files and no request that could set a cookie.
var PUBLIC = {{ public|tojson }};
// The field app: its files and pages, fetched once a logged-in page asks ("warm"), then kept fresh.
var SHELL = {{ shell|tojson }};
var PAGES = {{ pages|tojson }};  // cached as they are visited, served when offline
// A map is drawn by the server each time: offline, say so rather than give the generic offline page.
var MAP_OFFLINE = "/offline?for=map";

function cacheable(response) {
  return response && response.ok && !response.redirected && response.type === "basic";
}

function fill(urls, onlyMissing) {
  return caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (url) {
      return (onlyMissing ? cache.match(url) : Promise.resolve(null)).then(function (hit) {
        if (hit) return;
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (cacheable(response)) return cache.put(url, response);
        }).catch(function () {});
      });
    }));
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(fill(PUBLIC, false).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("message", function (event) {
  if (!event.data || event.data.type !== "warm") return;
  var reply = event.ports && event.ports[0];
  event.waitUntil(fill(SHELL.concat(PAGES, [MAP_OFFLINE]), true).then(function () {
    if (reply) reply.postMessage({ type: "warmed" });
  }));
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
    var why = url.pathname.indexOf("/maps/") === 0 ? MAP_OFFLINE : "/offline";
    event.respondWith(page ? networkFirst(request, url.pathname) : fetch(request).catch(function () {
      return caches.match(why).then(function (hit) { return hit || caches.match("/offline"); });
    }));
  } else if (url.pathname.indexOf("/static/") === 0 || SHELL.indexOf(url.pathname) >= 0 || PUBLIC.indexOf(url.pathname) >= 0) {
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
