// Today: confirm a saved visit, mark households already recorded on this phone, order from here.
(function () {
  "use strict";
  var words = window.Field.words;
  if (new URLSearchParams(location.search).get("saved")) document.getElementById("saved-note").hidden = false;

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
