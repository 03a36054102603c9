/* Recording a visit: checked here as the server will check it, written to the phone's outbox at once,
   then sent when there is a connection. Also used to fix a refused record and to correct a stored one. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  var words = window.Field.words;
  var params = new URLSearchParams(location.search);
  var householdId = parseInt(params.get("h"), 10);
  var fixing = params.get("fix");
  var corrects = params.get("corrects");
  var position = null;
  var HELPS = ["vneid_installed", "vneid_level1", "referred_level2", "portal_login", "procedure_submitted", "fee_payment_setup"];
  var NOBODY_HELPED = ["nobody_home", "refused", "moved_away"];

  function show(name, visible) {
    document.querySelectorAll('[data-show-when="' + name + '"]').forEach(function (node) { node.hidden = !visible; });
  }
  function refresh() {
    var outcome = form.outcome.value;
    show("follow_up", outcome === "follow_up");
    show("helping", NOBODY_HELPED.indexOf(outcome) < 0);
    show("procedure", form.procedure_submitted.checked);
    show("other", form.querySelector('[name="obstacles"][value="other"]').checked);
    show("sensitive", form.querySelector('[name="obstacles"][value="disability"]').checked);
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
    form.querySelectorAll('[name="outcome"]').forEach(function (r) { r.checked = r.value === payload.outcome; });
    form.follow_up_on.value = payload.follow_up_on || "";
    ["people_helped", "helped_under_30", "helped_30_to_59", "helped_60_plus"].forEach(function (n) { form[n].value = payload[n] || 0; });
    HELPS.concat(["location_consent", "sensitive_consent"]).forEach(function (n) { form[n].checked = !!payload[n]; });
    form.procedure.value = payload.procedure || "";
    form.guide_given.value = payload.guide_given || "";
    form.querySelectorAll('[name="obstacles"]').forEach(function (box) { box.checked = (payload.obstacles || []).indexOf(box.value) >= 0; });
    form.obstacle_other.value = payload.obstacle_other || "";
    form.notes.value = payload.notes || "";
    if (payload.location) position = payload.location;
    refresh();
  }

  function showErrors(errors) {
    form.querySelectorAll(".field-error").forEach(function (node) { node.remove(); });
    var first = null;
    Object.keys(errors).forEach(function (name) {
      var anchor = form.querySelector('[data-errors-for="' + name + '"]') || form.querySelector('[name="' + name + '"]') || form;
      var note = document.createElement("p");
      note.className = "error field-error";
      note.textContent = (words.fields[name] || name) + ": " + errors[name];
      var box = anchor.closest("fieldset, .field") || anchor;
      box.appendChild(note);
      first = first || note;
    });
    if (first) first.scrollIntoView({ block: "center" });
    return !first;
  }

  function number(name) { var v = parseInt(form[name].value, 10); return isNaN(v) ? 0 : v; }

  function payloadFromForm(clientId) {
    var nobody = NOBODY_HELPED.indexOf(form.outcome.value) >= 0;
    var payload = {
      client_id: clientId,
      household_id: householdId,
      device_time: new Date().toISOString(),
      outcome: form.outcome.value,
      people_helped: nobody ? 0 : number("people_helped"),
      helped_under_30: nobody ? 0 : number("helped_under_30"),
      helped_30_to_59: nobody ? 0 : number("helped_30_to_59"),
      helped_60_plus: nobody ? 0 : number("helped_60_plus"),
      procedure: nobody ? "" : form.procedure.value.trim(),
      guide_given: form.guide_given.value,
      obstacles: Array.prototype.filter.call(form.querySelectorAll('[name="obstacles"]'), function (b) { return b.checked; })
        .map(function (b) { return b.value; }),
      obstacle_other: form.obstacle_other.value.trim(),
      location_consent: form.location_consent.checked,
      notes: form.notes.value.trim()
    };
    HELPS.forEach(function (n) { payload[n] = !nobody && form[n].checked; });
    if (form.outcome.value === "follow_up") payload.follow_up_on = form.follow_up_on.value || null;
    if (payload.location_consent && position) payload.location = position;
    // Asked apart, never ticked in advance; only with a disability to record.
    payload.sensitive_consent = payload.obstacles.indexOf("disability") >= 0 && form.sensitive_consent.checked;
    if (corrects) payload.supersedes = corrects;
    return payload;
  }

  // The server's rules, checked before saving: offline, a refusal would only come back hours later.
  var SECRET = /\d(?:[ .\-]?\d)*/g, MONEY = /^\s*(đ|đồng|d\b|vnd|vnđ|k\b|nghìn|ngàn|triệu)/i, OTP = /(otp|mã|xác nhận)\W*$/i;
  function looksSecret(text) {
    var match;
    SECRET.lastIndex = 0;
    while ((match = SECRET.exec(text))) {
      var digits = match[0].replace(/\D/g, "").length;
      if (MONEY.test(text.slice(match.index + match[0].length))) continue;
      if (digits === 9 || digits === 12) return true;
      if ((digits === 4 || digits === 6) && OTP.test(text.slice(Math.max(0, match.index - 16), match.index))) return true;
    }
    return false;
  }
  function check(p) {
    var e = {};
    if (!p.outcome) e.outcome = words.rules.outcome;
    if (p.outcome === "follow_up" && !p.follow_up_on) e.follow_up_on = words.rules.follow_up;
    if (p.outcome === "helped" && p.people_helped < 1) e.people_helped = words.rules.people;
    var bands = p.helped_under_30 + p.helped_30_to_59 + p.helped_60_plus;
    if (bands && bands !== p.people_helped) e.people_helped = words.rules.bands;
    if (p.procedure_submitted && !p.procedure) e.procedure = words.rules.procedure;
    if (p.obstacles.indexOf("other") >= 0 && !p.obstacle_other) e.obstacle_other = words.rules.other;
    ["notes", "procedure", "obstacle_other"].forEach(function (n) { if (looksSecret(p[n] || "")) e[n] = words.rules.secret; });
    return e;
  }

  document.getElementById("take-position").addEventListener("click", function () {
    var note = document.getElementById("position-note");
    if (!navigator.geolocation) { note.textContent = words.no_gps; return; }
    navigator.geolocation.getCurrentPosition(function (p) {
      position = { lat: p.coords.latitude, lon: p.coords.longitude, accuracy: Math.round(p.coords.accuracy) };
      note.textContent = words.position_taken.replace("{m}", position.accuracy);
    }, function (error) {
      note.textContent = error.code === 1 ? words.gps_denied : words.gps_failed;
    }, { enableHighAccuracy: true, timeout: 20000 });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var clientId = fixing || Outbox.newId();
    var payload = payloadFromForm(clientId);
    if (!showErrors(check(payload))) return;
    var label = document.getElementById("household-name").textContent;
    var record = {
      client_id: clientId, payload: payload, state: "pending", errors: {},
      saved_at: Date.now(), label: label, user: window.Field.me
    };
    Outbox.put(record).then(function () {
      // Online: send now. Offline (or if sending fails): leave it to Background Sync, never both at once.
      var send = navigator.onLine ? Outbox.sync().catch(function () { return { offline: true }; }) : Promise.resolve({ offline: true });
      return send.then(function (summary) {
        if (summary && summary.offline && "serviceWorker" in navigator && window.SyncManager) {
          return navigator.serviceWorker.ready.then(function (r) { return r.sync.register("outbox"); }).catch(function () {});
        }
      });
    }).then(function () {
      // Today says it was saved, and whether it waits for a connection: once, not on every reload.
      try { sessionStorage.setItem("outreach-saved", clientId); } catch (e) { /* private mode: no notice */ }
      location.href = "/today";
    });
  });

  if (fixing) {
    Outbox.get(fixing).then(function (record) {
      if (!record) { title(words.not_found); return; }
      title(record.label);
      fillForm(record.payload);
      corrects = record.payload.supersedes || null;
      showErrors(record.errors || {});
    });
  } else if (householdId) {
    findHousehold().then(function (h) { title(h ? h.head_name + (h.address ? " · " + h.address : "") : words.household_offline); });
    if (corrects) {
      document.getElementById("form-title").textContent = words.correcting;
      fetch("/api/v1/visits/" + encodeURIComponent(corrects), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (payload) { if (payload) fillForm(payload); })
        .catch(function () {});
    }
  } else {
    title(words.not_found);
    form.hidden = true;
  }
  refresh();
})();
