// "Order from where I am": reload the walk list starting from the phone's position.
(function () {
  var button = document.getElementById("start-here");
  if (!button || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    navigator.geolocation.getCurrentPosition(function (p) {
      location.href = "/today?lat=" + p.coords.latitude.toFixed(6) + "&lon=" + p.coords.longitude.toFixed(6);
    }, function (e) { alert(e.message); }, { enableHighAccuracy: true, timeout: 20000 });
  });
})();
