/* The outbox: visits recorded on the phone wait here (IndexedDB) until the server has them.
   Shared by the pages and the service worker (importScripts), so no modules and no framework.
   A record is {client_id, payload, state: "pending" | "rejected" | "login", errors, saved_at, label}.
   After each sync a page hears "outbox-synced" (on window, the summary as detail), so what it shows
   follows without a reload; the service worker's own syncs reach the pages as a message (field.js). */
(function (scope) {
  "use strict";
  var DB_NAME = "outreach-field", DB_VERSION = 1, BATCH = 500;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("outbox")) db.createObjectStore("outbox", { keyPath: "client_id" });
        if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function run(storeName, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode), out;
        var request = work(tx.objectStore(storeName));
        if (request) request.onsuccess = function () { out = request.result; };
        tx.oncomplete = function () { db.close(); resolve(out); };
        tx.onerror = tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function newId() {
    if (scope.crypto && scope.crypto.randomUUID) return scope.crypto.randomUUID();
    var b = scope.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  var syncing = null;

  function announce(summary) {
    if (scope.document && typeof scope.CustomEvent === "function") {
      scope.dispatchEvent(new CustomEvent("outbox-synced", { detail: summary }));
    }
  }

  var Outbox = {
    newId: newId,
    put: function (record) { return run("outbox", "readwrite", function (s) { return s.put(record); }); },
    get: function (id) { return run("outbox", "readonly", function (s) { return s.get(id); }); },
    all: function () { return run("outbox", "readonly", function (s) { return s.getAll(); }); },
    remove: function (id) { return run("outbox", "readwrite", function (s) { return s.delete(id); }); },
    setMeta: function (key, value) { return run("meta", "readwrite", function (s) { return s.put(value, key); }); },
    getMeta: function (key) { return run("meta", "readonly", function (s) { return s.get(key); }); },

    /* Send what waits. Resolves to {sent, rejected, login, offline}. Never loses a record:
       only an answer "created" or "duplicate" from the server removes it. */
    sync: function () {
      if (syncing) return syncing;
      syncing = Promise.all([Outbox.all(), Outbox.getMeta("csrf"), Outbox.getMeta("user")]).then(function (got) {
        // Only the logged-in member's own records: on a shared phone, nobody sends another's visits.
        var waiting = got[0].filter(function (r) { return r.state !== "rejected" && (!r.user || r.user === got[2]); });
        var summary = { sent: 0, rejected: 0, login: false, offline: false };
        var batches = [];
        for (var i = 0; i < waiting.length; i += BATCH) batches.push(waiting.slice(i, i + BATCH));
        return batches.reduce(function (chain, batch) {
          return chain.then(function () {
            if (summary.login || summary.offline) return;
            return fetch("/api/v1/visits/sync", {
              method: "POST",
              credentials: "same-origin",
              headers: { "Content-Type": "application/json", "X-CSRFToken": got[1] || "" },
              body: JSON.stringify({ visits: batch.map(function (r) { return r.payload; }) })
            }).then(function (response) {
              if (response.status === 401 || response.status === 400 || response.redirected) {
                // Logged out (or the session changed) while away: keep everything, ask to log in.
                summary.login = true;
                return Promise.all(batch.map(function (r) { r.state = "login"; return Outbox.put(r); }));
              }
              if (!response.ok) { summary.offline = true; return; }
              return response.json().then(function (body) {
                return Promise.all(body.results.map(function (result, index) {
                  var record = batch[index];
                  if (result.status === "rejected") {
                    summary.rejected += 1;
                    record.state = "rejected";
                    record.errors = result.errors;
                    return Outbox.put(record);
                  }
                  summary.sent += 1;
                  // What the server did apart (a disability counted for the village): Today says it.
                  var notes = result.notes ? Object.keys(result.notes).map(function (k) { return result.notes[k]; }) : [];
                  if (notes.length) {
                    try { scope.sessionStorage.setItem("outreach-notes:" + record.client_id, notes.join(" ")); } catch (e) {}
                  }
                  return Outbox.remove(record.client_id);
                }));
              });
            }, function () { summary.offline = true; });
          });
        }, Promise.resolve()).then(function () { announce(summary); return summary; });
      });
      syncing.then(function () { syncing = null; }, function () { syncing = null; });
      return syncing;
    }
  };
  Outbox.announce = announce;
  scope.Outbox = Outbox;
})(typeof self !== "undefined" ? self : window);
