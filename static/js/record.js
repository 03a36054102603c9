/* Recording a visit: written to the phone's outbox at once, then sent when there is a connection. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  var words = window.Field.words;
  var params = new URLSearchParams(location.search);
  var householdId = parseInt(params.get("h"), 10);
  var fixing = params.get("fix");
  var corrects = params.get("corrects");
  var position = null;

  function show(name, visible) {
    document.querySelectorAll('[data-show-when="' + name + '"]').forEach(function (node) { node.hidden = !visible; });
  }
  function refresh() {
    show("follow_up", form.outcome.value === "follow_up");
    show("procedure", form.procedure_submitted.checked);
    show("other", form.querySelector('[name="obstacles"][value="other"]').checked);
    show("location", form.location_consent.checked);
  }
  form.addEventListener("change", refresh);

  function title(text) { document.getElementById("household-name").textContent = text; }

  function findHousehold() {
    // The walk list is cached by the service worker: names are there even with no connection.
    return fetch("/api/v1/assignments", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { assignments: [] }; })
      .then(function (body) {
        var found = body.assignments.filter(function (a) { return a.household_id === householdId; })[0];
        if (found) return found;
        return fetch("/api/v1/households/" + householdId, { credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.json() : null; });
      })
      .catch(function () { return null; });
  }

  function fillForm(payload) {
    householdId = payload.household_id;
    form.outcome.value = payload.outcome;
    form.follow_up_on.value = payload.follow_up_on || "";
    ["people_helped", "helped_under_30", "helped_30_to_59", "helped_60_plus"].forEach(function (n) { form[n].value = payload[n] || 0; });
    ["vneid_installed", "vneid_level1", "referred_level2", "portal_login", "procedure_submitted", "fee_payment_setup", "location_consent"]
      .forEach(function (n) { form[n].checked = !!payload[n]; });
    form.procedure.value = payload.procedure || "";
    form.guide_given.value = payload.guide_given || "";
    form.querySelectorAll('[name="obstacles"]').forEach(function (box) { box.checked = (payload.obstacles || []).indexOf(box.value) >= 0; });
    form.obstacle_other.value = payload.obstacle_other || "";
    form.notes.value = payload.notes || "";
    if (payload.location) position = payload.location;
    refresh();
  }

  function number(name) { var v = parseInt(form[name].value, 10); return isNaN(v) ? 0 : v; }

  function payloadFromForm(clientId) {
    var payload = {
      client_id: clientId,
      household_id: householdId,
      device_time: new Date().toISOString(),
      outcome: form.outcome.value,
      people_helped: number("people_helped"),
      helped_under_30: number("helped_under_30"),
      helped_30_to_59: number("helped_30_to_59"),
      helped_60_plus: number("helped_60_plus"),
      procedure: form.procedure.value.trim(),
      guide_given: form.guide_given.value,
      obstacles: Array.prototype.filter.call(form.querySelectorAll('[name="obstacles"]'), function (b) { return b.checked; })
        .map(function (b) { return b.value; }),
      obstacle_other: form.obstacle_other.value.trim(),
      location_consent: form.location_consent.checked,
      notes: form.notes.value.trim()
    };
    ["vneid_installed", "vneid_level1", "referred_level2", "portal_login", "procedure_submitted", "fee_payment_setup"]
      .forEach(function (n) { payload[n] = form[n].checked; });
    if (form.outcome.value === "follow_up" || form.follow_up_on.value) payload.follow_up_on = form.follow_up_on.value || null;
    if (payload.location_consent && position) payload.location = position;
    if (corrects) payload.supersedes = corrects;
    return payload;
  }

  document.getElementById("take-position").addEventListener("click", function () {
    var note = document.getElementById("position-note");
    if (!navigator.geolocation) { note.textContent = words.no_gps; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      position = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: Math.round(p.coords.accuracy) };
      note.textContent = words.position_taken.replace("{m}", position.accuracy);
    }, function (e) { note.textContent = e.message; }, { enableHighAccuracy: true, timeout: 20000 });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!form.outcome.value) { document.getElementById("outcome-error").hidden = false; return; }
    var clientId = fixing || Outbox.newId();
    var label = document.getElementById("household-name").textContent;
    var record = {
      client_id: clientId, payload: payloadFromForm(clientId), state: "pending", errors: {},
      saved_at: Date.now(), label: label, user: window.Field.me
    };
    Outbox.put(record).then(function () {
      if ("serviceWorker" in navigator && window.SyncManager) {
        navigator.serviceWorker.ready.then(function (r) { return r.sync.register("outbox"); }).catch(function () {});
      }
      return navigator.onLine ? Outbox.sync().catch(function () {}) : null;
    }).then(function () { location.href = "/today?saved=1"; });
  });

  if (fixing) {
    Outbox.get(fixing).then(function (record) {
      if (!record) { title(words.not_found); return; }
      title(record.label);
      fillForm(record.payload);
      corrects = record.payload.supersedes || null;
    });
  } else if (householdId) {
    findHousehold().then(function (h) { title(h ? h.head_name + (h.address ? " · " + h.address : "") : words.household + " " + householdId); });
  } else {
    title(words.not_found);
    form.hidden = true;
  }
  refresh();
})();
