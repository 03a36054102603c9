// Today: confirm a saved visit, mark households already recorded on this phone, order from here.
(function () {
  "use strict";
  var words = window.Field.words;

  // The visit just saved (record.js leaves its id for this page, once): say so, and say plainly whether it
  // went out or waits on the phone for a connection; then follow it until it goes out.
  var savedId = null;
  try { savedId = sessionStorage.getItem("outreach-saved"); sessionStorage.removeItem("outreach-saved"); } catch (e) {}
  var savedNote = document.getElementById("saved-note");
  function showSaved(event) {
    if (!savedId) return Promise.resolve();
    var offline = !navigator.onLine || !!(event && event.detail && event.detail.offline);
    return Outbox.get(savedId).then(function (record) {
      var state = !record ? "sent" : record.state === "rejected" ? "" : offline ? "waiting" : "saved";
      savedNote.querySelectorAll("[data-when]").forEach(function (part) { part.hidden = part.dataset.when !== state; });
      savedNote.classList.toggle("flash-waiting", state === "waiting");
      savedNote.hidden = !state;  // refused: the outbox below says why
      var note = null;
      try { note = state === "sent" ? sessionStorage.getItem("outreach-notes:" + savedId) : null; } catch (e) {}
      var noteBox = savedNote.querySelector("[data-server-note]");
      if (note) {
        noteBox.textContent = words.server_note.replace("{note}", note);
        noteBox.hidden = false;
        try { sessionStorage.removeItem("outreach-notes:" + savedId); } catch (e) {}
      }
    });
  }
  showSaved();
  window.addEventListener("outbox-synced", showSaved);
  window.addEventListener("offline", showSaved);

  // A household recorded offline stays on the list until the record is sent: say so, so it is not done
  // twice; and once it is sent, say that, as soon as the outbox is emptied (no reload needed).
  function mark() {
    return Outbox.all().then(function (records) {
      var waiting = {};
      records.forEach(function (record) {
        if (!record.user || record.user === window.Field.me) waiting[record.payload.household_id] = true;
      });
      document.querySelectorAll("#walk-list li[data-household]").forEach(function (stop) {
        var queued = waiting[stop.dataset.household] === true;
        if (stop.classList.contains("is-queued") && !queued) {
          stop.classList.add("is-sent");
          stop.querySelector(".sent").hidden = false;
        }
        stop.classList.toggle("is-queued", queued);
        stop.querySelector(".queued").hidden = !queued;
      });
    });
  }
  mark();
  window.addEventListener("outbox-synced", mark);

  var button = document.getElementById("start-here");
  var note = document.getElementById("position-error");
  if (!button || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (p) {
      location.href = "/today?lat=" + p.coords.latitude.toFixed(6) + "&lon=" + p.coords.longitude.toFixed(6);
    }, function (error) {
      note.textContent = error.code === 1 ? words.gps_denied : words.gps_failed;
      note.hidden = false;
    }, { enableHighAccuracy: true, timeout: 20000 });
  });
})();
