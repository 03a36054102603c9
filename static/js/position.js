// Fill the location fields from the phone's GPS, only when the member asks.
(function () {
  var button = document.getElementById("use-position");
  if (!button || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
      document.getElementById("lon").value = pos.coords.longitude.toFixed(6);
    }, function (err) {
      var note = document.getElementById("position-note");
      if (note) note.textContent = err.code === 1 ? button.dataset.denied : button.dataset.failed;
    }, { enableHighAccuracy: true, timeout: 15000 });
  });
})();
