/* The field pages: keep the CSRF token for later syncs, show what waits in the outbox, send it on
   load, when the connection comes back, on "Sync now", and by Background Sync where there is one. */
(function () {
  "use strict";
  var box = document.getElementById("outbox");
  var words = JSON.parse(document.getElementById("field-words").textContent);
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var user = document.querySelector('meta[name="outreach-user"]');
  var me = user ? user.content : null;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;  // text, never HTML: names come from people
    return node;
  }

  function render(summary) {
    if (!box) return Promise.resolve();
    return Outbox.all().then(function (all) {
      var records = all.filter(function (r) { return !r.user || r.user === me; });
      var others = all.length - records.length;
      var waiting = records.filter(function (r) { return r.state !== "rejected"; });
      var refused = records.filter(function (r) { return r.state === "rejected"; })
        .sort(function (a, b) { return a.saved_at - b.saved_at; });
      var needLogin = records.some(function (r) { return r.state === "login"; });
      box.querySelector("[data-count]").textContent = fill(words.waiting, { n: waiting.length });
      box.dataset.waiting = String(waiting.length);
      box.classList.toggle("has-waiting", waiting.length > 0);
      var status = box.querySelector("[data-status]");
      status.textContent = "";
      if (needLogin) {
        status.appendChild(el("span", {}, words.login + " "));
        status.appendChild(el("a", { href: "/login?next=" + encodeURIComponent(location.pathname) }, words.login_link));
      } else if (summary && summary.offline && waiting.length) {
        status.textContent = words.offline;
      } else if (summary && summary.sent) {
        status.textContent = fill(words.sent, { n: summary.sent });
      }
      if (others) status.appendChild(el("span", { "class": "others" }, " " + fill(words.others, { n: others })));
      var list = box.querySelector("[data-refused]");
      list.textContent = "";
      refused.forEach(function (record) {
        var item = el("li", { "data-client-id": record.client_id });
        item.appendChild(el("strong", {}, record.label || record.client_id));
        var reasons = el("ul", { "class": "reasons" });
        Object.keys(record.errors || {}).forEach(function (field) {
          reasons.appendChild(el("li", {}, (words.fields[field] || field) + ": " + record.errors[field]));
        });
        item.appendChild(reasons);
        var fix = el("a", { "class": "button small", href: "/record?fix=" + record.client_id }, words.fix);
        var discard = el("button", { "class": "button danger small", type: "button" }, words.discard);
        discard.addEventListener("click", function () {
          if (window.confirm(words.discard_confirm)) Outbox.remove(record.client_id).then(function () { render(); });
        });
        item.appendChild(fix);
        item.appendChild(discard);
        list.appendChild(item);
      });
      box.querySelector("[data-refused-title]").hidden = refused.length === 0;
    });
  }

  function syncNow() {
    return Outbox.sync().then(render, function () { return render({ offline: true }); });
  }

  window.Field = { render: render, syncNow: syncNow, words: words };

  var ready = csrf ? Promise.all([Outbox.setMeta("csrf", csrf.content), Outbox.setMeta("user", me)]) : Promise.resolve();
  window.Field.me = me;
  // With no connection, say so at once (not only after "Sync now"): the records wait on this phone.
  ready.then(function () { return render(navigator.onLine ? undefined : { offline: true }); })
    .then(function () { if (navigator.onLine) return syncNow(); });
  window.addEventListener("online", syncNow);
  window.addEventListener("offline", function () { render({ offline: true }); });
  var button = document.getElementById("sync-now");
  if (button) button.addEventListener("click", syncNow);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
      document.documentElement.dataset.sw = "registered";
      return navigator.serviceWorker.ready.then(function (ready) {
        // "ready" once the worker holds the app's pages and files, so going offline now is safe.
        return new Promise(function (resolve) {
          var channel = new MessageChannel();
          channel.port1.onmessage = function () { resolve(); };
          ready.active.postMessage({ type: "warm" }, [channel.port2]);
          setTimeout(resolve, 15000);
        }).then(function () { document.documentElement.dataset.sw = "ready"; return registration; });
      });
    }).catch(function () { document.documentElement.dataset.sw = "failed"; });
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.type === "outbox-synced") {
        render(event.data.summary);
        Outbox.announce(event.data.summary);  // the pages hear the worker's syncs as their own
      }
    });
  }
})();
