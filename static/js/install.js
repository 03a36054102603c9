// Register the service worker from every page of the app, then ask it to keep the field app's files and
// pages for offline use ("warm"): only logged-in pages load this file, so a resident reading a guide never
// downloads the app. Resolves window.OutreachWarm when the worker has them.
if ("serviceWorker" in navigator) {
  window.OutreachWarm = navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    return new Promise(function (resolve) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function () { resolve(registration); };
      registration.active.postMessage({ type: "warm" }, [channel.port2]);
      setTimeout(function () { resolve(registration); }, 15000);
    });
  }).catch(function () {});
}
