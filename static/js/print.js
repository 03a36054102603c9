/* A button marked data-print prints the page. Pages have no inline handlers (onclick="..."): the
   Content-Security-Policy runs only the app's own scripts. */
"use strict";
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-print]") : null;
  if (button) window.print();
});
