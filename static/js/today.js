// Today: confirm a saved visit, mark households already recorded on this phone, order from here.
(function () {
  "use strict";
  var words = window.Field.words;
  if (new URLSearchParams(location.search).get("saved")) document.getElementById("saved-note").hidden = false;

  // A household recorded offline stays on the list until the record is sent: say so, so it is not done twice.
  Outbox.all().then(function (records) {
    records.forEach(function (record) {
      if (record.user && record.user !== window.Field.me) return;
      var stop = document.querySelector('#walk-list li[data-household="' + record.payload.household_id + '"]');
      if (!stop) return;
      stop.classList.add("is-queued");
      stop.querySelector(".queued").hidden = false;
    });
  });

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
